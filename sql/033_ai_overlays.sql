-- 033_ai_overlays: what a reader draws over the slices besides its boxes.
--
-- The rib fracture reader (ct_rib_fracture) stores the ribs it traced and
-- the vertebrae's labels, for the result page's overlay (显示左右肋骨、椎骨
-- 编号) and for the viewer's curved reformations along the ribs:
--   {"ribs": [{"side": "R", "number": 5, "label": "R5",
--              "line": [[x, y, z], ...]}, ...],
--    "vertebrae": [{"label": "T5", "k0": 40, "k1": 52, "x": 255.1,
--                   "y": 301.7}, ...],
--    "uncertain": false}
-- line: the rib's centre line from its head to its front end, points 1 mm
-- apart, in voxels of the result's volume (x, y, z index); number 0 when
-- not numbered.  Written with the result, in its transaction; {} for a
-- reader that draws nothing.
ALTER TABLE ai_results
	ADD COLUMN overlays jsonb NOT NULL DEFAULT '{}';
