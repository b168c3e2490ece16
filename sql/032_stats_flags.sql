-- 032_stats_flags: 统计 without reading the history (issue 19).
--
-- 统计 needs three facts per application that live in other tables: when
-- it was first submitted to review or signed off (its history), whether it
-- was ever returned (its history) and whether a submitted or final report
-- version used the AI text (report_versions).  Read from there, the fill
-- of stats_f grouped the whole history of the filtered applications: most
-- of 28 s at a million applications.  They are now kept on the
-- application, by statement-level triggers on the two tables (one UPDATE
-- per statement, however many rows it wrote: a bulk load stays one
-- statement), recomputed from the application's own rows so that an
-- update of the history (the demo's back-dating) keeps them right too.
-- The functions run with the owner's rights: the web's role may not
-- update these columns itself.

ALTER TABLE applications
    ADD COLUMN first_reported_at timestamptz,
    ADD COLUMN ever_returned boolean NOT NULL DEFAULT false,
    ADD COLUMN ai_used boolean NOT NULL DEFAULT false;

UPDATE applications a SET first_reported_at = h.f, ever_returned = h.r
    FROM (SELECT x.application_id AS id,
	    min(x.at) FILTER (WHERE x.to_state IN ('in_review', 'reported'))
	    AS f, bool_or(x.to_state = 'returned') AS r
	FROM application_history x GROUP BY x.application_id) h
    WHERE a.id = h.id AND (h.f IS NOT NULL OR h.r);
UPDATE applications a SET ai_used = true
    WHERE EXISTS (SELECT 1 FROM report_versions v
	WHERE v.application_id = a.id AND v.ai_used AND v.kind <> 'draft');

-- The history's facts of the applications in ids, recomputed.
CREATE FUNCTION application_history_facts(ids bigint[]) RETURNS void
LANGUAGE sql SECURITY DEFINER SET search_path = public, pg_temp AS $$
	UPDATE applications a SET first_reported_at = h.f,
	    ever_returned = coalesce(h.r, false)
	FROM (SELECT i.id,
		min(x.at) FILTER (WHERE x.to_state IN ('in_review', 'reported'))
		AS f, bool_or(x.to_state = 'returned') AS r
	    FROM unnest(ids) AS i(id)
	    LEFT JOIN application_history x ON x.application_id = i.id
	    GROUP BY i.id) h
	WHERE a.id = h.id AND (a.first_reported_at IS DISTINCT FROM h.f
	    OR a.ever_returned IS DISTINCT FROM coalesce(h.r, false));
$$;
REVOKE ALL ON FUNCTION application_history_facts(bigint[]) FROM PUBLIC;

CREATE FUNCTION application_history_new() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
	PERFORM application_history_facts(ARRAY(SELECT DISTINCT
	    application_id FROM new_rows));
	RETURN NULL;
END
$$;
CREATE FUNCTION application_history_changed() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
	PERFORM application_history_facts(ARRAY(SELECT application_id
	    FROM new_rows UNION SELECT application_id FROM old_rows));
	RETURN NULL;
END
$$;
CREATE FUNCTION application_history_gone() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
	PERFORM application_history_facts(ARRAY(SELECT DISTINCT
	    application_id FROM old_rows));
	RETURN NULL;
END
$$;
REVOKE ALL ON FUNCTION application_history_new() FROM PUBLIC;
REVOKE ALL ON FUNCTION application_history_changed() FROM PUBLIC;
REVOKE ALL ON FUNCTION application_history_gone() FROM PUBLIC;
CREATE TRIGGER application_history_facts_ins AFTER INSERT
    ON application_history REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION application_history_new();
CREATE TRIGGER application_history_facts_upd AFTER UPDATE
    ON application_history REFERENCING OLD TABLE AS old_rows
    NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION application_history_changed();
CREATE TRIGGER application_history_facts_del AFTER DELETE
    ON application_history REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION application_history_gone();

-- A version is never unmade: a submitted or final one that used the AI
-- text marks its application for good.
CREATE FUNCTION report_versions_ai_used() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
	UPDATE applications a SET ai_used = true
	    WHERE a.id IN (SELECT application_id FROM new_rows
		WHERE ai_used AND kind <> 'draft') AND NOT a.ai_used;
	RETURN NULL;
END
$$;
REVOKE ALL ON FUNCTION report_versions_ai_used() FROM PUBLIC;
CREATE TRIGGER report_versions_ai_used_ins AFTER INSERT
    ON report_versions REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION report_versions_ai_used();
CREATE TRIGGER report_versions_ai_used_upd AFTER UPDATE
    ON report_versions REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION report_versions_ai_used();
