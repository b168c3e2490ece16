-- 004_workflow: applications for diagnosis (申请单), their state machine
-- and history, reports and their versions, attachments, links to studies,
-- and saved list filters.

CREATE SEQUENCE diag_no_seq;

CREATE TABLE applications (
	id		bigserial PRIMARY KEY,
	-- 诊断号: ZY + date + sequence; its last digit is the 诊断尾号.
	diag_no		text NOT NULL UNIQUE,
	state		text NOT NULL DEFAULT 'pending'
			    CHECK (state IN ('pending', 'reporting', 'in_review',
			    'reported', 'reviewed', 'cancelled', 'returned')),
	mode		text NOT NULL CHECK (mode IN ('self', 'superior')),
	applicant_id	bigint NOT NULL REFERENCES users,
	applicant_institution_id bigint NOT NULL REFERENCES institutions,
	-- Superior mode: the alliance and the upper hospital that reads it.
	alliance_id	bigint REFERENCES alliances,
	target_institution_id bigint REFERENCES institutions,
	-- 请求协助: one more institution that may read it.
	assist		boolean NOT NULL DEFAULT false,
	assist_alliance_id bigint REFERENCES alliances,
	assist_institution_id bigint REFERENCES institutions,
	assist_by	bigint REFERENCES users,
	assist_at	timestamptz,
	-- The patient and the request.
	patient_name	text NOT NULL CHECK (length(patient_name) BETWEEN 1 AND 64),
	patient_sex	text NOT NULL CHECK (patient_sex IN ('M', 'F', 'O')),
	patient_age	text NOT NULL DEFAULT '',
	patient_birth	date,
	patient_no	text NOT NULL CHECK (length(patient_no) BETWEEN 1 AND 64),
	patient_phone	text NOT NULL DEFAULT '',
	chief_complaint	text NOT NULL DEFAULT '',
	present_illness	text NOT NULL DEFAULT '',
	history		text NOT NULL DEFAULT '',
	clinical_diagnosis text NOT NULL DEFAULT '',
	exam_type	text NOT NULL CHECK (exam_type IN ('CT', 'DR')),
	body_part	text NOT NULL DEFAULT '',
	urgency		text NOT NULL DEFAULT 'routine'
			    CHECK (urgency IN ('routine', 'urgent', 'emergency')),
	accession	text NOT NULL DEFAULT '',
	exam_date	date,
	-- 写报告 lock: one doctor at a time.
	locked_by	bigint REFERENCES users,
	locked_at	timestamptz,
	lock_seen_at	timestamptz,
	-- Report bookkeeping (the text is in report_versions).
	report_author_id bigint REFERENCES users,
	reviewer_id	bigint REFERENCES users,
	reported_at	timestamptz,
	reviewed_at	timestamptz,
	return_reason	text NOT NULL DEFAULT '',
	review_comment	text NOT NULL DEFAULT '',
	submitted_at	timestamptz NOT NULL DEFAULT now(),
	created_at	timestamptz NOT NULL DEFAULT now(),
	updated_at	timestamptz NOT NULL DEFAULT now(),
	CHECK (mode = 'self' OR (alliance_id IS NOT NULL AND
	    target_institution_id IS NOT NULL)),
	CHECK (NOT assist OR assist_institution_id IS NOT NULL),
	CHECK ((locked_by IS NULL) = (locked_at IS NULL))
);
CREATE INDEX applications_applicant_inst ON applications
    (applicant_institution_id, submitted_at DESC);
CREATE INDEX applications_target ON applications
    (target_institution_id, state, submitted_at DESC);
CREATE INDEX applications_assist ON applications
    (assist_institution_id, state, submitted_at DESC) WHERE assist;
CREATE INDEX applications_state ON applications (state, submitted_at DESC);
CREATE INDEX applications_tail ON applications
    ((right(diag_no, 1)), submitted_at DESC);
CREATE INDEX applications_patient_trgm ON applications
    USING gin (patient_name gin_trgm_ops);
CREATE INDEX applications_diag_no_trgm ON applications
    USING gin (diag_no gin_trgm_ops);
CREATE INDEX applications_accession ON applications
    (applicant_institution_id, accession) WHERE accession <> '';

-- The state machine of DESIGN.md: every allowed (from, to); anything else
-- is refused by the trigger below, whoever asks.
CREATE TABLE application_transitions (
	from_state	text NOT NULL,
	to_state	text NOT NULL,
	PRIMARY KEY (from_state, to_state)
);
INSERT INTO application_transitions VALUES
	('pending', 'reporting'), ('pending', 'cancelled'),
	('pending', 'returned'), ('reporting', 'pending'),
	('reporting', 'reported'), ('reporting', 'in_review'),
	('in_review', 'reviewed'), ('in_review', 'reporting'),
	('returned', 'pending');

CREATE FUNCTION applications_check_transition() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
	IF NEW.state IS DISTINCT FROM OLD.state AND NOT EXISTS (
	    SELECT 1 FROM application_transitions
	    WHERE from_state = OLD.state AND to_state = NEW.state) THEN
		RAISE EXCEPTION 'application % may not go from % to %',
		    OLD.diag_no, OLD.state, NEW.state
		    USING ERRCODE = 'check_violation';
	END IF;
	NEW.updated_at := now();
	RETURN NEW;
END
$$;
CREATE TRIGGER applications_transition BEFORE UPDATE ON applications
    FOR EACH ROW EXECUTE FUNCTION applications_check_transition();

CREATE TABLE application_history (
	id		bigserial PRIMARY KEY,
	application_id	bigint NOT NULL REFERENCES applications,
	at		timestamptz NOT NULL DEFAULT clock_timestamp(),
	actor_id	bigint REFERENCES users,
	from_state	text,
	to_state	text NOT NULL,
	comment		text NOT NULL DEFAULT ''
);
CREATE INDEX application_history_app ON application_history (application_id, at);

-- Every saved or submitted version of a report is kept.
CREATE TABLE report_versions (
	id		bigserial PRIMARY KEY,
	application_id	bigint NOT NULL REFERENCES applications,
	version		integer NOT NULL CHECK (version >= 1),
	author_id	bigint NOT NULL REFERENCES users,
	findings	text NOT NULL DEFAULT '',	-- 影像表现
	conclusion	text NOT NULL DEFAULT '',	-- 影像结论
	ai_used		boolean NOT NULL DEFAULT false,
	kind		text NOT NULL DEFAULT 'draft'
			    CHECK (kind IN ('draft', 'submitted', 'final')),
	created_at	timestamptz NOT NULL DEFAULT now(),
	UNIQUE (application_id, version)
);

-- Studies of the application: linked automatically (accession number, or
-- patient number and date) or by hand from the application form.
CREATE TABLE application_studies (
	application_id	bigint NOT NULL REFERENCES applications,
	study_id	bigint NOT NULL REFERENCES studies,
	linked_by	text NOT NULL CHECK (linked_by IN ('accession',
			    'patient_date', 'upload', 'hand')),
	linked_at	timestamptz NOT NULL DEFAULT now(),
	PRIMARY KEY (application_id, study_id)
);
CREATE INDEX application_studies_study ON application_studies (study_id);

-- Other attachments: records as PDF or JPEG.
CREATE TABLE attachments (
	id		bigserial PRIMARY KEY,
	application_id	bigint NOT NULL REFERENCES applications,
	filename	text NOT NULL,
	content_type	text NOT NULL,
	size_bytes	bigint NOT NULL,
	storage_key	text NOT NULL,
	uploaded_by	bigint NOT NULL REFERENCES users,
	uploaded_at	timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX attachments_app ON attachments (application_id);

-- 保存常用筛选: named filters per user and list.
CREATE TABLE saved_filters (
	id		bigserial PRIMARY KEY,
	user_id		bigint NOT NULL REFERENCES users ON DELETE CASCADE,
	page		text NOT NULL,
	name		text NOT NULL CHECK (length(name) BETWEEN 1 AND 32),
	query		text NOT NULL,
	created_at	timestamptz NOT NULL DEFAULT now(),
	UNIQUE (user_id, page, name)
);

-- Whether institution inst may see application a: as applicant, as the
-- self-diagnosing institution (the applicant's own), as the upper
-- hospital of superior mode, or as the assistance target.
CREATE FUNCTION application_visible(a applications, inst bigint)
RETURNS boolean LANGUAGE sql IMMUTABLE AS $$
	SELECT a.applicant_institution_id = inst
	    OR (a.mode = 'superior' AND a.target_institution_id = inst)
	    OR (a.assist AND a.assist_institution_id = inst)
$$;

GRANT SELECT, INSERT, UPDATE ON applications, application_studies,
    attachments TO zhiying_app;
GRANT SELECT, INSERT ON application_history, report_versions TO zhiying_app;
GRANT SELECT ON application_transitions TO zhiying_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON saved_filters TO zhiying_app;
GRANT USAGE ON SEQUENCE diag_no_seq TO zhiying_app;
