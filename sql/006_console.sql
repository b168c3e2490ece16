-- 006_console: indexes the administration console (zhiying-admin) pages
-- and searches with.
--
-- The users list is read a page at a time by keyset on lower(login)
-- (users_login_lower, from 001); an institution administrator's list adds
-- institution_id in front.  Search is a prefix of the login or the display
-- name: text_pattern_ops makes LIKE 'abc%' an index range whatever the
-- database's collation.
CREATE INDEX users_inst_login ON users (institution_id, lower(login));
CREATE INDEX users_login_prefix ON users (lower(login) text_pattern_ops);
CREATE INDEX users_name_prefix ON users (display_name text_pattern_ops);

-- The operations panel lists failing and dead AI jobs, newest first.
CREATE INDEX ai_jobs_trouble ON ai_jobs (updated_at DESC)
    WHERE state IN ('dead', 'failed') OR attempts > 0;

-- The audit log filtered by who.
CREATE INDEX audit_log_login ON audit_log (lower(actor_login), id);
