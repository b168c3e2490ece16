-- 003_series_match: what the matcher found for each series, and the AI
-- job queue it feeds.

ALTER TABLE series
	ADD COLUMN view_position text NOT NULL DEFAULT '',
	ADD COLUMN contrast_agent text NOT NULL DEFAULT '',
	-- Why the series fits no reader (Chinese), '' when one fits.
	ADD COLUMN match_summary text NOT NULL DEFAULT '',
	ADD COLUMN matched_at timestamptz;

CREATE TABLE series_matches (
	series_id	bigint NOT NULL REFERENCES series ON DELETE CASCADE,
	reader		text NOT NULL CHECK (reader IN ('ct_lung_nodule',
			    'ct_pneumonia', 'ct_rib_fracture', 'dr_tuberculosis',
			    'dr_limb_fracture', 'ct_bone_density',
			    'ct_coronary_calcium')),
	fits		boolean NOT NULL,
	reason		text NOT NULL DEFAULT '',	-- Chinese, why not
	notes		text NOT NULL DEFAULT '',	-- Chinese, advice
	slices		integer NOT NULL,	-- the series when matched
	matched_at	timestamptz NOT NULL DEFAULT now(),
	PRIMARY KEY (series_id, reader)
);

-- One job per series and reader.  Workers claim with FOR UPDATE SKIP
-- LOCKED and are woken by NOTIFY ai_jobs.
CREATE TABLE ai_jobs (
	id		bigserial PRIMARY KEY,
	series_id	bigint NOT NULL REFERENCES series ON DELETE CASCADE,
	reader		text NOT NULL,
	state		text NOT NULL DEFAULT 'queued'
			    CHECK (state IN ('queued', 'running', 'done',
			    'failed', 'dead')),
	slices		integer NOT NULL,	-- the series when queued
	attempts	integer NOT NULL DEFAULT 0,
	max_attempts	integer NOT NULL DEFAULT 3,
	run_after	timestamptz NOT NULL DEFAULT now(),
	leased_by	text,
	lease_until	timestamptz,
	heartbeat_at	timestamptz,
	error		text NOT NULL DEFAULT '',
	created_at	timestamptz NOT NULL DEFAULT now(),
	updated_at	timestamptz NOT NULL DEFAULT now(),
	finished_at	timestamptz,
	UNIQUE (series_id, reader)
);
CREATE INDEX ai_jobs_ready ON ai_jobs (run_after) WHERE state = 'queued';
CREATE INDEX ai_jobs_running ON ai_jobs (lease_until) WHERE state = 'running';

GRANT SELECT, INSERT, UPDATE, DELETE ON series_matches, ai_jobs TO zhiying_app;
