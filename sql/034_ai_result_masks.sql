-- 034_ai_result_masks: the regions a reader found, for the viewer's 三维
-- and MPR (显示AI标注).
--
-- One row per result: a label volume on the voxel grid of the series as
-- the loader orders it (nx * ny * nz bytes, x fastest; 0 nothing, 1..255
-- a region), deflated by zlib (src/lib/masks.h), and its legend:
--   [{"label": 1, "name": "右肺上叶", "kind": "lobe", "colour": "#5a8dee"},
--    {"label": 6, "name": "结节1", "kind": "nodule", "colour": "#ff2020"},
--    ...]
-- Written with the result, in its transaction; a result written again
-- replaces its masks (or removes them when it has none).  raw_bytes is
-- the inflated size (nx * ny * nz), for the viewer's cache to refuse
-- what it cannot hold before reading the data.
CREATE TABLE ai_result_masks (
	result_id	bigint PRIMARY KEY REFERENCES ai_results ON DELETE CASCADE,
	nx		integer NOT NULL CHECK (nx > 0),
	ny		integer NOT NULL CHECK (ny > 0),
	nz		integer NOT NULL CHECK (nz > 0),
	legend		jsonb NOT NULL CHECK (jsonb_typeof(legend) = 'array'),
	codec		text NOT NULL DEFAULT 'zlib' CHECK (codec = 'zlib'),
	raw_bytes	bigint NOT NULL CHECK (raw_bytes > 0),
	data		bytea NOT NULL,
	written_at	timestamptz NOT NULL DEFAULT clock_timestamp()
);

GRANT SELECT, INSERT, UPDATE, DELETE ON ai_result_masks TO zhiying_inferd;
GRANT SELECT ON ai_result_masks TO zhiying_app;
GRANT SELECT ON ai_result_masks TO zhiying_console;
-- Deflated already: kept out of line without TOAST's own compression.
ALTER TABLE ai_result_masks ALTER COLUMN data SET STORAGE EXTERNAL;
