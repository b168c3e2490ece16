/*
 * limb.h - the fracture reader of limb films (dr_limb_fracture,
 * DR骨折辅助诊断).
 *
 * Classical image analysis on the film as a viewer shows it (film.h):
 * the exposed field at 512 pixels across its longer side; the bones as
 * the brightest of three classes of a multi-level Otsu threshold (Otsu
 * 1979; Liao, Chen & Chung 2001) that also stand above the soft tissue
 * about them (a white top-hat, Serra 1982, thresholded by Otsu),
 * cleaned by an opening and a closing
 * (which bridges a thin fracture line) and their holes filled; each
 * elongated bone followed along its principal axis, station by station,
 * by its cross-section (the two cortical edges, the centre line, the
 * width).  Four cues along the axis give the candidates: a lucent line
 * crossing the bone (the mean of a chord through the centre at each of
 * 25 angles, -60 to 60 degrees, against the same chord a few pixels up
 * and down the bone: a line operator after Ricci & Perfetti, IEEE TMI
 * 2007), a break of one
 * cortex (the cortical ridge darker than above and below it), a step-off
 * (both edges shifted the same way across the site) and angulation (the
 * centre lines above and below meeting at an angle; these two count only
 * beside a line or a break of half its threshold), none within half a
 * width of a narrowing of the outline (a joint two bones run together
 * over).  Cue figures are
 * robust z scores against the bone's own stations (median and MAD), or a
 * fraction of the width and degrees, each divided by its threshold; the
 * candidate's score is the largest, and a site of score >= 1 is a
 * fracture box.  Its type where the geometry tells it: a line tilted less
 * than 30 degrees from the perpendicular to the bone's axis 横形, 30 or
 * more 斜形 (the AO/OTA Fracture and Dislocation Classification
 * Compendium, Meinberg et al., J Orthop Trauma 2018: diaphyseal simple
 * fractures A2 oblique >= 30 degrees, A3 transverse < 30 degrees), two
 * lines within two widths of each other 粉碎性; step-off and angulation are reported with
 * the box.  Fracture detection on radiographs by classical means after
 * the edge features and type classes of Al-Ayyoub & Al-Zghool (WSEAS
 * Trans Inf Sci Appl 2013) and the bone axis and angle approach of Tian
 * Tai Peng (NUS 2002, femoral neck-shaft angle).
 */
#ifndef ZY_LIMB_H
#define ZY_LIMB_H

#include <stddef.h>

#include "film.h"
#include "reader.h"

enum limb_type {
	LIMB_TYPE_UNKNOWN,	/* 骨折 (the image does not tell) */
	LIMB_TRANSVERSE,	/* 横形骨折 */
	LIMB_OBLIQUE,		/* 斜形骨折 */
	LIMB_COMMINUTED,	/* 粉碎性骨折 */
	LIMB_TYPE__MAX
};

extern const char *const limb_type_zh[LIMB_TYPE__MAX];

/* The third of the bone a site lies in, from the end the film's top
 * shows (proximal or distal by the part's hanging convention). */
enum limb_third {
	LIMB_THIRD_UPPER,
	LIMB_THIRD_MIDDLE,
	LIMB_THIRD_LOWER,
	LIMB_THIRD__MAX
};

/* Which end of the limb the film's top shows. */
enum limb_orient {
	LIMB_ORIENT_UNKNOWN,
	LIMB_ORIENT_PROXIMAL_UP,	/* forearm, arm, leg, thigh */
	LIMB_ORIENT_DISTAL_UP,		/* hand, wrist, foot: fingers up */
	LIMB_ORIENT__MAX
};

/* The cues of a site (bits of limb_fracture.cues). */
#define LIMB_CUE_LINE	0x1	/* a lucent line across the bone */
#define LIMB_CUE_CORTEX	0x2	/* one cortex broken */
#define LIMB_CUE_STEP	0x4	/* a step-off */
#define LIMB_CUE_ANGLE	0x8	/* angulation */

struct limb_fracture {
	int		 bone;		/* index into limb_result.bones */
	int		 x0, y0, x1, y1;	/* film pixels, inclusive */
	double		 cx, cy;	/* the site, film pixels */
	double		 pos;		/* 0..1 along the bone from its top
					 * (or left) end */
	enum limb_third	 third;
	int		 joint;		/* within a tenth of a joint end */
	enum limb_type	 type;
	unsigned	 cues;
	double		 line_z;	/* the lucent line's robust z */
	double		 line_angle;	/* its tilt from across, degrees */
	double		 cortex_z;
	double		 step;		/* step-off, fraction of the width */
	double		 angulation;	/* degrees */
	double		 score;		/* >= 1 */
	double		 confidence;	/* 0.5..1 */
	char		 location[128];	/* "右前臂（图像左起第1骨）远端1/3" */
};

struct limb_bone {
	double		 cx, cy;	/* centroid, working pixels */
	double		 ax, ay;	/* unit axis, pointing down (or
					 * right) the film */
	double		 t0, t1;	/* extent along the axis */
	double		 width;		/* median width, working pixels */
	int		 edge0, edge1;	/* its top and bottom ends touch the
					 * field's edge */
	int		 order;		/* 1.. from the film's left */
	int		 label;		/* its component in limb_result.mask */
};

/* The thresholds the score divides by (limbeval sweeps them). */
struct limb_params {
	double		 line_z;	/* robust z of the lucent line */
	double		 line_min;	/* and its least contrast (display) */
	double		 cortex_z;
	double		 cortex_min;
	double		 step;		/* fraction of the width */
	double		 angle;		/* degrees */
};

extern const struct limb_params limb_defaults;

struct limb_result {
	struct limb_fracture *fx;	/* by confidence, highest first */
	size_t		 count;
	struct limb_bone *bones;
	size_t		 nbones;
	enum limb_orient orient;
	char		 part_zh[32];	/* "前臂", "手", "四肢" */
	/* The bone mask at the working scale (component labels, 0 none),
	 * with the scale: film x = field x0 + wx * scale. */
	int		*mask;
	int		 wx, wy;
	double		 scale;
	double		 seconds;
};

/*
 * Whether the film is one the reader can read: a limb (the matcher's
 * region rules), not a scanned document.  Returns 0, or 1 with the
 * reason in Chinese in why.
 */
int		 limb_film_check(const struct film *, char *why, size_t sz);

/*
 * Find the long bones and the fracture sites of film f into r, with the
 * thresholds p (NULL: limb_defaults).  Returns 0; 1 when no long bone
 * is found (the reason, Chinese, in err); -1 with an English reason.  r
 * is freed with limb_result_free().
 */
int		 limb_detect(const struct film *, const struct limb_params *p,
		    struct limb_result *r, char *err, size_t errlen);

void		 limb_result_free(struct limb_result *);

/* The result of r on film f as the AI result: lesions with their boxes
 * (slice 0), summary, text, method.  0 or -1. */
int		 limb_to_ai(const struct limb_result *, const struct film *,
		    struct ai_result *);

extern const struct reader_impl limb_reader;

#endif /* ZY_LIMB_H */
