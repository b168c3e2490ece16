-- 028_ai_result_pictures: the pictures a reader draws for its result
-- page and its printed report, and figures of its own that the generic
-- columns do not hold.
--
-- The bone density reader draws the colour map of the body composition
-- slice ('bodycomp', RGB) and the mid-sagittal view of the spine
-- ('sagittal', grey; the heights are drawn over it by the page from
-- ai_results.extra).  Written with the result, in its transaction; a
-- result written again replaces its pictures.
CREATE TABLE ai_result_pictures (
	result_id	bigint NOT NULL REFERENCES ai_results ON DELETE CASCADE,
	name		text NOT NULL CHECK (name ~ '^[a-z_]{1,32}$'),
	width		integer NOT NULL CHECK (width > 0),
	height		integer NOT NULL CHECK (height > 0),
	png		bytea NOT NULL,
	PRIMARY KEY (result_id, name)
);

-- {"body_composition": {"level": "L3", "slice": 41, "rows": [{"name":
--   "皮下脂肪", "area": 123.4, "hu": -98.2, "colour": "#ffd700"}, ...],
--   "muscle_area": 150.2, "height_m": 1.7, "smi": 52.0},
--  "sagittal": {"width": 300, "height": 400, "levels": [{"label": "L1",
--   "x": 120, "y": 80, "lines": [[x0, y0, x1, y1], ...]}, ...]}}
ALTER TABLE ai_results
	ADD COLUMN extra jsonb NOT NULL DEFAULT '{}';

GRANT SELECT, INSERT, UPDATE, DELETE ON ai_result_pictures
    TO zhiying_inferd;
GRANT SELECT ON ai_result_pictures TO zhiying_app;
GRANT SELECT ON ai_result_pictures TO zhiying_console;
