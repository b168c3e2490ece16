-- 005_ai_results: what the AI readers found, one result per series and
-- reader, with its lesions.  Written by zhiying-inferd in the transaction
-- that finishes the job, together with its audit row.

CREATE TABLE ai_results (
	id		bigserial PRIMARY KEY,
	job_id		bigint NOT NULL UNIQUE REFERENCES ai_jobs ON DELETE CASCADE,
	series_id	bigint NOT NULL REFERENCES series ON DELETE CASCADE,
	reader		text NOT NULL,
	backend		text NOT NULL DEFAULT '',	-- cpu, cuda
	worker		text NOT NULL DEFAULT '',	-- host:pid
	-- [{"name": "结节数", "value": 2, "unit": ""}, ...]
	summary		jsonb NOT NULL DEFAULT '[]',
	-- [{"slice": 41, "window_center": -600, "window_width": 1500,
	--   "caption": "..."}, ...]
	key_images	jsonb NOT NULL DEFAULT '[]',
	findings_text	text NOT NULL DEFAULT '',	-- 影像表现
	conclusion_text	text NOT NULL DEFAULT '',	-- 影像结论
	created_at	timestamptz NOT NULL DEFAULT now(),
	updated_at	timestamptz NOT NULL DEFAULT now(),
	-- Writing a result again replaces it.
	UNIQUE (series_id, reader)
);

CREATE TABLE ai_lesions (
	result_id	bigint NOT NULL REFERENCES ai_results ON DELETE CASCADE,
	idx		integer NOT NULL,		-- 1.., as shown
	type		text NOT NULL,
	location	text NOT NULL DEFAULT '',
	-- [{"name": "长径", "value": 8.2, "unit": "mm"}, ...]
	measurements	jsonb NOT NULL DEFAULT '[]',
	-- The box on the key slice, in voxels of the loaded volume.
	slice		integer NOT NULL,
	x0		integer NOT NULL,
	y0		integer NOT NULL,
	x1		integer NOT NULL,
	y1		integer NOT NULL,
	confidence	double precision NOT NULL
			    CHECK (confidence >= 0 AND confidence <= 1),
	PRIMARY KEY (result_id, idx),
	CHECK (x0 <= x1 AND y0 <= y1)
);

GRANT SELECT, INSERT, UPDATE, DELETE ON ai_results, ai_lesions TO zhiying_app;
