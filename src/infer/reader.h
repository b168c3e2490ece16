/*
 * reader.h - the interface of an AI reader, and what it finds.
 *
 * A reader checks that a loaded series is one it can read, runs on the
 * volume through the compute backend and fills a struct ai_result: the
 * lesions it found (type, location, measurements, a box on a key slice,
 * confidence), summary figures, key images and the generated report text,
 * 影像表现 (findings) and 影像结论 (conclusion), in Chinese.  The daemon
 * stores the result (ai_result_store()) and finishes the job in one
 * transaction.
 *
 * Readers are registered in reader_impls[], indexed by enum reader
 * (matcher.h); an entry that is NULL is a reader not in this build, and
 * its jobs end as dead at once.
 */
#ifndef ZY_READER_H
#define ZY_READER_H

#include <stddef.h>
#include <stdint.h>

#include <libpq-fe.h>

#include "compute.h"
#include "conf.h"
#include "matcher.h"
#include "series.h"

#define AI_NAME_MAX	64
#define AI_UNIT_MAX	16
#define AI_MEASURES_MAX	8

/* A named figure: "长径" 8.2 "mm", "Agatston" 112 "". */
struct ai_measure {
	char		 name[AI_NAME_MAX];
	double		 value;
	char		 unit[AI_UNIT_MAX];
};

/* A box on one slice of the volume, in voxels, inclusive. */
struct ai_box {
	int		 slice;		/* z index in the loaded volume */
	int		 x0, y0, x1, y1;
};

struct ai_lesion {
	int		 id;		/* 1.., in the order shown */
	char		 type[AI_NAME_MAX];	/* "实性结节", "肋骨骨折" */
	char		 location[128];	/* "右肺上叶尖段", "左第5肋腋段" */
	struct ai_measure meas[AI_MEASURES_MAX];
	size_t		 nmeas;
	struct ai_box	 box;
	double		 confidence;	/* 0..1 */
	/* This lesion's sentences for the report, taken when the doctor
	 * checks it on the result page (上传影像结论). */
	char		 findings[512];	/* 影像表现 */
	char		 conclusion[1024];	/* 影像结论, may be "" */
};

/* An image worth showing: a slice with its display window. */
struct ai_key_image {
	int		 slice;
	double		 window_center, window_width;
	char		 caption[128];
};

/* A histogram to show on the result page: the left and right lung
 * CT-number histograms.  Bin i holds counts[i] of the values from lo + i *
 * width to lo + (i + 1) * width; its figures (容积, LAA-950) beside it. */
struct ai_histogram {
	char		 name[AI_NAME_MAX];	/* "右肺" */
	double		 lo, width;		/* HU */
	double		*counts;
	size_t		 nbins;
	/* The first bin holds everything below lo + width as well, the
	 * last everything from its lower edge up (an open-ended range,
	 * said so on the page). */
	int		 open_below, open_above;
	struct ai_measure meas[AI_MEASURES_MAX];
	size_t		 nmeas;
};

/* A picture a reader drew (ai_result_pictures): PNG bytes. */
struct ai_picture {
	char		 name[33];	/* [a-z_]: "bodycomp", "sagittal" */
	int		 width, height;
	unsigned char	*png;
	size_t		 len;
};

/* What a reader found.  Zero it with ai_result_init(); everything it
 * holds is freed by ai_result_free(). */
struct ai_result {
	struct ai_lesion	*lesions;
	size_t			 nlesions;
	struct ai_measure	*summary;
	size_t			 nsummary;
	struct ai_key_image	*keys;
	size_t			 nkeys;
	char			*findings;	/* 影像表现, UTF-8 */
	char			*conclusion;	/* 影像结论, UTF-8 */
	char			*method;	/* how, with references */
	struct ai_histogram	*hists;
	size_t			 nhists;
	/* What the result page draws over the slices besides the boxes
	 * (sql/033: the ribs' centre lines and labels, the vertebrae's
	 * labels), JSON text; NULL for none. */
	char			*overlays;
	/* The volume read, for the result page: its size and the SOP
	 * Instance UID of each slice, in volume order. */
	int			 nx, ny;
	char			**slice_uids;
	size_t			 nslices;
	/* Pictures, and figures of the reader's own as a JSON object
	 * (ai_results.extra; NULL: {}). */
	struct ai_picture	*pictures;
	size_t			 npictures;
	char			*extra;
	/* The regions found, as a label volume on the volume's grid
	 * (masks.h, sql/034), with its legend (JSON array text); NULL
	 * for none. */
	uint8_t			*masks;
	int			 masks_dims[3];
	char			*masks_legend;
};

/* The answer of a reader's check. */
enum reader_verdict {
	READER_FITS,
	READER_REFUSES,			/* the series is not for it */
	READER_VERDICT__MAX
};

/* What a reader gets to run with. */
struct reader_ctx {
	struct compute		*compute;
	long long		 series_id;
	/* Set by the daemon when the job's lease is lost or the daemon
	 * stops; a long reader looks at it between passes and gives up. */
	volatile int		*cancel;
	/* The daemon's settings (a reader's own calibration); may be
	 * NULL, for the defaults. */
	const struct conf	*conf;
	/* The calcium mass score's calibration for the series' scanner
	 * (cac_calibrations), and where it came from, in Chinese ("GE
	 * LightSpeed16 120 kV"); 0 and "" when the site entered none. */
	double			 cac_calibration;
	char			 cac_calibration_from[200];
	/* The patient, from the application (else the DICOM header): age
	 * in years at the study (NAN when not known), sex 'M', 'F' or 0. */
	double			 patient_age;
	int			 patient_sex;
	/* The anatomy shared by the jobs of one series (anatomy.h); NULL:
	 * the reader keeps its own for the call. */
	struct anatomy_cache	*anatomy;
	/* A radiograph series (one CR/DX/SC image) as the 2-D film a
	 * viewer shows, with the application's 检查部位 (film.h); NULL when
	 * the series is not a film: a film reader then makes its own from
	 * the volume. */
	const struct film	*film;
};

/* The calibration that cac_calibrations holds for the scanner of v: the
 * most specific row (model and voltage, model, voltage, manufacturer)
 * into ctx->cac_calibration and ctx->cac_calibration_from.  Returns 1
 * when one fits, 0 when none does, -1 when the database fails. */
int		 reader_calibration(PGconn *, const struct series_volume *,
		    struct reader_ctx *);

struct anatomy_cache;
struct film;

struct reader_impl {
	enum reader		 id;
	/* Whether the volume is one this reader can read; when not, why,
	 * in Chinese, into why (size bytes). */
	enum reader_verdict	(*check)(const struct series_volume *,
				    char *why, size_t size);
	/* Read the volume into res.  Returns 0; 1 when what the image
	 * shows makes the series one the reader is not for (contrast seen
	 * in the blood, a sharp kernel's noise), with the reason in err in
	 * Chinese, and the job ends refused like a failed check; or -1
	 * with a reason in err (English), and the job is retried. */
	int			(*run)(const struct reader_ctx *,
				    const struct series_volume *,
				    struct ai_result *res, char *err,
				    size_t errlen);
};

/* The readers of this build, indexed by enum reader; NULL where a reader
 * is not available. */
extern const struct reader_impl *const reader_impls[READER__MAX];

/*
 * The checks the chest CT readers share (lung nodules, pneumonia): a CT,
 * axial, enough slices, slices no thicker than max_mm, no gap, no tilt,
 * 100 mm of cover.  The reason names the reader's task (what: "肺结节检测"),
 * what a gap costs (gap_zh: "可能漏检结节") and what a tilt spoils
 * (tilt_zh: "体积与径线测量").
 */
enum reader_verdict reader_check_chest_ct(const struct series_volume *,
		    const char *what, double max_mm, const char *gap_zh,
		    const char *tilt_zh, char *why, size_t size);

/* Lungs of less than this (mL) are no lungs to read. */
#define READER_LUNGS_MIN_ML	300.0

struct anatomy;

/*
 * The lungs of v, with the lobes where they can be had, from the anatomy
 * the daemon shares between the jobs of a series (ctx->anatomy; else a
 * cache of the call's own into *own, for the caller to free with
 * anatomy_cache_free()).  Returns 0 with *an; 1 when the image shows no
 * lungs or lungs cut by the scan's range, with the reason in err in
 * Chinese naming the task (what; what_en in the log); -1 with an English
 * reason (memory, the backend, cancelled).
 */
int		 reader_chest_lungs(const struct reader_ctx *,
		    const struct series_volume *, const char *what,
		    const char *what_en, struct anatomy_cache **own,
		    const struct anatomy **an, char *err, size_t errlen);

/*
 * The lungs of an for a result's regions (ai_result_set_masks()): a new
 * label volume on v's grid into *lab (free() it) holding the five lobes
 * as labels 1..5 (enum lobe) where the anatomy has them, else the right
 * and left lung as 1 and 2, and their entries appended to legend (a
 * JSON array).  Labels from READER_MASKS_FIRST up are the reader's own.
 * Returns 0, or -1 when out of memory.
 */
#define READER_MASKS_FIRST	10
struct json_t;
int		 reader_masks_lungs(const struct anatomy *,
		    const struct series_volume *, uint8_t **lab,
		    struct json_t *legend);

/* Zero a result. */
void		 ai_result_init(struct ai_result *);

/* Free what a result holds and zero it. */
void		 ai_result_free(struct ai_result *);

/* Append a lesion (copied); returns the stored one, or NULL when out of
 * memory. */
struct ai_lesion *ai_result_add_lesion(struct ai_result *,
		    const struct ai_lesion *);

/* Append a summary figure; 0 or -1 when out of memory. */
int		 ai_result_add_summary(struct ai_result *, const char *name,
		    double value, const char *unit);

/* Append a key image; 0 or -1 when out of memory. */
int		 ai_result_add_key(struct ai_result *,
		    const struct ai_key_image *);

/* Set the findings and conclusion text (copied); 0 or -1. */
int		 ai_result_set_text(struct ai_result *, const char *findings,
		    const char *conclusion);

/* Append a histogram (name, counts copied, no figures yet); returns
 * the stored one for its figures, or NULL when out of memory. */
struct ai_histogram *ai_result_add_histogram(struct ai_result *,
		    const char *name, double lo, double width,
		    const double *counts, size_t nbins);

/* A figure for a reader's text: at most one decimal, none for a whole
 * number ("12", "3.5"). */
void		 ai_text_fig(char *, size_t, double);

/* Append printf-formatted text to the growing string *s of *len bytes;
 * 0, or -1 when out of memory (*s is left as it was). */
int		 ai_text_append(char **s, size_t *len, const char *fmt, ...)
		    __attribute__((format(printf, 3, 4)));

/* Set the method statement (copied); 0 or -1. */
int		 ai_result_set_method(struct ai_result *, const char *);

/* Append a picture: pix is w x h pixels of channels (1 grey, 3 RGB),
 * encoded as PNG; 0 or -1 when out of memory. */
int		 ai_result_add_picture(struct ai_result *, const char *name,
		    const unsigned char *pix, int w, int h, int channels);

/* Set the reader's own figures (JSON object text, copied); 0 or -1. */
int		 ai_result_set_extra(struct ai_result *, const char *json);

/* Set the overlays (JSON text, copied); 0 or -1. */
int		 ai_result_set_overlays(struct ai_result *, const char *);

/* Set the regions: lab (nx * ny * nz labels, the result takes it, and
 * frees it on failure too) with legend (JSON array text, copied); 0 or
 * -1 when out of memory. */
int		 ai_result_set_masks(struct ai_result *, uint8_t *lab,
		    int nx, int ny, int nz, const char *legend);

/* Record the size and slice UIDs of the volume read; 0 or -1. */
int		 ai_result_set_volume(struct ai_result *,
		    const struct series_volume *);

/*
 * Store res as the result of job_id (series_id, reader) and finish the
 * job as done, in one transaction with an audit row.  Idempotent: the
 * result of a series and reader is replaced, never doubled.  The job is
 * only finished while worker still holds its lease; otherwise nothing is
 * stored.  Returns 1 stored, 0 the lease was lost, -1 on database trouble
 * (logged).
 */
int		 ai_result_store(PGconn *, long long job_id, long long series_id,
		    const char *reader, const char *worker, const char *backend,
		    const struct ai_result *res);

#endif /* ZY_READER_H */
