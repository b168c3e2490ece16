-- 018_study_identity: a study is linked to an application only when the
-- patient in its DICOM header is the patient of the application.
--
-- Until now a study was linked by accession number, or patient number and
-- exam date, or by an upload, without comparing who the patient is: one
-- study (PatientID Covid0000) came to serve two patients' applications.
-- study_identity_diff() compares the study's PatientID, PatientName,
-- PatientSex, PatientAge, PatientBirthDate and AccessionNumber with the
-- application, and whether the study already serves an application of
-- another patient.  Where anything differs the study is not linked: it is
-- held (study_link_holds) for the applicant, who sees both sides and
-- either links it with a reason (recorded with the link and in the audit
-- log) or declines it.  The receiver, with nobody to ask, only holds.
--
-- The comparison runs with the owner's rights, so that the receiver's role
-- (017) learns which fields differ but never reads the application's
-- patient name, sex or age.

-- What differs, as codes in a fixed order:
--   patient_id     PatientID vs 身份证号/病历号
--   patient_name   PatientName vs 患者姓名, only when both are written in
--                  the same script (a name in pinyin cannot be compared
--                  with one in Chinese characters); of a name with
--                  component groups (Wang^Xiaoming=王^小明) the group in
--                  Chinese characters is compared
--   patient_sex    PatientSex vs 性别, when both are M or F
--   patient_age    PatientAge vs 年龄, in years, more than one year apart
--   patient_birth  PatientBirthDate vs 出生日期
--   accession      AccessionNumber vs 检查号
--   other_patient  the study is linked to a live application whose patient
--                  number is another one
-- A field blank on either side is not compared.

-- A person name reduced for comparison: the ideographic group when there
-- is one, without component separators and spaces, in lower case.
CREATE FUNCTION zy_name_key(n text) RETURNS text
LANGUAGE sql IMMUTABLE SET search_path = pg_catalog AS $$
	SELECT lower(regexp_replace(coalesce((SELECT g FROM
	    unnest(string_to_array(coalesce(n, ''), '=')) WITH ORDINALITY
	    AS x(g, i) WHERE g ~ '[\u3400-\u9fff]' ORDER BY i LIMIT 1),
	    split_part(coalesce(n, ''), '=', 1)), '[\^\s·.,]+', '', 'g'))
$$;

-- An age in years: DICOM AS (045Y, 006M, 003W, 010D) or the form's text
-- (56岁, 56, 3个月); NULL when it cannot be read.
CREATE FUNCTION zy_age_years(a text) RETURNS numeric
LANGUAGE sql IMMUTABLE SET search_path = pg_catalog AS $$
	SELECT CASE
	    WHEN m IS NULL THEN NULL
	    WHEN m[2] IN ('M', 'm', '月', '个月') THEN m[1]::numeric / 12
	    WHEN m[2] IN ('W', 'w', '周') THEN m[1]::numeric / 52
	    WHEN m[2] IN ('D', 'd', '天', '日') THEN m[1]::numeric / 365
	    ELSE m[1]::numeric END
	FROM (SELECT regexp_match(btrim(coalesce(a, '')),
	    '^0*([0-9]{1,3})\s*(Y|y|M|m|W|w|D|d|岁|周岁|个月|月|周|天|日)?$') AS m) x
$$;

CREATE FUNCTION study_identity_diff(app bigint, study bigint)
RETURNS text[]
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
	SELECT array_remove(ARRAY[
	    CASE WHEN btrim(p.patient_id) <> '' AND btrim(a.patient_no) <> ''
	        AND upper(btrim(p.patient_id)) <> upper(btrim(a.patient_no))
	        THEN 'patient_id' END,
	    CASE WHEN zy_name_key(p.name) <> '' AND zy_name_key(a.patient_name) <> ''
	        AND (zy_name_key(p.name) ~ '[\u3400-\u9fff]')
	            = (zy_name_key(a.patient_name) ~ '[\u3400-\u9fff]')
	        AND zy_name_key(p.name) <> zy_name_key(a.patient_name)
	        THEN 'patient_name' END,
	    CASE WHEN upper(btrim(p.sex)) IN ('M', 'F')
	        AND a.patient_sex IN ('M', 'F')
	        AND upper(btrim(p.sex)) <> a.patient_sex
	        THEN 'patient_sex' END,
	    CASE WHEN abs(zy_age_years(s.patient_age)
	        - zy_age_years(a.patient_age)) > 1
	        THEN 'patient_age' END,
	    CASE WHEN a.patient_birth IS NOT NULL
	        AND btrim(p.birth_date) ~ '^[0-9]{8}$'
	        AND btrim(p.birth_date) <> to_char(a.patient_birth, 'YYYYMMDD')
	        THEN 'patient_birth' END,
	    CASE WHEN btrim(s.accession) <> '' AND btrim(a.accession) <> ''
	        AND btrim(s.accession) <> btrim(a.accession)
	        THEN 'accession' END,
	    CASE WHEN EXISTS (SELECT 1 FROM application_studies l
	        JOIN applications o ON o.id = l.application_id
	        WHERE l.study_id = s.id AND o.id <> a.id
	        AND o.state <> 'cancelled'
	        AND upper(btrim(o.patient_no)) <> upper(btrim(a.patient_no)))
	        THEN 'other_patient' END], NULL)
	FROM applications a, studies s JOIN patients p ON p.id = s.patient_ref
	WHERE a.id = app AND s.id = study
$$;
REVOKE ALL ON FUNCTION study_identity_diff(bigint, bigint) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION study_identity_diff(bigint, bigint)
    TO zhiying_app, zhiying_scp;

-- A study that would have been linked but whose patient differs: waits for
-- the applicant.  proposed_by says which rule found it.
CREATE TABLE study_link_holds (
	application_id	bigint NOT NULL REFERENCES applications,
	study_id	bigint NOT NULL REFERENCES studies,
	proposed_by	text NOT NULL CHECK (proposed_by IN ('accession',
			    'patient_date', 'upload', 'hand')),
	differences	text[] NOT NULL,
	held_at		timestamptz NOT NULL DEFAULT now(),
	PRIMARY KEY (application_id, study_id)
);
CREATE INDEX study_link_holds_study ON study_link_holds (study_id);

-- A link made although the patient differed: who confirmed it, why, and
-- what differed then.
ALTER TABLE application_studies
    ADD COLUMN differences text[] NOT NULL DEFAULT '{}',
    ADD COLUMN confirmed_by bigint REFERENCES users,
    ADD COLUMN confirm_reason text NOT NULL DEFAULT '',
    ADD CHECK (differences = '{}' OR (confirmed_by IS NOT NULL
	AND confirm_reason <> ''));

GRANT SELECT, INSERT, UPDATE, DELETE ON study_link_holds TO zhiying_app;

-- The matcher, which the receiver runs once it has linked what arrived,
-- takes the application's 检查类型 with its 检查部位 as evidence of what a
-- series shows (seriesmatch.c).
GRANT SELECT (exam_type) ON applications TO zhiying_scp;
GRANT SELECT (application_id, study_id, proposed_by, differences),
    INSERT (application_id, study_id, proposed_by, differences),
    UPDATE (proposed_by, differences)
    ON study_link_holds TO zhiying_scp;
