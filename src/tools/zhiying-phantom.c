/*
 * zhiying-phantom - write a synthetic chest CT as a DICOM series.
 *
 *	zhiying-phantom [-cdx] [-t slice_mm] [-k kvp] [-n noise_hu] [-s seed]
 *	    [-W pixels] [-P patient_id] [-N patient_name] [-b blood_hu]
 *	    [-f fov_mm] [-S series_description]
 *	    [-p SITE:z0:length:radius:hu] [-p FREE:x:y:z0:length:radius:hu]
 *	    -o outdir
 *	zhiying-phantom -V [-t slice_mm] [-k kvp] [-n noise_hu] [-s seed]
 *	    [-W pixels] [-P patient_id] [-N patient_name] -o outdir
 *	zhiying-phantom -R [-t slice_mm] [-n noise_hu] [-s seed]
 *	    [-P patient_id] [-N patient_name] -o outdir
 *	zhiying-phantom -F chest|chest-tb|limb [-s seed] [-P patient_id]
 *	    [-N patient_name] -o outdir
 *
 * -V writes the spine phantom instead of the chest
 * (phantom_spine_standard(): vertebral bodies T10-L4 of known trabecular
 * density and heights, a wedge T12 and a biconcave L2, ribs on T10-T12,
 * in a trunk of fat and muscle), at -t, -k, -n, -s and -W; stdout tells
 * each vertebra's truth ("vertebra T12 hu 150 ha 17.50 hm 21.25 hp 25.00
 * ribs 1").
 *
 * -R writes the rib cage phantom instead (ribcage.h: vertebrae T1-L1
 * and the top of L2, twelve ribs a side of cortex round marrow, and the
 * standard nine rib fractures: cuts, displaced cuts, buckles, a callus,
 * a segmental pair), at -t, -n and -s; stdout tells each fracture's truth
 * ("fracture R5 displaced t 0.45 at -97.6 -6.1 160.3 segment 1").
 *
 * -F writes a film instead: one DX radiograph (Digital X-Ray Image
 * Storage), a chest PA (lungs, heart, mediastinum, spine, ribs,
 * clavicles) or a right forearm AP (radius and ulna, the radius broken
 * obliquely in its distal third: phantom_limb_default), drawn as the sum
 * of its parts' attenuation with a little noise; the chest is a picture
 * for the demo and the ingest path, of no diagnostic truth, the
 * forearm's fracture is known (the limb fracture reader's tests).
 * -U writes the film's window (1400/2800) as a VOI LUT Sequence of 12-bit
 * entries instead of Window Center and Width: the same picture.
 * chest-tb is the chest with the tuberculosis lesions of known place
 * (phantom_chest_tb: fluid in the right costophrenic recess, a cavity
 * in the left upper zone), stdout telling them too.
 * stdout tells "files 1 outdir", the study and the series UID.
 *
 * Variants of the chest (phantom.h): -b gives the chambers' and aortas'
 * blood that CT number, as contrast does; -d adds the diaphragm's domes
 * (the liver and the spleen under the lungs); -c adds
 * costal cartilage beside the sternum; -f reconstructs a cardiac field of
 * view of that diameter centred on the heart, padding outside it.  -L
 * keeps the lungs within z0..z1 mm (apices and bases in the scan, as the
 * lung readers want them); every -D adds a lung nodule, a sphere of its
 * diameter and CT number at x, y, z (mm; put it inside a lung), every
 * -G one in a ground-glass margin (phantom_nodule's rim: its width, CT
 * number and the width of its fade into the lung, mm).
 *
 * The volume is phantom_standard() (see phantom.h): 384 x 384 pixels of
 * 0.9 mm, z = 0..150 mm, with a plaque at each standard site unless -x
 * is given; every -p adds one.  -W makes the slices W x W pixels over the
 * same field of view, for quick runs.  The files go to outdir (created
 * if missing) as IM000001.dcm...; stdout tells, one line each, every
 * plaque as placed, then the file count and the UIDs:
 *
 *	plaque LAD center 61.24 -60.63 z 60.00 75.00 radius 2.50 hu 450 hu_kvp 450
 *	files 120 outdir
 *	study 2.25....
 *	series 2.25....
 *
 * Errors go to stderr; the exit status is 1, or 2 for a usage error.
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "dcmwrite.h"
#include "phantom.h"
#include "ribcage.h"
#include "series.h"

#define PROG		"zhiying-phantom"
#define STD_FOV_MM	(384 * 0.9)	/* phantom_standard()'s width */

static void
usage(FILE *fp, int status)
{
	fprintf(fp,
	    "usage: " PROG " [-cdx] [-t slice_mm] [-k kvp] [-n noise_hu]"
	    " [-s seed] [-W pixels]\n"
	    "    [-P patient_id] [-N patient_name] [-b blood_hu]"
	    " [-f fov_mm] [-S series_description]\n"
	    "    [-p SITE:z0:length:radius:hu]...\n"
	    "    [-p FREE:x:y:z0:length:radius:hu]...\n"
	    "    [-L z0:z1] [-D x:y:z:diameter:hu]...\n"
	    "    [-G x:y:z:diameter:hu:rim:rim_hu:fade]... -o outdir\n"
	    "       " PROG " -V [-t slice_mm] [-k kvp] [-n noise_hu] [-s seed]"
	    " [-W pixels]\n"
	    "    [-P patient_id] [-N patient_name] -o outdir\n"
	    "       " PROG " -R [-t slice_mm] [-n noise_hu] [-s seed]\n"
	    "    [-P patient_id] [-N patient_name] -o outdir\n"
	    "       " PROG " -F chest|chest-tb|limb [-U] [-s seed] [-P patient_id]"
	    " [-N patient_name] -o outdir\n"
	    "       " PROG " -h | --help\n"
	    "SITE is one of LM, LAD, LCX, RCA, AORTA, VALVE (mm, HU at"
	    " 120 kV).\n");
	if (fp == stdout)
		fprintf(fp, "\n"
		    "Writes a synthetic chest CT of known content (coronary"
		    " calcium plaques)\n"
		    "as a DICOM series into outdir, for the demo and the"
		    " tests.\n"
		    "  -c  calcified costal cartilage beside the sternum\n"
		    "  -d  diaphragm domes (liver at the heart's lower third)\n"
		    "  -x  no standard plaques, only those given with -p\n"
		    "  -L  the lungs only within z0..z1 mm (apices and bases"
		    " in the scan)\n"
		    "  -D  a lung nodule: x:y:z (mm), diameter (mm), CT number"
		    " (HU)\n"
		    "  -G  a lung nodule in a ground-glass margin: x:y:z:"
		    "diameter:hu:rim (mm):rim_hu:fade (mm)\n"
		    "  -R  the rib cage phantom (ribs, vertebrae, rib"
		    " fractures) instead\n"
		    "  -F  a film (DX radiograph) instead: chest (PA), chest-tb"
		    " (with an effusion and a cavity) or limb (forearm)\n"
		    "  -U  a film's window written as a VOI LUT Sequence\n"
		    "  -h, --help  this text\n");
	exit(status);
}

/* A finite number filling all of s into *v.  Returns 0 or -1. */
static int
num_parse(const char *s, double *v)
{
	char	*end;

	if (*s == '\0')
		return -1;
	errno = 0;
	*v = strtod(s, &end);
	if (*end != '\0' || errno == ERANGE || !isfinite(*v))
		return -1;
	return 0;
}

/* n numbers separated by ':' into v; 0, or -1 when s is not that. */
static int
nums_parse(const char *s, int n, double *v)
{
	char	 b[256], *f, *save = NULL;
	int	 i = 0;

	if (strlen(s) >= sizeof(b))
		return -1;
	(void)snprintf(b, sizeof(b), "%s", s);
	for (f = strtok_r(b, ":", &save); f != NULL;
	    f = strtok_r(NULL, ":", &save))
		if (i == n || num_parse(f, &v[i++]) == -1)
			return -1;
	return i == n ? 0 : -1;
}

/* A nodule in a ground-glass margin (-G), x:y:z:diameter:hu:rim:rim_hu:
 * fade, into n.  0, or -1 when it is not one. */
static int
margin_nodule_parse(const char *arg, struct phantom_nodule *n)
{
	double	 a[8];

	if (nums_parse(arg, 8, a) == -1 || a[3] < 1 || a[3] > 60 ||
	    a[4] < -900 || a[4] > 1000 || a[5] <= 0 || a[5] > 20 ||
	    a[6] < -850 || a[6] > -300 || a[7] < 0 || a[7] > 2 * a[5])
		return -1;
	memset(n, 0, sizeof(*n));
	memcpy(n->center, a, sizeof(n->center));
	n->diameter_mm = a[3];
	n->hu = a[4];
	n->rim_mm = a[5];
	n->rim_hu = a[6];
	n->rim_fade_mm = a[7];
	return 0;
}

/*
 * A plaque from "SITE:z0:length:radius:hu" or
 * "FREE:x:y:z0:length:radius:hu" into *p.  Returns 0, or -1 with a
 * reason on stderr.
 */
static int
plaque_parse(const char *arg, struct phantom_plaque *p)
{
	char	 copy[256], *rest, *f[8];
	double	 val[6];
	int	 n = 0, i, site, want;

	if (strlen(arg) >= sizeof(copy)) {
		fprintf(stderr, PROG ": -p %s: too long\n", arg);
		return -1;
	}
	memcpy(copy, arg, strlen(arg) + 1);
	rest = copy;
	while (rest != NULL && n < 8)
		f[n++] = strsep(&rest, ":");
	if (rest != NULL)
		n++;			/* more fields than any form has */
	for (site = 0; site < PHANTOM_SITE__MAX; site++)
		if (strcasecmp(f[0], phantom_site_names[site]) == 0)
			break;
	if (site == PHANTOM_SITE__MAX) {
		fprintf(stderr, PROG ": -p %s: unknown site %s (LM, LAD, "
		    "LCX, RCA, AORTA, VALVE or FREE)\n", arg, f[0]);
		return -1;
	}
	want = site == PHANTOM_FREE ? 7 : 5;
	if (n != want) {
		fprintf(stderr, PROG ": -p %s: expected %s\n", arg,
		    site == PHANTOM_FREE ? "FREE:x:y:z0:length:radius:hu" :
		    "SITE:z0:length:radius:hu");
		return -1;
	}
	for (i = 1; i < n; i++)
		if (num_parse(f[i], &val[i - 1]) == -1) {
			fprintf(stderr, PROG ": -p %s: not a number: %s\n",
			    arg, f[i]);
			return -1;
		}
	memset(p, 0, sizeof(*p));
	p->site = (enum phantom_site)site;
	i = 0;
	if (site == PHANTOM_FREE) {
		p->center[0] = val[i++];
		p->center[1] = val[i++];
	}
	p->z0 = val[i++];
	p->length_mm = val[i++];
	p->radius_mm = val[i++];
	p->hu = val[i];
	if (p->length_mm <= 0 || p->radius_mm <= 0) {
		fprintf(stderr, PROG ": -p %s: length and radius must be "
		    "positive\n", arg);
		return -1;
	}
	return 0;
}

/* A uniform deviate in [0, 1) from the state *x (xorshift64). */
static double
film_rand(unsigned long long *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 7;
	*x ^= *x << 17;
	return (double)(*x >> 11) / 9007199254740992.0;
}

/*
 * Write a film (kind "chest", "chest-tb" or "limb") as one DX file into
 * outdir.
 * Returns the exit status.
 */
static int
film_write(const char *kind, unsigned long seed, const char *pid,
    const char *pname, int voilut, const char *outdir)
{
	static uint16_t		 lut[2802];
	struct dcmwrite_lut	 vl;
	struct series_volume	*v;
	struct dcmwrite_opts	 o;
	unsigned long long	 x = 0x9e3779b97f4a7c15ULL ^ seed;
	char			 err[1024], study[DCMWRITE_UID_MAX + 1];
	char			 series[DCMWRITE_UID_MAX + 1];
	int			 tb = strcmp(kind, "chest-tb") == 0,
				 chest = tb || strcmp(kind, "chest") == 0, i, j;
	double			 mm, u, w, n;

	if (!chest && strcmp(kind, "limb") != 0) {
		fprintf(stderr, PROG ": -F %s: chest, chest-tb or limb\n",
		    kind);
		return 2;
	}
	if ((v = calloc(1, sizeof(*v))) == NULL)
		return 1;
	v->nx = chest ? 1100 : 700;
	v->ny = chest ? 1100 : 1000;
	v->nz = 1;
	mm = chest ? 0.4 : 0.35;
	if ((v->vox = malloc(sizeof(float) * v->nx * v->ny)) == NULL) {
		series_free(v);
		return 1;
	}
	for (j = 0; j < v->ny; j++)
		for (i = 0; i < v->nx; i++) {
			/* The film as seen from the front: the patient's
			 * right on the viewer's left. */
			u = (i - (v->nx - 1) / 2.0) * mm;
			w = (j - (v->ny - 1) / 2.0) * mm;
			n = (film_rand(&x) + film_rand(&x) + film_rand(&x) -
			    1.5) * 30;
			v->vox[(size_t)j * v->nx + i] = (float)((tb ?
			    phantom_film_chest_spec(&phantom_chest_tb, u, w) :
			    chest ? phantom_film_chest(u, w) :
			    phantom_film_limb(u, w)) + n);
		}
	v->spacing[0] = v->spacing[1] = mm;
	v->spacing[2] = NAN;
	v->row[0] = 1;
	v->col[2] = -1;
	v->normal[1] = 1;
	v->kvp = chest ? 120 : 55;
	v->slice_thickness = NAN;
	v->window_center = 1400;
	v->window_width = 2800;
	(void)snprintf(v->modality, sizeof(v->modality), "DX");
	if (dcmwrite_uid(study, sizeof(study)) == -1 ||
	    dcmwrite_uid(series, sizeof(series)) == -1) {
		fprintf(stderr, PROG ": no random bytes for a UID\n");
		series_free(v);
		return 1;
	}
	memset(&o, 0, sizeof(o));
	o.patient_id = pid;
	o.patient_name = pname;
	o.study_description = chest ? "DR Chest PA" : "DR Forearm";
	o.series_description = chest ? "Chest PA" : "Forearm AP";
	o.body_part = chest ? "CHEST" : "FOREARM";
	o.view_position = chest ? "PA" : "AP";
	o.laterality = chest ? NULL : "R";
	o.kernel = "";
	o.study_uid = study;
	o.series_uid = series;
	if (voilut) {
		/* The window 1400/2800 as a VOI LUT of 12-bit entries, one
		 * per value from 0 (PS3.3 C.11.2.1.2.1 sampled), instead of
		 * Window Center and Width. */
		for (i = 0; i < (int)(sizeof(lut) / sizeof(lut[0])); i++) {
			double	 y = ((double)i - 1399.5) / 2799 + 0.5;

			y = i <= 0 ? 0 : i > 2799 ? 1 : y;
			lut[i] = (uint16_t)lround(4095 * (y < 0 ? 0 : y > 1 ?
			    1 : y));
		}
		memset(&vl, 0, sizeof(vl));
		vl.entries = sizeof(lut) / sizeof(lut[0]);
		vl.bits = 12;
		vl.data = lut;
		vl.count = vl.entries;
		o.voi_luts = &vl;
		o.nvoi_luts = 1;
		o.no_window = 1;
	}
	if (dcmwrite_series(v, &o, outdir, err, sizeof(err)) == -1) {
		fprintf(stderr, PROG ": %s\n", err);
		series_free(v);
		return 1;
	}
	series_free(v);
	printf("files 1 %s\nstudy %s\nseries %s\n", outdir, study, series);
	if (tb) {
		printf("effusion right meniscus %.0f mm\n",
		    phantom_chest_tb.effusion[0]);
		for (i = 0; i < phantom_chest_tb.ncav; i++)
			printf("cavity at %.0f %.0f mm outer %.0f inner %.0f"
			    "\n", phantom_chest_tb.cav[i].u,
			    phantom_chest_tb.cav[i].w,
			    phantom_chest_tb.cav[i].r_out,
			    phantom_chest_tb.cav[i].r_in);
	}
	if (fflush(stdout) == EOF || ferror(stdout)) {
		fprintf(stderr, PROG ": stdout: %s\n", strerror(errno));
		return 1;
	}
	return 0;
}

int
main(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct phantom_plaque	 extra[PHANTOM_PLAQUES_MAX];
	struct phantom_spec	 spec;
	struct dcmwrite_opts	 o;
	struct series_volume	*v = NULL;
	const struct phantom_plaque *p;
	char			 err[1024], desc[64];
	char			 study[DCMWRITE_UID_MAX + 1];
	char			 series[DCMWRITE_UID_MAX + 1];
	const char		*outdir = NULL, *pid = NULL, *pname = NULL;
	const char		*sdesc = NULL, *film = NULL;
	struct phantom_nodule	 nod[PHANTOM_NODULES_MAX];
	size_t			 nnod = 0;
	double			 lz[2] = { 0, 0 };
	double			 slice = 1.25, kvp = 120, noise = 0, d;
	double			 blood = 0, fov = 0;
	int			 domes = 0, cartilage = 0;
	unsigned long		 seed = 0;
	size_t			 nextra = 0, i;
	char			*end;
	int			 ch, nostd = 0, width = 0, spine = 0, ribs = 0;
	int			 voilut = 0;

	double			 nval[5];

	while ((ch = getopt_long(argc, argv, "b:cdD:f:F:G:hk:L:n:N:o:p:P:Rs:S:t:UVW:x",
	    longopts, NULL)) != -1)
		switch (ch) {
		case 'h':
			usage(stdout, 0);
			break;
		case 'b':
			if (num_parse(optarg, &blood) == -1 || blood < -100 ||
			    blood > 1000) {
				fprintf(stderr, PROG ": bad blood CT number "
				    "(-100 to 1000): %s\n", optarg);
				usage(stderr, 2);
			}
			break;
		case 'c':
			cartilage = 1;
			break;
		case 'D':
			/* A lung nodule: x:y:z:diameter:hu (mm, HU). */
			if (nnod == PHANTOM_NODULES_MAX || nums_parse(optarg,
			    5, nval) == -1 || nval[3] < 1 || nval[3] > 60 ||
			    nval[4] < -900 || nval[4] > 1000) {
				fprintf(stderr, PROG ": bad nodule (x:y:z:"
				    "diameter:hu, 1-60 mm, -900 to 1000 HU, at"
				    " most %d): %s\n", PHANTOM_NODULES_MAX,
				    optarg);
				usage(stderr, 2);
			}
			memset(&nod[nnod], 0, sizeof(nod[nnod]));
			memcpy(nod[nnod].center, nval, sizeof(nod[nnod].center));
			nod[nnod].diameter_mm = nval[3];
			nod[nnod].hu = nval[4];
			nnod++;
			break;
		case 'G':
			if (nnod == PHANTOM_NODULES_MAX ||
			    margin_nodule_parse(optarg, &nod[nnod]) == -1) {
				fprintf(stderr, PROG ": bad nodule in a margin "
				    "(x:y:z:diameter:hu:rim:rim_hu:fade, rim "
				    "0-20 mm at -850 to -300 HU, fade up to twice "
				    "the rim, at most %d): %s\n",
				    PHANTOM_NODULES_MAX, optarg);
				usage(stderr, 2);
			}
			nnod++;
			break;
		case 'L':
			/* The lungs only within z0..z1 mm: their apices and
			 * bases in the scan. */
			if (nums_parse(optarg, 2, lz) == -1 || !(lz[0] < lz[1])) {
				fprintf(stderr, PROG ": bad lung range"
				    " (z0:z1 mm): %s\n", optarg);
				usage(stderr, 2);
			}
			break;
		case 'd':
			domes = 1;
			break;
		case 'f':
			if (num_parse(optarg, &fov) == -1 || fov < 150 ||
			    fov > 500) {
				fprintf(stderr, PROG ": bad field of view "
				    "(150 to 500 mm): %s\n", optarg);
				usage(stderr, 2);
			}
			break;
		case 'F':
			film = optarg;
			break;
		case 'S':
			sdesc = optarg;
			break;
		case 'k':
			if (num_parse(optarg, &kvp) == -1 || kvp < 80 ||
			    kvp > 140) {
				fprintf(stderr, PROG ": bad kvp (80 to 140): "
				    "%s\n", optarg);
				usage(stderr, 2);
			}
			break;
		case 'n':
			if (num_parse(optarg, &noise) == -1 || noise < 0) {
				fprintf(stderr, PROG ": bad noise: %s\n",
				    optarg);
				usage(stderr, 2);
			}
			break;
		case 'N':
			pname = optarg;
			break;
		case 'o':
			outdir = optarg;
			break;
		case 'p':
			if (nextra == PHANTOM_PLAQUES_MAX) {
				fprintf(stderr, PROG ": more than %d "
				    "plaques\n", PHANTOM_PLAQUES_MAX);
				usage(stderr, 2);
			}
			if (plaque_parse(optarg, &extra[nextra]) == -1)
				usage(stderr, 2);
			nextra++;
			break;
		case 'P':
			pid = optarg;
			break;
		case 's':
			errno = 0;
			seed = strtoul(optarg, &end, 10);
			if (*optarg == '\0' || *optarg == '-' ||
			    *end != '\0' || errno == ERANGE ||
			    seed > 0xffffffffUL) {
				fprintf(stderr, PROG ": bad seed: %s\n",
				    optarg);
				usage(stderr, 2);
			}
			break;
		case 't':
			if (num_parse(optarg, &slice) == -1 || slice <= 0 ||
			    slice > 20) {
				fprintf(stderr, PROG ": bad slice thickness: "
				    "%s\n", optarg);
				usage(stderr, 2);
			}
			break;
		case 'W':
			if (num_parse(optarg, &d) == -1 || d != floor(d) ||
			    d < 8 || d > 2048) {
				fprintf(stderr, PROG ": bad width (8 to 2048 "
				    "pixels): %s\n", optarg);
				usage(stderr, 2);
			}
			width = (int)d;
			break;
		case 'U':
			voilut = 1;
			break;
		case 'V':
			spine = 1;
			break;
		case 'R':
			ribs = 1;
			break;
		case 'x':
			nostd = 1;
			break;
		default:
			usage(stderr, 2);
		}
	if (optind != argc || outdir == NULL)
		usage(stderr, 2);
	if (film != NULL) {
		if ((ch = film_write(film, seed, pid, pname, voilut,
		    outdir)) == 2)
			usage(stderr, 2);
		return ch;
	}

	memset(&spec, 0, sizeof(spec));
	if (ribs) {
		struct ribcage_spec	 rc;

		ribcage_standard(&rc, slice, noise, (unsigned)seed);
		if (ribcage_build(&rc, &v, err, sizeof(err)) == -1) {
			fprintf(stderr, PROG ": %s\n", err);
			return 1;
		}
		for (i = 0; i < rc.nf; i++)
			printf("fracture %c%d %s t %.2f at %.1f %.1f %.1f "
			    "segment %d\n", rc.f[i].side == 1 ? 'R' : 'L',
			    rc.f[i].number, ribcage_kind_names[rc.f[i].kind],
			    rc.f[i].t, rc.f[i].p[0], rc.f[i].p[1], rc.f[i].p[2],
			    rc.f[i].segment);
		goto write;
	}
	if (spine) {
		phantom_spine_standard(&spec, slice, noise, 0.0);
		spec.kvp = kvp;
		spec.seed = (unsigned)seed;
		if (width > 0) {
			spec.pixel_mm = spec.pixel_mm * spec.nx / width;
			spec.nx = spec.ny = width;
		}
		goto build;
	}
	phantom_standard(&spec, slice, kvp);
	if (nostd)
		spec.nplaques = 0;
	if (spec.nplaques + nextra > PHANTOM_PLAQUES_MAX) {
		fprintf(stderr, PROG ": more than %d plaques\n",
		    PHANTOM_PLAQUES_MAX);
		return 1;
	}
	for (i = 0; i < nextra; i++)
		spec.plaques[spec.nplaques++] = extra[i];
	for (i = 0; i < spec.nplaques; i++)
		phantom_plaque_place(&spec.plaques[i]);
	spec.noise_hu = noise;
	spec.seed = (unsigned)seed;
	spec.blood_hu = blood;
	spec.domes = domes;
	spec.cartilage = cartilage;
	spec.lung_z[0] = lz[0];
	spec.lung_z[1] = lz[1];
	memcpy(spec.nodules, nod, nnod * sizeof(nod[0]));
	spec.nnodules = nnod;
	if (width > 0) {
		spec.nx = spec.ny = width;
		spec.pixel_mm = STD_FOV_MM / width;
	}
	/* A cardiac field of view: the same pixels over less, centred on
	 * the heart. */
	if (fov > 0) {
		spec.fov_mm = fov;
		spec.pixel_mm = fov / spec.nx;
		spec.center[0] = phantom_anatomy.heart_c[0];
		spec.center[1] = phantom_anatomy.heart_c[1];
	}

build:
	if (phantom_build(&spec, &v, err, sizeof(err)) == -1) {
		fprintf(stderr, PROG ": %s\n", err);
		return 1;
	}
write:
	if (dcmwrite_uid(study, sizeof(study)) == -1 ||
	    dcmwrite_uid(series, sizeof(series)) == -1) {
		fprintf(stderr, PROG ": no random bytes for a UID\n");
		series_free(v);
		return 1;
	}
	(void)snprintf(desc, sizeof(desc), "Phantom %s %g mm %g kV",
	    ribs ? "ribs" : spine ? "spine" : "chest", v->spacing[2],
	    v->kvp);
	memset(&o, 0, sizeof(o));
	o.patient_id = pid;
	o.patient_name = pname;
	o.study_description = "Phantom CT";
	o.series_description = sdesc != NULL ? sdesc : desc;
	o.body_part = spine || ribs ? "CHESTABDOMEN" : "CHEST";
	o.kernel = "STANDARD";
	o.study_uid = study;
	o.series_uid = series;
	o.kvp = v->kvp;
	/* The spine phantom's patient: 1.70 m (the skeletal muscle
	 * index). */
	o.patient_size = spine ? 1.70 : 0.0;
	o.slice_thickness = v->spacing[2];
	if (dcmwrite_series(v, &o, outdir, err, sizeof(err)) == -1) {
		fprintf(stderr, PROG ": %s\n", err);
		series_free(v);
		return 1;
	}

	for (i = 0; i < spec.nplaques; i++) {
		p = &spec.plaques[i];
		printf("plaque %s center %.2f %.2f z %.2f %.2f radius %.2f "
		    "hu %.0f hu_kvp %.0f\n", phantom_site_names[p->site],
		    p->center[0], p->center[1], p->z0, p->z0 + p->length_mm,
		    p->radius_mm, p->hu,
		    p->hu * phantom_calcium_factor(spec.kvp));
	}
	for (i = 0; i < spec.spine.n; i++) {
		const struct phantom_vertebra *pv = &spec.spine.v[i];

		printf("vertebra %s hu %.0f ha %.2f hm %.2f hp %.2f ribs %d\n",
		    pv->name, pv->hu, pv->ha, pv->hm, pv->hp, pv->ribs);
	}
	printf("files %d %s\n", v->nz, outdir);
	printf("study %s\n", study);
	printf("series %s\n", series);
	series_free(v);
	if (fflush(stdout) == EOF || ferror(stdout)) {
		fprintf(stderr, PROG ": stdout: %s\n", strerror(errno));
		return 1;
	}
	return 0;
}
