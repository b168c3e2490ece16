-- 039_stats_index: 统计's narrow rows in one covering index (issue 19).
--
-- Every figure of 统计 reads the same few columns of the filtered
-- applications (stats.c, the CTE f).  Filled into a temporary table first,
-- the copy of a million rows was a third of the time, and the table was
-- never scanned in parallel.  This index holds those columns, keyed by the
-- submission time that the date filters bound, so that each figure is an
-- index-only scan of about a quarter of the table's size, which
-- PostgreSQL may split over its parallel workers.  It is kept up to date
-- by PostgreSQL itself; no column of it is new.

CREATE INDEX applications_stats ON applications (submitted_at)
    INCLUDE (applicant_institution_id, state, assist, mode, exam_type,
	reported_at, first_reported_at, reviewed_at, report_author_id,
	reviewer_id, ever_returned, ai_used, id);
