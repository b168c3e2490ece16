/*
 * tb.h - the tuberculosis reader of chest films (dr_tuberculosis,
 * DR肺结核智能诊断).
 *
 * Classical image analysis on the film as a viewer shows it (film.h):
 * the exposed field is brought to 256 pixels across; the lung fields are
 * the dark regions either side of the mediastinum inside a shape prior,
 * split at the brightest column of the middle of the chest, filled row by
 * row (intensity thresholding with a shape prior, after the pixel
 * classification and atlas approaches reviewed by van Ginneken et al.,
 * Med Image Anal 2006, and Candemir et al., IEEE TMI 2014), each cut into
 * upper, middle and lower thirds.  The image score is a logistic model of
 * the upper zone's density above the lower zone of the same lung (the
 * larger side) and the upper zones' texture (the mean absolute residual
 * over the lung's own smooth background; texture and left-right
 * comparison after Jaeger et al., IEEE TMI 2014, and Santosh & Antani
 * 2018).  The same model on each upper and middle zone's own figures
 * gives the numbered boxes (the zone's extent of the lung field) and
 * their confidence; the kind of a box is that of the largest focal
 * opacity in it (brighter than the background by 2.5 noise units).
 * Two lesions are looked for on their own: a pleural effusion, where
 * the costophrenic angle (the lung contour's angle where the chest wall
 * meets the hemidiaphragm, after Armato et al., Acad Radiol 1998) is
 * blunted, 90 degrees or more with its point raised above the lowest of
 * the base (the recess filled to a meniscus: tb_cp_blunted()); and a
 * cavity in an upper zone, a compact lucency walled all round by
 * opacity.  Each is a lesion with its own box; neither changes the
 * image score (letting them raise it lowered the AUC on dr/tb, tbeval).
 */
#ifndef ZY_TB_H
#define ZY_TB_H

#include <stddef.h>

#include "film.h"
#include "reader.h"

enum tb_type {
	TB_PATCH,		/* 斑片影 */
	TB_NODULE,		/* 结节影 */
	TB_STREAK,		/* 纤维条索影 */
	TB_CALCIFICATION,	/* 钙化灶 */
	TB_EFFUSION,		/* 胸腔积液: a blunted costophrenic angle */
	TB_CAVITY,		/* 空洞: a lucency walled by opacity */
	TB_TYPE__MAX
};

extern const char *const tb_type_zh[TB_TYPE__MAX];

enum tb_zone {
	TB_ZONE_UPPER,
	TB_ZONE_MIDDLE,
	TB_ZONE_LOWER,
	TB_ZONE__MAX
};

struct tb_lesion {
	enum tb_type	 type;
	int		 side;		/* 0 the patient's right, 1 left */
	enum tb_zone	 zone;
	int		 x0, y0, x1, y1;	/* film pixels, inclusive */
	double		 area_frac;	/* of its lung field's area */
	double		 contrast;	/* mean excess over background, in
					 * units of the lung's noise */
	double		 confidence;	/* 0..1 */
	char		 location[32];	/* "右上肺野", "右肋膈角" */
	/* TB_EFFUSION: the costophrenic angle (degrees) and how far its
	 * point lies above the lowest of the lung's base (of the lung's
	 * height); TB_CAVITY: the lucency's diameter (film pixels) and
	 * the sectors of its wall (of 12). */
	double		 angle, raised;
	double		 diameter;
	int		 walled;
};

#define TB_NFEAT	2

extern const char *const tb_feature_names[TB_NFEAT];

struct tb_result {
	struct tb_lesion *lesions;	/* by confidence, highest first */
	size_t		 count;
	double		 feat[TB_NFEAT];
	/* Zone figures: median density of the upper (0 right, 1 left)
	 * and lower (2, 3) thirds of each lung, the mediastinum (4), each
	 * lung's height (5, 6) and area (9, 10) as fractions of the
	 * image, the mean absolute residual of the upper and lower zones
	 * (7, 8). */
	double		 aux[11];
	double		 burden;	/* opacity: summed contrast of the
					 * candidates per lung pixel */
	double		 score;		/* image-level, 0..1 (the model's;
					 * an effusion or a cavity does not
					 * raise it: see the README) */
	/* Each lung's costophrenic angle (degrees; NAN: not measured),
	 * its point raised above the base (of the lung's height). */
	double		 cp_angle[2], cp_raised[2];
	int		 positive;	/* score >= TB_THRESHOLD */
	double		 lung_frac[2];	/* each lung field, of the field */
	/* The lung fields at the working scale (1 right, 2 left), with
	 * the scale: film x = field x0 + wx * scale. */
	unsigned char	*lungs;
	int		 wx, wy;
	double		 scale;
	double		 seconds;
};

/* A costophrenic angle of this many degrees or more is blunted, when
 * its point lies TB_CP_RISE working pixels or more above the lowest of
 * the lung's base (the meniscus: tb_cp_blunted()). */
#define TB_CP_BLUNT	90.0
#define TB_CP_RISE	2

/* The image score above which a film is called suspicious of TB. */
#define TB_THRESHOLD	0.5

/* The logistic model of the image score: its weights on the features
 * and its intercept (tbeval fits them again, leaving one out). */
extern const double tb_weights[TB_NFEAT + 1];

/*
 * The costophrenic angle of one lung (side 0 the patient's right, 1 the
 * left) on the mask ext (w x h working pixels, values side + 1), whose
 * rows run top..bot (Armato et al. 1998): fills angle (degrees), raised
 * (its point above the lowest of the base, of the lung's height), rise
 * (the same in pixels) and box (x0, y0, x1, y1) of the recess.  0, or -1
 * when the lung is too small to measure.
 */
int		 tb_cp_angle(const unsigned char *ext, int w, int h, int side,
		    int top, int bot, double *angle, double *raised,
		    int *rise, int *box);

/* Whether the angle, with its point rise pixels above the base's
 * lowest, is blunted by fluid: obtuse and under a meniscus. */
int		 tb_cp_blunted(double angle, int rise);

/* The score of features f under the weights w (TB_NFEAT + 1). */
double		 tb_score(const double *f, const double *w);

/*
 * Whether the film is one the reader can read: a frontal chest film, not
 * a lateral one, another part, or a scanned document.  Returns 0, or 1
 * with the reason in Chinese in why.
 */
int		 tb_film_check(const struct film *, char *why, size_t sz);

/*
 * Find the lung fields and the opacities of film f into r.  Returns 0;
 * 1 when no lung fields are found (the reason, Chinese, in err); -1 with
 * an English reason.  r is freed with tb_result_free().
 */
int		 tb_detect(const struct film *, struct tb_result *r, char *err,
		    size_t errlen);

void		 tb_result_free(struct tb_result *);

/* The result of r on film f as the AI result: lesions with their boxes
 * (slice 0), summary, text, method.  0 or -1. */
int		 tb_to_ai(const struct tb_result *, const struct film *,
		    struct ai_result *);

extern const struct reader_impl tb_reader;

#endif /* ZY_TB_H */
