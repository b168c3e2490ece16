-- 022_list_indexes: 申请列表 at a million applications (issue 19).
--
-- The list shows by default the user's own applications, newest first
-- (lists.c: a.applicant_id = $2, ORDER BY a.submitted_at DESC, a.id DESC).
-- No index served applicant_id: the pager's count was a parallel
-- sequential scan (200-430 ms) and the page a sort of all the
-- institution's rows.  This index gives both in the list's order; the
-- count now stops 10,000 rows past the page (LIST_COUNT_CAP).

CREATE INDEX applications_applicant ON applications
    (applicant_id, submitted_at DESC, id DESC);
