/*
 * test_ribs.c - the ribs (src/infer/ribs.c): traced, numbered and
 * searched for fractures on the rib cage phantom (src/lib/ribcage.c).
 *
 * The phantom: vertebrae T1-L1 and the top of L2, twelve ribs a side
 * (tubes of 3.5 mm, 1 mm cortex of 700 HU round marrow of 250 HU) and
 * the standard nine fractures (ribcage_standard(): a displaced cut of
 * 3 mm on R5 and of 4 mm on L9, non-displaced cuts on L7 and R3, a
 * segmental pair on R6, buckles on R8 and L10, a callus on L4), at
 * 0.625, 1.25 and 2 mm with 15 HU of noise.  Asserted at each: 24 ribs,
 * every one numbered right (the rib numbered n on a side passes within
 * 4 mm of the truth rib n at a quarter, half and three quarters of its
 * shaft), the numbers not uncertain, the vertebrae labelled T1..L1; all
 * nine fractures found within 10 mm on the right rib, their types and
 * segments right, and no more than one false candidate per scan.  The
 * same phantom without fractures must give none; with the top of the
 * cage cut off the ribs are numbered up from T12, marked uncertain.
 * Sensitivity and false positives are printed.  On LIDC-IDRI-0002
 * (test_lidc) the numbering from T12, the false candidates and the time.
 * The reader (ribfrac.c, test_reader): the phantom's nine fractures as
 * lesions in the order of their position, with their types, places,
 * sentences and confidences, the text, and the overlays' ribs and
 * vertebrae; the cage cut at the top refused with the reason.
 */
#include "config.h"

#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>
#include <jansson.h>

#include "anatomy.h"
#include "compute.h"
#include "ribcage.h"
#include "realdata.h"
#include "reader.h"
#include "ribfrac.h"
#include "ribs.h"
#include "series.h"
#include "spine.h"

static struct compute	*cpu;

static int
setup(void **state)
{
	(void)state;
	cpu = compute_cpu_open();
	return cpu == NULL ? -1 : 0;
}

static int
teardown(void **state)
{
	(void)state;
	compute_close(cpu);
	return 0;
}

static double
now_s(void)
{
	struct timespec	 ts;

	(void)clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Voxels of the phantom to its mm. */
static void
to_mm(const struct series_volume *v, const double p[3], double q[3])
{
	q[0] = v->origin[0] + p[0] * v->spacing[0];
	q[1] = v->origin[1] + p[1] * v->spacing[1];
	q[2] = v->origin[2] + p[2] * v->step[2];
}

static double
dist3(const double a[3], const double b[3])
{
	return sqrt((a[0] - b[0]) * (a[0] - b[0]) + (a[1] - b[1]) * (a[1] -
	    b[1]) + (a[2] - b[2]) * (a[2] - b[2]));
}

/* The nearest point of rib r's centre line to q (mm). */
static double
rib_dist(const struct series_volume *v, const struct rib *r, const double q[3])
{
	double	 best = 1e30, p[3], m[3];
	int	 i;

	for (i = 0; i < r->n; i++) {
		p[0] = r->c[i][0];
		p[1] = r->c[i][1];
		p[2] = r->c[i][2];
		to_mm(v, p, m);
		best = fmin(best, dist3(m, q));
	}
	return best;
}

struct score {
	int	 found, typed, placed, fp, nf, skipped;
};

/* Truth fracture kinds as the reader types them. */
static enum rib_frac_type
truth_type(const struct ribcage_spec *sp, size_t i)
{
	size_t	 j;

	if (sp->f[i].kind == RIBCAGE_CUT)
		for (j = 0; j < sp->nf; j++)
			if (j != i && sp->f[j].side == sp->f[i].side &&
			    sp->f[j].number == sp->f[i].number &&
			    (sp->f[j].kind == RIBCAGE_CUT || sp->f[j].kind ==
			    RIBCAGE_DISPLACED))
				return RIBF_SEGMENTAL;
	switch (sp->f[i].kind) {
	case RIBCAGE_DISPLACED:
		return RIBF_DISPLACED;
	case RIBCAGE_BUCKLE:
		return RIBF_BUCKLE;
	case RIBCAGE_CALLUS:
		return RIBF_OLD;
	default:
		return RIBF_NONDISPLACED;
	}
}

/* The truth fracture tf lies on a stretch of its rib that was not
 * searched (rib.skip). */
static int
unsearched(const struct series_volume *v, const struct ribs_info *ri,
    const struct ribcage_fracture *tf)
{
	size_t	 i;
	int	 c, k, bc = -1;
	double	 bd = 1e30, m[3];

	for (i = 0; i < ri->n; i++) {
		const struct rib *r = &ri->r[i];

		if (r->side != tf->side || r->number != tf->number)
			continue;
		for (c = 0; c < r->n; c++) {
			double	 p[3] = { r->c[c][0], r->c[c][1], r->c[c][2] };

			to_mm(v, p, m);
			if (dist3(m, tf->p) < bd) {
				bd = dist3(m, tf->p);
				bc = c;
			}
		}
		for (k = 0; k < r->nskip && bc >= 0; k++)
			if (bc >= r->skip[k][0] && bc <= r->skip[k][1])
				return 1;
	}
	return 0;
}

static void
run_opt(double slice, int fractures, unsigned seed, unsigned options,
    int max_fp)
{
	struct ribcage_spec	 sp;
	struct series_volume	*v = NULL;
	struct anatomy_cache	*ac;
	const struct anatomy	*an;
	struct ribs_info	*ri;
	struct score		 sc = { 0 };
	char			 err[256], where[64];
	double			 t0, t1, q[3], m[3];
	int			*hit, side, num, ok;
	size_t			 i, j;

	ribcage_standard(&sp, slice, 15.0, seed);
	sp.options = options;
	if (!fractures)
		sp.nf = 0;
	if (ribcage_build(&sp, &v, err, sizeof(err)) == -1)
		fail_msg("phantom: %s", err);
	assert_non_null(ac = anatomy_cache_new());
	assert_non_null(ri = calloc(1, sizeof(*ri)));
	t0 = now_s();
	if (anatomy_get(ac, cpu, v, 1, ANAT_VERTEBRAE, &an, err,
	    sizeof(err)) == -1)
		fail_msg("anatomy: %s", err);
	t1 = now_s();
	if (ribs_trace(v, an->spine_xy, an->body, &an->spine, ri, err,
	    sizeof(err)) == -1 || ribs_fractures(v, ri, err, sizeof(err)) ==
	    -1)
		fail_msg("ribs: %s", err);
	print_message("  %.3g mm, %s: %dx%dx%d, anatomy %.2f s, ribs %.2f s;"
	    " %zu ribs, %s%s%s\n", slice, fractures ? "fractures" : "none",
	    v->nx, v->ny, v->nz, t1 - t0, now_s() - t1, ri->n,
	    ri->numbered ? ri->how_zh : "not numbered: ",
	    ri->numbered ? "" : ri->why, ri->uncertain ? " (uncertain)" : "");
	for (i = 0; i < ri->n; i++)
		print_message("    rib %s%-2d n %3d head z %.1f reach %.0f "
		    "body %d\n", ri->r[i].side == RIB_RIGHT ? "R" : "L",
		    ri->r[i].number, ri->r[i].n, ri->r[i].head_z,
		    ri->r[i].reach_mm, ri->r[i].body);
	assert_int_equal(ri->n, 24);
	assert_true(ri->numbered);
	assert_false(ri->uncertain);
	/* Every rib numbered right. */
	for (side = 1; side <= 2; side++)
		for (num = 1; num <= 12; num++) {
			const struct rib *r = NULL;
			double	 t;

			for (i = 0; i < ri->n; i++)
				if (ri->r[i].side == side &&
				    ri->r[i].number == num)
					r = &ri->r[i];
			if (r == NULL)
				fail_msg("no rib %c%d", side == 1 ? 'R' : 'L',
				    num);
			/* Under the scapula too (ribs 2-7 behind, a
			 * quarter of the shaft): the line followed along
			 * the rib stays on it (it strayed 8-9 mm into the
			 * scapula before, issue 13). */
			for (t = 0.25; t < 0.8; t += 0.25) {
				assert_int_equal(ribcage_rib_point(&sp, side,
				    num, t, q), 0);
				if (rib_dist(v, r, q) > 4.0)
					fail_msg("rib %c%d at t %.2f: %.1f mm "
					    "off", side == 1 ? 'R' : 'L', num, t,
					    rib_dist(v, r, q));
			}
		}
	/* The vertebrae: T1 .. L1 by the ribs' heads. */
	for (i = 0; i < ri->n; i++)
		if (ri->r[i].body >= 0)
			assert_int_equal(ri->vlabel[ri->r[i].body],
			    ri->r[i].number);
	/* Fractures. */
	assert_non_null(hit = calloc(ri->nf + 1, sizeof(*hit)));
	sc.nf = (int)sp.nf;
	for (i = 0; i < sp.nf; i++) {
		const struct ribcage_fracture *tf = &sp.f[i];
		int	 best = -1;
		double	 bd = 10.0;

		for (j = 0; j < ri->nf; j++) {
			const struct rib *r = &ri->r[ri->f[j].rib];

			to_mm(v, ri->f[j].p, m);
			if (r->side == tf->side && r->number == tf->number &&
			    dist3(m, tf->p) <= bd) {
				bd = dist3(m, tf->p);
				best = (int)j;
			}
		}
		if (best < 0 && unsearched(v, ri, tf)) {
			print_message("    not searched %c%d %s t %.2f (the rib "
			    "touches other bone there)\n", tf->side == 1 ?
			    'R' : 'L', tf->number,
			    ribcage_kind_names[tf->kind], tf->t);
			sc.nf--;
			sc.skipped++;
			continue;
		}
		if (best < 0) {
			print_message("    missed %c%d %s t %.2f\n",
			    tf->side == 1 ? 'R' : 'L', tf->number,
			    ribcage_kind_names[tf->kind], tf->t);
			continue;
		}
		hit[best] = 1;
		sc.found++;
		ok = ri->f[best].type == truth_type(&sp, i);
		sc.typed += ok;
		sc.placed += ri->f[best].segment == tf->segment;
		ribs_where_zh(ri, &ri->f[best], where, sizeof(where));
		print_message("    found %c%d %s at %.1f mm: %s %s (ring %.2f "
		    "step %.1f angle %.0f bulge %.1f thick %.1f)%s\n",
		    tf->side == 1 ? 'R' : 'L', tf->number,
		    ribcage_kind_names[tf->kind], bd, where,
		    rib_frac_zh[ri->f[best].type], ri->f[best].ring,
		    ri->f[best].step_mm, ri->f[best].angle_deg,
		    ri->f[best].bulge_mm, ri->f[best].thick_mm,
		    ok ? "" : " WRONG TYPE");
	}
	for (j = 0; j < ri->nf; j++) {
		if (hit[j])
			continue;
		sc.fp++;
		ribs_where_zh(ri, &ri->f[j], where, sizeof(where));
		print_message("    false %s %s (ring %.2f step %.1f angle %.0f "
		    "bulge %.1f thick %.1f)\n", where, rib_frac_zh[ri->f[j].type],
		    ri->f[j].ring, ri->f[j].step_mm, ri->f[j].angle_deg,
		    ri->f[j].bulge_mm, ri->f[j].thick_mm);
	}
	for (i = 0; i < ri->n; i++)
		if (ri->r[i].nskip > 0 || !ri->r[i].searched)
			print_message("    rib %s%d: %s, %d stretch(es) not "
			    "searched (touching other bone)\n",
			    ri->r[i].side == RIB_RIGHT ? "R" : "L",
			    ri->r[i].number, ri->r[i].searched ? "searched" :
			    "not searched", ri->r[i].nskip);
	print_message("  %.3g mm, options %u: sensitivity %d/%d, type right "
	    "%d, segment right %d, false positives %d per scan; %d on "
	    "stretches not searched\n", slice, options, sc.found, sc.nf,
	    sc.typed, sc.placed, sc.fp, sc.skipped);
	/* Only where the shoulder's bones lie may stretches go unsearched,
	 * and there some must. */
	for (i = 0, ok = 0; i < ri->n; i++)
		ok += ri->r[i].nskip;
	if (!(options & RIBCAGE_SHOULDER))
		assert_int_equal(sc.skipped, 0);
	else
		assert_true(ok > 0);
	assert_int_equal(sc.found, sc.nf);
	assert_int_equal(sc.typed, sc.nf);
	assert_int_equal(sc.placed, sc.nf);
	assert_true(sc.fp <= max_fp);
	free(hit);
	free(ri);
	anatomy_cache_free(ac);
	series_free(v);
}

static void
run(double slice, int fractures, unsigned seed)
{
	run_opt(slice, fractures, seed, 0, 1);
}

/*
 * The top of the cage cut off (the scan starting at the head of rib 5):
 * the ribs are numbered up from the last at T12, each right, and the
 * numbers marked uncertain (not checked from the first rib).
 */
static void
test_phantom_no_top(void **state)
{
	struct ribcage_spec	 sp;
	struct series_volume	*v = NULL;
	struct anatomy_cache	*ac;
	const struct anatomy	*an;
	struct ribs_info	*ri;
	struct ai_result	 res;
	char			 err[256];
	double			 q[3];
	size_t			 i;
	int			 cut;

	(void)state;
	ribcage_standard(&sp, 1.25, 15.0, 11);
	sp.nf = 0;
	if (ribcage_build(&sp, &v, err, sizeof(err)) == -1)
		fail_msg("phantom: %s", err);
	/* Slices above the head of rib 5 (+ 8 mm) dropped. */
	cut = (int)floor((ribcage_head_z(&sp, 5) + 8.0) / v->spacing[2]);
	assert_true(cut < v->nz);
	v->nz = cut;
	assert_non_null(ac = anatomy_cache_new());
	assert_non_null(ri = calloc(1, sizeof(*ri)));
	if (anatomy_get(ac, cpu, v, 12, ANAT_VERTEBRAE, &an, err,
	    sizeof(err)) == -1 || ribs_trace(v, an->spine_xy, an->body,
	    &an->spine, ri, err, sizeof(err)) == -1)
		fail_msg("%s", err);
	print_message("  no top: %zu ribs, %s\n", ri->n, ri->numbered ?
	    ri->how_zh : ri->why);
	assert_true(ri->numbered);
	assert_true(ri->uncertain);
	assert_false(ri->top_seen[RIB_RIGHT] || ri->top_seen[RIB_LEFT]);
	assert_true(ri->n >= 16);
	/* The reader asks for the whole cage: refused, saying why. */
	ai_result_init(&res);
	assert_int_equal(ribfrac_to_ai(v, ri, &an->spine, &res, err,
	    sizeof(err)), 1);
	assert_string_equal(err, "胸廓未完整包含在扫描范围内（未包括第1肋上方），"
	    "CT骨折辅助诊断要求包含完整胸廓");
	assert_int_equal(res.nlesions, 0);
	ai_result_free(&res);
	for (i = 0; i < ri->n; i++) {
		const struct rib *r = &ri->r[i];

		print_message("    rib %s%d head z %.1f\n", r->side ==
		    RIB_RIGHT ? "R" : "L", r->number, r->head_z);
		assert_true(r->number >= 5 && r->number <= 12);
		assert_int_equal(ribcage_rib_point(&sp, r->side, r->number,
		    0.5, q), 0);
		assert_true(rib_dist(v, r, q) <= 4.0);
	}
	free(ri);
	anatomy_cache_free(ac);
	series_free(v);
}

/* Keep slices k0..k1-1 of v (the volume cut at its bottom and top). */
static void
crop(struct series_volume *v, int k0, int k1)
{
	size_t	 ns = (size_t)v->nx * v->ny;
	int	 k;

	assert_true(k0 >= 0 && k1 <= v->nz && k1 - k0 >= 10);
	memmove(v->vox, v->vox + (size_t)k0 * ns, (size_t)(k1 - k0) * ns *
	    sizeof(*v->vox));
	if (v->slices != NULL)
		memmove(v->slices, v->slices + k0, (size_t)(k1 - k0) *
		    sizeof(*v->slices));
	for (k = 0; k < 3; k++)
		v->origin[k] += k0 * v->step[k];
	v->nz = k1 - k0;
}

/*
 * The top of the cage cut through lower down, 16 mm above the head of
 * rib 8 (more than the 12 mm above the highest rib's head that once
 * made it the first rib: ribs 1-7 leave the slices by their heads, their
 * shafts go on below; the lungs are cut at their full width), as
 * totalseg-example's 40 mm of the lower cage: not counted from the top.
 * With the bottom in view the ribs are numbered up from T12, each right,
 * marked uncertain; with the bottom cut too (above rib 12's head) they
 * are not numbered, and the reason names the apices.
 */
static void
cut_cage(int bottom)
{
	struct ribcage_spec	 sp;
	struct series_volume	*v = NULL;
	struct anatomy_cache	*ac;
	const struct anatomy	*an;
	struct ribs_info	*ri;
	char			 err[256];
	double			 q[3];
	size_t			 i;
	int			 k0 = 0, k1;

	ribcage_standard(&sp, 1.25, 15.0, 21);
	sp.nf = 0;
	if (ribcage_build(&sp, &v, err, sizeof(err)) == -1)
		fail_msg("phantom: %s", err);
	k1 = (int)floor((ribcage_head_z(&sp, 8) + 16.0) / v->spacing[2]);
	if (bottom)
		k0 = (int)ceil((ribcage_head_z(&sp, 11) - 10.0) /
		    v->spacing[2]);
	crop(v, k0, k1);
	assert_non_null(ac = anatomy_cache_new());
	assert_non_null(ri = calloc(1, sizeof(*ri)));
	if (anatomy_get(ac, cpu, v, 13 + bottom, ANAT_VERTEBRAE, &an, err,
	    sizeof(err)) == -1 || ribs_trace(v, an->spine_xy, an->body,
	    &an->spine, ri, err, sizeof(err)) == -1)
		fail_msg("%s", err);
	print_message("  cut at rib 8%s: %zu ribs, apex share %.2f, %s\n",
	    bottom ? " and rib 11" : "", ri->n, ri->apex_share, ri->numbered ?
	    ri->how_zh : ri->why);
	assert_true(ri->apex_share > 0.1);
	assert_false(ri->top_seen[RIB_RIGHT] || ri->top_seen[RIB_LEFT]);
	assert_true(ri->n >= 6);
	if (bottom) {
		assert_false(ri->numbered);
		for (i = 0; i < ri->n; i++)
			assert_int_equal(ri->r[i].number, 0);
		assert_non_null(strstr(ri->why, "肺尖"));
	} else {
		assert_true(ri->numbered);
		assert_true(ri->uncertain);
		for (i = 0; i < ri->n; i++) {
			const struct rib *r = &ri->r[i];

			print_message("    rib %s%d head z %.1f\n", r->side ==
			    RIB_RIGHT ? "R" : "L", r->number, r->head_z);
			assert_true(r->number >= 8 && r->number <= 12);
			assert_int_equal(ribcage_rib_point(&sp, r->side,
			    r->number, 0.5, q), 0);
			assert_true(rib_dist(v, r, q) <= 4.0);
		}
	}
	free(ri);
	anatomy_cache_free(ac);
	series_free(v);
}

static void
test_phantom_cut_cage(void **state)
{
	(void)state;
	cut_cage(0);
	cut_cage(1);
}

/* The rank of a place "右第5肋腋段" in the order by position. */
static int
place_rank(const char *loc)
{
	static const char *const seg[] = { "后段", "腋段", "前段" };
	const char	*p;
	int		 side = 0, num, k;

	if (strncmp(loc, "右第", strlen("右第")) == 0)
		side = 0;
	else if (strncmp(loc, "左第", strlen("左第")) == 0)
		side = 1;
	else
		fail_msg("place %s", loc);
	p = loc + strlen("右第");
	num = atoi(p);
	assert_true(num >= 1 && num <= 12);
	p = strstr(p, "肋");
	assert_non_null(p);
	p += strlen("肋");
	for (k = 0; k < 3 && strcmp(p, seg[k]) != 0; k++)
		;
	assert_true(k < 3);
	return side * 100 + num * 4 + k;
}

/*
 * The reader on the phantom at 1.25 mm: the nine fractures as lesions,
 * ordered by position, each with its type, place (the truth's rib and
 * segment), key slice and box round the truth, its sentences and a
 * confidence of 0.5-0.9; the text; the overlays: 24 ribs R1-R12 and L1-L12
 * with their centre lines, the vertebrae T1-L1 with their slices.
 */
static void
test_reader(void **state)
{
	struct ribcage_spec	 sp;
	struct series_volume	*v = NULL;
	struct reader_ctx	 ctx;
	struct ai_result	 res;
	json_t			*o, *a, *x;
	json_error_t		 je;
	char			 err[256], want[256], lab[8];
	size_t			 i, j;
	int			 r, rank = -1, seen[2][13];

	(void)state;
	ribcage_standard(&sp, 1.25, 15.0, 5);
	if (ribcage_build(&sp, &v, err, sizeof(err)) == -1)
		fail_msg("phantom: %s", err);
	assert_int_equal(ribfrac_check(v, err, sizeof(err)), READER_FITS);
	memset(&ctx, 0, sizeof(ctx));
	ctx.compute = cpu;
	ctx.series_id = 21;
	ai_result_init(&res);
	r = ribfrac_reader.run(&ctx, v, &res, err, sizeof(err));
	if (r != 0)
		fail_msg("run %d: %s", r, err);
	print_message("  findings: %s\n  conclusion: %s\n", res.findings,
	    res.conclusion);
	assert_true(res.nlesions >= sp.nf && res.nlesions <= sp.nf + 1);
	for (i = 0; i < res.nlesions; i++) {
		const struct ai_lesion *l = &res.lesions[i];

		print_message("    %d %s %s slice %d conf %.2f: %s | %s\n",
		    l->id, l->type, l->location, l->box.slice, l->confidence,
		    l->findings, l->conclusion);
		assert_int_equal(l->id, (int)i + 1);
		assert_true(place_rank(l->location) >= rank);
		rank = place_rank(l->location);
		assert_true(l->confidence >= 0.5 && l->confidence <= 0.9);
		assert_non_null(strstr(l->findings, l->location));
		(void)snprintf(want, sizeof(want), "%s%s", l->location,
		    l->type);
		assert_non_null(strstr(l->conclusion, want));
		/* The general text names no candidate: the doctor picks
		 * those whose sentences go into the report. */
		assert_null(strstr(res.findings, l->location));
		assert_null(strstr(res.conclusion, l->location));
		assert_true(l->box.x0 < l->box.x1 && l->box.y0 < l->box.y1);
	}
	/* Each truth fracture a lesion of its rib, segment and type, its
	 * box round it on its key slice (within 10 mm in z). */
	for (i = 0; i < sp.nf; i++) {
		const struct ribcage_fracture *tf = &sp.f[i];
		static const char *const seg[] = { "后段", "腋段", "前段" };
		int	 ok = 0;
		double	 vx, vy, vz;

		vx = (tf->p[0] - v->origin[0]) / v->spacing[0];
		vy = (tf->p[1] - v->origin[1]) / v->spacing[1];
		vz = (tf->p[2] - v->origin[2]) / v->step[2];
		(void)snprintf(want, sizeof(want), "%s第%d肋%s", tf->side ==
		    RIB_RIGHT ? "右" : "左", tf->number, seg[tf->segment]);
		for (j = 0; j < res.nlesions && !ok; j++) {
			const struct ai_lesion *l = &res.lesions[j];

			ok = strcmp(l->location, want) == 0 &&
			    strcmp(l->type, rib_frac_zh[truth_type(&sp, i)])
			    == 0 && vx >= l->box.x0 - 2 &&
			    vx <= l->box.x1 + 2 && vy >= l->box.y0 - 2 &&
			    vy <= l->box.y1 + 2 &&
			    fabs(vz - l->box.slice) * fabs(v->step[2]) <= 10.0;
		}
		if (!ok)
			fail_msg("no lesion %s %s at (%.0f, %.0f, %.0f)", want,
			    rib_frac_zh[truth_type(&sp, i)], vx, vy, vz);
		/* The regions for the viewer: the lesion's fracture label
		 * (骨折N, 110 + N - 1) within 3 voxels of the truth. */
		{
			char	 fname[32];
			int	 dx, dy, dz, hit = 0, fl = 110 + (int)j - 1;
			size_t	 vo;

			assert_non_null(res.masks);
			(void)snprintf(fname, sizeof(fname), "\"骨折%d\"",
			    (int)j);
			assert_non_null(strstr(res.masks_legend, fname));
			for (dz = -3; dz <= 3 && !hit; dz++)
				for (dy = -3; dy <= 3 && !hit; dy++)
					for (dx = -3; dx <= 3 && !hit; dx++) {
						int	 xi = (int)lround(vx) + dx;
						int	 yi = (int)lround(vy) + dy;
						int	 zi = (int)lround(vz) + dz;

						if (xi < 0 || yi < 0 || zi < 0 ||
						    xi >= v->nx || yi >= v->ny ||
						    zi >= v->nz)
							continue;
						vo = ((size_t)zi * v->ny + yi) *
						    v->nx + xi;
						hit = res.masks[vo] == fl;
					}
			assert_true(hit);
		}
	}
	/* Every rib among the regions by its side and number. */
	for (i = 1; i <= 12; i++) {
		(void)snprintf(want, sizeof(want), "\"右第%zu肋\"", i);
		assert_non_null(strstr(res.masks_legend, want));
		(void)snprintf(want, sizeof(want), "\"左第%zu肋\"", i);
		assert_non_null(strstr(res.masks_legend, want));
	}
	assert_non_null(strstr(res.findings, "双侧肋骨共识别24根（右侧12根，"
	    "左侧12根）"));
	assert_non_null(strstr(res.conclusion, "是否随访复查由临床医生结合"
	    "病情决定"));
	assert_null(strstr(res.conclusion, "存疑"));
	assert_non_null(strstr(res.method, "仅供参考"));
	/* The overlays. */
	assert_non_null(res.overlays);
	if ((o = json_loads(res.overlays, 0, &je)) == NULL)
		fail_msg("overlays: %s", je.text);
	assert_true(json_is_false(json_object_get(o, "uncertain")));
	a = json_object_get(o, "ribs");
	assert_int_equal(json_array_size(a), 24);
	memset(seen, 0, sizeof(seen));
	json_array_foreach(a, i, x) {
		const char	*side = json_string_value(json_object_get(x,
				    "side"));
		int		 n = (int)json_integer_value(json_object_get(x,
				    "number"));
		json_t		*line = json_object_get(x, "line");

		assert_true(n >= 1 && n <= 12);
		(void)snprintf(lab, sizeof(lab), "%s%d", side, n);
		assert_string_equal(json_string_value(json_object_get(x,
		    "label")), lab);
		seen[*side == 'R' ? 0 : 1][n]++;
		assert_true(json_array_size(line) >= 30);
		assert_int_equal(json_array_size(json_array_get(line, 0)), 3);
	}
	for (i = 1; i <= 12; i++)
		assert_true(seen[0][i] == 1 && seen[1][i] == 1);
	a = json_object_get(o, "vertebrae");
	assert_true(json_array_size(a) >= 12);
	r = 0;
	json_array_foreach(a, i, x) {
		const char *l = json_string_value(json_object_get(x, "label"));

		assert_non_null(l);
		r += strcmp(l, "T1") == 0 || strcmp(l, "T12") == 0;
		assert_true(json_integer_value(json_object_get(x, "k0")) <=
		    json_integer_value(json_object_get(x, "k1")));
	}
	assert_int_equal(r, 2);
	json_decref(o);
	ai_result_free(&res);
	series_free(v);
}

/*
 * Nothing to trace: no spine's line (a head CT, say), and a trunk of soft
 * tissue with no bone: no rib, the reason said, nothing searched.
 */
static void
test_nothing(void **state)
{
	struct series_volume	 v;
	struct ribs_info	*ri;
	char			 err[256];
	double			*xy;
	size_t			 i, n;

	(void)state;
	memset(&v, 0, sizeof(v));
	v.nx = v.ny = 64;
	v.nz = 20;
	v.spacing[0] = v.spacing[1] = 1.0;
	v.spacing[2] = v.step[2] = 1.25;
	v.row[0] = v.col[1] = v.normal[2] = 1.0;
	n = (size_t)v.nx * v.ny * v.nz;
	assert_non_null(v.vox = malloc(n * sizeof(*v.vox)));
	for (i = 0; i < n; i++)
		v.vox[i] = 40.0f;
	assert_non_null(ri = calloc(1, sizeof(*ri)));
	assert_non_null(xy = malloc(2 * (size_t)v.nz * sizeof(*xy)));
	for (i = 0; i < 2 * (size_t)v.nz; i++)
		xy[i] = NAN;
	assert_int_equal(ribs_trace(&v, xy, NULL, NULL, ri, err,
	    sizeof(err)), 0);
	assert_int_equal(ri->n, 0);
	assert_string_equal(ri->why, "未见脊柱，无法识别肋骨");
	for (i = 0; i < (size_t)v.nz; i++) {
		xy[2 * i] = 32.0;
		xy[2 * i + 1] = 40.0;
	}
	assert_int_equal(ribs_trace(&v, xy, NULL, NULL, ri, err,
	    sizeof(err)), 0);
	assert_int_equal(ri->n, 0);
	assert_false(ri->numbered);
	assert_string_equal(ri->why, "脊柱旁未见肋骨");
	assert_int_equal(ribs_fractures(&v, ri, err, sizeof(err)), 0);
	assert_int_equal(ri->nf, 0);
	free(xy);
	free(ri);
	free(v.vox);
}

/* The places' names. */
static void
test_where(void **state)
{
	struct ribs_info	*ri;
	char			 b[64];

	(void)state;
	assert_non_null(ri = calloc(1, sizeof(*ri)));
	ri->n = 2;
	ri->r[0].side = RIB_LEFT;
	ri->r[0].number = 5;
	ri->r[1].side = RIB_RIGHT;
	ri->r[1].number = 0;
	ri->f[0].rib = 0;
	ri->f[0].segment = 1;
	ribs_where_zh(ri, &ri->f[0], b, sizeof(b));
	assert_string_equal(b, "左第5肋腋段");
	ri->f[0].rib = 1;
	ri->f[0].segment = 2;
	ribs_where_zh(ri, &ri->f[0], b, sizeof(b));
	assert_string_equal(b, "右侧肋骨（未能编号）前段");
	free(ri);
}

static void
test_phantom_1_25(void **state)
{
	(void)state;
	run(1.25, 1, 7);
}

static void
test_phantom_0_625(void **state)
{
	(void)state;
	run(0.625, 1, 8);
}

static void
test_phantom_2(void **state)
{
	(void)state;
	run(2.0, 1, 9);
}

static void
test_phantom_intact(void **state)
{
	(void)state;
	run(1.25, 0, 10);
}

/*
 * No fractures, the ribs steeply oblique over their posterior and
 * axillary stretch (RIBCAGE_OBLIQUE), at 1.25 and 2 mm with 15 HU of
 * noise: no candidate at all (a rib leaving the slice plane is no
 * buckle); numbering as ever.
 */
static void
test_phantom_oblique(void **state)
{
	(void)state;
	run_opt(1.25, 0, 12, RIBCAGE_OBLIQUE, 0);
	run_opt(2.0, 0, 13, RIBCAGE_OBLIQUE, 0);
}

/*
 * No fractures, a scapula over ribs 2-7 (touching some, 1 mm and more
 * off the others) and a clavicle 2 mm off the front of rib 1 on each
 * side (RIBCAGE_SHOULDER), at 1.25 and 2 mm: no more than two false
 * candidates per scan (before the stretches touching other bone were
 * left out, 5 and more; the breaks that remain lie on rib 5's axillary
 * stretch where the scapula's lateral edge crosses it, README: not yet);
 * where a rib is not separated from them it is not searched there, and
 * that is recorded: some stretch must be (the scapula touches ribs 5-7).
 */
static void
test_phantom_shoulder(void **state)
{
	(void)state;
	run_opt(1.25, 0, 14, RIBCAGE_SHOULDER, 2);
	run_opt(2.0, 0, 15, RIBCAGE_SHOULDER, 2);
	/* A bulge reached across a dip under the bone's edge is another
	 * bone beyond a thin gap (the scapula), not the rib's own cortex:
	 * this scan's 屈曲骨折 on rib 6 behind, beside the scapula, is gone
	 * with that rule. */
	run_opt(2.0, 0, 2, RIBCAGE_SHOULDER, 0);
	/* A bulge is judged with the opposite side of the rib in place,
	 * which must be the rib's own cortex: where the opposite rays'
	 * edges were reached across a dip (the scapula a mm off the rib)
	 * the line lies off the rib's middle unseen, and the bulge is its
	 * near side (issue 13: this scan's 屈曲骨折 on 右第6肋后段 and
	 * 左第6肋后段 are gone with that rule). */
	run_opt(1.25, 0, 1, RIBCAGE_SHOULDER, 0);
}

/*
 * Fractures under the scapula (RIBCAGE_SHOULDER, 1.25 mm): a cut on R3,
 * a displaced cut on L4, a buckle on R5 and a cut on L6, 0.18-0.25 of
 * the shaft from the tubercle, where the scapula lies on ribs 2-7 (as
 * ribeval -u).  Asserted: at least three of the four found within 10 mm
 * on the right rib (one, the L6 cut, may lie on a stretch touching the
 * scapula, not searched; before the line was followed along the rib
 * under the scapula, one of four was found), no more than two false
 * candidates, and every rib numbered right.
 */
static void
test_phantom_under_scapula(void **state)
{
	struct ribcage_spec	 sp;
	struct series_volume	*v = NULL;
	struct anatomy_cache	*ac;
	const struct anatomy	*an;
	struct ribs_info	*ri;
	char			 err[256], where[64];
	double			 m[3];
	int			*hit, found = 0, fp = 0;
	size_t			 i, j;

	(void)state;
	ribcage_under_scapula(&sp, 1.25, 15.0, 16);
	if (ribcage_build(&sp, &v, err, sizeof(err)) == -1)
		fail_msg("phantom: %s", err);
	assert_non_null(ac = anatomy_cache_new());
	assert_non_null(ri = calloc(1, sizeof(*ri)));
	if (anatomy_get(ac, cpu, v, 1, ANAT_VERTEBRAE, &an, err,
	    sizeof(err)) == -1)
		fail_msg("anatomy: %s", err);
	if (ribs_trace(v, an->spine_xy, an->body, &an->spine, ri, err,
	    sizeof(err)) == -1 || ribs_fractures(v, ri, err, sizeof(err)) ==
	    -1)
		fail_msg("ribs: %s", err);
	assert_int_equal(ri->n, 24);
	assert_true(ri->numbered);
	assert_non_null(hit = calloc(ri->nf + 1, sizeof(*hit)));
	for (i = 0; i < sp.nf; i++) {
		int	 best = -1;
		double	 bd = 10.0;

		for (j = 0; j < ri->nf; j++) {
			const struct rib *r = &ri->r[ri->f[j].rib];

			to_mm(v, ri->f[j].p, m);
			if (r->side == sp.f[i].side && r->number ==
			    sp.f[i].number && dist3(m, sp.f[i].p) <= bd) {
				bd = dist3(m, sp.f[i].p);
				best = (int)j;
			}
		}
		print_message("    %s %c%d t %.2f: %s\n",
		    ribcage_kind_names[sp.f[i].kind], sp.f[i].side == 1 ?
		    'R' : 'L', sp.f[i].number, sp.f[i].t, best >= 0 ?
		    "found" : unsearched(v, ri, &sp.f[i]) ? "not searched" :
		    "missed");
		if (best >= 0) {
			hit[best] = 1;
			found++;
		}
	}
	for (j = 0; j < ri->nf; j++)
		if (!hit[j]) {
			fp++;
			ribs_where_zh(ri, &ri->f[j], where, sizeof(where));
			print_message("    false %s %s\n", where,
			    rib_frac_zh[ri->f[j].type]);
		}
	print_message("  under the scapula: %d/%zu found, %d false\n", found,
	    sp.nf, fp);
	assert_true(found >= 3);
	assert_true(fp <= 2);
	free(hit);
	free(ri);
	anatomy_cache_free(ac);
	series_free(v);
}

/*
 * The reader on the shoulder phantom (no fractures, RIBCAGE_SHOULDER):
 * the stretches of ribs not separated from the scapula or the clavicle
 * are named in 影像表现 as not searched; on the standard phantom (no
 * shoulder) nothing is said so.
 */
static void
test_reader_shoulder(void **state)
{
	struct ribcage_spec	 sp;
	struct series_volume	*v = NULL;
	struct reader_ctx	 ctx;
	struct ai_result	 res;
	char			 err[256];
	int			 r;

	(void)state;
	ribcage_standard(&sp, 1.25, 15.0, 14);
	sp.options = RIBCAGE_SHOULDER;
	sp.nf = 0;
	if (ribcage_build(&sp, &v, err, sizeof(err)) == -1)
		fail_msg("phantom: %s", err);
	memset(&ctx, 0, sizeof(ctx));
	ctx.compute = cpu;
	ctx.series_id = 22;
	ai_result_init(&res);
	r = ribfrac_reader.run(&ctx, v, &res, err, sizeof(err));
	if (r != 0)
		fail_msg("run %d: %s", r, err);
	print_message("  findings: %s\n", res.findings);
	assert_non_null(strstr(res.findings, "未能分开，该段未作骨折检测"));
	assert_non_null(strstr(res.findings, "第5肋"));
	assert_non_null(strstr(res.method, "不作检测"));
	/* Breaks are not searched where their far side would lie in the
	 * costovertebral or costochondral junction (issue 13). */
	assert_non_null(strstr(res.method, "肋软骨连接处）不作骨折线检测"));
	ai_result_free(&res);
	series_free(v);
}

/*
 * LIDC-IDRI-0002 (no known fracture; T12 and L1 in view): the ribs
 * traced and numbered up from T12, checked by eye on ribeval's pictures
 * (ribs 4-12 on both sides in sequence; the highest, behind the
 * clavicles and scapulae, not separated reliably, so the count from the
 * top disagrees and the numbers are marked uncertain).  Asserted: 18
 * ribs or more, the last on each side numbered 12 with its head by T12,
 * numbers 5-12 on each side once each, the uncertainty said; the false
 * candidates are printed and held to two at most, and the times
 * (tests/bench/ribeval is the benchmark).
 */
static void
test_lidc(void **state)
{
	struct series_volume	*v = NULL;
	struct anatomy_cache	*ac;
	const struct anatomy	*an;
	struct ribs_info	*ri;
	char			 base[4096], dir[4096], err[256], w[64];
	double			 t0, t1;
	int			 side, num, cnt;
	size_t			 i;

	(void)state;
	(void)snprintf(base, sizeof(base), "%s/ct/LIDC-IDRI-0002",
	    realdata_dir());
	if (realdata_find_dcm_dir(base, dir, sizeof(dir)) == -1) {
		print_message("  %s not found: skipping the real-data test\n",
		    base);
		skip();
	}
	assert_int_equal(realdata_load(dir, &v, NULL, 0), 0);
	assert_non_null(ac = anatomy_cache_new());
	assert_non_null(ri = calloc(1, sizeof(*ri)));
	t0 = now_s();
	if (anatomy_get(ac, cpu, v, 2, ANAT_VERTEBRAE, &an, err,
	    sizeof(err)) == -1)
		fail_msg("anatomy: %s", err);
	t1 = now_s();
	if (ribs_trace(v, an->spine_xy, an->body, &an->spine, ri, err,
	    sizeof(err)) == -1 || ribs_fractures(v, ri, err, sizeof(err)) ==
	    -1)
		fail_msg("ribs: %s", err);
	print_message("  LIDC-IDRI-0002: anatomy %.2f s, ribs %.2f s; %zu "
	    "ribs, %s\n", t1 - t0, now_s() - t1, ri->n, ri->numbered ?
	    ri->how_zh : ri->why);
	assert_true(ri->n >= 18);
	assert_true(ri->numbered);
	assert_true(ri->uncertain);
	for (side = RIB_RIGHT; side <= RIB_LEFT; side++) {
		const struct rib *last = NULL;

		for (i = 0; i < ri->n; i++)
			if (ri->r[i].side == side)
				last = &ri->r[i];
		assert_non_null(last);
		assert_int_equal(last->number, 12);
		assert_true(last->body >= 0);
		assert_int_equal(an->spine.v[last->body].label, SPINE_T12);
		for (num = 5; num <= 12; num++) {
			cnt = 0;
			for (i = 0; i < ri->n; i++)
				cnt += ri->r[i].side == side &&
				    ri->r[i].number == num;
			assert_int_equal(cnt, 1);
		}
	}
	for (i = 0; i < ri->nf; i++) {
		ribs_where_zh(ri, &ri->f[i], w, sizeof(w));
		print_message("    false %s %s slice %d\n", w,
		    rib_frac_zh[ri->f[i].type], ri->f[i].key_slice);
	}
	print_message("  LIDC-IDRI-0002: %zu false positives per scan\n",
	    ri->nf);
	/* None displaced: a step of the bone's centroid with the cortex in
	 * place on both sides is not a displacement (issue 13: 右第6肋后段,
	 * a step of 2.3 mm, cortices offset by 0.5 mm). */
	for (i = 0; i < ri->nf; i++)
		assert_int_not_equal(ri->f[i].type, RIBF_DISPLACED);
	/* 7 before issue 13's line followed along the rib and breaks
	 * judged with the rib whole on both sides within the searched
	 * stretch; 1 after (not held out: the scan the causes were seen
	 * on). */
	assert_true(ri->nf <= 2);
	free(ri);
	anatomy_cache_free(ac);
	series_free(v);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_where),
		cmocka_unit_test(test_nothing),
		cmocka_unit_test(test_phantom_1_25),
		cmocka_unit_test(test_reader),
		cmocka_unit_test(test_phantom_intact),
		cmocka_unit_test(test_phantom_oblique),
		cmocka_unit_test(test_phantom_shoulder),
		cmocka_unit_test(test_phantom_under_scapula),
		cmocka_unit_test(test_reader_shoulder),
		cmocka_unit_test(test_phantom_no_top),
		cmocka_unit_test(test_phantom_cut_cage),
		cmocka_unit_test(test_phantom_2),
		cmocka_unit_test(test_phantom_0_625),
		cmocka_unit_test(test_lidc),
	};

	if (getenv("ZY_TEST_FILTER") != NULL)
		cmocka_set_test_filter(getenv("ZY_TEST_FILTER"));
	return cmocka_run_group_tests(tests, setup, teardown);
}
