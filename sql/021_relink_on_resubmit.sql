-- 021_relink_on_resubmit: the studies of an application are compared with
-- its patient again when the applicant corrects and resubmits it after
-- 退回.  A linked study whose patient now differs in something that was
-- not confirmed when it was linked goes back to study_link_holds (the
-- applicant links it again with a reason, or declines it); one study never
-- silently serves a patient it does not match.
--
-- The web's role may not delete links: it calls this function, which moves
-- those links and returns what it moved (the study, the rule that had
-- linked it, the differences now); the caller writes their audit rows in
-- the same transaction.

CREATE FUNCTION study_links_recheck(app bigint)
RETURNS TABLE (study_id bigint, linked_by text, differences text[])
LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = public, pg_temp AS $$
	WITH d AS (
		SELECT l.study_id AS sid, l.linked_by AS how,
		    study_identity_diff(l.application_id, l.study_id) AS diff,
		    l.differences AS had
		FROM application_studies l
		WHERE l.application_id = app
	), moved AS (
		DELETE FROM application_studies l USING d
		WHERE l.application_id = app AND l.study_id = d.sid
		    AND NOT (d.diff <@ d.had)
		RETURNING l.study_id, d.how, d.diff
	), held AS (
		INSERT INTO study_link_holds (application_id, study_id,
		    proposed_by, differences)
		SELECT app, m.study_id, m.how, m.diff FROM moved m
		ON CONFLICT (application_id, study_id)
		    DO UPDATE SET differences = EXCLUDED.differences
		RETURNING 1
	)
	-- (held runs to completion whether read or not)
	SELECT m.study_id, m.how, m.diff FROM moved m ORDER BY m.study_id
$$;
REVOKE ALL ON FUNCTION study_links_recheck(bigint) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION study_links_recheck(bigint) TO zhiying_app;
