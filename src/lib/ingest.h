/*
 * ingest.h - the one path by which a DICOM file enters zhiying.
 *
 * The DICOM receiver (PACS push and image collectors) and the web upload
 * both end here.  A file is checked, stored, and indexed as patient,
 * study, series and instance of the institution that sent it.  Ingest is
 * idempotent: the same SOP Instance UID from the same institution is
 * stored once; the same UID under another study or series is refused.
 * The file is written to the store before the index row commits, and the
 * index commits in one transaction with its audit row (and, for an
 * upload, the study's link to its application, or its hold when the
 * patient in the file is not the application's), so a crash at any point
 * leaves no half-indexed instance and no stored instance without its
 * link; sending the file again completes it.  A file refused after it was
 * written is removed from the store again.
 *
 * Before anything is stored, the pixel data must hold what the header
 * declares (dcm_check_pixels()): an image that cannot be shown never
 * reaches the store, the index or the AI queue.
 */
#ifndef ZY_INGEST_H
#define ZY_INGEST_H

#include <libpq-fe.h>

#include "conf.h"
#include "dicom.h"
#include "store.h"

struct ingest_source {
	long long	 institution_id;	/* who sent it: required */
	const char	*channel;	/* "scp" or "upload" */
	const char	*calling_ae;	/* scp: the peer's AE title */
	const char	*ip;		/* peer or browser address; may be NULL */
	long long	 user_id;	/* upload: the user; 0 otherwise */
	const char	*login;		/* upload: the user's login; may be NULL */
	long long	 application_id;	/* upload: linked in the same
					 * transaction; 0 otherwise */
	int		 move;		/* the file may be moved into the
					 * store (a spool file of ours) */
};

enum ingest_result {
	INGEST_STORED,		/* new instance stored and indexed */
	INGEST_DUPLICATE,	/* already there: nothing changed */
	INGEST_REFUSED,		/* not usable DICOM: reason given */
	INGEST_ERROR,		/* store or database trouble (logged) */
	INGEST__MAX
};

struct ingest_outcome {
	long long	 study_id, series_id, instance_id;
	char		 reason[256];	/* English, for logs (REFUSED/ERROR) */
	int		 unreadable;	/* REFUSED: the reader failed */
	int		 held;		/* upload: the study's patient differs
					 * from the application's: held, not
					 * linked (wf_offer_study()) */
	struct dcm_info	 info;		/* what was read from the file */
};

/* Ingest the file at path.  limits may be NULL for the defaults.  The
 * file itself is not removed.  Fills *out as far as it got. */
enum ingest_result ingest_file(PGconn *, struct store *,
		    const struct dcm_limits *, const char *path,
		    const struct ingest_source *, struct ingest_outcome *out);

/* The reader's limits of the configuration (dicom_max_inflated,
 * dicom_inflate_ratio); the other limits keep their defaults. */
void		 ingest_limits(struct dcm_limits *, const struct conf *);

/* The storage SOP classes accepted, NULL-terminated. */
extern const char *const ingest_sop_classes[];

/* Whether a SOP Class UID is one of the image types zhiying accepts
 * (CT, Enhanced CT, CR, DX, Secondary Capture): 1 or 0. */
int		 ingest_sop_class_known(const char *uid);

#endif /* ZY_INGEST_H */
