-- 008_ai_viewer: what the AI result page needs beyond the findings.
--
-- Each lesion carries its own sentences, so that the doctor can take the
-- checked lesions' text into the report (上传影像结论); the result keeps
-- the SOP Instance UID of every slice of the volume it was computed on,
-- in volume order, so that the page shows slice z of the boxes exactly,
-- and the volume's size for the viewer.

ALTER TABLE ai_lesions
	ADD COLUMN findings_text text NOT NULL DEFAULT '',	-- 影像表现
	ADD COLUMN conclusion_text text NOT NULL DEFAULT '';	-- 影像结论

ALTER TABLE ai_results
	ADD COLUMN slice_uids text[] NOT NULL DEFAULT '{}',
	ADD COLUMN nx integer NOT NULL DEFAULT 0,
	ADD COLUMN ny integer NOT NULL DEFAULT 0,
	-- The reader's method, stated on the page ("Agatston 1990 ...").
	ADD COLUMN method text NOT NULL DEFAULT '';
