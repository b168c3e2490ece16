-- 017_scp_role: a database role of its own for the DICOM receiver.
--
-- Until now zhiying-scp connected as zhiying_app, the web workers' role:
-- it could read users, sessions, applications with their clinical texts
-- and every report.  A receiver is the process that talks to every
-- hospital's PACS; one that is taken over should reach no more than the
-- image index it writes.  zhiying_scp (option db_scp) may:
--
--   dicom_peers, institutions  read whether a calling AE title is
--                    registered and active, its institution and its
--                    network (scp/main.c, peer_lookup); nothing else of
--                    the peers or institutions.
--   patients         add a patient, and fill in a name it did not have
--                    (ingest.c: INSERT ... ON CONFLICT DO UPDATE SET name,
--                    RETURNING id); it reads only the columns of that
--                    statement, not sex or birth date.
--   studies, series, instances  the index it writes and reads back
--                    (duplicates, the matcher's series, the positions of
--                    the slices); it updates only the columns its upserts
--                    and counters touch.
--   series_matches   what the matcher found (upsert of each reader).
--   ai_jobs          queue a job or queue it again when the series grew
--                    (upsert reading slices and state); it cannot read the
--                    queue's errors, leases or anything of other jobs.
--   applications     the columns that link a study to an application
--                    (id, applicant institution, accession number, patient
--                    number, exam date, state) and the 检查部位 the matcher
--                    reads; not the patient's name, phone or history, the
--                    texts or the locks.
--   application_studies  add a link (INSERT ... ON CONFLICT DO NOTHING
--                    RETURNING), read the links of a study.
--   audit_log        append rows (refused associations, stored instances,
--                    matched series); it cannot read them.
--
-- Nothing of users, sessions, report_versions, application_history,
-- attachments, AI results or the console's tables.  Foreign keys are
-- checked with the owner's rights and need no grant; pg_notify is public.
-- The role is created by whoever creates the database (zhiying.sh as the
-- cluster's superuser), before the migrations run.

GRANT SELECT (id, ae_title, institution_id, network, active)
    ON dicom_peers TO zhiying_scp;
GRANT SELECT (id, active) ON institutions TO zhiying_scp;

GRANT SELECT (id, institution_id, patient_id, name),
    INSERT (institution_id, patient_id, name, sex, birth_date),
    UPDATE (name)
    ON patients TO zhiying_scp;
GRANT SELECT, INSERT ON studies, series, instances TO zhiying_scp;
GRANT UPDATE (updated_at) ON studies TO zhiying_scp;
GRANT UPDATE (updated_at, instance_count, match_summary, matched_at)
    ON series TO zhiying_scp;
GRANT SELECT, INSERT,
    UPDATE (fits, reason, notes, slices, matched_at)
    ON series_matches TO zhiying_scp;
GRANT SELECT (id, series_id, reader, state, slices),
    INSERT (series_id, reader, slices),
    UPDATE (state, slices, attempts, error, run_after, updated_at,
	finished_at)
    ON ai_jobs TO zhiying_scp;

GRANT SELECT (id, applicant_institution_id, accession, patient_no,
    exam_date, state, body_part) ON applications TO zhiying_scp;
GRANT SELECT (application_id, study_id), INSERT
    ON application_studies TO zhiying_scp;

GRANT INSERT ON audit_log TO zhiying_scp;

GRANT USAGE ON SEQUENCE patients_id_seq, studies_id_seq, series_id_seq,
    instances_id_seq, ai_jobs_id_seq, audit_log_id_seq TO zhiying_scp;
