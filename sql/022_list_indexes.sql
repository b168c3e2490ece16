-- 022_list_indexes: 申请列表 and 待诊断 at a million applications (issue 19).
--
-- The list shows by default the user's own applications, newest first
-- (lists.c: a.applicant_id = $2, ORDER BY a.submitted_at DESC, a.id DESC).
-- No index served applicant_id: the pager's count was a parallel
-- sequential scan (200-430 ms) and the page a sort of all the
-- institution's rows.  This index gives both in the list's order; the
-- count now stops 10,000 rows past the page (LIST_COUNT_CAP).

CREATE INDEX applications_applicant ON applications
    (applicant_id, submitted_at DESC, id DESC);

-- 待诊断 puts the applications whose images have arrived first, then by
-- time: the page must look at every waiting row of the institution's
-- three scopes (its own self-diagnosed ones, those addressed to it, those
-- it helps with) before it can return 20.  lists.c picks the page's ids
-- first; this index holds every column that choice and the count read,
-- so both are index-only scans of the waiting rows instead of a bitmap
-- over the heap (49,803 waiting rows on 13,330 heap pages: 150 ms).
CREATE INDEX applications_waiting ON applications
    (state, submitted_at DESC, id DESC)
    INCLUDE (mode, applicant_institution_id, target_institution_id,
    assist, assist_institution_id);
