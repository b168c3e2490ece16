-- 040_stats_counts: 统计's counts kept per day (issue 19).
--
-- Four of 统计's figure groups (按机构, 按时间, 比率, 医生工作量) are counts
-- of the filtered applications by a few of their columns.  Counted from
-- the applications on every view, the province over a million rows took
-- most of the page's time.  stats_counts holds those counts per day of
-- submission and per value of every column the filter or a figure looks
-- at, so the figures read tens of thousands of rows instead of a million.
--
-- The counts are kept by statement-level triggers on applications (named
-- for 统计, applications_stats_*): each statement adds its new rows and
-- takes away its old ones, whoever writes them (the web, the receiver,
-- the facts of sql/032, the demo's back-dating, a bulk load), in the same
-- transaction.  A row whose count drops to 0 is kept; readers skip it.
--
-- 时效's medians and P90 are exact percentiles (percentile_cont) of
-- turnaround hours.  stats_turn holds, per month of submission and per
-- value of the filter's columns, how many applications took each whole
-- number of hours (the bucket): the figure finds from it in which hour
-- the wanted rank lies and how many values come before, then reads only
-- that hour's values, in order, from an index on the turnaround itself
-- (applications_stats_first, applications_stats_final), to take the same
-- two values percentile_cont would.  The part of a date range that is not
-- whole months is read from the applications.
--
-- The day of a submission depends on the time zone; the zone is the one
-- in force when this migration ran (the database's), fixed in the
-- functions below, and the figure queries set the same for their
-- transaction (stats_zone()).

CREATE TABLE stats_counts (
	day		date NOT NULL,
	inst		bigint NOT NULL,
	exam_type	text NOT NULL,
	mode		text NOT NULL,
	state		text NOT NULL,
	assist		boolean NOT NULL,
	-- Is or ever was returned (state, or applications.ever_returned).
	ret		boolean NOT NULL,
	-- A submitted or final report version used the AI text.
	aiu		boolean NOT NULL,
	author		bigint,
	reviewer	bigint,
	n		bigint NOT NULL,
	CONSTRAINT stats_counts_key UNIQUE NULLS NOT DISTINCT (day, inst,
	    exam_type, mode, state, assist, ret, aiu, author, reviewer)
);
REVOKE ALL ON stats_counts FROM PUBLIC;
GRANT SELECT ON stats_counts TO zhiying_app;

-- How many applications of a month took each whole number of hours from
-- submission to their first report (kind f) and to their final one (l).
CREATE TABLE stats_turn (
	month		date NOT NULL,
	inst		bigint NOT NULL,
	exam_type	text NOT NULL,
	mode		text NOT NULL,
	state		text NOT NULL,
	kind		text NOT NULL CHECK (kind IN ('f', 'l')),
	bucket		integer NOT NULL,
	n		bigint NOT NULL,
	CONSTRAINT stats_turn_key UNIQUE (month, inst, exam_type, mode, state,
	    kind, bucket)
);
REVOKE ALL ON stats_turn FROM PUBLIC;
GRANT SELECT ON stats_turn TO zhiying_app;

-- The turnarounds in hours, written exactly as stats.c writes them (the
-- figure's f), so that the planner matches them and the values are the
-- same doubles.
CREATE INDEX applications_stats_first ON applications
    ((date_part('epoch', least(reported_at, CASE WHEN reported_at IS NOT NULL
	THEN first_reported_at END) - submitted_at) / 3600))
    INCLUDE (submitted_at, applicant_institution_id, exam_type, mode, state,
	reported_at, first_reported_at)
    WHERE reported_at IS NOT NULL;
CREATE INDEX applications_stats_final ON applications
    ((date_part('epoch', CASE state WHEN 'reported' THEN reported_at
	WHEN 'reviewed' THEN reviewed_at END - submitted_at) / 3600))
    INCLUDE (submitted_at, applicant_institution_id, exam_type, mode, state,
	reported_at, reviewed_at)
    WHERE state IN ('reported', 'reviewed');


-- The zone in which stats_counts.day and stats_turn.month were taken.
CREATE FUNCTION stats_zone() RETURNS text
LANGUAGE sql STABLE SET TimeZone FROM CURRENT AS $$
	SELECT current_setting('TimeZone');
$$;

INSERT INTO stats_counts (day, inst, exam_type, mode, state, assist, ret,
    aiu, author, reviewer, n)
SELECT submitted_at::date, applicant_institution_id, exam_type, mode, state,
    assist, state = 'returned' OR ever_returned, ai_used, report_author_id,
    reviewer_id, count(*)
FROM applications GROUP BY 1, 2, 3, 4, 5, 6, 7, 8, 9, 10;

INSERT INTO stats_turn (month, inst, exam_type, mode, state, kind, bucket, n)
SELECT date_trunc('month', a.submitted_at)::date, a.applicant_institution_id,
    a.exam_type, a.mode, a.state, k.kind, floor(k.h)::integer, count(*)
FROM applications a CROSS JOIN LATERAL (VALUES
    ('f', date_part('epoch', least(a.reported_at, CASE WHEN a.reported_at
	IS NOT NULL THEN a.first_reported_at END) - a.submitted_at) / 3600),
    ('l', date_part('epoch', CASE a.state WHEN 'reported' THEN a.reported_at
	WHEN 'reviewed' THEN a.reviewed_at END - a.submitted_at) / 3600)) k(kind, h)
WHERE k.h IS NOT NULL GROUP BY 1, 2, 3, 4, 5, 6, 7;

CREATE FUNCTION applications_stats_ins() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp
SET TimeZone FROM CURRENT AS $$
BEGIN
	INSERT INTO stats_counts AS c (day, inst, exam_type, mode, state,
	    assist, ret, aiu, author, reviewer, n)
	SELECT submitted_at::date, applicant_institution_id, exam_type, mode,
	    state, assist, state = 'returned' OR ever_returned, ai_used,
	    report_author_id, reviewer_id, count(*)
	FROM new_rows GROUP BY 1, 2, 3, 4, 5, 6, 7, 8, 9, 10
	ORDER BY 1, 2, 3, 4, 5, 6, 7, 8, 9, 10
	ON CONFLICT ON CONSTRAINT stats_counts_key
	    DO UPDATE SET n = c.n + excluded.n;
	INSERT INTO stats_turn AS c (month, inst, exam_type, mode, state, kind,
	    bucket, n)
	SELECT date_trunc('month', x.submitted_at)::date,
	    x.applicant_institution_id, x.exam_type, x.mode, x.state, k.kind,
	    floor(k.h)::integer, count(*)
	FROM new_rows x CROSS JOIN LATERAL (VALUES
	    ('f', date_part('epoch', least(x.reported_at, CASE WHEN x.reported_at
		IS NOT NULL THEN x.first_reported_at END) - x.submitted_at) / 3600),
	    ('l', date_part('epoch', CASE x.state WHEN 'reported' THEN
		x.reported_at WHEN 'reviewed' THEN x.reviewed_at END
		- x.submitted_at) / 3600)) k(kind, h)
	WHERE k.h IS NOT NULL GROUP BY 1, 2, 3, 4, 5, 6, 7
	ORDER BY 1, 2, 3, 4, 5, 6, 7
	ON CONFLICT ON CONSTRAINT stats_turn_key
	    DO UPDATE SET n = c.n + excluded.n;
	RETURN NULL;
END
$$;

-- Old rows out, new rows in; an update that changes none of the counted
-- columns cancels out and writes nothing.  The keys are written in order,
-- so that two statements wait for each other instead of deadlocking.
CREATE FUNCTION applications_stats_upd() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp
SET TimeZone FROM CURRENT AS $$
BEGIN
	INSERT INTO stats_counts AS c (day, inst, exam_type, mode, state,
	    assist, ret, aiu, author, reviewer, n)
	SELECT d, i, e, m, s, a, r, u, au, rv, sum(k)
	FROM (SELECT submitted_at::date, applicant_institution_id, exam_type,
		mode, state, assist, state = 'returned' OR ever_returned,
		ai_used, report_author_id, reviewer_id, 1
	    FROM new_rows
	    UNION ALL
	    SELECT submitted_at::date, applicant_institution_id, exam_type,
		mode, state, assist, state = 'returned' OR ever_returned,
		ai_used, report_author_id, reviewer_id, -1
	    FROM old_rows) x(d, i, e, m, s, a, r, u, au, rv, k)
	GROUP BY 1, 2, 3, 4, 5, 6, 7, 8, 9, 10 HAVING sum(k) <> 0
	ORDER BY 1, 2, 3, 4, 5, 6, 7, 8, 9, 10
	ON CONFLICT ON CONSTRAINT stats_counts_key
	    DO UPDATE SET n = c.n + excluded.n;
	INSERT INTO stats_turn AS c (month, inst, exam_type, mode, state, kind,
	    bucket, n)
	SELECT date_trunc('month', x.submitted_at)::date,
	    x.applicant_institution_id, x.exam_type, x.mode, x.state, k.kind,
	    floor(k.h)::integer, sum(x.d)
	FROM (SELECT n.*, 1 AS d FROM new_rows n
	    UNION ALL SELECT o.*, -1 FROM old_rows o) x
	CROSS JOIN LATERAL (VALUES
	    ('f', date_part('epoch', least(x.reported_at, CASE WHEN x.reported_at
		IS NOT NULL THEN x.first_reported_at END) - x.submitted_at) / 3600),
	    ('l', date_part('epoch', CASE x.state WHEN 'reported' THEN
		x.reported_at WHEN 'reviewed' THEN x.reviewed_at END
		- x.submitted_at) / 3600)) k(kind, h)
	WHERE k.h IS NOT NULL GROUP BY 1, 2, 3, 4, 5, 6, 7 HAVING sum(x.d) <> 0
	ORDER BY 1, 2, 3, 4, 5, 6, 7
	ON CONFLICT ON CONSTRAINT stats_turn_key
	    DO UPDATE SET n = c.n + excluded.n;
	RETURN NULL;
END
$$;

CREATE FUNCTION applications_stats_del() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp
SET TimeZone FROM CURRENT AS $$
BEGIN
	INSERT INTO stats_counts AS c (day, inst, exam_type, mode, state,
	    assist, ret, aiu, author, reviewer, n)
	SELECT submitted_at::date, applicant_institution_id, exam_type, mode,
	    state, assist, state = 'returned' OR ever_returned, ai_used,
	    report_author_id, reviewer_id, -count(*)
	FROM old_rows GROUP BY 1, 2, 3, 4, 5, 6, 7, 8, 9, 10
	ORDER BY 1, 2, 3, 4, 5, 6, 7, 8, 9, 10
	ON CONFLICT ON CONSTRAINT stats_counts_key
	    DO UPDATE SET n = c.n + excluded.n;
	INSERT INTO stats_turn AS c (month, inst, exam_type, mode, state, kind,
	    bucket, n)
	SELECT date_trunc('month', x.submitted_at)::date,
	    x.applicant_institution_id, x.exam_type, x.mode, x.state, k.kind,
	    floor(k.h)::integer, -count(*)
	FROM old_rows x CROSS JOIN LATERAL (VALUES
	    ('f', date_part('epoch', least(x.reported_at, CASE WHEN x.reported_at
		IS NOT NULL THEN x.first_reported_at END) - x.submitted_at) / 3600),
	    ('l', date_part('epoch', CASE x.state WHEN 'reported' THEN
		x.reported_at WHEN 'reviewed' THEN x.reviewed_at END
		- x.submitted_at) / 3600)) k(kind, h)
	WHERE k.h IS NOT NULL GROUP BY 1, 2, 3, 4, 5, 6, 7
	ORDER BY 1, 2, 3, 4, 5, 6, 7
	ON CONFLICT ON CONSTRAINT stats_turn_key
	    DO UPDATE SET n = c.n + excluded.n;
	RETURN NULL;
END
$$;

CREATE FUNCTION applications_stats_truncate() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
	DELETE FROM stats_counts;
	DELETE FROM stats_turn;
	RETURN NULL;
END
$$;
REVOKE ALL ON FUNCTION applications_stats_ins() FROM PUBLIC;
REVOKE ALL ON FUNCTION applications_stats_upd() FROM PUBLIC;
REVOKE ALL ON FUNCTION applications_stats_del() FROM PUBLIC;
REVOKE ALL ON FUNCTION applications_stats_truncate() FROM PUBLIC;

CREATE TRIGGER applications_stats_ins AFTER INSERT ON applications
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION applications_stats_ins();
CREATE TRIGGER applications_stats_upd AFTER UPDATE ON applications
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION applications_stats_upd();
CREATE TRIGGER applications_stats_del AFTER DELETE ON applications
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION applications_stats_del();
CREATE TRIGGER applications_stats_truncate AFTER TRUNCATE ON applications
    FOR EACH STATEMENT EXECUTE FUNCTION applications_stats_truncate();
