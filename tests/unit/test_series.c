/*
 * test_series.c - the series loader and the PNG previews.
 *
 * Synthetic series are written here as small explicit VR little endian
 * DICOM files with chosen positions, orientations and pixels, so that
 * sorting, spacing, warnings and voxel values can be checked exactly.
 * The real-data tests read $ZY_DATA or ../shared/data and skip when it
 * is absent.
 */
#include "config.h"

#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/types.h>

#include <ftw.h>

#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "buf.h"
#include "preview.h"
#include "series.h"

#define CT_CLASS	"1.2.840.10008.5.1.4.1.1.2"
#define CR_CLASS	"1.2.840.10008.5.1.4.1.1.1"
#define EXPLICIT_LE	"1.2.840.10008.1.2.1"
#define TEST_PI		3.14159265358979323846

/* One synthetic image.  NAN doubles and NULL strings are left out. */
struct tdcm {
	const char	*sop, *sop_class, *modality, *photometric;
	int		 rows, cols, frames, inst;
	int		 has_ipp, has_iop;
	double		 ipp[3], iop[6], ps[2];
	double		 thickness, sbs, tilt, slope, intercept, wc, ww;
	int		 has_pad;
	int		 pad;
	int		 bits_stored, high_bit, pixrep;	/* 0: 16, 15, 1 */
	const int16_t	*pix;		/* rows * cols * frames */
};

static char	 tmpdir[256];

static void
tdcm_default(struct tdcm *t)
{
	static const double	 axial[6] = { 1, 0, 0, 0, 1, 0 };

	memset(t, 0, sizeof(*t));
	t->sop_class = CT_CLASS;
	t->modality = "CT";
	t->photometric = "MONOCHROME2";
	t->rows = 3;
	t->cols = 4;
	t->frames = 1;
	t->has_ipp = t->has_iop = 1;
	memcpy(t->iop, axial, sizeof(axial));
	t->ps[0] = 0.6;		/* between rows: dy */
	t->ps[1] = 0.7;		/* between columns: dx */
	t->thickness = t->sbs = t->tilt = t->wc = t->ww = NAN;
	t->slope = 1;
	t->intercept = -1024;
}

static void
put16(struct buf *b, unsigned v)
{
	unsigned char	 p[2] = { v & 0xff, (v >> 8) & 0xff };

	assert_int_equal(buf_append(b, p, 2), 0);
}

static void
put32(struct buf *b, uint32_t v)
{
	put16(b, v & 0xffff);
	put16(b, v >> 16);
}

/* One explicit VR little endian element; value padded to even length. */
static void
elem(struct buf *b, unsigned g, unsigned e, const char *vr, const void *val,
    size_t len)
{
	int	 longform = strcmp(vr, "OB") == 0 || strcmp(vr, "OW") == 0;
	size_t	 plen = len + (len & 1);

	put16(b, g);
	put16(b, e);
	assert_int_equal(buf_append(b, vr, 2), 0);
	if (longform) {
		put16(b, 0);
		put32(b, (uint32_t)plen);
	} else
		put16(b, (unsigned)plen);
	if (len > 0)
		assert_int_equal(buf_append(b, val, len), 0);
	if (len & 1)
		assert_int_equal(buf_append(b, strcmp(vr, "UI") == 0 ||
		    strcmp(vr, "OB") == 0 ? "\0" : " ", 1), 0);
}

static void
elem_str(struct buf *b, unsigned g, unsigned e, const char *vr,
    const char *s)
{
	if (s != NULL)
		elem(b, g, e, vr, s, strlen(s));
}

static void
elem_us(struct buf *b, unsigned g, unsigned e, unsigned v)
{
	unsigned char	 p[2] = { v & 0xff, (v >> 8) & 0xff };

	elem(b, g, e, "US", p, 2);
}

/* A DS of n values; nothing when the first is NAN. */
static void
elem_ds(struct buf *b, unsigned g, unsigned e, const double *v, int n)
{
	char	 s[256];
	size_t	 len = 0;
	int	 i;

	if (isnan(v[0]))
		return;
	for (i = 0; i < n; i++)
		len += (size_t)snprintf(s + len, sizeof(s) - len, "%s%.8g",
		    i ? "\\" : "", v[i]);
	elem(b, g, e, "DS", s, len);
}

static void
tdcm_write(const char *path, const struct tdcm *t)
{
	struct buf	 meta, ds;
	FILE		*fp;
	char		 num[32];
	unsigned char	 pre[128], ver[2] = { 0, 1 }, pad[2];
	size_t		 npix;

	buf_init(&meta, 0);
	buf_init(&ds, 0);
	elem(&meta, 0x0002, 0x0001, "OB", ver, 2);
	elem_str(&meta, 0x0002, 0x0002, "UI", t->sop_class);
	elem_str(&meta, 0x0002, 0x0003, "UI", t->sop);
	elem_str(&meta, 0x0002, 0x0010, "UI", EXPLICIT_LE);

	elem_str(&ds, 0x0008, 0x0016, "UI", t->sop_class);
	elem_str(&ds, 0x0008, 0x0018, "UI", t->sop);
	elem_str(&ds, 0x0008, 0x0060, "CS", t->modality);
	elem_ds(&ds, 0x0018, 0x0050, &t->thickness, 1);
	elem_ds(&ds, 0x0018, 0x0088, &t->sbs, 1);
	elem_ds(&ds, 0x0018, 0x1120, &t->tilt, 1);
	elem_str(&ds, 0x0020, 0x000d, "UI", "1.2.826.0.1.3680043.9.1");
	elem_str(&ds, 0x0020, 0x000e, "UI", "1.2.826.0.1.3680043.9.1.1");
	(void)snprintf(num, sizeof(num), "%d", t->inst);
	if (t->inst != 0)
		elem_str(&ds, 0x0020, 0x0013, "IS", num);
	if (t->has_ipp)
		elem_ds(&ds, 0x0020, 0x0032, t->ipp, 3);
	if (t->has_iop)
		elem_ds(&ds, 0x0020, 0x0037, t->iop, 6);
	elem_str(&ds, 0x0020, 0x0052, "UI", "1.2.826.0.1.3680043.9.1.2");
	elem_us(&ds, 0x0028, 0x0002, 1);
	elem_str(&ds, 0x0028, 0x0004, "CS", t->photometric);
	(void)snprintf(num, sizeof(num), "%d", t->frames);
	if (t->frames > 1)
		elem_str(&ds, 0x0028, 0x0008, "IS", num);
	elem_us(&ds, 0x0028, 0x0010, (unsigned)t->rows);
	elem_us(&ds, 0x0028, 0x0011, (unsigned)t->cols);
	elem_ds(&ds, 0x0028, 0x0030, t->ps, 2);
	elem_us(&ds, 0x0028, 0x0100, 16);
	elem_us(&ds, 0x0028, 0x0101, t->bits_stored ? (unsigned)t->bits_stored :
	    16);
	elem_us(&ds, 0x0028, 0x0102, t->bits_stored ? (unsigned)t->high_bit :
	    15);
	elem_us(&ds, 0x0028, 0x0103, t->bits_stored ? (unsigned)t->pixrep : 1);
	if (t->has_pad) {
		pad[0] = (unsigned)t->pad & 0xff;
		pad[1] = ((unsigned)t->pad >> 8) & 0xff;
		elem(&ds, 0x0028, 0x0120, "SS", pad, 2);
	}
	elem_ds(&ds, 0x0028, 0x1050, &t->wc, 1);
	elem_ds(&ds, 0x0028, 0x1051, &t->ww, 1);
	elem_ds(&ds, 0x0028, 0x1052, &t->intercept, 1);
	elem_ds(&ds, 0x0028, 0x1053, &t->slope, 1);
	npix = (size_t)t->rows * t->cols * t->frames;
	elem(&ds, 0x7fe0, 0x0010, "OW", t->pix, npix * 2);

	assert_non_null(fp = fopen(path, "wb"));
	memset(pre, 0, sizeof(pre));
	fwrite(pre, 1, sizeof(pre), fp);
	fwrite("DICM", 1, 4, fp);
	/* (0002,0000) UL: the length of the rest of the meta group. */
	fwrite("\x02\x00\x00\x00UL\x04\x00", 1, 8, fp);
	pad[0] = meta.len & 0xff;
	pad[1] = (meta.len >> 8) & 0xff;
	fwrite(pad, 1, 2, fp);
	fwrite("\0\0", 1, 2, fp);
	fwrite(meta.data, 1, meta.len, fp);
	fwrite(ds.data, 1, ds.len, fp);
	assert_int_equal(fclose(fp), 0);
	buf_free(&meta);
	buf_free(&ds);
}

/* Path of synthetic file name in the scratch folder (static storage). */
static const char *
tpath(char (*store)[512], int i, const char *name)
{
	(void)snprintf(store[i], sizeof(store[i]), "%s/%s", tmpdir, name);
	return store[i];
}

/* Raw stored value of voxel (x, y) of slice k in the synthetic series. */
static int16_t
tval(int k, int x, int y)
{
	return (int16_t)(1000 + k * 100 + y * 10 + x);
}

static void
tfill(int16_t *pix, int k, int rows, int cols)
{
	int	 x, y;

	for (y = 0; y < rows; y++)
		for (x = 0; x < cols; x++)
			pix[y * cols + x] = tval(k, x, y);
}

static int
warn_count(const struct series_volume *v, enum series_warn code)
{
	size_t	 i;
	int	 n = 0;

	for (i = 0; i < v->nwarn; i++)
		n += v->warn[i].code == code;
	return n;
}

static void
print_warnings(const struct series_volume *v)
{
	size_t	 i;

	for (i = 0; i < v->nwarn; i++)
		printf("  [%s] %s | %s\n", series_warn_name(v->warn[i].code),
		    v->warn[i].en, v->warn[i].zh);
}

/*
 * Shuffled files whose slice normal points to -z: slice 0 must be the
 * one with the highest z, whatever the file order and Slice Location.
 */
static void
test_sorted(void **state)
{
	static const int	 order[6] = { 3, 0, 5, 1, 4, 2 };
	char			 store[6][512], name[32], sop[64], err[256];
	const char		*paths[6];
	struct series_volume	*v;
	struct tdcm		 t;
	int16_t			 pix[12];
	int			 i, k, x, y;

	(void)state;
	for (i = 0; i < 6; i++) {
		k = order[i];	/* k: place along the normal */
		tdcm_default(&t);
		t.iop[4] = -1;	/* col = -y: normal = -z */
		t.ipp[0] = -10;
		t.ipp[1] = 20;
		t.ipp[2] = 50 - 2.5 * k;
		t.inst = k + 1;
		(void)snprintf(sop, sizeof(sop), "1.2.826.0.1.3680043.9.1.3.%d",
		    k);
		t.sop = sop;
		tfill(pix, k, 3, 4);
		t.pix = pix;
		(void)snprintf(name, sizeof(name), "sorted%d.dcm", i);
		paths[i] = tpath(store, i, name);
		tdcm_write(paths[i], &t);
	}
	assert_int_equal(series_load(paths, 6, NULL, &v, err, sizeof(err)),
	    0);
	print_warnings(v);
	assert_int_equal(v->nwarn, 0);
	assert_int_equal(v->order, SERIES_ORDER_POSITION);
	assert_int_equal(v->nx, 4);
	assert_int_equal(v->ny, 3);
	assert_int_equal(v->nz, 6);
	assert_true(fabs(v->spacing[0] - 0.7) < 1e-9);
	assert_true(fabs(v->spacing[1] - 0.6) < 1e-9);
	assert_true(fabs(v->spacing[2] - 2.5) < 1e-9);
	assert_true(fabs(v->normal[2] + 1) < 1e-9);
	assert_true(fabs(v->origin[2] - 50) < 1e-9);
	assert_true(fabs(v->origin[0] + 10) < 1e-9);
	assert_true(fabs(v->step[2] + 2.5) < 1e-9);
	assert_true(v->tilt_deg < 1e-6);
	assert_int_equal(v->invert_for_display, 0);
	for (k = 0; k < 6; k++) {
		assert_int_equal(v->slices[k].instance_number, k + 1);
		assert_int_equal(order[v->slices[k].file], k);
		for (y = 0; y < 3; y++)
			for (x = 0; x < 4; x++)
				assert_true(v->vox[(k * 3 + y) * 4 + x] ==
				    (float)(tval(k, x, y) - 1024));
	}
	series_free(v);
}

/* A missing slice, and Instance Numbers that disagree with positions. */
static void
test_gap(void **state)
{
	static const double	 z[6] = { 0, 1.25, 2.5, 5.0, 6.25, 7.5 };
	static const int	 inst[6] = { 3, 1, 2, 4, 6, 5 };
	char			 store[6][512], name[32], sop[64], err[256];
	const char		*paths[6];
	const struct series_warning *w;
	struct series_volume	*v;
	struct tdcm		 t;
	int16_t			 pix[12];
	int			 i;

	(void)state;
	for (i = 0; i < 6; i++) {
		tdcm_default(&t);
		t.ipp[2] = z[i];
		t.inst = inst[i];
		(void)snprintf(sop, sizeof(sop), "1.2.826.0.1.3680043.9.2.%d",
		    i);
		t.sop = sop;
		tfill(pix, i, 3, 4);
		t.pix = pix;
		(void)snprintf(name, sizeof(name), "gap%d.dcm", i);
		paths[5 - i] = tpath(store, 5 - i, name);
		tdcm_write(paths[5 - i], &t);
	}
	assert_int_equal(series_load(paths, 6, NULL, &v, err, sizeof(err)),
	    0);
	print_warnings(v);
	assert_int_equal(v->nz, 6);
	assert_int_equal(warn_count(v, SERIES_WARN_GAP), 1);
	assert_int_equal(warn_count(v, SERIES_WARN_INSTANCE_ORDER), 1);
	assert_int_equal(warn_count(v, SERIES_WARN_NONUNIFORM), 0);
	w = series_warn_find(v, SERIES_WARN_GAP);
	assert_string_equal(w->zh,
	    "第3与4层之间缺层（间距 2.5 mm，中位 1.25 mm）");
	assert_true(fabs(v->spacing[2] - 1.25) < 1e-9);
	assert_true(fabs(v->spacing_max - 2.5) < 1e-9);
	for (i = 0; i < 6; i++)
		assert_true(fabs(v->slices[i].ipp[2] - z[i]) < 1e-9);
	assert_true(v->vox[3 * 12] == (float)(tval(3, 0, 0) - 1024));
	series_free(v);
}

/* Thin then thick slices: uneven spacing, but no missing slice. */
static void
test_nonuniform(void **state)
{
	static const double	 z[7] = { 0, 1, 2, 3, 4.5, 6, 7.5 };
	char			 store[7][512], name[32], sop[64], err[256];
	const char		*paths[7];
	struct series_volume	*v;
	struct tdcm		 t;
	int16_t			 pix[12];
	int			 i;

	(void)state;
	for (i = 0; i < 7; i++) {
		tdcm_default(&t);
		t.ipp[2] = z[i];
		t.inst = i + 1;
		(void)snprintf(sop, sizeof(sop), "1.2.826.0.1.3680043.9.3.%d",
		    i);
		t.sop = sop;
		tfill(pix, i, 3, 4);
		t.pix = pix;
		(void)snprintf(name, sizeof(name), "nonu%d.dcm", i);
		paths[i] = tpath(store, i, name);
		tdcm_write(paths[i], &t);
	}
	assert_int_equal(series_load(paths, 7, NULL, &v, err, sizeof(err)),
	    0);
	print_warnings(v);
	assert_int_equal(warn_count(v, SERIES_WARN_GAP), 0);
	assert_int_equal(warn_count(v, SERIES_WARN_NONUNIFORM), 1);
	assert_string_equal(series_warn_find(v, SERIES_WARN_NONUNIFORM)->zh,
	    "层间距不均匀：1.0–1.5 mm（中位 1.25 mm）");
	assert_true(fabs(v->spacing_min - 1) < 1e-9);
	assert_true(fabs(v->spacing_max - 1.5) < 1e-9);
	series_free(v);
}

/* The same SOP Instance UID twice, and two images at one position. */
static void
test_duplicates(void **state)
{
	static const double	 z[6] = { 0, 2, 4, 6, 2, 4 };
	static const char *const sops[6] = { "1.2.9.0", "1.2.9.1", "1.2.9.2",
	    "1.2.9.3", "1.2.9.1", "1.2.9.5" };
	char			 store[6][512], name[32], err[256];
	const char		*paths[6];
	struct series_volume	*v;
	struct tdcm		 t;
	int16_t			 pix[12];
	int			 i;

	(void)state;
	for (i = 0; i < 6; i++) {
		tdcm_default(&t);
		t.ipp[2] = z[i];
		t.inst = i + 1;
		t.sop = sops[i];
		tfill(pix, i, 3, 4);
		t.pix = pix;
		(void)snprintf(name, sizeof(name), "dup%d.dcm", i);
		paths[i] = tpath(store, i, name);
		tdcm_write(paths[i], &t);
	}
	assert_int_equal(series_load(paths, 6, NULL, &v, err, sizeof(err)),
	    0);
	print_warnings(v);
	assert_int_equal(v->nz, 4);
	assert_int_equal(warn_count(v, SERIES_WARN_DUPLICATE), 1);
	assert_int_equal(warn_count(v, SERIES_WARN_SAME_POSITION), 1);
	assert_int_equal(warn_count(v, SERIES_WARN_GAP), 0);
	assert_true(fabs(v->spacing[2] - 2) < 1e-9);
	/* The first file at each position is kept. */
	for (i = 0; i < 4; i++) {
		assert_int_equal(v->slices[i].file, i);
		assert_true(v->vox[i * 12 + 5] ==
		    (float)(tval(i, 1, 1) - 1024));
	}
	series_free(v);
}

/* Images of different size, pixel spacing or orientation are refused. */
static void
test_mixed(void **state)
{
	char			 store[2][512], err[256];
	const char		*paths[2];
	struct series_volume	*v = (struct series_volume *)1;
	struct tdcm		 t;
	int16_t			 pix[15];
	int			 c;

	(void)state;
	for (c = 0; c < 3; c++) {
		tdcm_default(&t);
		t.sop = "1.2.8.1";
		memset(pix, 0, sizeof(pix));
		t.pix = pix;
		paths[0] = tpath(store, 0, "mixed0.dcm");
		tdcm_write(paths[0], &t);
		t.sop = "1.2.8.2";
		t.ipp[2] = 1;
		if (c == 0)
			t.cols = 5;
		else if (c == 1)
			t.ps[0] = 0.8;
		else {
			t.iop[4] = cos(0.3);
			t.iop[5] = -sin(0.3);
		}
		paths[1] = tpath(store, 1, "mixed1.dcm");
		tdcm_write(paths[1], &t);
		err[0] = '\0';
		assert_int_equal(series_load(paths, 2, NULL, &v, err,
		    sizeof(err)), -1);
		assert_null(v);
		printf("  refused: %s\n", err);
		assert_non_null(strstr(err, "mixed geometry"));
	}
}

/* A sheared stack: 18.5 degrees, as tilted gantries write it. */
static void
test_tilt(void **state)
{
	char			 store[5][512], name[32], sop[64], err[256];
	const char		*paths[5];
	struct series_volume	*v;
	struct tdcm		 t;
	int16_t			 pix[12];
	double			 a = 18.5 * TEST_PI / 180;
	int			 i;

	(void)state;
	for (i = 0; i < 5; i++) {
		tdcm_default(&t);
		t.iop[4] = cos(a);
		t.iop[5] = -sin(a);
		t.ipp[2] = 4.22 * i;
		t.tilt = 18.5;
		t.inst = i + 1;
		(void)snprintf(sop, sizeof(sop), "1.2.826.0.1.3680043.9.5.%d",
		    i);
		t.sop = sop;
		tfill(pix, i, 3, 4);
		t.pix = pix;
		(void)snprintf(name, sizeof(name), "tilt%d.dcm", i);
		paths[i] = tpath(store, i, name);
		tdcm_write(paths[i], &t);
	}
	assert_int_equal(series_load(paths, 5, NULL, &v, err, sizeof(err)),
	    0);
	print_warnings(v);
	assert_true(fabs(v->tilt_deg - 18.5) < 0.01);
	assert_true(fabs(v->gantry_tilt - 18.5) < 1e-9);
	assert_true(fabs(v->spacing[2] - 4.22 * cos(a)) < 1e-6);
	assert_true(fabs(v->step[2] - 4.22) < 1e-6);
	assert_true(fabs(v->step[1]) < 1e-6);
	assert_int_equal(warn_count(v, SERIES_WARN_TILT), 1);
	assert_non_null(strstr(series_warn_find(v, SERIES_WARN_TILT)->zh,
	    "机架倾斜 18.5°"));
	series_free(v);
}

/* A MONOCHROME1 radiograph: one image, values untouched, inverted in the
 * preview only. */
static void
test_mono1(void **state)
{
	char			 store[1][512], err[256];
	const char		*paths[1];
	struct series_volume	*v;
	struct tdcm		 t;
	int16_t			 pix[12];
	unsigned char		*img;
	double			 c, w;
	int			 i, pw, ph;

	(void)state;
	tdcm_default(&t);
	t.sop_class = CR_CLASS;
	t.modality = "CR";
	t.photometric = "MONOCHROME1";
	t.has_ipp = t.has_iop = 0;
	t.slope = NAN;
	t.intercept = NAN;
	t.wc = 1010;
	t.ww = 11;
	t.sop = "1.2.7.1";
	tfill(pix, 0, 3, 4);
	t.pix = pix;
	paths[0] = tpath(store, 0, "mono1.dcm");
	tdcm_write(paths[0], &t);
	assert_int_equal(series_load(paths, 1, NULL, &v, err, sizeof(err)),
	    0);
	print_warnings(v);
	assert_int_equal(v->nwarn, 0);
	assert_int_equal(v->order, SERIES_ORDER_SINGLE);
	assert_int_equal(v->nz, 1);
	assert_int_equal(v->invert_for_display, 1);
	assert_string_equal(v->modality, "CR");
	for (i = 0; i < 12; i++)
		assert_true(v->vox[i] == (float)pix[i]);
	assert_int_equal(preview_window(v, 0, WINDOW_AUTO, &c, &w), 0);
	assert_true(c == 1010 && w == 11);
	assert_int_equal(preview_render(v, 0, c, w, 0, &img, &pw, &ph, err,
	    sizeof(err)), 0);
	assert_int_equal(pw, 4);
	assert_int_equal(ph, 3);
	/* The window runs from 1004.5 to 1014.5: 1000 is below it, black
	 * before inversion and white after; 1023 above it: black. */
	assert_int_equal(img[0], 255);
	assert_int_equal(img[11], 0);
	free(img);
	series_free(v);
}

/* Pixel Padding Value voxels become -1024 HU in CT and are counted. */
static void
test_padding(void **state)
{
	char			 store[2][512], err[256];
	const char		*paths[2];
	struct series_volume	*v;
	struct tdcm		 t;
	int16_t			 pix[12];
	int			 i;

	(void)state;
	for (i = 0; i < 2; i++) {
		tdcm_default(&t);
		t.has_pad = 1;
		t.pad = -2000;
		t.ipp[2] = i;
		t.sop = i ? "1.2.6.2" : "1.2.6.1";
		tfill(pix, i, 3, 4);
		pix[0] = pix[11] = -2000;
		t.pix = pix;
		paths[i] = tpath(store, i, i ? "pad1.dcm" : "pad0.dcm");
		tdcm_write(paths[i], &t);
	}
	assert_int_equal(series_load(paths, 2, NULL, &v, err, sizeof(err)),
	    0);
	print_warnings(v);
	assert_int_equal(v->padding_voxels, 4);
	assert_true(v->padding_fill == -1024.0f);
	assert_int_equal(warn_count(v, SERIES_WARN_PADDING), 1);
	assert_true(v->vox[0] == -1024.0f);
	assert_true(v->vox[12 + 11] == -1024.0f);
	assert_true(v->vox[1] == (float)(tval(0, 1, 0) - 1024));
	series_free(v);
}

/* No positions: Instance Number order, spacing from its tag. */
static void
test_no_position(void **state)
{
	static const int	 inst[3] = { 3, 1, 2 };
	char			 store[3][512], sop[64], name[32], err[256];
	const char		*paths[3];
	struct series_volume	*v;
	struct tdcm		 t;
	int16_t			 pix[12];
	int			 i;

	(void)state;
	for (i = 0; i < 3; i++) {
		tdcm_default(&t);
		t.has_ipp = t.has_iop = 0;
		t.sbs = 3;
		t.thickness = 2;
		t.inst = inst[i];
		(void)snprintf(sop, sizeof(sop), "1.2.5.%d", i);
		t.sop = sop;
		tfill(pix, inst[i], 3, 4);
		t.pix = pix;
		(void)snprintf(name, sizeof(name), "nopos%d.dcm", i);
		paths[i] = tpath(store, i, name);
		tdcm_write(paths[i], &t);
	}
	assert_int_equal(series_load(paths, 3, NULL, &v, err, sizeof(err)),
	    0);
	print_warnings(v);
	assert_int_equal(v->order, SERIES_ORDER_INSTANCE);
	assert_int_equal(warn_count(v, SERIES_WARN_NO_POSITION), 1);
	assert_true(v->spacing[2] == 3);
	for (i = 0; i < 3; i++) {
		assert_int_equal(v->slices[i].instance_number, i + 1);
		assert_true(v->vox[i * 12] == (float)(tval(i + 1, 0, 0) -
		    1024));
	}
	series_free(v);
}

/* A multi-frame file: frames are slices, in order. */
/* Whether this kernel faults in a range at once (MADV_POPULATE_WRITE,
 * Linux 5.14): then series_load() does so for a volume in new memory. */
static int
prefault_works(void)
{
#ifdef MADV_POPULATE_WRITE
	long	 pg = sysconf(_SC_PAGESIZE);
	void	*p;
	int	 ok;

	p = mmap(NULL, (size_t)pg, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return 0;
	ok = madvise(p, (size_t)pg, MADV_POPULATE_WRITE) == 0;
	(void)munmap(p, (size_t)pg);
	return ok;
#else
	return 0;
#endif
}

static void
test_multiframe(void **state)
{
	char			 store[1][512], err[256];
	const char		*paths[1];
	struct series_volume	*v;
	struct tdcm		 t;
	int16_t			 pix[36];
	int			 k;

	(void)state;
	tdcm_default(&t);
	t.frames = 3;
	t.has_ipp = t.has_iop = 0;
	t.sbs = 2;
	t.sop = "1.2.4.1";
	for (k = 0; k < 3; k++)
		tfill(pix + 12 * k, k, 3, 4);
	t.pix = pix;
	paths[0] = tpath(store, 0, "multi.dcm");
	tdcm_write(paths[0], &t);
	assert_int_equal(series_load(paths, 1, NULL, &v, err, sizeof(err)),
	    0);
	print_warnings(v);
	assert_int_equal(v->order, SERIES_ORDER_FRAMES);
	assert_int_equal(v->nz, 3);
	assert_int_equal(v->prefaulted_slices, prefault_works() ? 3 : 0);
	assert_true(v->spacing[2] == 2);
	assert_int_equal(warn_count(v, SERIES_WARN_MULTIFRAME), 1);
	for (k = 0; k < 3; k++) {
		assert_int_equal(v->slices[k].frame, k);
		assert_true(v->vox[k * 12 + 7] == (float)(tval(k, 3, 1) -
		    1024));
	}
	series_free(v);
}

/* The caller's voxel limit, and files that are not there. */
/* Two volumes the same voxel for voxel, bit for bit, with the same
 * padding figures. */
static void
assert_same_volume(const struct series_volume *a,
    const struct series_volume *b)
{
	size_t	 n;

	assert_int_equal(a->nx, b->nx);
	assert_int_equal(a->ny, b->ny);
	assert_int_equal(a->nz, b->nz);
	n = (size_t)a->nx * (size_t)a->ny * (size_t)a->nz;
	assert_memory_equal(a->vox, b->vox, n * sizeof(*a->vox));
	assert_int_equal(a->padding_voxels, b->padding_voxels);
	assert_memory_equal(&a->padding_fill, &b->padding_fill,
	    sizeof(a->padding_fill));
	assert_int_equal(a->nwarn, b->nwarn);
}

/*
 * The fast path (native 16-bit pixels read straight from the files)
 * gives what the general one (dcm_read_frame()) gives, bit for bit:
 * signed and unsigned samples, Bits Stored below 16 with the High Bit
 * at the top or the bottom, rescales that take the integer conversion
 * and those that take the table, MONOCHROME1, padding in CT and in
 * another modality, and image sizes that are not multiples of the
 * vector width.
 */
static void
test_fast_path(void **state)
{
	static const struct {
		int	 bits, high, rep, rows, cols, pad;
		double	 slope, intercept;
		const char *modality, *photometric;
	} c[] = {
		{ 0, 0, 0, 3, 4, 0, 1, -1024, "CT", "MONOCHROME2" },
		{ 0, 0, 0, 17, 19, 1, 1, -1024, "CT", "MONOCHROME2" },
		{ 12, 11, 0, 7, 9, 1, 1, -1024, "CT", "MONOCHROME2" },
		{ 12, 11, 1, 16, 16, 1, 1, 0, "CT", "MONOCHROME2" },
		{ 12, 15, 1, 5, 13, 0, 1, -1000, "CT", "MONOCHROME2" },
		{ 10, 12, 0, 11, 3, 1, 1, 3, "MR", "MONOCHROME2" },
		{ 0, 0, 0, 9, 9, 1, 2.5, -1024.25, "CT", "MONOCHROME2" },
		{ 0, 0, 0, 8, 8, 0, 1, 0.5, "CT", "MONOCHROME2" },
		{ 16, 15, 0, 6, 10, 1, 0.001, 7, "PT", "MONOCHROME2" },
		{ 16, 15, 0, 12, 12, 1, 1, 0, "CR", "MONOCHROME1" },
		{ 0, 0, 0, 4, 4, 0, 1, 2e9, "CT", "MONOCHROME2" },
	};
	struct series_opts	 gen, reuse;
	struct series_spare	 spare = { NULL, 0 };
	struct series_volume	*a, *b, *r;
	struct tdcm		 t;
	char			 store[3][512], err[256];
	const char		*paths[3];
	float			*prior;
	int16_t			*pix;
	size_t			 ci, npix, i, cap, pre;
	int			 k;

	(void)state;
	pre = prefault_works() ? 3 : 0;
	memset(&gen, 0, sizeof(gen));
	gen.general = 1;
	memset(&reuse, 0, sizeof(reuse));
	reuse.spare = &spare;
	for (ci = 0; ci < sizeof(c) / sizeof(c[0]); ci++) {
		npix = (size_t)c[ci].rows * (size_t)c[ci].cols;
		assert_non_null(pix = malloc(npix * sizeof(*pix)));
		for (k = 0; k < 3; k++) {
			tdcm_default(&t);
			t.rows = c[ci].rows;
			t.cols = c[ci].cols;
			t.bits_stored = c[ci].bits;
			t.high_bit = c[ci].high;
			t.pixrep = c[ci].rep;
			t.slope = c[ci].slope;
			t.intercept = c[ci].intercept;
			t.modality = c[ci].modality;
			t.photometric = c[ci].photometric;
			t.has_pad = c[ci].pad;
			t.pad = -2000;
			t.inst = k + 1;
			t.ipp[2] = 2.5 * k;
			/* Every bit pattern shows up somewhere: stray bits
			 * above High Bit and below the stored ones too. */
			for (i = 0; i < npix; i++)
				pix[i] = (int16_t)(uint16_t)((i * 40503U +
				    (unsigned)k * 7919U) & 0xffff);
			pix[0] = -2000;
			pix[npix - 1] = -32768;
			if (npix > 2)
				pix[1] = 32767;
			t.pix = pix;
			(void)snprintf(store[k], sizeof(store[k]),
			    "%s/fast-%zu-%d.dcm", tmpdir, ci, k);
			tdcm_write(store[k], &t);
			paths[k] = store[k];
		}
		if (series_load(paths, 3, NULL, &a, err, sizeof(err)) == -1)
			fail_msg("case %zu: %s", ci, err);
		if (series_load(paths, 3, &gen, &b, err, sizeof(err)) == -1)
			fail_msg("case %zu (general): %s", ci, err);
		assert_int_equal(a->fast_slices, 3);
		assert_int_equal(b->fast_slices, 0);
		/* New memory is faulted in a slice at a time, either way. */
		assert_int_equal(a->prefaulted_slices, pre);
		assert_int_equal(b->prefaulted_slices, pre);
		assert_same_volume(a, b);
		/* Into the memory of the case before (its voxels made NaN,
		 * so that anything left of them would show): taken when
		 * it holds the volume and is at most twice its size, else
		 * freed; either way the same volume. */
		prior = spare.vox;
		cap = spare.cap;
		if (prior != NULL)
			memset(prior, 0xff, cap * sizeof(*prior));
		if (series_load(paths, 3, &reuse, &r, err, sizeof(err)) == -1)
			fail_msg("case %zu (reused memory): %s", ci, err);
		assert_null(spare.vox);
		if (prior != NULL && cap >= npix * 3 &&
		    cap / 2 <= npix * 3) {
			assert_ptr_equal(r->vox, prior);
			assert_int_equal(r->prefaulted_slices, 0);
		} else
			assert_int_equal(r->prefaulted_slices, pre);
		assert_same_volume(r, b);
		series_recycle(r, &spare);
		assert_non_null(spare.vox);
		assert_true(spare.cap >= npix * 3);
		series_free(a);
		series_free(b);
		for (k = 0; k < 3; k++)
			(void)unlink(store[k]);
		free(pix);
	}
	series_spare_free(&spare);
	assert_null(spare.vox);
}

static void
test_refusals(void **state)
{
	char			 store[1][512], err[256];
	const char		*paths[1];
	struct series_volume	*v;
	struct series_opts	 o;
	struct tdcm		 t;
	int16_t			 pix[12];

	(void)state;
	tdcm_default(&t);
	t.sop = "1.2.3.1";
	tfill(pix, 0, 3, 4);
	t.pix = pix;
	paths[0] = tpath(store, 0, "limit.dcm");
	tdcm_write(paths[0], &t);
	memset(&o, 0, sizeof(o));
	o.max_voxels = 11;
	assert_int_equal(series_load(paths, 1, &o, &v, err, sizeof(err)), -1);
	assert_null(v);
	assert_non_null(strstr(err, "too large"));
	o.max_voxels = 12;
	assert_int_equal(series_load(paths, 1, &o, &v, err, sizeof(err)), 0);
	series_free(v);

	paths[0] = tpath(store, 0, "absent.dcm");
	assert_int_equal(series_load(paths, 1, NULL, &v, err, sizeof(err)),
	    -1);
	assert_non_null(strstr(err, "absent.dcm"));
	assert_int_equal(series_load(paths, 0, NULL, &v, err, sizeof(err)),
	    -1);
}

static uint32_t
be32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3];
}

/* Whether data is a PNG of w by h pixels (signature and IHDR). */
static void
check_png(const unsigned char *p, size_t len, int w, int h)
{
	assert_true(len > 33);
	assert_memory_equal(p, "\x89PNG\r\n\x1a\n", 8);
	assert_int_equal(be32(p + 8), 13);
	assert_memory_equal(p + 12, "IHDR", 4);
	assert_int_equal(be32(p + 16), (uint32_t)w);
	assert_int_equal(be32(p + 20), (uint32_t)h);
	assert_int_equal(p[24], 8);
	assert_int_equal(p[25], 0);
	assert_memory_equal(p + len - 8, "IEND", 4);
}

/* Windows, area-averaged thumbnails and the PNG encoding. */
static void
test_preview(void **state)
{
	struct series_volume	 v;
	struct series_slice	 sl;
	struct buf		 b;
	float			 vox[8 * 6];
	unsigned char		*img;
	char			 err[256];
	double			 c, w;
	int			 x, y, pw, ph;

	(void)state;
	memset(&v, 0, sizeof(v));
	memset(&sl, 0, sizeof(sl));
	v.vox = vox;
	v.nx = 8;
	v.ny = 6;
	v.nz = 1;
	v.slices = &sl;
	v.window_center = v.window_width = NAN;
	for (y = 0; y < 6; y++)
		for (x = 0; x < 8; x++)
			vox[y * 8 + x] = x < 4 ? -1000.0f : 1000.0f;
	assert_int_equal(preview_window_parse("bone"), WINDOW_BONE);
	assert_int_equal(preview_window_parse("nope"), -1);
	assert_string_equal(preview_windows[WINDOW_LUNG].zh, "肺窗");
	assert_int_equal(preview_window(&v, 0, WINDOW_LUNG, &c, &w), 0);
	assert_true(c == -600 && w == 1500);
	assert_int_equal(preview_window(&v, 1, WINDOW_LUNG, &c, &w), -1);
	assert_int_equal(preview_window(&v, 0, WINDOW_AUTO, &c, &w), 0);
	assert_true(fabs(c) < 1 && w > 1990 && w < 2010);

	/* 8x6 to 4x3: each output pixel averages 2x2 inputs. */
	assert_int_equal(preview_render(&v, 0, 0, 2001, 4, &img, &pw, &ph,
	    err, sizeof(err)), 0);
	assert_int_equal(pw, 4);
	assert_int_equal(ph, 3);
	assert_int_equal(img[0], 0);
	assert_int_equal(img[3], 255);
	free(img);
	/* 8 columns to 3: the middle one straddles the edge. */
	assert_int_equal(preview_render(&v, 0, 0, 2001, 3, &img, &pw, &ph,
	    err, sizeof(err)), 0);
	assert_int_equal(pw, 3);
	assert_int_equal(ph, 2);
	assert_int_equal(img[0], 0);
	assert_int_equal(img[1], 128);
	assert_int_equal(img[2], 255);
	free(img);
	assert_int_equal(preview_render(&v, 0, 0, 0.5, 0, &img, &pw, &ph,
	    err, sizeof(err)), -1);
	assert_null(img);

	buf_init(&b, 0);
	assert_int_equal(preview_png(&v, 0, 0, 2001, 0, &b, err, sizeof(err)),
	    0);
	check_png((unsigned char *)b.data, b.len, 8, 6);
	buf_free(&b);
	buf_init(&b, 40);	/* too small a cap */
	assert_int_equal(preview_png(&v, 0, 0, 2001, 0, &b, err, sizeof(err)),
	    -1);
	assert_int_equal(b.len, 0);
	buf_free(&b);
}

/* ---- real data ---- */

static char	 datadir[1024];
static char	**found;
static size_t	 nfound;

static int
collect(const char *path, const struct stat *st, int type, struct FTW *f)
{
	size_t	 n = strlen(path);
	char	**p;

	(void)st;
	(void)f;
	if (type != FTW_F || n < 4 || strcmp(path + n - 4, ".dcm") != 0)
		return 0;
	if ((p = realloc(found, (nfound + 1) * sizeof(*p))) == NULL)
		return -1;
	found = p;
	if ((found[nfound] = strdup(path)) == NULL)
		return -1;
	nfound++;
	return 0;
}

static void
collect_free(void)
{
	size_t	 i;

	for (i = 0; i < nfound; i++)
		free(found[i]);
	free(found);
	found = NULL;
	nfound = 0;
}

/* Find the .dcm files under dir (relative to the data folder), or skip. */
static void
collect_dir(const char *dir)
{
	char	 p[2048];

	if (datadir[0] == '\0') {
		printf("  skipped: no test data (set ZY_DATA or provide "
		    "../shared/data)\n");
		skip();
	}
	(void)snprintf(p, sizeof(p), "%s/%s", datadir, dir);
	collect_free();
	assert_int_equal(nftw(p, collect, 16, FTW_PHYS), 0);
	if (nfound == 0) {
		printf("  skipped: no files under %s\n", p);
		skip();
	}
}

static void
mkdirs(const char *path)
{
	char	 p[512], *s;

	(void)snprintf(p, sizeof(p), "%s", path);
	for (s = p + 1; *s != '\0'; s++)
		if (*s == '/') {
			*s = '\0';
			(void)mkdir(p, 0755);
			*s = '/';
		}
	(void)mkdir(p, 0755);
}

static void
write_preview(const struct series_volume *v, int slice, double c, double w,
    int max_edge, const char *name, int ew, int eh)
{
	char		 path[512], err[256];
	unsigned char	 head[64];
	FILE		*fp;
	size_t		 n;

	mkdirs("tests/out/previews");
	(void)snprintf(path, sizeof(path), "tests/out/previews/%s", name);
	if (preview_png_file(v, slice, c, w, max_edge, path, err,
	    sizeof(err)) == -1)
		fail_msg("%s: %s", path, err);
	assert_non_null(fp = fopen(path, "rb"));
	n = fread(head, 1, sizeof(head), fp);
	fclose(fp);
	assert_true(n >= 33);
	assert_memory_equal(head, "\x89PNG\r\n\x1a\n", 8);
	assert_int_equal(be32(head + 16), (uint32_t)ew);
	assert_int_equal(be32(head + 20), (uint32_t)eh);
	printf("  wrote %s (%dx%d)\n", path, ew, eh);
}

/* Mean of a box of one slice. */
static double
box_mean(const struct series_volume *v, int z, int x0, int y0, int x1,
    int y1)
{
	double	 s = 0;
	int	 x, y;

	for (y = y0; y < y1; y++)
		for (x = x0; x < x1; x++)
			s += v->vox[((size_t)z * v->ny + y) * v->nx + x];
	return s / ((double)(x1 - x0) * (y1 - y0));
}

static void
test_lidc(void **state)
{
	struct series_volume	*v;
	struct timespec		 t0, t1;
	char			 err[512];
	double			 c, w, air, tissue, dz;
	size_t			 soft = 0, i, plane;
	int			 k;

	(void)state;
	collect_dir("ct/LIDC-IDRI-0002");
	assert_int_equal(nfound, 261);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (series_load((const char *const *)found, nfound, NULL, &v, err,
	    sizeof(err)) == -1)
		fail_msg("LIDC-IDRI-0002: %s", err);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	printf("  LIDC-IDRI-0002: %dx%dx%d loaded in %.3f s\n", v->nx, v->ny,
	    v->nz, (double)(t1.tv_sec - t0.tv_sec) +
	    (t1.tv_nsec - t0.tv_nsec) / 1e9);
	printf("  spacing %.4f %.4f %.4f (min %.4f max %.4f), origin %.2f "
	    "%.2f %.2f, padding %zu\n", v->spacing[0], v->spacing[1],
	    v->spacing[2], v->spacing_min, v->spacing_max, v->origin[0],
	    v->origin[1], v->origin[2], v->padding_voxels);
	print_warnings(v);
	assert_int_equal(v->nz, 261);
	assert_int_equal(v->order, SERIES_ORDER_POSITION);
	assert_true(fabs(v->spacing[2] - 1.25) < 0.01);
	assert_true(fabs(v->spacing[0] - 0.682) < 0.001);
	assert_true(fabs(v->spacing[1] - 0.682) < 0.001);
	assert_int_equal(warn_count(v, SERIES_WARN_GAP), 0);
	assert_int_equal(warn_count(v, SERIES_WARN_TILT), 0);
	assert_int_equal(warn_count(v, SERIES_WARN_NONUNIFORM), 0);
	for (k = 1; k < v->nz; k++) {
		dz = v->slices[k].ipp[2] - v->slices[k - 1].ipp[2];
		assert_true(fabs(dz - v->spacing[2]) < 0.01);
	}
	assert_int_equal(preview_window(v, 130, WINDOW_LUNG, &c, &w), 0);
	write_preview(v, 130, c, w, 0, "lidc0002_130_lung.png", 512, 512);
	assert_int_equal(preview_window(v, 130, WINDOW_MEDIASTINUM, &c, &w),
	    0);
	write_preview(v, 130, c, w, 0, "lidc0002_130_mediastinum.png", 512,
	    512);
	assert_int_equal(preview_window(v, 130, WINDOW_BONE, &c, &w), 0);
	write_preview(v, 130, c, w, 0, "lidc0002_130_bone.png", 512, 512);
	assert_int_equal(preview_window(v, 130, WINDOW_LUNG, &c, &w), 0);
	write_preview(v, 130, c, w, 256, "lidc0002_130_lung_thumb.png", 256,
	    256);
	/* Air in front of the chest; the heart (unenhanced blood). */
	air = box_mean(v, 130, 236, 40, 276, 60);
	tissue = box_mean(v, 130, 240, 180, 270, 200);
	printf("  slice 130: air %.1f HU, heart %.1f HU\n",
	    air, tissue);
	assert_true(air > -1050 && air < -950);
	assert_true(tissue > 0 && tissue < 80);
	plane = (size_t)v->nx * v->ny;
	for (i = 0; i < plane; i++) {
		float h = v->vox[130 * plane + i];

		soft += h > -100 && h < 100;
	}
	assert_true(soft > plane / 10);

	/* Every slice came the fast way; the general way gives the same
	 * volume, bit for bit. */
	assert_int_equal(v->fast_slices, 261);
	assert_int_equal(v->prefaulted_slices, prefault_works() ? 261 : 0);
	{
		struct series_opts	 gen;
		struct series_volume	*g;

		memset(&gen, 0, sizeof(gen));
		gen.general = 1;
		if (series_load((const char *const *)found, nfound, &gen, &g,
		    err, sizeof(err)) == -1)
			fail_msg("LIDC-IDRI-0002 (general): %s", err);
		assert_int_equal(g->fast_slices, 0);
		assert_same_volume(v, g);
		/* And into the first volume's memory, as the daemon loads
		 * its next series, its old voxels made NaN first. */
		{
			struct series_spare	 sp = { NULL, 0 };
			struct series_opts	 ro;
			float			*mem = v->vox;

			series_recycle(v, &sp);
			assert_ptr_equal(sp.vox, mem);
			memset(sp.vox, 0xff, sp.cap * sizeof(*sp.vox));
			memset(&ro, 0, sizeof(ro));
			ro.spare = &sp;
			if (series_load((const char *const *)found, nfound,
			    &ro, &v, err, sizeof(err)) == -1)
				fail_msg("LIDC-IDRI-0002 (reused memory): %s",
				    err);
			assert_ptr_equal(v->vox, mem);
			assert_null(sp.vox);
			assert_int_equal(v->prefaulted_slices, 0);
			assert_same_volume(v, g);
		}
		series_free(g);
	}
	series_free(v);
	collect_free();
}

static void
test_gantry_tilt(void **state)
{
	struct series_volume	*v;
	char			 err[512];
	double			 c, w;

	(void)state;
	collect_dir("edge/gantry-tilt-ct");
	if (series_load((const char *const *)found, nfound, NULL, &v, err,
	    sizeof(err)) == -1)
		fail_msg("gantry-tilt-ct: %s", err);
	printf("  gantry-tilt-ct: %dx%dx%d, tilt %.2f (tag %.1f), spacing "
	    "%.3f (%.3f-%.3f)\n", v->nx, v->ny, v->nz, v->tilt_deg,
	    v->gantry_tilt, v->spacing[2], v->spacing_min, v->spacing_max);
	print_warnings(v);
	assert_int_equal(v->nz, (int)nfound);
	assert_true(fabs(v->tilt_deg - 18.5) < 0.2);
	assert_int_equal(warn_count(v, SERIES_WARN_TILT), 1);
	assert_int_equal(warn_count(v, SERIES_WARN_NONUNIFORM), 1);
	assert_int_equal(warn_count(v, SERIES_WARN_GAP), 0);
	assert_true(v->spacing_max > v->spacing_min * 1.5);
	assert_int_equal(preview_window(v, v->nz / 2, WINDOW_AUTO, &c, &w),
	    0);
	write_preview(v, v->nz / 2, 40, 80, 256, "gantry_tilt_mid_brain.png",
	    256, 256);
	series_free(v);
	collect_free();
}

static void
test_radiograph(void **state)
{
	static const char	*rel = "xray/chest/"
	    "orthanc_Issue44_chest-PA_CR_MONOCHROME1_JPEG-baseline.dcm";
	struct series_volume	*v;
	const char		*paths[1];
	char			 path[2048], err[512];
	double			 c, w;
	int			 ew, eh;

	(void)state;
	if (datadir[0] == '\0') {
		printf("  skipped: no test data\n");
		skip();
	}
	(void)snprintf(path, sizeof(path), "%s/%s", datadir, rel);
	if (access(path, R_OK) == -1) {
		printf("  skipped: %s absent\n", path);
		skip();
	}
	paths[0] = path;
	if (series_load(paths, 1, NULL, &v, err, sizeof(err)) == -1)
		fail_msg("%s: %s", path, err);
	printf("  radiograph: %dx%d, %s %s, window %.1f/%.1f\n", v->nx,
	    v->ny, v->modality, v->photometric, v->window_center,
	    v->window_width);
	print_warnings(v);
	assert_int_equal(v->nz, 1);
	assert_int_equal(v->invert_for_display, 1);
	assert_int_equal(v->order, SERIES_ORDER_SINGLE);
	assert_int_equal(preview_window(v, 0, WINDOW_AUTO, &c, &w), 0);
	assert_true(c == v->window_center && w == v->window_width);
	ew = v->nx >= v->ny ? 1024 : (int)lround(v->nx * 1024.0 / v->ny);
	eh = v->ny >= v->nx ? 1024 : (int)lround(v->ny * 1024.0 / v->nx);
	write_preview(v, 0, c, w, 1024, "cr_mono1_chest.png", ew, eh);
	assert_int_equal(preview_window_percentile(v, 0, 1, 99, &c, &w), 0);
	ew = v->nx >= v->ny ? 256 : (int)lround(v->nx * 256.0 / v->ny);
	eh = v->ny >= v->nx ? 256 : (int)lround(v->ny * 256.0 / v->nx);
	write_preview(v, 0, c, w, 256, "cr_mono1_chest_auto_thumb.png", ew,
	    eh);
	series_free(v);
}

static int
setup(void **state)
{
	const char	*env = getenv("ZY_DATA");
	struct stat	 st;

	(void)state;
	(void)snprintf(tmpdir, sizeof(tmpdir), "/tmp/zy-series-XXXXXX");
	if (mkdtemp(tmpdir) == NULL)
		return -1;
	if (env != NULL && *env != '\0')
		(void)snprintf(datadir, sizeof(datadir), "%s", env);
	else
#ifdef ZY_TOP_SRCDIR
		(void)snprintf(datadir, sizeof(datadir), "%s/../shared/data",
		    ZY_TOP_SRCDIR);
#else
		(void)snprintf(datadir, sizeof(datadir), "../shared/data");
#endif
	if (stat(datadir, &st) == -1 || !S_ISDIR(st.st_mode))
		datadir[0] = '\0';
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
	collect_free();
	if (tmpdir[0] != '\0')
		(void)nftw(tmpdir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	return 0;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sorted),
		cmocka_unit_test(test_gap),
		cmocka_unit_test(test_nonuniform),
		cmocka_unit_test(test_duplicates),
		cmocka_unit_test(test_mixed),
		cmocka_unit_test(test_tilt),
		cmocka_unit_test(test_mono1),
		cmocka_unit_test(test_padding),
		cmocka_unit_test(test_no_position),
		cmocka_unit_test(test_multiframe),
		cmocka_unit_test(test_fast_path),
		cmocka_unit_test(test_refusals),
		cmocka_unit_test(test_preview),
		cmocka_unit_test(test_lidc),
		cmocka_unit_test(test_gantry_tilt),
		cmocka_unit_test(test_radiograph),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
