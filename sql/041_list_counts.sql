-- 041_list_counts: the totals under the unfiltered lists (issue 19).
--
-- A list without a filter, or filtered by 报告状态 only, shows how many
-- applications of its scope are in its states.  Counted from the rows,
-- that cost a scan of up to 10,001 index entries per page at a million
-- applications (23/37 ms p50/p95 for 待诊断, the most of the page), and
-- past 10,000 the page could only say 超过 N 条.  The totals are now kept
-- per scope and state, by statement-level triggers on applications, in
-- the transaction of every change (one upsert per statement and key,
-- however many rows it wrote: a bulk load stays one statement), so the
-- count is exact and costs a few index probes.  The totals are kept per
-- 诊断尾号 (the last character of the 诊断号) too: that filter is one of
-- the list's own, and counted from the rows it cost 60-77 ms.
--
-- The scopes (lists.c list_where):
--   'r'  read by institution owner: self-mode applications of its own,
--        superior-mode ones addressed to it, those it was asked to help
--        with (SQL_READER; an application counts once per institution);
--   's'  the self-mode applications of institution owner (SQL_OWN_SELF);
--   'i'  submitted by institution owner (SQL_OWN);
--   'u'  submitted by user owner (申请列表, 本人提交的) from institution
--        inst: the list takes the user's own from the user's institution
--        only, and an account may be moved to another (zhiying-admin).
-- inst is the owner itself for the other scopes.
-- A total may stay at 0; rows are never removed but by TRUNCATE.
-- The functions run with the owner's rights: no other role may write the
-- totals.

CREATE TABLE list_counts (
	kind	"char" NOT NULL CHECK (kind IN ('r', 's', 'i', 'u')),
	owner	bigint NOT NULL,
	inst	bigint NOT NULL,
	state	text NOT NULL,
	tail	text NOT NULL,		/* right(diag_no, 1) */
	n	bigint NOT NULL,
	PRIMARY KEY (kind, owner, inst, state, tail)
);

-- The totals an application with these columns counts in.
CREATE FUNCTION list_count_keys(mode text, state text, diag_no text,
    applicant bigint, app_inst bigint, target bigint, assist boolean,
    assist_inst bigint)
RETURNS TABLE (kind "char", owner bigint, inst bigint, state text,
    tail text)
LANGUAGE sql IMMUTABLE AS $$
	SELECT DISTINCT k.kind, k.owner, coalesce(k.inst, k.owner), state,
	    right(diag_no, 1) FROM (VALUES
	    ('u'::"char", applicant, app_inst),
	    ('i', app_inst, NULL),
	    ('s', CASE WHEN mode = 'self' THEN app_inst END, NULL),
	    ('r', CASE WHEN mode = 'self' THEN app_inst END, NULL),
	    ('r', CASE WHEN mode = 'superior' THEN target END, NULL),
	    ('r', CASE WHEN assist THEN assist_inst END, NULL))
	    AS k(kind, owner, inst)
	WHERE k.owner IS NOT NULL
$$;

CREATE FUNCTION list_counts_insert() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
	INSERT INTO list_counts AS c (kind, owner, inst, state, tail, n)
	    SELECT k.kind, k.owner, k.inst, k.state, k.tail, count(*)
		FROM new_rows t,
		list_count_keys(t.mode, t.state, t.diag_no, t.applicant_id,
		t.applicant_institution_id, t.target_institution_id,
		t.assist, t.assist_institution_id) k
	    GROUP BY 1, 2, 3, 4, 5 ORDER BY 1, 2, 3, 4, 5
	    ON CONFLICT (kind, owner, inst, state, tail)
	    DO UPDATE SET n = c.n + EXCLUDED.n;
	RETURN NULL;
END
$$;

CREATE FUNCTION list_counts_delete() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
	INSERT INTO list_counts AS c (kind, owner, inst, state, tail, n)
	    SELECT k.kind, k.owner, k.inst, k.state, k.tail, -count(*)
		FROM old_rows t,
		list_count_keys(t.mode, t.state, t.diag_no, t.applicant_id,
		t.applicant_institution_id, t.target_institution_id,
		t.assist, t.assist_institution_id) k
	    GROUP BY 1, 2, 3, 4, 5 ORDER BY 1, 2, 3, 4, 5
	    ON CONFLICT (kind, owner, inst, state, tail)
	    DO UPDATE SET n = c.n + EXCLUDED.n;
	RETURN NULL;
END
$$;

-- An update moves an application between totals only when a column of
-- its keys changed: the old keys' -1 and the new keys' +1 cancel out for
-- the rest, and a total that does not move is not touched (not locked),
-- so the lock refreshes of 写报告 and the flags other triggers keep
-- write nothing here.  Keys in one order: two statements moving the
-- same totals wait for each other instead of deadlocking.
CREATE FUNCTION list_counts_update() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
	INSERT INTO list_counts AS c (kind, owner, inst, state, tail, n)
	    SELECT d.kind, d.owner, d.inst, d.state, d.tail, sum(d.n) FROM (
		SELECT k.kind, k.owner, k.inst, k.state, k.tail, 1 AS n
		    FROM new_rows t,
		    list_count_keys(t.mode, t.state, t.diag_no, t.applicant_id,
		    t.applicant_institution_id, t.target_institution_id,
		    t.assist, t.assist_institution_id) k
		UNION ALL
		SELECT k.kind, k.owner, k.inst, k.state, k.tail, -1
		    FROM old_rows t,
		    list_count_keys(t.mode, t.state, t.diag_no, t.applicant_id,
		    t.applicant_institution_id, t.target_institution_id,
		    t.assist, t.assist_institution_id) k) d
	    GROUP BY 1, 2, 3, 4, 5 HAVING sum(d.n) <> 0 ORDER BY 1, 2, 3, 4, 5
	    ON CONFLICT (kind, owner, inst, state, tail)
	    DO UPDATE SET n = c.n + EXCLUDED.n;
	RETURN NULL;
END
$$;

CREATE FUNCTION list_counts_truncate() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
	DELETE FROM list_counts;
	RETURN NULL;
END
$$;

REVOKE ALL ON FUNCTION list_counts_insert(), list_counts_delete(),
    list_counts_update(), list_counts_truncate() FROM PUBLIC;

CREATE TRIGGER applications_list_counts_insert AFTER INSERT ON applications
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION list_counts_insert();
CREATE TRIGGER applications_list_counts_delete AFTER DELETE ON applications
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION list_counts_delete();
CREATE TRIGGER applications_list_counts_update AFTER UPDATE ON applications
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION list_counts_update();
CREATE TRIGGER applications_list_counts_truncate AFTER TRUNCATE
    ON applications
    FOR EACH STATEMENT EXECUTE FUNCTION list_counts_truncate();

-- The applications already there.
INSERT INTO list_counts (kind, owner, inst, state, tail, n)
    SELECT k.kind, k.owner, k.inst, k.state, k.tail, count(*)
    FROM applications t,
	list_count_keys(t.mode, t.state, t.diag_no, t.applicant_id,
	t.applicant_institution_id, t.target_institution_id,
	t.assist, t.assist_institution_id) k
    GROUP BY 1, 2, 3, 4, 5;

GRANT SELECT ON list_counts TO zhiying_app;
GRANT SELECT ON list_counts TO zhiying_console;
