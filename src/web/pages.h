/*
 * pages.h - the page table and the handlers of zhiying-web.
 */
#ifndef ZY_PAGES_H
#define ZY_PAGES_H

#include "http.h"
#include "tmpl.h"
#include "workflow.h"

/* Access: which roles may open a page (ROLE_BIT set); PUBLIC pages need no
 * login at all. */
#define ACCESS_PUBLIC	0u
#define ACCESS_ANY	ROLES_ALL

struct page_def {
	const char	*path;
	unsigned int	 roles;		/* ACCESS_PUBLIC or ROLE_BIT() set */
	unsigned int	 methods;	/* bit set of enum method */
	const char	*title;		/* Chinese page title; NULL: none */
	int		 nav;		/* shown in the navigation */
	void		(*handler)(struct req *);
};

extern const struct page_def pages[PAGE__MAX];

/* Serve one parsed request: route, authenticate, authorise, check CSRF,
 * dispatch.  Always sends a complete response. */
void		 router_dispatch(struct req *);

/* A dictionary preloaded with what every page shows: site name, title,
 * the user, the navigation for the user's roles and the CSRF token. */
struct tdict	*page_dict(struct req *);

/* Render a template as a complete response.  Sends 500 on failure. */
void		 page_render(struct req *, int status, const char *tmpl,
		    struct tdict *);

/* Render the error page with a Chinese message.  A 403 or 404 met by a
 * logged-in user is audited (access_denied, with the status). */
void		 page_error(struct req *, int status, const char *message);

/* Audit a read of patient data by the logged-in user: action (e.g.
 * "application_viewed"), the object's type and id, and its 诊断号 (may be
 * NULL).  Returns 0, or -1 (logged): the caller then shows nothing. */
int		 page_audit_read(struct req *, const char *action,
		    const char *type, long long id, const char *diag_no);

/* Audit a view of a series' images ("image_viewed"): one row per series,
 * user and minute, however many slices are fetched.  Returns 0 or -1. */
int		 page_audit_image(struct req *, long long series_id);
/* Parse a PostgreSQL float array "{a,b,c}" into at most n values;
 * returns how many (0 when malformed). */
int		 page_float_array(const char *s, double *v, int n);

/* The workflow actor of the logged-in user. */
void		 page_actor(const struct req *, struct wf_actor *);

/*
 * Answer with frame of the stored DICOM file key (-1: its middle one) as
 * a PNG through a window preset, shrunk to max_edge pixels; 404 with a
 * Chinese message if it is missing or cannot be shown (logged with
 * what, e.g. "series 12").  The caller has checked access.
 */
void		 page_stored_png(struct req *, const char *key, int frame,
		    int preset, int max_edge, const char *what);

/*
 * Whether the user reads the application: a doctor of the institution
 * its mode names (the applicant's own for 自行诊断, the upper hospital for
 * 上级诊断) or of the hospital asked to assist (assist_inst, 0: none).
 * Visibility is application_visible()'s; this is who may write.
 */
int		 page_is_reader(const struct req *, enum app_mode,
		    long long applicant_inst, long long target_inst,
		    long long assist_inst);

/* 男, 女 or 其他 for a stored sex code (M, F, anything else). */
const char	*page_sex_zh(const char *);

/* The HTTP status of a workflow refusal (409 for a lock, a stale version
 * or a state conflict; 503 for the database). */
int		 wf_http_status(enum wf_result);

/* Handlers. */
void		 page_home(struct req *);
void		 page_login(struct req *);
void		 page_logout(struct req *);
void		 page_admin_users(struct req *);
void		 page_health(struct req *);
/* applicant pages: apply.c, upload.c */
void		 page_apply(struct req *);
void		 page_app_view(struct req *);
void		 page_app_cancel(struct req *);
void		 page_app_edit(struct req *);
void		 page_link_study(struct req *);
void		 page_decline_study(struct req *);
void		 page_attachment(struct req *);
void		 page_series_preview(struct req *);
void		 page_upload_dicom(struct req *);
void		 page_upload_attachment(struct req *);
/* Remove the upload spool files and partial store writes of worker pid,
 * or with pid 0 of every process that is gone (see upload.c). */
void		 upload_sweep(const struct conf *, long pid);
/* list pages: lists.c */
void		 page_applications(struct req *);
/* The counts of what waits for the user (lists.c), for the home page. */
int		 lists_home(struct req *, struct tdict *);
void		 page_worklist(struct req *);
void		 page_review_list(struct req *);
void		 page_reported(struct req *);
void		 page_diagnosed(struct req *);
void		 page_print_list(struct req *);
void		 page_app_return(struct req *);
void		 page_app_assist(struct req *);
void		 page_filter_save(struct req *);
void		 page_filter_delete(struct req *);
/* the image viewer: viewer.c */
/*
 * The viewer of application id's images for a page's dict d (keys zv_*,
 * the viewer's script and style; opening series want, 0: the one with
 * the most images), its 诊断号 into diag_no (may be NULL).  Returns 1, 0
 * when the user may not see the application, or -1 on database trouble.
 */
int		 viewer_block(struct req *, long long id, long long want,
		    struct tdict *d, char *diag_no, size_t diag_len);
/*
 * The slices of a volume of one series (an AI result's, by their SOP
 * Instance UIDs) as the viewer's axial images: viewer_block_map() fills
 * k (n entries, -1 for a slice the viewer does not show) and found (the
 * series is among the viewer's) besides what viewer_block() does.
 */
struct viewer_map {
	long long	  series;
	const char	**uids;
	int		  n;
	int		 *k;
	int		  found;
};
int		 viewer_block_map(struct req *, long long id, long long want,
		    struct tdict *d, char *diag_no, size_t diag_len,
		    struct viewer_map *);
void		 page_viewer(struct req *);
void		 page_viewer_image(struct req *);
void		 page_viewer_probe(struct req *);
void		 page_viewer_render(struct req *);
struct view_volume;
/* Series id's volume from the worker's cache, access and audit as
 * /viewer/image: 1, 0 not the user's, -1 database, -2 cannot be held. */
int		 viewer_volume(struct req *, long long id, struct view_volume **);
/* 肋骨拉直 / 肋骨展开: cpr.c */
void		 page_ai_cpr(struct req *);
void		 page_ai_cpr_rib(struct req *);
void		 page_ai_cpr_cage(struct req *);
int		 cpr_viewer_links(struct req *, long long app, struct tdict *);
/* report pages: report.c */
void		 page_report(struct req *);
void		 page_report_unlock(struct req *);
void		 page_report_save(struct req *);
void		 page_report_submit(struct req *);
void		 page_review_decide(struct req *);
void		 page_report_view(struct req *);
void		 page_report_print(struct req *);
void		 page_report_key_add(struct req *);
void		 page_report_key_remove(struct req *);
void		 page_report_key_image(struct req *);
/* 统计: stats.c */
void		 page_stats(struct req *);
void		 page_stats_export(struct req *);
/* “粤医智影” AI results: ai.c */
void		 page_ai_result(struct req *);
void		 page_ai_slice(struct req *);
void		 page_ai_upload(struct req *);
void		 page_ai_key_image(struct req *);
void		 page_ai_lesion_delete(struct req *);
void		 page_ai_jobs(struct req *);
void		 page_ai_picture(struct req *);
void		 page_ai_bmd_report(struct req *);

/* One card of the AI row of 写报告 (row 2 of 关联影像): a reader's job on
 * a linked series, or why a series has none.  Strings live in the
 * request's arena. */
struct ai_card {
	const char	*job;		/* ai_jobs.id, "" when none */
	const char	*reader;	/* Chinese name of the reader */
	const char	*series;	/* "序列 2 CHEST" */
	const char	*state;		/* 排队, 分析中, 完成, 失败, ... */
	const char	*cls;		/* queued, running, done, failed, nomatch */
	const char	*note;		/* why, in Chinese; "" when nothing */
	const char	*href;		/* the result page of a done job, or "" */
};

/*
 * The AI cards of application id, in the order of its series, into *out
 * (arena storage).  The caller has checked that the user may see the
 * application.  Returns the number of cards, or -1 on database trouble.
 */
int		 ai_cards(struct req *, long long id, struct ai_card **out);

#endif /* ZY_PAGES_H */
