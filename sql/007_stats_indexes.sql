-- 007_stats_indexes: indexes for the figures of 统计 (src/lib/stats.c).

-- The date filter alone, whatever the institution.
CREATE INDEX applications_submitted ON applications (submitted_at);

-- The first submission to review or sign-off, and any return, of each
-- application, read in one pass in application order.
CREATE INDEX application_history_state ON application_history
    (application_id, to_state, at);

-- Reports that used the AI text.
CREATE INDEX report_versions_ai_used ON report_versions (application_id)
    WHERE ai_used AND kind <> 'draft';
