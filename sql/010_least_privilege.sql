-- 010_least_privilege: each process gets the least it needs on the
-- account tables, a role for the administration console, the per-address
-- login throttle's index and the audit of reads.
--
-- Before this migration zhiying_app (the web workers, the receiver and
-- the inference daemon) could rewrite users, institutions, alliances,
-- DICOM peers and sessions: one SQL injection or one compromised worker
-- could make itself an administrator.  Now:
--
--   zhiying_app      reads the account tables; writes only the login
--                    bookkeeping of users (failure counter, lock time,
--                    last login), starts sessions and refreshes their idle
--                    time; ends a session only through session_end(),
--                    which needs the session's secret token, not its row.
--   zhiying_console  zhiying-admin (console and CLI, option db_console):
--                    accounts, institutions, alliances, DICOM peers,
--                    ending sessions, breaking report locks, retrying AI
--                    jobs, reading the audit log.
--   zhiying_inferd   zhiying-inferd (option db_inferd): its job queue, its
--                    results, the instances it loads, audit rows.
--
-- The roles are created by whoever creates the database (zhiying.sh as
-- the cluster's superuser), before the migrations run.

REVOKE INSERT, UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER
    ON institutions, alliances, alliance_members, users, sessions, dicom_peers
    FROM zhiying_app;
GRANT UPDATE (failed_logins, locked_until, last_login_at) ON users
    TO zhiying_app;
GRANT INSERT (token_digest, user_id, csrf_token, ip, user_agent)
    ON sessions TO zhiying_app;
GRANT UPDATE (last_seen) ON sessions TO zhiying_app;
REVOKE USAGE ON SEQUENCE users_id_seq, institutions_id_seq,
    alliances_id_seq, dicom_peers_id_seq FROM zhiying_app;

-- End the session of a token (logout, expiry, a new login in the same
-- browser).  Only the SHA-256 of a token is stored, so a caller that can
-- read every session still cannot end one whose token it does not hold.
CREATE FUNCTION session_end(token text) RETURNS boolean
LANGUAGE sql SECURITY DEFINER SET search_path = public, pg_temp AS $$
	WITH gone AS (
		DELETE FROM sessions WHERE token_digest =
		    encode(sha256(convert_to(token, 'UTF8')), 'hex')
		RETURNING 1)
	SELECT count(*) > 0 FROM gone
$$;
REVOKE ALL ON FUNCTION session_end(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION session_end(text) TO zhiying_app;

GRANT SELECT, INSERT, UPDATE, DELETE
    ON institutions, alliances, alliance_members, users, dicom_peers
    TO zhiying_console;
GRANT SELECT, DELETE ON sessions TO zhiying_console;
GRANT SELECT, INSERT ON audit_log TO zhiying_console;
-- 强制解锁 (wf_unlock) and the operations panel.
GRANT SELECT, UPDATE ON applications, ai_jobs TO zhiying_console;
GRANT SELECT ON application_transitions, report_versions, series, studies
    TO zhiying_console;
GRANT SELECT, INSERT ON application_history TO zhiying_console;
GRANT USAGE ON SEQUENCE users_id_seq, institutions_id_seq, alliances_id_seq,
    dicom_peers_id_seq, audit_log_id_seq, application_history_id_seq
    TO zhiying_console;

GRANT SELECT, UPDATE ON ai_jobs TO zhiying_inferd;
GRANT SELECT, INSERT, UPDATE, DELETE ON ai_results, ai_lesions
    TO zhiying_inferd;
GRANT SELECT ON instances TO zhiying_inferd;
GRANT INSERT ON audit_log TO zhiying_inferd;
GRANT USAGE ON SEQUENCE ai_results_id_seq, audit_log_id_seq
    TO zhiying_inferd;

-- The per-address login throttle counts an address's recent failures.
CREATE INDEX audit_log_failed_ip ON audit_log (ip, at)
    WHERE action = 'login_failed';
-- An image read is audited once per series and user and minute: the
-- check looks for this user's recent rows of the series.
CREATE INDEX audit_log_viewed ON audit_log (actor_id, object_type,
    object_id, at) WHERE action = 'image_viewed';
