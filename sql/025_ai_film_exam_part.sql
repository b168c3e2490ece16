-- 025_ai_film_exam_part: the 检查部位 (applications.body_part) of the live
-- applications of a series' study, for zhiying-inferd's film readers: a
-- radiograph whose tags are silent on the part and the view is read with
-- what the applicant wrote ("胸部正位", "左前臂").  The daemon has no
-- access to the applications themselves; this function gives it that one
-- field.  '' when the study is linked to no live application.
CREATE FUNCTION ai_series_exam_part(series bigint)
RETURNS text
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
	SELECT coalesce(string_agg(DISTINCT a.body_part, ' '), '')
	FROM series se JOIN application_studies x ON x.study_id = se.study_id
	JOIN applications a ON a.id = x.application_id
	WHERE se.id = series AND a.state <> 'cancelled'
$$;
REVOKE ALL ON FUNCTION ai_series_exam_part(bigint) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION ai_series_exam_part(bigint) TO zhiying_inferd;
