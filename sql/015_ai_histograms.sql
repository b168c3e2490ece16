-- 015_ai_histograms: the histograms of a result, and what the inference
-- daemon reads about the patient of a series.
--
-- A reader may give histograms to show on the result page (the lung
-- nodule reader: the CT-number histogram of each lung, 右肺/左肺CT密度直方图):
--   [{"name": "右肺", "lo": -1000, "width": 10, "counts": [12, 40, ...],
--     "measures": [{"name": "容积", "value": 2710.4, "unit": "ml"}, ...]}]
-- bin i holding counts[i] of the values from lo + i * width to
-- lo + (i + 1) * width (HU).  Written with the result, in its
-- transaction; [] for a reader that draws none.
ALTER TABLE ai_results
	ADD COLUMN histograms jsonb NOT NULL DEFAULT '[]';

-- The readers take the patient's age at the study and sex into account
-- (risk models, reference percentiles): the daemon reads them from the
-- application linked to the series' study, else from the DICOM header.
-- Only those columns, and the links to reach them.
GRANT SELECT (id, study_id) ON series TO zhiying_inferd;
GRANT SELECT (id, patient_ref, study_date, patient_age, created_at)
    ON studies TO zhiying_inferd;
GRANT SELECT (id, sex, birth_date) ON patients TO zhiying_inferd;
GRANT SELECT (application_id, study_id) ON application_studies
    TO zhiying_inferd;
GRANT SELECT (id, state, patient_sex, patient_age, patient_birth, exam_date,
    submitted_at) ON applications TO zhiying_inferd;
