-- 019_report_key_images: the key images a reading doctor chooses for the
-- report (关键图像), printed with it.
--
-- An image is one of the application's own: a series of a study linked to
-- it (kind 'series': the series' preview, its middle slice, as 写报告 shows
-- it), or one slice of an AI reader's result on such a series (kind 'ai':
-- job and slice, from 0, in the order of ai_results.slice_uids).  The
-- caption (序列 2 CHEST, 冠脉钙化积分 第 57 层 ...) is fixed when the image is
-- chosen.  Only the doctor writing the report (the lock holder, 报告中)
-- adds or removes images, through the workflow library, in one
-- transaction with the history and audit rows (key_image_added,
-- key_image_removed); at most 4 per report, which the library checks
-- under the application's row lock.

CREATE TABLE report_key_images (
	id		bigserial PRIMARY KEY,
	application_id	bigint NOT NULL REFERENCES applications
			    ON DELETE CASCADE,
	kind		text NOT NULL CHECK (kind IN ('series', 'ai')),
	series_id	bigint NOT NULL REFERENCES series ON DELETE CASCADE,
	job_id		bigint REFERENCES ai_jobs ON DELETE CASCADE,
	slice		integer CHECK (slice >= 0),
	window_name	text NOT NULL DEFAULT 'auto'
			    CHECK (window_name IN ('lung', 'mediastinum',
			    'bone', 'auto')),
	caption		text NOT NULL CHECK (length(caption) <= 200),
	position	integer NOT NULL CHECK (position >= 1),
	created_by	bigint NOT NULL REFERENCES users,
	created_at	timestamptz NOT NULL DEFAULT now(),
	CHECK ((kind = 'ai') = (job_id IS NOT NULL)),
	CHECK ((kind = 'ai') = (slice IS NOT NULL)),
	UNIQUE (application_id, position)
);

-- The same picture is chosen once per report.
CREATE UNIQUE INDEX report_key_images_once ON report_key_images
    (application_id, series_id, coalesce(job_id, 0), coalesce(slice, -1));

GRANT SELECT, INSERT, DELETE ON report_key_images TO zhiying_app;
GRANT SELECT ON report_key_images TO zhiying_console;
