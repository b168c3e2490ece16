/*
 * phantom.h - synthetic CT volumes of known content.
 *
 * The AI readers are checked against volumes whose content is known
 * analytically: a chest-like body with lungs, mediastinal fat, a heart,
 * the ascending and descending aorta, vertebrae, ribs and a sternum, and
 * calcified plaques of chosen size, density and place.  The generator
 * program (zhiying-phantom) writes such a volume as a DICOM CT series;
 * the unit tests use the volume directly.
 *
 * Coordinates are patient coordinates (DICOM LPS, mm): x to the
 * patient's left, y to the back, z to the head.  The volume is axial:
 * row = +x, col = +y, normal = +z, slice k centred at z = (k + 0.5) * dz,
 * so that the slab of slice k is [k * dz, (k + 1) * dz] and a plaque
 * whose ends are multiples of dz fills whole slabs.  Pixel (i, j) is
 * centred at x = cx + (i - (nx - 1) / 2) * dx, y = cy + (j - (ny - 1) /
 * 2) * dx, where (cx, cy) is the spec's center (0, 0 unless a cardiac
 * field of view is asked for).
 *
 * Every voxel is the mean of the analytic object over the voxel, taken
 * on a grid of sub-samples (partial volume, as a scanner's detector
 * integrates it), plus Gaussian noise when asked for.  Densities are
 * given at 120 kV; at other tube voltages calcium and bone are scaled by
 * the relative attenuation of hydroxyapatite (phantom_calcium_factor()),
 * soft tissue, fat, blood, lung and air are left as they are.
 */
#ifndef ZY_PHANTOM_H
#define ZY_PHANTOM_H

#include <stddef.h>

#include "series.h"

#define PHANTOM_PLAQUES_MAX	32
#define PHANTOM_NODULES_MAX	32
#define PHANTOM_VESSELS_MAX	16
#define PHANTOM_PLEURAL_MAX	16

/* Where a plaque is; the coronary ones lie in the epicardial fat on the
 * heart's surface, in that artery's territory. */
enum phantom_site {
	PHANTOM_LM,		/* left main, left of the aortic root */
	PHANTOM_LAD,		/* anterior interventricular groove */
	PHANTOM_LCX,		/* left atrioventricular groove, posterior */
	PHANTOM_RCA,		/* right atrioventricular groove */
	PHANTOM_AORTA,		/* the wall of the descending aorta */
	PHANTOM_VALVE,		/* the aortic valve, at the root */
	PHANTOM_FREE,		/* at center[], as given */
	PHANTOM_SITE__MAX
};

/* "LM", "LAD", "LCX", "RCA", "AORTA", "VALVE", "FREE". */
extern const char *const phantom_site_names[PHANTOM_SITE__MAX];

/*
 * A calcified plaque: a cylinder along z of radius_mm, from z0 to z0 +
 * length_mm, of hu (at 120 kV) throughout.  A coronary one (LM, LAD,
 * LCX, RCA) lies in its artery: soft tissue (40 HU) 1.5 mm round it and
 * 3 mm beyond its ends, in the epicardial fat.  For the named sites its axis
 * is placed by phantom_plaque_place() at the site and z0 is taken as
 * given; for PHANTOM_FREE, center[0..1] give the axis.
 */
struct phantom_plaque {
	enum phantom_site site;
	double		 center[2];	/* x, y of the axis (mm) */
	double		 z0, length_mm;
	double		 radius_mm;
	double		 hu;		/* at 120 kV */
};

/*
 * A lung nodule: a sphere of diameter_mm and hu centred at center (mm),
 * with, when core_mm > 0, a concentric solid core of core_mm and core_hu
 * (a part-solid nodule).  The whole sphere takes its density wherever it
 * lies (put it inside a lung; tangent to the lung's border for a
 * juxtapleural one).  Not scaled with the tube voltage.
 */
struct phantom_nodule {
	double		 center[3];
	double		 diameter_mm;
	double		 hu;
	double		 core_mm;
	double		 core_hu;
	double		 scale[3];	/* an ellipsoid: each semi-axis
					 * diameter_mm / 2 times this (0: 1),
					 * the core likewise */
	/* A ground-glass margin round it (rim_mm > 0, scaled likewise):
	 * rim_hu out to rim_mm beyond the sphere, where it meets the lung
	 * (-850 HU) sharply, or (rim_fade_mm > 0) by a linear ramp that
	 * wide centred there, so that its half-maximum stays at rim_mm.
	 * phantom_rim_extent_mm() gives the diameter a reader outlines. */
	double		 rim_mm;
	double		 rim_hu;
	double		 rim_fade_mm;
};

/*
 * The diameter of nodule n as a reader outlines it: the ground-glass
 * component is part of a part-solid nodule's size (Bankier et al.,
 * 2017), so the margin counts, out to where its excess over the lung has
 * fallen to half (the half-maximum edge of a blurred structure, as in
 * Ko et al., 2003): diameter_mm + 2 rim_mm.
 */
double	 phantom_rim_extent_mm(const struct phantom_nodule *n);

/* A lung vessel: a cylinder of radius_mm and hu (0: 40 HU, blood) round
 * the segment p0-p1, only where it lies inside a lung's ellipse
 * (phantom_lung_at(); the heart and its fat cover the ellipses' medial
 * parts, where a vessel would lie in fat: keep vessels out of them). */
struct phantom_vessel {
	double		 p0[3], p1[3];
	double		 radius_mm;
	double		 hu;
};

/*
 * The spine phantom (the bone density reader's): a trunk of fat, muscle
 * and soft tissue round a column of vertebral bodies along an axis that
 * leans forwards by tilt_deg (the axis a = (0, sin t, cos t) through (0,
 * PHANTOM_SPINE_Y, the volume's middle z); e = (0, cos t, -sin t) is the
 * front-back direction square to it).  Each body is an elliptic cylinder
 * along a of half-width PHANTOM_BODY_A (x) and half-depth PHANTOM_BODY_B
 * (along e), its height a function of the depth: ha at 10 %, hm at 50 %,
 * hp at 90 % of the depth from the front, linear between and constant
 * beyond, the endplates symmetric about the body's middle plane; a
 * cortex PHANTOM_CORTEX_MM thick (PHANTOM_CORTEX_HU) round trabecular bone
 * of hu; the basivertebral vein (blood, 2.5 mm either side of the
 * midline and of the middle plane) from the centre through the posterior
 * wall.  Discs (80 HU) of disc_mm (at the bodies' largest heights) between
 * the bodies; the canal, pedicles, laminae and spinous process behind;
 * transverse processes of tp_mm reach from the midline; a pair of ribs
 * (tubes of 4 mm radius from beside the body's posterolateral side out to
 * 110 mm) where ribs is set.  Bone is scaled with the tube voltage.
 */
#define PHANTOM_VERTEBRAE_MAX	10
#define PHANTOM_SPINE_Y		40.0
#define PHANTOM_BODY_A		22.0
#define PHANTOM_BODY_B		16.0
#define PHANTOM_CORTEX_MM	1.0
#define PHANTOM_CORTEX_HU	600.0

struct phantom_vertebra {
	char		 name[8];	/* "T12" */
	double		 hu;		/* trabecular, at 120 kV */
	double		 ha, hm, hp;	/* mm */
	int		 ribs;		/* 1 a pair, 2 the right one only */
	double		 tp_mm;		/* 0: none */
};

struct phantom_spine {
	size_t		 n;		/* 0: the chest phantom */
	struct phantom_vertebra v[PHANTOM_VERTEBRAE_MAX];	/* head down */
	double		 top;		/* the first body's top, along a from
					 * the axis' point (its largest
					 * height) */
	double		 disc_mm;
	double		 tilt_deg;
	int		 organs;	/* organs of muscle density against
					 * the wall's inner face (phantom.c,
					 * spine_organs()) */
};

/*
 * A pleural plaque or thickening (Hansell et al., 2008, the Fleischner
 * glossary: a discrete elevated plateau-like area of pleural thickening,
 * and what the nodule reader must not report): a lens of hu on the inner
 * face of lung `lung' (1 right, 2 left) that follows the wall.  Its
 * middle lies where the ray from the lung's centre, (-82, 5) or (85, 5),
 * at angle_deg (0 towards +x, 90 towards +y, the back) meets the lung's
 * ellipse, at z; its thickness along that ray is thick_mm in the middle
 * and thick_mm sqrt(1 - (2 s / width_mm)^2 - (2 (z' - z) / height_mm)^2)
 * elsewhere, s the arc length along the wall from the middle: flat and
 * lenticular when it is narrow, a crescent along the curve when wide.
 */
struct phantom_pleural {
	int		 lung;
	double		 angle_deg, z;
	double		 width_mm, height_mm, thick_mm;
	double		 hu;
};

struct phantom_spec {
	int		 nx, ny, nz;	/* voxels */
	double		 pixel_mm;	/* in-plane spacing */
	double		 slice_mm;	/* thickness = spacing */
	double		 kvp;		/* tube voltage, 80-140 */
	double		 noise_hu;	/* standard deviation; 0: none */
	unsigned	 seed;		/* of the noise */
	int		 subsamples;	/* per axis and voxel; 0: 4 */
	struct phantom_plaque plaques[PHANTOM_PLAQUES_MAX];
	size_t		 nplaques;
	/* Variants of the standard chest, each off when 0. */
	double		 blood_hu;	/* contrast: the chambers' and the
					 * aortas' blood (120 kV) */
	int		 domes;		/* the diaphragm's domes: the liver
					 * under the right lung, the spleen
					 * under the left */
	int		 cartilage;	/* costal cartilage beside the
					 * sternum, on both sides */
	double		 fov_mm;	/* a reconstruction circle of this
					 * diameter round the grid's centre;
					 * outside it PHANTOM_PADDING */
	double		 center[2];	/* the grid's centre (x, y mm) */
	/* Variants of the lungs and airways (the anatomy's tests), each off
	 * when 0. */
	double		 lung_z[2];	/* the lungs only within z[0]..z[1]
					 * (mm); both 0: the full height */
	int		 airways;	/* a trachea (radius 9 mm at x 0, y 30,
					 * from z = 110 mm up) and two main
					 * bronchi (radius 6 mm) to x = -60 /
					 * +60, open in the lungs; air in a
					 * 1.5 mm soft-tissue wall */
	int		 junction;	/* the lungs meet in front of the heart
					 * (an anterior junction): two
					 * elliptic tongues of lung, at x = -40
					 * and +40, y = -68, semi-axes 45 x 14,
					 * overlapping at x = -5..5 above and
					 * below the heart's fat */
	double		 jp_center[3];	/* a soft-tissue sphere of jp_mm */
	double		 jp_mm;		/* diameter (a juxtapleural nodule) */
	/* Lung nodules and vessels (the lung nodule reader's). */
	struct phantom_nodule nodules[PHANTOM_NODULES_MAX];
	size_t		 nnodules;
	struct phantom_vessel vessels[PHANTOM_VESSELS_MAX];
	size_t		 nvessels;
	/* Pleural plaques, and dependent density (dependent_mm > 0): in
	 * the lungs, from -500 HU at the posterior pleura to -700 HU
	 * dependent_mm above it along y (gravity, supine), then to the
	 * lung's -850 HU over half as much again, linearly: the
	 * gravity-dependent gradient of a supine patient's lungs, not a
	 * focal density.  dependent_right: the patient lies on the right
	 * side (a right decubitus, HFDR), gravity along -x: the same
	 * gradient from each lung's pleura on the patient's right (the
	 * right lung's lateral, the left's medial) instead. */
	struct phantom_pleural pleural[PHANTOM_PLEURAL_MAX];
	size_t		 npleural;
	double		 dependent_mm;
	int		 dependent_right;
	/* The spine phantom instead of the chest (n > 0). */
	struct phantom_spine spine;
};

/* What a scanner writes outside its reconstruction circle. */
#define PHANTOM_PADDING	(-2048.0)

/* Whether the point (mm) lies in the right (1) or left (2) lung of the
 * standard chest, 0 in neither. */
int	 phantom_lung_at(double x, double y, double z);

/* The anatomy, fixed, for tests that need to know it (mm, LPS). */
struct phantom_anatomy {
	double	 body_a, body_b;		/* elliptic cylinder, at 0,0 */
	double	 heart_c[3], heart_r[3];	/* ellipsoid */
	double	 root[3];			/* aortic root (valve) centre */
	double	 asc_c[2], asc_r, asc_z0;	/* ascending aorta, z0..top */
	double	 desc_c[2], desc_r;		/* descending aorta, full z */
	double	 spine_c[2], spine_r;		/* vertebral bodies */
};
extern const struct phantom_anatomy phantom_anatomy;

/*
 * A standard chest: 384 x 384 pixels of 0.9 mm, slice_mm thick slices
 * covering z = 0..150 mm, kvp, no noise, and one plaque in each coronary
 * artery (LM, LAD, LCX, RCA: 15 mm long, starting at multiples of 15 mm,
 * of different radius and density), one on the descending aorta and one
 * in the aortic valve.
 */
void	 phantom_standard(struct phantom_spec *, double slice_mm, double kvp);

/* Place the axis of a plaque at its named site (no-op for FREE): on the
 * heart surface, 3 mm out, at the site's angle, at the middle of its z
 * range; aorta: on the descending aorta's wall; valve: at the root. */
void	 phantom_plaque_place(struct phantom_plaque *);

/* The relative attenuation of calcium (hydroxyapatite) at kvp, 1 at 120
 * kV; interpolated linearly in the table of phantom.c. */
double	 phantom_calcium_factor(double kvp);

/*
 * The standard spine phantom: 320 x 320 pixels of 0.8 mm, slice_mm
 * slices over 200 mm, 120 kV, noise_hu of noise; T10 (cut by the top of
 * the scan), T11, T12 (a wedge: ha/hp 0.70), L1, L2 (biconcave: hm/hp
 * 0.775), L3, L4 (cut by the bottom), ribs on T10-T12, transverse
 * processes on L1-L4, the spine leaning forwards by tilt_deg.
 */
void	 phantom_spine_standard(struct phantom_spec *, double slice_mm,
	    double noise_hu, double tilt_deg);

/*
 * What the spine phantom's trunk holds at a point (phantom.c,
 * spine_trunk(): skin, subcutaneous fat, the abdominal wall's muscle ring
 * with islands of intermuscular fat, the erector spinae with an island
 * of fat each, the psoas, the viscera and the kidneys in visceral fat):
 * the truth of the body composition tests.  PT_BONE for bone, PT_OTHER
 * for the canal, the discs, the vein and the aorta (where they differ
 * from the trunk behind them), and for the chest phantom.
 */
enum phantom_tissue {
	PT_OTHER, PT_AIR, PT_SKIN, PT_SAT, PT_RING, PT_RING_IMAT,
	PT_ERECTOR, PT_PARA_IMAT, PT_PSOAS, PT_VAT, PT_VISCERA, PT_BONE,
	PT_ORGAN,	/* spine_organs(): no muscle, no fat */
	PT__MAX
};

enum phantom_tissue phantom_spine_tissue(const struct phantom_spec *,
	    double x, double y, double z);

/*
 * The organs of the body composition phantom (phantom_spine_standard()
 * with spine.organs set): inside the muscle ring, where the trunk has
 * visceral fat or viscera, a lobe of liver (55 HU) against the right
 * lateral wall, two bowel loops (a wall of 2.5 mm, 40 HU, round fluid of
 * 15 HU and round gas) against the front of the wall and the descending
 * colon (a wall of 3 mm round gas) against the left: each touches the
 * ring's inner face over an arc without fat between, and none of it is
 * skeletal muscle.  Returns 1 with its CT number in *hu (and PT_ORGAN in
 * *t), or 0 where none lies.
 */
int	 phantom_spine_organ(double x, double y, double *hu,
	    enum phantom_tissue *t);

/* The centre of body i of the spine phantom (mm) and its position along
 * the axis. */
void	 phantom_spine_center(const struct phantom_spec *, size_t i,
	    double c[3]);

/*
 * Build the volume of spec into a new series_volume (free it with
 * series_free()), with modality "CT", geometry as above and one slice
 * entry per slice (SOP Instance UIDs left empty).  Returns 0, or -1 with
 * an English reason in err (bad sizes, out of memory).
 */
int	 phantom_build(const struct phantom_spec *, struct series_volume **out,
	    char *err, size_t errlen);

/*
 * The films of zhiying-phantom -F, as attenuation (arbitrary units, more
 * is denser, about 120 in air to 2900 in bone) at (u, w) mm from the
 * middle of the film, u across (a chest: to the patient's left, as seen
 * from the front), w down: a chest PA (lungs, heart, mediastinum, spine,
 * ribs, clavicles) and a forearm (radius and ulna, the radius broken
 * across its lower third: phantom_limb_default below).  The chest is a
 * picture of no diagnostic truth; the forearm's fractures are known.
 */
double	 phantom_film_chest(double u, double w);
double	 phantom_film_limb(double u, double w);

/*
 * The tuberculosis lesions of a chest film whose place is known: a
 * pleural effusion on a side (the patient's right 0, left 1), fluid as
 * dense as soft tissue filling the lateral costophrenic recess up to a
 * meniscus height mm above the recess, highest at the chest wall; and
 * cavities, rings of opacity (outer radius r_out mm, as dense as the
 * opacities of test_tb) around a lucent centre (radius r_in, darker than
 * the lung by lucency) at (u, w).  The lungs' bases are domes that meet
 * the chest wall at an acute angle, as on a normal film.
 */
#define PHANTOM_CAVITIES_MAX	4

struct phantom_chest {
	double		 effusion[2];	/* meniscus height, mm; 0: none */
	struct {
		double	 u, w, r_out, r_in, lucency;
	}		 cav[PHANTOM_CAVITIES_MAX];
	int		 ncav;
};

/* The film of zhiying-phantom -F chest-tb: a right effusion of 45 mm,
 * a cavity in the left upper zone. */
extern const struct phantom_chest phantom_chest_tb;

/* The chest film of spec at (u, w); phantom_film_chest() is the one
 * without lesions. */
double	 phantom_film_chest_spec(const struct phantom_chest *, double u,
	    double w);

/*
 * A forearm film of known fractures (the truth of the limb fracture
 * reader's tests).  The radius (bone 0, centre 13 mm to the viewer's
 * left of the middle, 15 mm wide) and the ulna (bone 1, 14 mm to the
 * right, 13 mm wide) run from w = -170 to 170 mm, each a cortex 2.2 mm
 * thick about a fainter marrow, in soft tissue.  Each fracture cuts its
 * bone with a lucent line of width gap mm at w (the middle of the line,
 * on the bone's axis); the part below it (larger w) may be shifted
 * across by shift mm (a step-off) and turned by angulation degrees about
 * the fracture's centre (positive: its lower end toward the viewer's
 * left).  Two fractures of one bone are applied from the top down.
 */
enum phantom_fx_kind {
	PHANTOM_FX_TRANSVERSE,		/* a line across the bone */
	PHANTOM_FX_OBLIQUE,		/* a line tilted by tilt degrees */
	PHANTOM_FX__MAX
};

struct phantom_fracture {
	int			 bone;		/* 0 radius, 1 ulna */
	enum phantom_fx_kind	 kind;
	double			 w;		/* mm, down the film */
	double			 tilt;		/* degrees from across */
	double			 gap;		/* mm; 0: 1.8 */
	double			 shift;		/* mm, + to the viewer's right */
	double			 angulation;	/* degrees */
};

#define PHANTOM_FRACTURES_MAX	4

struct phantom_limb {
	struct phantom_fracture	 fx[PHANTOM_FRACTURES_MAX];
	int			 nfx;
};

/* The bones' centres across (mm) and half-widths at w = 0. */
#define PHANTOM_LIMB_CENTRE(b)	((b) == 0 ? -13.0 : 14.0)

double	 phantom_film_limb_spec(const struct phantom_limb *, double u,
	    double w);

/* The fractures of phantom_film_limb(): the radius broken obliquely
 * (tilt 35 degrees, a 1.8 mm line) 80 mm below the middle, in its
 * distal third as the film is hung (the elbow up). */
extern const struct phantom_limb phantom_limb_default;

#endif /* ZY_PHANTOM_H */
