/*
 * test_dcmwrite.c - the DICOM CT series writer.
 *
 * Volumes made here by hand are written with dcmwrite_series() and read
 * back with the series loader and dcm_read_info(): geometry, every voxel
 * and the header attributes must come back as given.  The files are also
 * walked byte by byte to check the Part 10 structure the writer promises
 * (preamble, File Meta group length, ascending tags, even lengths).
 */
#include "config.h"

#include <sys/stat.h>
#include <sys/types.h>

#include <dirent.h>
#include <ftw.h>

#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "dcmwrite.h"
#include "dicom.h"
#include "series.h"

#define NAME_ZH		"张三^测试=ZHANG^SAN"

static char	 tmpdir[256];

/* A hand-made CT volume; free with series_free(). */
static struct series_volume *
vol_new(int nx, int ny, int nz)
{
	struct series_volume	*v;

	v = calloc(1, sizeof(*v));
	assert_non_null(v);
	v->vox = calloc((size_t)nx * ny * nz, sizeof(float));
	assert_non_null(v->vox);
	v->nx = nx;
	v->ny = ny;
	v->nz = nz;
	v->kvp = v->slice_thickness = v->gantry_tilt = NAN;
	v->window_center = v->window_width = NAN;
	(void)snprintf(v->modality, sizeof(v->modality), "CT");
	return v;
}

/* Integer values from -1200 to 1799. */
static float
tval(int x, int y, int z)
{
	return (float)((x * 137 + y * 71 + z * 401) % 3000 - 1200);
}

static void
vol_axial(struct series_volume *v)
{
	int	 x, y, z;

	v->spacing[0] = 0.7;
	v->spacing[1] = 0.7;
	v->spacing[2] = 1.25;
	v->origin[0] = -120.5;
	v->origin[1] = -80.25;
	v->origin[2] = 33.75;
	v->row[0] = v->col[1] = v->normal[2] = 1;
	v->step[2] = 1.25;
	for (z = 0; z < v->nz; z++)
		for (y = 0; y < v->ny; y++)
			for (x = 0; x < v->nx; x++)
				v->vox[((size_t)z * v->ny + y) * v->nx + x] =
				    tval(x, y, z);
	v->vox[0] = -1024;
	v->vox[1] = 3071;
	v->vox[2] = -3000;
	v->vox[3] = 32767;
	v->vox[4] = -32768;
}

static int
name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The paths of the files in dir, sorted; asserts none is a leftover
 * temporary (a dot file). */
static char **
dir_list(const char *dir, size_t *n)
{
	DIR		*d;
	struct dirent	*e;
	char		**p = NULL, path[512];

	*n = 0;
	d = opendir(dir);
	assert_non_null(d);
	while ((e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		assert_true(e->d_name[0] != '.');
		p = realloc(p, (*n + 1) * sizeof(*p));
		assert_non_null(p);
		(void)snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		p[*n] = strdup(path);
		assert_non_null(p[*n]);
		(*n)++;
	}
	(void)closedir(d);
	if (*n > 0)
		qsort(p, *n, sizeof(*p), name_cmp);
	return p;
}

static void
list_free(char **p, size_t n)
{
	size_t	 i;

	for (i = 0; i < n; i++)
		free(p[i]);
	free(p);
}

static void
subdir(char *out, size_t size, const char *name)
{
	(void)snprintf(out, size, "%s/%s", tmpdir, name);
}

static unsigned char *
slurp(const char *path, size_t *len)
{
	FILE		*f;
	unsigned char	*b;
	long		 n;

	f = fopen(path, "rb");
	assert_non_null(f);
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	n = ftell(f);
	assert_true(n > 0);
	rewind(f);
	b = malloc((size_t)n);
	assert_non_null(b);
	assert_int_equal(fread(b, 1, (size_t)n, f), (size_t)n);
	(void)fclose(f);
	*len = (size_t)n;
	return b;
}

static unsigned
le16(const unsigned char *p)
{
	return p[0] | p[1] << 8;
}

static uint32_t
le32(const unsigned char *p)
{
	return p[0] | p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/*
 * Walk a written file: preamble, DICM, the meta group whose length is
 * (0002,0000), then the dataset to the end: ascending tags, even
 * lengths, no element past the end, UI values padded with NUL.
 */
static void
check_structure(const char *path)
{
	unsigned char	*b;
	size_t		 len, off, end, vlen;
	uint32_t	 tag, last = 0;
	unsigned	 g, e;
	char		 vr[3] = "";
	int		 nlong;

	b = slurp(path, &len);
	assert_true(len > 132 + 12);
	assert_memory_equal(b + 128, "DICM", 4);
	assert_int_equal(le16(b + 132), 2);
	assert_int_equal(le16(b + 134), 0);
	assert_memory_equal(b + 136, "UL", 2);
	assert_int_equal(le16(b + 138), 4);
	end = 144 + le32(b + 140);
	assert_true(end < len);
	for (off = 132; off < len; off += vlen) {
		assert_true(off + 8 <= len);
		g = le16(b + off);
		e = le16(b + off + 2);
		tag = (uint32_t)g << 16 | e;
		if (off > 132)
			assert_true(tag > last);
		last = tag;
		memcpy(vr, b + off + 4, 2);
		/* The meta group ends where its length says. */
		assert_int_equal(g == 2, off < end);
		nlong = strstr("OB OD OF OL OV OW SQ SV UC UN UR UT UV",
		    vr) != NULL;
		if (nlong) {
			assert_int_equal(le16(b + off + 6), 0);
			vlen = le32(b + off + 8);
			off += 12;
		} else {
			vlen = le16(b + off + 6);
			off += 8;
		}
		assert_int_equal(vlen % 2, 0);
		assert_true(off + vlen <= len);
		if (strcmp(vr, "UI") == 0 && vlen > 0)
			assert_true(b[off + vlen - 1] != ' ');
	}
	assert_int_equal(off, len);
	free(b);
}

static void
test_roundtrip(void **state)
{
	struct series_volume	*v, *r = NULL;
	struct dcmwrite_opts	 o;
	char			 dir[512], err[256], **paths;
	size_t			 n, i;
	int			 k;

	(void)state;
	v = vol_new(32, 24, 5);
	vol_axial(v);
	memset(&o, 0, sizeof(o));
	o.kvp = 100;
	o.slice_thickness = 1.5;
	subdir(dir, sizeof(dir), "axial");
	if (dcmwrite_series(v, &o, dir, err, sizeof(err)) == -1)
		fail_msg("dcmwrite_series: %s", err);

	paths = dir_list(dir, &n);
	assert_int_equal(n, 5);
	for (i = 0; i < n; i++) {
		char	 want[32];

		(void)snprintf(want, sizeof(want), "/IM%06zu.dcm", i + 1);
		assert_non_null(strstr(paths[i], want));
		check_structure(paths[i]);
	}
	if (series_load((const char *const *)paths, n, NULL, &r, err,
	    sizeof(err)) == -1)
		fail_msg("series_load: %s", err);
	for (i = 0; i < r->nwarn; i++)
		printf("  warning: %s\n", r->warn[i].en);
	assert_int_equal(r->nwarn, 0);
	assert_int_equal(r->nx, 32);
	assert_int_equal(r->ny, 24);
	assert_int_equal(r->nz, 5);
	assert_string_equal(r->modality, "CT");
	assert_string_equal(r->photometric, "MONOCHROME2");
	assert_int_equal(r->order, SERIES_ORDER_POSITION);
	for (k = 0; k < 3; k++) {
		assert_true(fabs(r->spacing[k] - v->spacing[k]) < 1e-6);
		assert_true(fabs(r->origin[k] - v->origin[k]) < 1e-6);
		assert_true(fabs(r->row[k] - v->row[k]) < 1e-6);
		assert_true(fabs(r->col[k] - v->col[k]) < 1e-6);
		assert_true(fabs(r->normal[k] - v->normal[k]) < 1e-6);
		assert_true(fabs(r->step[k] - v->step[k]) < 1e-6);
	}
	assert_true(fabs(r->kvp - 100) < 1e-9);
	assert_true(fabs(r->slice_thickness - 1.5) < 1e-9);
	assert_true(fabs(r->window_center - 40) < 1e-9);
	assert_true(fabs(r->window_width - 400) < 1e-9);
	for (k = 0; k < r->nz; k++)
		assert_int_equal(r->slices[k].instance_number, k + 1);
	for (i = 0; i < (size_t)v->nx * v->ny * v->nz; i++)
		if (r->vox[i] != v->vox[i])
			fail_msg("voxel %zu: wrote %g, read %g", i,
			    (double)v->vox[i], (double)r->vox[i]);
	series_free(r);

	/* A load whose job was cancelled stops and says so. */
	{
		struct series_opts	 so;
		volatile int		 cancel = 1;

		memset(&so, 0, sizeof(so));
		so.cancel = &cancel;
		r = v;
		assert_int_equal(series_load((const char *const *)paths, n,
		    &so, &r, err, sizeof(err)), -1);
		assert_null(r);
		assert_string_equal(err, "cancelled");
		cancel = 0;
		assert_int_equal(series_load((const char *const *)paths, n,
		    &so, &r, err, sizeof(err)), 0);
		assert_int_equal(r->nz, 5);
		series_free(r);
	}
	list_free(paths, n);
	series_free(v);
}

/* Header attributes through dcm_read_info(), a Chinese name included. */
static void
test_info(void **state)
{
	static const char	 study[] = "1.2.826.0.1.3680043.2.1125.7.1";
	struct series_volume	*v;
	struct dcmwrite_opts	 o;
	struct dcm_info		 a, b;
	char			 dir[512], err[256], **paths;
	size_t			 n;

	(void)state;
	v = vol_new(16, 8, 3);
	vol_axial(v);
	v->kvp = 80;			/* used: not given in opts */
	v->window_center = -600;
	v->window_width = 1500;
	memset(&o, 0, sizeof(o));
	o.patient_name = NAME_ZH;
	o.patient_id = "P0042";
	o.patient_sex = "F";
	o.patient_birth_date = "19600229";
	o.accession = "ACC-7";
	o.study_date = "20260314";
	o.study_time = "093015";
	o.study_description = "胸部CT平扫";
	o.series_description = "Phantom 1.25 mm";
	o.body_part = "CHEST";
	o.kernel = "BONE";
	o.study_uid = study;
	o.series_number = 7;
	subdir(dir, sizeof(dir), "info");
	if (dcmwrite_series(v, &o, dir, err, sizeof(err)) == -1)
		fail_msg("dcmwrite_series: %s", err);
	paths = dir_list(dir, &n);
	assert_int_equal(n, 3);
	if (dcm_read_info(paths[0], NULL, &a, err, sizeof(err)) == -1 ||
	    dcm_read_info(paths[2], NULL, &b, err, sizeof(err)) == -1)
		fail_msg("dcm_read_info: %s", err);

	assert_string_equal(a.sop_class_uid, DCMWRITE_CT_CLASS);
	assert_string_equal(a.transfer_syntax, DCMWRITE_EXPLICIT_LE);
	assert_string_equal(a.charset, "ISO_IR 192");
	assert_string_equal(a.patient_name, NAME_ZH);
	assert_string_equal(a.patient_id, "P0042");
	assert_string_equal(a.patient_sex, "F");
	assert_string_equal(a.patient_birth_date, "19600229");
	assert_string_equal(a.accession, "ACC-7");
	assert_string_equal(a.study_date, "20260314");
	assert_string_equal(a.study_time, "093015");
	assert_string_equal(a.study_description, "胸部CT平扫");
	assert_string_equal(a.series_description, "Phantom 1.25 mm");
	assert_string_equal(a.modality, "CT");
	assert_string_equal(a.body_part, "CHEST");
	assert_string_equal(a.kernel, "BONE");
	assert_string_equal(a.manufacturer, "zhiying phantom");
	assert_string_equal(a.contrast_agent, "");
	assert_string_equal(a.photometric, "MONOCHROME2");
	assert_string_equal(a.study_uid, study);
	assert_true(dcmwrite_uid_valid(a.series_uid));
	assert_true(dcmwrite_uid_valid(a.sop_instance_uid));
	assert_true(dcmwrite_uid_valid(a.frame_of_reference_uid));
	assert_string_equal(a.study_uid, b.study_uid);
	assert_string_equal(a.series_uid, b.series_uid);
	assert_string_equal(a.frame_of_reference_uid,
	    b.frame_of_reference_uid);
	assert_string_not_equal(a.sop_instance_uid, b.sop_instance_uid);
	assert_string_not_equal(a.series_uid, a.study_uid);
	assert_int_equal(a.series_number, 7);
	assert_int_equal(a.instance_number, 1);
	assert_int_equal(b.instance_number, 3);
	assert_int_equal(a.rows, 8);
	assert_int_equal(a.cols, 16);
	assert_int_equal(a.frames, 1);
	assert_int_equal(a.samples_per_pixel, 1);
	assert_int_equal(a.bits_allocated, 16);
	assert_int_equal(a.bits_stored, 16);
	assert_int_equal(a.high_bit, 15);
	assert_int_equal(a.pixel_representation, 1);
	assert_int_equal(a.has_pixels, 1);
	assert_int_equal(a.compressed, 0);
	assert_true(fabs(a.rescale_slope - 1) < 1e-12);
	assert_true(fabs(a.rescale_intercept) < 1e-12);
	assert_true(fabs(a.kvp - 80) < 1e-9);
	assert_true(fabs(a.slice_thickness - 1.25) < 1e-9);
	assert_true(fabs(a.spacing_between_slices - 1.25) < 1e-9);
	assert_true(fabs(a.window_center + 600) < 1e-9);
	assert_true(fabs(a.window_width - 1500) < 1e-9);
	assert_int_equal(a.pixel_spacing_source, DCM_SPACING_PIXEL);
	assert_true(fabs(a.pixel_spacing[0] - 0.7) < 1e-9);
	assert_true(fabs(a.pixel_spacing[1] - 0.7) < 1e-9);
	assert_int_equal(a.has_ipp, 1);
	assert_int_equal(a.has_iop, 1);
	assert_true(fabs(b.ipp[2] - (33.75 + 2 * 1.25)) < 1e-9);
	assert_true(fabs(b.slice_location - (33.75 + 2 * 1.25)) < 1e-9);
	list_free(paths, n);
	series_free(v);
}

/*
 * A film: a one-slice volume of modality DX is written as one Digital
 * X-Ray Image Storage file with its view position, no CT attributes (no
 * kernel, no Hounsfield units); a DX volume of more than one slice is
 * refused.
 */
static void
test_film(void **state)
{
	struct series_volume	*v;
	struct dcmwrite_opts	 o;
	struct dcm_info		 a;
	char			 dir[512], err[256], **paths;
	size_t			 n;

	(void)state;
	v = vol_new(12, 10, 1);
	vol_axial(v);
	v->col[1] = 0;
	v->col[2] = -1;
	v->normal[2] = 0;
	v->normal[1] = 1;
	(void)snprintf(v->modality, sizeof(v->modality), "DX");
	memset(&o, 0, sizeof(o));
	o.patient_name = NAME_ZH;
	o.body_part = "CHEST";
	o.view_position = "PA";
	subdir(dir, sizeof(dir), "film");
	if (dcmwrite_series(v, &o, dir, err, sizeof(err)) == -1)
		fail_msg("dcmwrite_series: %s", err);
	paths = dir_list(dir, &n);
	assert_int_equal(n, 1);
	if (dcm_read_info(paths[0], NULL, &a, err, sizeof(err)) == -1)
		fail_msg("dcm_read_info: %s", err);
	assert_string_equal(a.sop_class_uid, DCMWRITE_DX_CLASS);
	assert_string_equal(a.modality, "DX");
	assert_string_equal(a.view_position, "PA");
	assert_string_equal(a.body_part, "CHEST");
	assert_string_equal(a.kernel, "");
	assert_string_equal(a.patient_name, NAME_ZH);
	assert_int_equal(a.rows, 10);
	assert_int_equal(a.cols, 12);
	list_free(paths, n);
	series_free(v);

	v = vol_new(4, 4, 2);
	vol_axial(v);
	(void)snprintf(v->modality, sizeof(v->modality), "DX");
	subdir(dir, sizeof(dir), "film2");
	assert_int_equal(dcmwrite_series(v, NULL, dir, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "one frame"));
	series_free(v);
}

/*
 * A coronal stack with unequal pixel spacing (dx 0.6, dy 0.8): Pixel
 * Spacing must come out as dy\dx, the slices along +y.  Values that are
 * not integers are rounded, out of range ones clamped, NaN is air.
 */
static void
test_coronal_rounding(void **state)
{
	struct series_volume	*v, *r = NULL;
	struct dcm_info		 a;
	char			 dir[512], err[256], **paths;
	size_t			 n, i;
	int			 k;

	(void)state;
	v = vol_new(10, 6, 4);
	v->spacing[0] = 0.6;
	v->spacing[1] = 0.8;
	v->spacing[2] = 2;
	v->origin[0] = 10;
	v->origin[1] = -5;
	v->origin[2] = 200;
	v->row[0] = 1;
	v->col[2] = -1;
	v->normal[1] = 1;		/* row x col = (0, 1, 0) */
	v->step[1] = 2;
	for (i = 0; i < (size_t)v->nx * v->ny * v->nz; i++)
		v->vox[i] = (float)((int)(i % 200) - 100);
	v->vox[0] = 0.4f;
	v->vox[1] = 0.6f;
	v->vox[2] = -0.6f;
	v->vox[3] = 40000.0f;
	v->vox[4] = -40000.0f;
	v->vox[5] = NAN;
	v->vox[6] = 1234.49f;
	subdir(dir, sizeof(dir), "coronal");
	if (dcmwrite_series(v, NULL, dir, err, sizeof(err)) == -1)
		fail_msg("dcmwrite_series: %s", err);
	paths = dir_list(dir, &n);
	assert_int_equal(n, 4);
	if (dcm_read_info(paths[0], NULL, &a, err, sizeof(err)) == -1)
		fail_msg("dcm_read_info: %s", err);
	assert_true(fabs(a.pixel_spacing[0] - 0.8) < 1e-9);
	assert_true(fabs(a.pixel_spacing[1] - 0.6) < 1e-9);
	assert_true(fabs(a.kvp - 120) < 1e-9);		/* the default */
	assert_true(fabs(a.slice_thickness - 2) < 1e-9);
	assert_string_equal(a.body_part, "CHEST");
	assert_string_equal(a.kernel, "STANDARD");
	assert_string_equal(a.patient_name, "PHANTOM^ZHIYING");
	if (series_load((const char *const *)paths, n, NULL, &r, err,
	    sizeof(err)) == -1)
		fail_msg("series_load: %s", err);
	assert_int_equal(r->nwarn, 0);
	for (k = 0; k < 3; k++) {
		assert_true(fabs(r->spacing[k] - v->spacing[k]) < 1e-6);
		assert_true(fabs(r->origin[k] - v->origin[k]) < 1e-6);
		assert_true(fabs(r->col[k] - v->col[k]) < 1e-6);
		assert_true(fabs(r->normal[k] - v->normal[k]) < 1e-6);
	}
	assert_true(r->vox[0] == 0);
	assert_true(r->vox[1] == 1);
	assert_true(r->vox[2] == -1);
	assert_true(r->vox[3] == 32767);
	assert_true(r->vox[4] == -32768);
	assert_true(r->vox[5] == -1024);
	assert_true(r->vox[6] == 1234);
	for (i = 7; i < (size_t)v->nx * v->ny * v->nz; i++)
		assert_true(r->vox[i] == v->vox[i]);
	series_free(r);
	list_free(paths, n);
	series_free(v);
}

static void
test_uid(void **state)
{
	char	 u[DCMWRITE_UID_MAX + 1], prev[DCMWRITE_UID_MAX + 1] = "";
	char	 big[80];
	int	 i;

	(void)state;
	for (i = 0; i < 200; i++) {
		assert_int_equal(dcmwrite_uid(u, sizeof(u)), 0);
		assert_true(strncmp(u, "2.25.", 5) == 0);
		assert_true(strlen(u) <= DCMWRITE_UID_MAX);
		assert_true(dcmwrite_uid_valid(u));
		assert_string_not_equal(u, prev);
		memcpy(prev, u, sizeof(u));
	}
	assert_int_equal(dcmwrite_uid(u, 20), -1);
	assert_true(dcmwrite_uid_valid("1.2.840.10008.1.2.1"));
	assert_true(dcmwrite_uid_valid("0.1.0"));
	assert_false(dcmwrite_uid_valid(""));
	assert_false(dcmwrite_uid_valid("1.02.3"));
	assert_false(dcmwrite_uid_valid("1..2"));
	assert_false(dcmwrite_uid_valid("1.2."));
	assert_false(dcmwrite_uid_valid(".1.2"));
	assert_false(dcmwrite_uid_valid("1.2a"));
	assert_false(dcmwrite_uid_valid("1.2 "));
	memset(big, '1', 65);
	big[65] = '\0';
	assert_false(dcmwrite_uid_valid(big));
	big[64] = '\0';
	assert_true(dcmwrite_uid_valid(big));
}

/* Refusals leave no file behind and say why. */
static void
test_refusals(void **state)
{
	struct series_volume	*v;
	struct dcmwrite_opts	 o;
	char			 dir[512], err[256], **paths;
	size_t			 n;
	int			 i;
	const struct {
		const char	*what;
		const char	*name, *sex, *uid, *body, *date;
	} bad[] = {
		{ "control character", "A\nB", NULL, NULL, NULL, NULL },
		{ "invalid UTF-8", "\xe5\xbc", NULL, NULL, NULL, NULL },
		{ "backslash", "A\\B", NULL, NULL, NULL, NULL },
		{ "sex", NULL, "X", NULL, NULL, NULL },
		{ "uid", NULL, NULL, "1.2.03", NULL, NULL },
		{ "body part", NULL, NULL, NULL, "chest", NULL },
		{ "date", NULL, NULL, NULL, NULL, "2026-03-14" },
	};

	(void)state;
	v = vol_new(8, 8, 2);
	vol_axial(v);
	subdir(dir, sizeof(dir), "refused");
	for (i = 0; i < (int)(sizeof(bad) / sizeof(bad[0])); i++) {
		memset(&o, 0, sizeof(o));
		o.patient_name = bad[i].name;
		o.patient_sex = bad[i].sex;
		o.study_uid = bad[i].uid;
		o.body_part = bad[i].body;
		o.study_date = bad[i].date;
		err[0] = '\0';
		if (dcmwrite_series(v, &o, dir, err, sizeof(err)) != -1)
			fail_msg("%s: accepted", bad[i].what);
		assert_true(err[0] != '\0');
	}
	assert_int_equal(access(dir, F_OK), -1);

	(void)snprintf(v->modality, sizeof(v->modality), "MR");
	assert_int_equal(dcmwrite_series(v, NULL, dir, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "MR"));
	(void)snprintf(v->modality, sizeof(v->modality), "CT");
	v->spacing[0] = 0;
	assert_int_equal(dcmwrite_series(v, NULL, dir, err, sizeof(err)), -1);
	v->spacing[0] = 0.7;
	assert_int_equal(dcmwrite_series(NULL, NULL, dir, err, sizeof(err)),
	    -1);
	assert_int_equal(dcmwrite_series(v, NULL, dir, NULL, 0), 0);

	/* A folder whose parent is missing. */
	subdir(dir, sizeof(dir), "no/such/place");
	assert_int_equal(dcmwrite_series(v, NULL, dir, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "no/such/place"));

	/* A read-only folder (unless root, who may write anyway). */
	if (geteuid() != 0) {
		subdir(dir, sizeof(dir), "readonly");
		assert_int_equal(mkdir(dir, 0555), 0);
		assert_int_equal(dcmwrite_series(v, NULL, dir, err,
		    sizeof(err)), -1);
		paths = dir_list(dir, &n);
		assert_int_equal(n, 0);
		list_free(paths, n);
		(void)chmod(dir, 0755);
	}
	series_free(v);
}

static int
setup(void **state)
{
	(void)state;
	(void)snprintf(tmpdir, sizeof(tmpdir), "/tmp/zy-dcmwrite-XXXXXX");
	if (mkdtemp(tmpdir) == NULL)
		return -1;
	return 0;
}

static int
rm_entry(const char *path, const struct stat *st, int type, struct FTW *f)
{
	(void)st;
	(void)type;
	(void)f;
	return remove(path);
}

static int
teardown(void **state)
{
	(void)state;
	if (tmpdir[0] != '\0')
		(void)nftw(tmpdir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	return 0;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roundtrip),
		cmocka_unit_test(test_info),
		cmocka_unit_test(test_coronal_rounding),
		cmocka_unit_test(test_film),
		cmocka_unit_test(test_uid),
		cmocka_unit_test(test_refusals),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
