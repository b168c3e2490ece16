-- 026_ai_lesion_deletions: 删除病灶序号框, the boxes a reading doctor takes
-- off an AI result for the report of one application.
--
-- The manual lets the doctor delete a tuberculosis reader's numbered box
-- that is not a lesion.  A deletion belongs to the application whose
-- report is written (a study may be linked to more than one) and to that
-- result: when the reader writes the result again its lesions are new,
-- and the deletions of the old ones go with them (the foreign key).  A
-- deleted box stays deleted: there is no way back but reading the series
-- again.  Only the doctor writing the report (the lock holder, 报告中)
-- deletes, through the workflow library, in one transaction with the
-- history and audit rows (ai_lesion_deleted).

CREATE TABLE ai_lesion_deletions (
	application_id	bigint NOT NULL REFERENCES applications
			    ON DELETE CASCADE,
	result_id	bigint NOT NULL,
	idx		integer NOT NULL,
	deleted_by	bigint NOT NULL REFERENCES users,
	deleted_at	timestamptz NOT NULL DEFAULT now(),
	PRIMARY KEY (application_id, result_id, idx),
	FOREIGN KEY (result_id, idx) REFERENCES ai_lesions (result_id, idx)
	    ON DELETE CASCADE
);

CREATE INDEX ai_lesion_deletions_lesion ON ai_lesion_deletions
    (result_id, idx);

GRANT SELECT, INSERT ON ai_lesion_deletions TO zhiying_app;
GRANT SELECT ON ai_lesion_deletions TO zhiying_console;
