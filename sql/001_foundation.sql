-- 001_foundation: institutions, alliances, users, sessions, audit log.
--
-- Runs as the schema owner.  The application connects as zhiying_app,
-- which may read and write the working tables but only append to the
-- audit log.

CREATE TABLE institutions (
	id		bigserial PRIMARY KEY,
	code		text NOT NULL UNIQUE
			    CHECK (code ~ '^[A-Za-z0-9_-]{2,32}$'),
	name		text NOT NULL UNIQUE
			    CHECK (length(name) BETWEEN 1 AND 128),
	level		text NOT NULL
			    CHECK (level IN ('province', 'city', 'county', 'primary')),
	region		text NOT NULL DEFAULT '',
	contact		text NOT NULL DEFAULT '',
	active		boolean NOT NULL DEFAULT true,
	created_at	timestamptz NOT NULL DEFAULT now(),
	updated_at	timestamptz NOT NULL DEFAULT now()
);

-- 医联体 (medical alliance) and 医共体 (county medical community).
CREATE TABLE alliances (
	id		bigserial PRIMARY KEY,
	code		text NOT NULL UNIQUE
			    CHECK (code ~ '^[A-Za-z0-9_-]{2,32}$'),
	name		text NOT NULL UNIQUE
			    CHECK (length(name) BETWEEN 1 AND 128),
	kind		text NOT NULL
			    CHECK (kind IN ('medical_alliance', 'county_community')),
	active		boolean NOT NULL DEFAULT true,
	created_at	timestamptz NOT NULL DEFAULT now(),
	updated_at	timestamptz NOT NULL DEFAULT now()
);

-- A member's superior is the upper (上级) hospital that reads its studies
-- in superior-diagnosis mode; it must be a member of the same alliance.
CREATE TABLE alliance_members (
	alliance_id	bigint NOT NULL REFERENCES alliances ON DELETE CASCADE,
	institution_id	bigint NOT NULL REFERENCES institutions,
	superior_id	bigint,
	joined_at	timestamptz NOT NULL DEFAULT now(),
	PRIMARY KEY (alliance_id, institution_id),
	FOREIGN KEY (alliance_id, superior_id)
	    REFERENCES alliance_members (alliance_id, institution_id),
	CHECK (superior_id IS DISTINCT FROM institution_id)
);
CREATE INDEX alliance_members_institution ON alliance_members (institution_id);
CREATE INDEX alliance_members_superior ON alliance_members (alliance_id, superior_id);

CREATE TABLE users (
	id		bigserial PRIMARY KEY,
	institution_id	bigint NOT NULL REFERENCES institutions,
	login		text NOT NULL
			    CHECK (login ~ '^[A-Za-z0-9_.-]{3,64}$'),
	display_name	text NOT NULL
			    CHECK (length(display_name) BETWEEN 1 AND 64),
	password_hash	text NOT NULL,
	roles		text[] NOT NULL DEFAULT '{}'
			    CHECK (roles <@ ARRAY['applicant', 'doctor', 'stats', 'admin']),
	title		text
			    CHECK (title IN ('resident', 'attending', 'associate_chief', 'chief')),
	active		boolean NOT NULL DEFAULT true,
	failed_logins	integer NOT NULL DEFAULT 0 CHECK (failed_logins >= 0),
	locked_until	timestamptz,
	last_login_at	timestamptz,
	password_changed_at timestamptz NOT NULL DEFAULT now(),
	created_at	timestamptz NOT NULL DEFAULT now(),
	updated_at	timestamptz NOT NULL DEFAULT now(),
	-- A doctor (受邀方人员) has a title level: it decides sign-off rights.
	CHECK (NOT ('doctor' = ANY (roles)) OR title IS NOT NULL)
);
CREATE UNIQUE INDEX users_login_lower ON users (lower(login));
CREATE INDEX users_institution ON users (institution_id);

-- Only the SHA-256 of a session token is stored.
CREATE TABLE sessions (
	id		bigserial PRIMARY KEY,
	token_digest	text NOT NULL UNIQUE CHECK (length(token_digest) = 64),
	user_id		bigint NOT NULL REFERENCES users ON DELETE CASCADE,
	csrf_token	text NOT NULL,
	created_at	timestamptz NOT NULL DEFAULT now(),
	last_seen	timestamptz NOT NULL DEFAULT now(),
	ip		inet,
	user_agent	text NOT NULL DEFAULT ''
);
CREATE INDEX sessions_user ON sessions (user_id);
CREATE INDEX sessions_last_seen ON sessions (last_seen);

CREATE TABLE audit_log (
	id		bigserial PRIMARY KEY,
	at		timestamptz NOT NULL DEFAULT clock_timestamp(),
	actor_id	bigint REFERENCES users,
	actor_login	text NOT NULL DEFAULT '',
	institution_id	bigint REFERENCES institutions,
	action		text NOT NULL,
	object_type	text NOT NULL DEFAULT '',
	object_id	text NOT NULL DEFAULT '',
	ip		inet,
	channel		text NOT NULL DEFAULT 'web',
	detail		jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX audit_log_at ON audit_log (at);
CREATE INDEX audit_log_actor ON audit_log (actor_id, at);
CREATE INDEX audit_log_action ON audit_log (action, at);

-- The audit log is append-only for everybody, its owner included.
CREATE FUNCTION audit_log_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
	RAISE EXCEPTION 'audit_log is append-only'
	    USING ERRCODE = 'insufficient_privilege';
END
$$;
CREATE TRIGGER audit_log_no_update BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only();

GRANT SELECT, INSERT, UPDATE, DELETE
    ON institutions, alliances, alliance_members, users, sessions
    TO zhiying_app;
GRANT SELECT, INSERT ON audit_log TO zhiying_app;
GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO zhiying_app;
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE ON SEQUENCES TO zhiying_app;
