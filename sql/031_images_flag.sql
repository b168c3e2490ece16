-- 031_images_flag: 待诊断 at a million applications (issue 19).
--
-- 待诊断 puts the applications whose images have arrived first
-- (lists.c list_order).  Asked of application_studies row by row, that
-- order costs one probe per waiting row of the institution before the
-- first page can be cut (212 ms at 1,000,000 applications, 50,000
-- waiting).  The answer is now kept on the application itself, by a
-- trigger on its links, and the waiting rows' index holds it in the
-- list's order: the page is the first 20 entries of an index-only scan.
--
-- images_missing is true while no study is linked (a study held for the
-- applicant's decision, study_link_holds, is not linked).  Every way a
-- link is made or taken away (the receiver's matcher, an upload, 关联 by
-- hand, study_links_recheck after 退回) goes through the trigger, which
-- runs with the owner's rights: the receiver's role may not update
-- applications itself.

ALTER TABLE applications ADD COLUMN images_missing boolean NOT NULL
    DEFAULT true;
UPDATE applications a SET images_missing = false
    WHERE EXISTS (SELECT 1 FROM application_studies l
	WHERE l.application_id = a.id);

CREATE FUNCTION application_images_flag() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
	IF TG_OP IN ('INSERT', 'UPDATE') THEN
		UPDATE applications SET images_missing = false
		    WHERE id = NEW.application_id AND images_missing;
	END IF;
	IF TG_OP IN ('DELETE', 'UPDATE') THEN
		UPDATE applications a SET images_missing = true
		    WHERE a.id = OLD.application_id AND NOT a.images_missing
		    AND NOT EXISTS (SELECT 1 FROM application_studies l
			WHERE l.application_id = OLD.application_id);
	END IF;
	RETURN NULL;
END
$$;
REVOKE ALL ON FUNCTION application_images_flag() FROM PUBLIC;
CREATE TRIGGER application_studies_images AFTER INSERT OR DELETE
    OR UPDATE OF application_id ON application_studies
    FOR EACH ROW EXECUTE FUNCTION application_images_flag();

-- The waiting rows in 待诊断's order: by state, those with images first,
-- newest first; the scope's columns ride along for the index-only scan.
DROP INDEX applications_waiting;
CREATE INDEX applications_waiting ON applications
    (state, images_missing, submitted_at DESC, id DESC)
    INCLUDE (mode, applicant_institution_id, target_institution_id,
    assist, assist_institution_id);
