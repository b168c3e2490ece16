-- 042_list_filters: 待诊断 filtered by 申请时间 or 关键字 at a million
-- applications (issue 19).
--
-- A filter the kept totals (041) cannot answer is counted from the rows,
-- up to a bound past the page (lists.c LIST_COUNT_CAP).  Measured at
-- 1,000,000 applications (tests/bench/worklist.sh data, the worklist of
-- 粤北市中心医院, load 7-8, seven runs in one connection):
--   - a 诊断号 fragment that holds a date (20261207): every 诊断号 holds
--     its date's trigrams, so applications_diag_no_trgm gave a bitmap of
--     that whole day (111,332 rows) before the count could stop: 200 ms.
--     The waiting rows' index now carries the 诊断号 and the name, so
--     the count reads 待诊断's rows newest first, index only, and stops
--     at the bound: 2 ms (with the bound of 1,000; 150 ms at 10,000);
--   - two characters of a name: name_grams found 1,709 names in the
--     whole table, then ANDed with a bitmap of the scope's 49,803
--     waiting rows: 40 ms.  The pieces of the waiting rows' names have
--     their own index, 239 candidates: 0.4 ms.
-- Both need the list's states as constants to be chosen: lists.c sends a
-- filtered list's statements with their values (a custom plan each
-- time), not as a generic plan.
DROP INDEX applications_waiting;
CREATE INDEX applications_waiting ON applications
    (state, images_missing, submitted_at DESC, id DESC)
    INCLUDE (mode, applicant_institution_id, target_institution_id,
    assist, assist_institution_id, diag_no, patient_name);
CREATE INDEX applications_waiting_grams ON applications
    USING gin (name_grams(patient_name))
    WHERE state IN ('pending', 'reporting');
-- The planner knows the new expression's statistics only once analysed.
ANALYZE applications;
