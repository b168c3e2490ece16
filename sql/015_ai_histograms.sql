-- 015_ai_histograms: the histograms of a result, and what the inference
-- daemon may know of the patient of a series.
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
-- (risk models, reference percentiles).  The inference daemon may not
-- read patients or applications (010_least_privilege): it gets these
-- facts of a series' patient through this function alone, never a name,
-- a number or a phone.  From the application linked to the series' study
-- (the latest one not cancelled) and from the DICOM header, as text for
-- the daemon to choose from (queue_patient()):
--   app_birth, app_age, app_sex	date of birth (YYYY-MM-DD), the age the
--					applicant wrote, M/F/O; '' when none
--   app_exam_date			检查日期 (YYYY-MM-DD) or ''
--   dicom_birth, dicom_age, dicom_sex	PatientBirthDate, PatientAge, PatientSex
--   study_date				StudyDate (YYYYMMDD) as sent
--   received				the day the study arrived (YYYY-MM-DD)
CREATE FUNCTION ai_series_patient(series bigint)
RETURNS TABLE (app_birth text, app_age text, app_sex text,
    app_exam_date text, dicom_birth text, dicom_age text, dicom_sex text,
    study_date text, received text)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
	SELECT coalesce(a.patient_birth::text, ''), coalesce(a.patient_age, ''),
	    coalesce(a.patient_sex, ''), coalesce(a.exam_date::text, ''),
	    pa.birth_date, st.patient_age, pa.sex, st.study_date,
	    st.created_at::date::text
	FROM series se JOIN studies st ON st.id = se.study_id
	JOIN patients pa ON pa.id = st.patient_ref
	LEFT JOIN LATERAL (SELECT ap.patient_birth, ap.patient_age,
	    ap.patient_sex, ap.exam_date FROM application_studies x
	    JOIN applications ap ON ap.id = x.application_id
	    WHERE x.study_id = st.id
	    ORDER BY (ap.state <> 'cancelled') DESC, ap.submitted_at DESC,
	    ap.id DESC LIMIT 1) a ON true
	WHERE se.id = series
$$;
REVOKE ALL ON FUNCTION ai_series_patient(bigint) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION ai_series_patient(bigint) TO zhiying_inferd;
