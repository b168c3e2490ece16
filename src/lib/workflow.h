/*
 * workflow.h - applications for diagnosis (申请单) and their life cycle.
 *
 * Every change of an application is one transaction that also writes its
 * history row and its audit row.  State changes are conditional updates
 * (WHERE state = the state the caller saw), so of two doctors acting at
 * once exactly one succeeds; the database trigger refuses any transition
 * DESIGN.md does not allow, whoever asks.
 */
#ifndef ZY_WORKFLOW_H
#define ZY_WORKFLOW_H

#include <libpq-fe.h>

#include "model.h"

enum app_state {
	APP_PENDING,		/* 待报告 */
	APP_REPORTING,		/* 报告中 */
	APP_IN_REVIEW,		/* 审核中 */
	APP_REPORTED,		/* 已报告 */
	APP_REVIEWED,		/* 已审核 */
	APP_CANCELLED,		/* 已取消 */
	APP_RETURNED,		/* 已退回 */
	APP_STATE__MAX
};

enum app_mode {
	MODE_SELF,		/* 自行诊断 */
	MODE_SUPERIOR,		/* 上级诊断 */
	MODE__MAX
};

enum urgency {
	URGENCY_ROUTINE,	/* 普通 */
	URGENCY_URGENT,		/* 加急 */
	URGENCY_EMERGENCY,	/* 急诊 */
	URGENCY__MAX
};

extern const struct model_name app_state_names[APP_STATE__MAX];
extern const struct model_name app_mode_names[MODE__MAX];
extern const struct model_name urgency_names[URGENCY__MAX];

/* Results of workflow operations. */
enum wf_result {
	WF_OK,
	WF_NOT_FOUND,		/* no such application for this user */
	WF_CONFLICT,		/* its state changed meanwhile */
	WF_LOCKED,		/* another doctor holds the lock */
	WF_FORBIDDEN,		/* this user may not do this */
	WF_STALE,		/* the report changed since it was loaded */
	WF_INVALID,		/* bad input (message says which) */
	WF_ERROR,		/* database trouble (logged) */
	WF_MISMATCH,		/* the study's patient differs: held, a
				 * reason is needed to link it */
	WF__MAX
};

/* Who acts, and from where. */
struct wf_actor {
	long long	 user_id;
	long long	 institution_id;
	const char	*login;
	const char	*name;		/* display name, for messages */
	unsigned int	 roles;		/* ROLE_BIT() set */
	enum title	 title;
	const char	*ip;
	const char	*channel;	/* audit channel; NULL: "web" */
};

/* The fields of an application as typed on the form (UTF-8). */
struct wf_form {
	const char	*patient_name, *patient_sex, *patient_age;
	const char	*patient_birth, *patient_no, *patient_phone;
	const char	*chief_complaint, *present_illness, *history;
	const char	*clinical_diagnosis, *exam_type, *body_part;
	const char	*urgency, *accession, *exam_date;
	const char	*mode;		/* "self" or "superior" */
	long long	 alliance_id, target_institution_id;
};

/* Field-level errors of a form, in Chinese, NULL where the field is good. */
struct wf_form_errors {
	const char	*patient_name, *patient_sex, *patient_age;
	const char	*patient_birth, *patient_no, *patient_phone;
	const char	*chief_complaint, *present_illness;
	const char	*clinical_diagnosis, *exam_type, *body_part;
	const char	*urgency, *exam_date, *mode, *target;
	int		 count;
};

/* Check a form (and, in superior mode, that the target is an upper
 * hospital of the applicant in that alliance).  Returns the number of
 * errors, or -1 on database trouble. */
int		 wf_form_check(PGconn *, const struct wf_actor *,
		    const struct wf_form *, struct wf_form_errors *);

/* Create an application (state 待报告) with a new 诊断号, and link the
 * studies its accession number or patient number and date point at.
 * Returns WF_OK with *id and diag_no (32 bytes) set. */
enum wf_result	 wf_create(PGconn *, const struct wf_actor *,
		    const struct wf_form *, long long *id, char *diag_no);

/* Change the fields of a returned application and submit it again. */
enum wf_result	 wf_resubmit(PGconn *, const struct wf_actor *, long long id,
		    const struct wf_form *);

/* The applicant cancels while 待报告. */
enum wf_result	 wf_cancel(PGconn *, const struct wf_actor *, long long id);

/* A reading doctor returns an incomplete application (reason required). */
enum wf_result	 wf_return(PGconn *, const struct wf_actor *, long long id,
		    const char *reason);

/* 写报告: take the lock (待报告 -> 报告中), or confirm it when already held.
 * A lock idle longer than lock_idle seconds may be taken over.  On
 * WF_LOCKED, holder (at least 128 bytes) names the doctor. */
enum wf_result	 wf_lock(PGconn *, const struct wf_actor *, long long id,
		    int lock_idle, char *holder, size_t holdersize);

/* 解除锁定: the holder (or an administrator) gives the lock up
 * (报告中 -> 待报告). */
enum wf_result	 wf_unlock(PGconn *, const struct wf_actor *, long long id);

/* 请求协助: add an upper hospital of an alliance as a reader. */
enum wf_result	 wf_assist(PGconn *, const struct wf_actor *, long long id,
		    long long alliance_id, long long institution_id,
		    const char *chief_complaint, const char *present_illness);

/* Save a report version (autosave or explicit).  base is the version the
 * editor started from: if another version was saved since, WF_STALE and
 * nothing is written.  On WF_OK *version is the new version. */
enum wf_result	 wf_report_save(PGconn *, const struct wf_actor *,
		    long long id, int base, const char *findings,
		    const char *conclusion, int ai_used, int *version);

/* 关键图像: at most this many per report. */
#define WF_KEY_IMAGES_MAX	4

/* A key image to add: a series of the application's studies (job 0: the
 * series' preview, its middle slice) or slice (from 0) of AI job's
 * result on such a series; window is a preview window name. */
struct wf_key_image {
	long long	 series;	/* kind series; 0 with a job */
	long long	 job;		/* kind ai; 0 for a series */
	int		 slice;		/* kind ai */
	const char	*window;	/* lung, mediastinum, bone, auto */
};

/* Add a key image to the report being written (the lock holder, 报告中),
 * with its caption made here, as the last one; audited key_image_added.
 * WF_NOT_FOUND with *why set when the image is not one of this
 * application's; WF_INVALID with *why set when there are
 * WF_KEY_IMAGES_MAX already, the image is chosen already or the slice
 * does not exist.  *why (static Chinese text) is NULL otherwise. */
enum wf_result	 wf_key_image_add(PGconn *, const struct wf_actor *,
		    long long id, const struct wf_key_image *,
		    const char **why);

/* Remove key image key of the report being written; audited
 * key_image_removed.  WF_NOT_FOUND with *why set when the report has no
 * such key image. */
enum wf_result	 wf_key_image_remove(PGconn *, const struct wf_actor *,
		    long long id, long long key, const char **why);

/* 删除病灶序号框: take lesion idx of AI job's result off this
 * application's view of it (the report being written: the lock holder,
 * 报告中); audited ai_lesion_deleted with the reader's box named in the
 * history.  WF_NOT_FOUND with *why set when the job is not one of this
 * application's series or its result has no such lesion; WF_INVALID with
 * *why set when the box is deleted already. */
enum wf_result	 wf_ai_lesion_delete(PGconn *, const struct wf_actor *,
		    long long id, long long job, int idx, const char **why);

/* Submit the report: to review (审核中), or final (已报告) when the author
 * has sign-off and final is set. */
enum wf_result	 wf_report_submit(PGconn *, const struct wf_actor *,
		    long long id, int base, const char *findings,
		    const char *conclusion, int ai_used, int final,
		    enum title signoff);

/* 审核: approve (已审核) or reject with a comment (back to 报告中, locked
 * to the author).  The reviewer needs sign-off and may not be the
 * author. */
enum wf_result	 wf_review(PGconn *, const struct wf_actor *, long long id,
		    int approve, const char *comment, enum title signoff);

/*
 * Linking a study to an application.  The patient in the study's DICOM
 * header is compared with the application (study_identity_diff(), sql/018:
 * patient number, name, sex, age, birth date, accession number, and
 * whether the study serves another patient's application already).  A
 * study whose patient matches is linked; one whose patient differs is
 * never linked silently: it is held (study_link_holds) until the applicant
 * links it with a reason or declines it.
 */

/* Who proposes a link: a user, or the receiver (user_id 0). */
struct wf_linker {
	long long	 user_id;
	long long	 institution_id;	/* 0: the study's */
	const char	*login, *ip;
	const char	*channel;	/* audit channel; NULL: "web" */
};

enum wf_offer {
	WF_OFFER_ERROR = -1,	/* database trouble (logged) */
	WF_OFFER_NONE,		/* not a study of the applicant's institution */
	WF_OFFER_KNOWN,		/* linked already */
	WF_OFFER_LINKED,	/* linked now, with its audit row */
	WF_OFFER_HELD		/* the patient differs: held, not linked */
};

/* Offer study to application app, in the caller's transaction; how is
 * the rule that found it (accession, patient_date, upload, hand). */
int		 wf_offer_study(PGconn *, const struct wf_linker *,
		    long long app, long long study, const char *how);

/* Link a study to an application by hand (the study must belong to the
 * applicant's institution).  When its patient differs, reason (the
 * applicant's confirmation) is required: without it the study is held and
 * WF_MISMATCH returned; with it the study is linked, the differences and
 * the reason kept with the link, in the history and in the audit log. */
enum wf_result	 wf_link_study(PGconn *, const struct wf_actor *,
		    long long id, long long study_id, const char *reason);

/* The applicant declines a held study: the hold goes, with a history and
 * an audit row. */
enum wf_result	 wf_decline_study(PGconn *, const struct wf_actor *,
		    long long id, long long study_id);

/* Offer a newly indexed study to the applications of its institution
 * whose accession number, or patient number and exam date, match, in one
 * transaction.  Returns the number of links made (held ones not counted),
 * or -1. */
int		 wf_autolink_study(PGconn *, const struct wf_linker *,
		    long long study_id);

/* The Chinese name of a code of study_identity_diff() (static). */
const char	*wf_identity_zh(const char *code);

/* The known codes in a PostgreSQL array text ({patient_id,accession}),
 * into codes (at most max, static strings).  Returns how many. */
size_t		 wf_identity_list(const char *arr, const char **codes,
		    size_t max);

/* The Chinese message of a result (static). */
extern const char *const wf_messages[WF__MAX];

/* Parse a state code; -1 if unknown. */
int		 wf_state_parse(const char *);

#endif /* ZY_WORKFLOW_H */
