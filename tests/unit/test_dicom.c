/*
 * test_dicom.c - DICOM reading: synthetic files, the LIDC CT, the NEMA
 * WG04 codec set, the edge corpus and the radiographs.
 *
 * Real data is read from $ZY_DATA, else from ../shared/data beside the
 * source tree; it is never copied into the project.  Tests that need it
 * skip when it is absent.  The corpus walk prints one line per file
 * (OK or refused, with the reason) for a human to read.
 */
#include "config.h"

#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>

#include <dirent.h>
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

#include <zlib.h>

#include <cmocka.h>

#include "dicom.h"

#ifndef ZY_TOP_SRCDIR
#define ZY_TOP_SRCDIR "."
#endif

static char	 datadir[4096];

/* The data directory, or NULL (and a line saying why) when absent. */
static const char *
data_dir(void)
{
	struct stat	 st;
	const char	*e;

	if ((e = getenv("ZY_DATA")) != NULL && *e != '\0')
		snprintf(datadir, sizeof(datadir), "%s", e);
	else
		snprintf(datadir, sizeof(datadir), "%s/../shared/data",
		    ZY_TOP_SRCDIR);
	if (stat(datadir, &st) == -1 || !S_ISDIR(st.st_mode)) {
		printf("%s not found: skipping\n", datadir);
		return NULL;
	}
	return datadir;
}

#define NEED_DATA(d) do {					\
	(void)state;						\
	if (((d) = data_dir()) == NULL) {			\
		skip();						\
		return;						\
	}							\
} while (0)

static char *
path_of(char *buf, size_t n, const char *dir, const char *rel)
{
	if (snprintf(buf, n, "%s/%s", dir, rel) >= (int)n)
		fail_msg("path too long: %s/%s", dir, rel);
	return buf;
}

static unsigned char *
slurp(const char *path, size_t *len)
{
	FILE		*fp;
	unsigned char	*b;
	long		 n;

	if ((fp = fopen(path, "rb")) == NULL)
		return NULL;
	fseek(fp, 0, SEEK_END);
	n = ftell(fp);
	fseek(fp, 0, SEEK_SET);
	b = malloc((size_t)n + 1);
	if (b != NULL && fread(b, 1, (size_t)n, fp) != (size_t)n) {
		free(b);
		b = NULL;
	}
	fclose(fp);
	*len = (size_t)n;
	return b;
}

/* Append an implicit VR little endian element. */
static size_t
put_el(unsigned char *b, size_t o, unsigned g, unsigned e, const void *v,
    uint32_t len)
{
	b[o++] = g & 0xff;
	b[o++] = g >> 8;
	b[o++] = e & 0xff;
	b[o++] = e >> 8;
	b[o++] = len & 0xff;
	b[o++] = (len >> 8) & 0xff;
	b[o++] = (len >> 16) & 0xff;
	b[o++] = len >> 24;
	if (v != NULL && len != 0xffffffffU) {
		memcpy(b + o, v, len);
		o += len;
	}
	return o;
}

static size_t
put_us(unsigned char *b, size_t o, unsigned g, unsigned e, unsigned v)
{
	unsigned char	 x[2] = { v & 0xff, v >> 8 };

	return put_el(b, o, g, e, x, 2);
}

/* A rows x cols implicit VR CT slice: 12 of 16 bits stored, signed,
 * slope 2, intercept -1024, with pixlen bytes of pixels (the first 8 of
 * them junk in the unused high bits, the rest zero). */
static size_t
synth_img(unsigned char *b, unsigned rows, unsigned cols, uint32_t pixlen)
{
	static const uint16_t px[4] = { 0x0005, 0xf800, 0x07ff, 0xafff };
	size_t	 o = 0;

	o = put_el(b, o, 0x0008, 0x0060, "CT", 2);
	o = put_el(b, o, 0x0010, 0x0010, "Test^Synth", 10);
	o = put_us(b, o, 0x0028, 0x0002, 1);
	o = put_el(b, o, 0x0028, 0x0004, "MONOCHROME2 ", 12);
	o = put_us(b, o, 0x0028, 0x0010, rows);
	o = put_us(b, o, 0x0028, 0x0011, cols);
	o = put_us(b, o, 0x0028, 0x0100, 16);
	o = put_us(b, o, 0x0028, 0x0101, 12);
	o = put_us(b, o, 0x0028, 0x0102, 11);
	o = put_us(b, o, 0x0028, 0x0103, 1);
	o = put_el(b, o, 0x0028, 0x1052, "-1024 ", 6);
	o = put_el(b, o, 0x0028, 0x1053, "2 ", 2);
	o = put_el(b, o, 0x7fe0, 0x0010, NULL, pixlen);
	memset(b + o, 0, pixlen);
	memcpy(b + o, px, pixlen < sizeof(px) ? pixlen : sizeof(px));
	return o + pixlen;
}

/* A 2-column slice. */
static size_t
synth_ct(unsigned char *b, unsigned rows, uint32_t pixlen)
{
	return synth_img(b, rows, 2, pixlen);
}

/* Append an explicit VR little endian element. */
static size_t
put_ex(unsigned char *b, size_t o, unsigned g, unsigned e, const char *vr,
    const void *v, uint32_t len)
{
	int	 longvr = strcmp(vr, "OB") == 0 || strcmp(vr, "OW") == 0 ||
		    strcmp(vr, "SQ") == 0 || strcmp(vr, "UN") == 0;

	b[o++] = g & 0xff;
	b[o++] = g >> 8;
	b[o++] = e & 0xff;
	b[o++] = e >> 8;
	b[o++] = (unsigned char)vr[0];
	b[o++] = (unsigned char)vr[1];
	if (longvr) {
		b[o++] = 0;
		b[o++] = 0;
		b[o++] = len & 0xff;
		b[o++] = (len >> 8) & 0xff;
		b[o++] = (len >> 16) & 0xff;
		b[o++] = len >> 24;
	} else {
		b[o++] = len & 0xff;
		b[o++] = (len >> 8) & 0xff;
	}
	if (v != NULL && len != 0xffffffffU) {
		memcpy(b + o, v, len);
		o += len;
	}
	return o;
}

/* Preamble and meta header of a CT image in transfer syntax ts. */
static size_t
put_meta(unsigned char *b, const char *ts)
{
	unsigned char	 ver[2] = { 0, 1 }, gl[4];
	size_t		 o = 132, start, n;
	char		 t[66];

	memset(b, 0, 128);
	memcpy(b + 128, "DICM", 4);
	o = put_ex(b, o, 0x0002, 0x0000, "UL", "\0\0\0\0", 4);
	start = o;
	o = put_ex(b, o, 0x0002, 0x0001, "OB", ver, 2);
	o = put_ex(b, o, 0x0002, 0x0002, "UI", "1.2.840.10008.5.1.4.1.1.2", 26);
	o = put_ex(b, o, 0x0002, 0x0003, "UI", "1.2.3.4.5.6.7.8.9", 18);
	n = strlen(ts);
	memcpy(t, ts, n);
	if (n & 1)
		t[n++] = '\0';
	o = put_ex(b, o, 0x0002, 0x0010, "UI", t, (uint32_t)n);
	n = o - start;
	gl[0] = n & 0xff;
	gl[1] = (n >> 8) & 0xff;
	gl[2] = gl[3] = 0;
	memcpy(b + start - 4, gl, 4);
	return o;
}

/* The dataset of an explicit VR CT image of rows x cols x frames with an
 * OW Pixel Data header of pixlen bytes (the bytes themselves not
 * written). */
static size_t
put_ct_head(unsigned char *b, size_t o, unsigned rows, unsigned cols,
    const char *frames, uint32_t pixlen)
{
	unsigned char	 us[2];

	o = put_ex(b, o, 0x0008, 0x0016, "UI", "1.2.840.10008.5.1.4.1.1.2", 26);
	o = put_ex(b, o, 0x0008, 0x0018, "UI", "1.2.3.4.5.6.7.8.9", 18);
	o = put_ex(b, o, 0x0008, 0x0060, "CS", "CT", 2);
	o = put_ex(b, o, 0x0020, 0x000d, "UI", "1.2.3.4.5.6.7.1", 16);
	o = put_ex(b, o, 0x0020, 0x000e, "UI", "1.2.3.4.5.6.7.2", 16);
	us[0] = 1, us[1] = 0;
	o = put_ex(b, o, 0x0028, 0x0002, "US", us, 2);
	o = put_ex(b, o, 0x0028, 0x0004, "CS", "MONOCHROME2 ", 12);
	if (frames != NULL)
		o = put_ex(b, o, 0x0028, 0x0008, "IS", frames,
		    (uint32_t)strlen(frames));
	us[0] = rows & 0xff, us[1] = rows >> 8;
	o = put_ex(b, o, 0x0028, 0x0010, "US", us, 2);
	us[0] = cols & 0xff, us[1] = cols >> 8;
	o = put_ex(b, o, 0x0028, 0x0011, "US", us, 2);
	us[0] = 16, us[1] = 0;
	o = put_ex(b, o, 0x0028, 0x0100, "US", us, 2);
	us[0] = 12;
	o = put_ex(b, o, 0x0028, 0x0101, "US", us, 2);
	us[0] = 11;
	o = put_ex(b, o, 0x0028, 0x0102, "US", us, 2);
	us[0] = 0;
	o = put_ex(b, o, 0x0028, 0x0103, "US", us, 2);
	return put_ex(b, o, 0x7fe0, 0x0010, "OW", NULL, pixlen);
}

/*
 * A Deflated Explicit VR Little Endian CT image whose pixel data is
 * zeros bytes of zeros, deflated as it is written (so that a bomb costs
 * the test no memory).  Returns the file image (free it) and its size.
 */
static unsigned char *
synth_deflated(unsigned long long zeros, size_t *len)
{
	static unsigned char	 zero[1 << 20];
	unsigned char		 head[1024], *out;
	z_stream		 z;
	size_t			 cap, o, n;
	unsigned long long	 left = zeros;
	int			 zr;

	o = put_meta(head, "1.2.840.10008.1.2.1.99");
	n = put_ct_head(head, o, 16384, (unsigned)(zeros / 2 / 16384 ?
	    zeros / 2 / 16384 : 1), NULL, (uint32_t)(zeros > UINT32_MAX - 1 ?
	    UINT32_MAX - 1 : zeros));
	cap = o + zeros / 1000 + (1 << 16);
	assert_non_null(out = malloc(cap));
	memcpy(out, head, o);
	memset(&z, 0, sizeof(z));
	assert_int_equal(deflateInit2(&z, 9, Z_DEFLATED, -MAX_WBITS, 9,
	    Z_RLE), Z_OK);
	z.next_out = out + o;
	z.avail_out = (uInt)(cap - o);
	z.next_in = head + o;
	z.avail_in = (uInt)(n - o);
	assert_int_equal(deflate(&z, Z_NO_FLUSH), Z_OK);
	while (left > 0) {
		z.next_in = zero;
		z.avail_in = left < sizeof(zero) ? (uInt)left : sizeof(zero);
		left -= z.avail_in;
		assert_int_equal(deflate(&z, Z_NO_FLUSH), Z_OK);
		assert_int_equal(z.avail_in, 0);
	}
	do
		zr = deflate(&z, Z_FINISH);
	while (zr == Z_OK);
	assert_int_equal(zr, Z_STREAM_END);
	*len = cap - z.avail_out;
	deflateEnd(&z);
	return out;
}

static void
test_ts_name(void **state)
{
	(void)state;
	assert_string_equal(dcm_ts_name("1.2.840.10008.1.2.4.90"),
	    "JPEG 2000 lossless");
	assert_string_equal(dcm_ts_name("1.2.840.10008.1.2"),
	    "implicit VR little endian");
	assert_string_equal(dcm_ts_name("9.9"), "unknown");
	assert_string_equal(dcm_ts_name(NULL), "unknown");
}

static void
test_synthetic(void **state)
{
	unsigned char	 b[1024];
	struct dcm_info	 in;
	char		 err[256];
	float		*px;
	size_t		 n;

	(void)state;
	n = synth_ct(b, 2, 8);
	assert_int_equal(dcm_read_info_mem(b, n, NULL, &in, err,
	    sizeof(err)), 0);
	assert_string_equal(in.modality, "CT");
	assert_string_equal(in.photometric, "MONOCHROME2");
	assert_string_equal(in.transfer_syntax, "");
	assert_int_equal(in.rows, 2);
	assert_int_equal(in.frames, 1);
	assert_true(isnan(in.kvp));
	assert_true(in.rescale_slope == 2 && in.rescale_intercept == -1024);
	assert_int_equal(dcm_read_frame_mem(b, n, NULL, 0, &px, NULL, err,
	    sizeof(err)), 0);
	/* 0x005 -> 5; 0x800 -> -2048; 0x7ff -> 2047; 0xfff -> -1. */
	assert_true(px[0] == 5 * 2 - 1024);
	assert_true(px[1] == -2048 * 2 - 1024);
	assert_true(px[2] == 2047 * 2 - 1024);
	assert_true(px[3] == -1 * 2 - 1024);
	free(px);

	/* Rows say 3 but the pixel data holds 2 rows. */
	n = synth_ct(b, 3, 8);
	assert_int_equal(dcm_read_frame_mem(b, n, NULL, 0, &px, NULL, err,
	    sizeof(err)), -1);
	assert_null(px);
	printf("rows past the data: %s\n", err);
	assert_non_null(strstr(err, "Pixel Data holds"));

	/* Frame out of range. */
	n = synth_ct(b, 2, 8);
	assert_int_equal(dcm_read_frame_mem(b, n, NULL, 1, &px, NULL, err,
	    sizeof(err)), -1);

	/* A length past the end of the data. */
	n = synth_ct(b, 2, 8);
	b[n - 8 - 4 + 2] = 0x10;	/* pixel data length 0x100008 */
	assert_int_equal(dcm_read_info_mem(b, n, NULL, &in, err,
	    sizeof(err)), -1);
	printf("length past the end: %s\n", err);
	assert_non_null(strstr(err, "past the end"));
}

/*
 * An explicit VR 2 x 2 film of 16-bit pixels px (signed when sgnd) with
 * one LUT Sequence (0028,seq: 3000 Modality, 3010 VOI) of nitems equal
 * items: LUT Descriptor entries\first\bits, count words of LUT Data.
 */
static size_t
synth_lut(unsigned char *b, int sgnd, const int16_t *px, unsigned seq,
    int nitems, unsigned entries, int first, unsigned bits,
    const uint16_t *data, uint32_t count)
{
	unsigned char	 us[2], desc[6], item[512];
	size_t		 o, io = 0;
	uint32_t	 ilen;
	int		 i;

	o = put_meta(b, "1.2.840.10008.1.2.1");
	o = put_ex(b, o, 0x0008, 0x0060, "CS", "DX", 2);
	us[0] = 1, us[1] = 0;
	o = put_ex(b, o, 0x0028, 0x0002, "US", us, 2);
	o = put_ex(b, o, 0x0028, 0x0004, "CS", "MONOCHROME2 ", 12);
	us[0] = 2;
	o = put_ex(b, o, 0x0028, 0x0010, "US", us, 2);
	o = put_ex(b, o, 0x0028, 0x0011, "US", us, 2);
	us[0] = 16;
	o = put_ex(b, o, 0x0028, 0x0100, "US", us, 2);
	o = put_ex(b, o, 0x0028, 0x0101, "US", us, 2);
	us[0] = 15;
	o = put_ex(b, o, 0x0028, 0x0102, "US", us, 2);
	us[0] = sgnd ? 1 : 0;
	o = put_ex(b, o, 0x0028, 0x0103, "US", us, 2);
	desc[0] = entries & 0xff, desc[1] = (entries >> 8) & 0xff;
	desc[2] = (unsigned)first & 0xff, desc[3] = ((unsigned)first >> 8) &
	    0xff;
	desc[4] = bits & 0xff, desc[5] = 0;
	io = put_ex(item, io, 0x0028, 0x3002, "US", desc, 6);
	io = put_ex(item, io, 0x0028, 0x3006, "OW", NULL, count * 2);
	for (i = 0; i < (int)count; i++) {
		item[io++] = data[i] & 0xff;
		item[io++] = data[i] >> 8;
	}
	ilen = (uint32_t)io;
	o = put_ex(b, o, 0x0028, seq, "SQ", NULL, (uint32_t)(nitems *
	    (8 + ilen)));
	for (i = 0; i < nitems; i++) {
		o = put_us(b, o, 0xfffe, 0xe000, 0) - 2;
		b[o - 4] = ilen & 0xff, b[o - 3] = (ilen >> 8) & 0xff;
		b[o - 2] = (ilen >> 16) & 0xff, b[o - 1] = ilen >> 24;
		memcpy(b + o, item, ilen);
		o += ilen;
	}
	o = put_ex(b, o, 0x7fe0, 0x0010, "OW", NULL, 8);
	for (i = 0; i < 4; i++) {
		b[o++] = (uint16_t)px[i] & 0xff;
		b[o++] = (uint16_t)px[i] >> 8;
	}
	return o;
}

/*
 * Modality and VOI LUT Sequences (PS3.3 C.11.1.1.1, C.11.2.1.1), the
 * expected values worked out by hand: the first value mapped signed or
 * unsigned with the pixels, values outside the table taking its ends,
 * 8-bit entries two to a word, 12 and 16 bits; and a descriptor that
 * lies about the data's length, an empty LUT Data, entries of an
 * unsupported size: each a clear refusal.
 */
static void
test_lut_sequences(void **state)
{
	static const uint16_t	 d16[4] = { 100, 200, 300, 400 };
	static const uint16_t	 d8[2] = { 0x2010, 0x4030 };
	static const uint16_t	 d12[3] = { 0, 2048, 4095 };
	static const int16_t	 pu[4] = { 5, 10, 12, 20 };
	static const int16_t	 ps[4] = { -3, -2, 0, 5 };
	unsigned char		 b[2048];
	struct dcm_info		 in;
	struct dcm_lut_table	 t;
	char			 err[256];
	float			*px;
	size_t			 n;

	(void)state;
	/* Unsigned pixels, 16-bit entries from stored value 10: 5 is
	 * below (first entry), 12 the third, 20 above (last entry). */
	n = synth_lut(b, 0, pu, 0x3000, 1, 4, 10, 16, d16, 4);
	assert_int_equal(dcm_read_frame_mem(b, n, NULL, 0, &px, &in, err,
	    sizeof(err)), 0);
	assert_int_equal(in.has_modality_lut, 1);
	assert_true(px[0] == 100 && px[1] == 100 && px[2] == 300 &&
	    px[3] == 400);
	free(px);
	/* Signed pixels, the first value mapped -2 (0xfffe read signed),
	 * 8-bit entries packed 0x10 0x20 0x30 0x40. */
	n = synth_lut(b, 1, ps, 0x3000, 1, 4, -2, 8, d8, 2);
	assert_int_equal(dcm_read_frame_mem(b, n, NULL, 0, &px, NULL, err,
	    sizeof(err)), 0);
	assert_true(px[0] == 0x10 && px[1] == 0x10 && px[2] == 0x30 &&
	    px[3] == 0x40);
	free(px);
	/* The same first value for unsigned pixels is 65534. */
	n = synth_lut(b, 0, pu, 0x3000, 1, 4, -2, 8, d8, 2);
	assert_int_equal(dcm_read_frame_mem(b, n, NULL, 0, &px, NULL, err,
	    sizeof(err)), 0);
	assert_true(px[0] == 0x10 && px[3] == 0x10);
	free(px);

	/* A VOI LUT of 12-bit entries, two items: counted, each read. */
	n = synth_lut(b, 0, pu, 0x3010, 2, 3, 9, 12, d12, 3);
	assert_int_equal(dcm_read_info_mem(b, n, NULL, &in, err,
	    sizeof(err)), 0);
	assert_int_equal(in.voi_luts, 2);
	assert_int_equal(in.has_modality_lut, 0);
	assert_int_equal(dcm_read_voi_lut_mem(b, n, NULL, 1, &t, err,
	    sizeof(err)), 0);
	assert_int_equal(t.n, 3);
	assert_int_equal(t.first, 9);
	assert_int_equal(t.bits, 12);
	assert_true(t.v[0] == 0 && t.v[1] == 2048 && t.v[2] == 4095);
	dcm_lut_table_free(&t);
	assert_null(t.v);
	assert_int_equal(dcm_read_voi_lut_mem(b, n, NULL, 2, &t, err,
	    sizeof(err)), -1);
	assert_non_null(strstr(err, "no item 2"));
	/* The VOI LUT leaves the modality values alone. */
	assert_int_equal(dcm_read_frame_mem(b, n, NULL, 0, &px, NULL, err,
	    sizeof(err)), 0);
	assert_true(px[0] == 5 && px[3] == 20);
	free(px);

	/* Lies and holes. */
	n = synth_lut(b, 0, pu, 0x3000, 1, 8, 0, 16, d16, 4);
	assert_int_equal(dcm_read_frame_mem(b, n, NULL, 0, &px, NULL, err,
	    sizeof(err)), -1);
	assert_null(px);
	printf("modality LUT that lies: %s\n", err);
	assert_non_null(strstr(err, "announces 8"));
	n = synth_lut(b, 0, pu, 0x3000, 1, 0, 0, 16, d16, 4);
	assert_int_equal(dcm_read_frame_mem(b, n, NULL, 0, &px, NULL, err,
	    sizeof(err)), -1);
	assert_non_null(strstr(err, "announces 65536"));
	n = synth_lut(b, 0, pu, 0x3000, 1, 4, 0, 16, d16, 0);
	assert_int_equal(dcm_read_frame_mem(b, n, NULL, 0, &px, NULL, err,
	    sizeof(err)), -1);
	printf("empty modality LUT Data: %s\n", err);
	assert_non_null(strstr(err, "no LUT Data"));
	n = synth_lut(b, 0, pu, 0x3010, 1, 3, 0, 12, d12, 2);
	assert_int_equal(dcm_read_voi_lut_mem(b, n, NULL, 0, &t, err,
	    sizeof(err)), -1);
	assert_null(t.v);
	printf("VOI LUT that lies: %s\n", err);
	assert_non_null(strstr(err, "VOI LUT Data holds 2"));
	n = synth_lut(b, 0, pu, 0x3010, 1, 3, 0, 12, d12, 0);
	assert_int_equal(dcm_read_voi_lut_mem(b, n, NULL, 0, &t, err,
	    sizeof(err)), -1);
	assert_non_null(strstr(err, "no LUT Data"));
	n = synth_lut(b, 0, pu, 0x3010, 1, 3, 0, 20, d12, 3);
	assert_int_equal(dcm_read_voi_lut_mem(b, n, NULL, 0, &t, err,
	    sizeof(err)), -1);
	assert_non_null(strstr(err, "20 bits"));
}

/* Peak resident size of this process, in bytes. */
static long long
peak_rss(void)
{
	struct rusage	 ru;

	if (getrusage(RUSAGE_SELF, &ru) == -1)
		return -1;
	return (long long)ru.ru_maxrss * 1024;
}

static double
now_s(void)
{
	struct timespec	 t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/*
 * A deflate bomb: a file of about 1 MB whose dataset inflates to 1 GiB.
 * It must be refused fast and without its output ever being held: the
 * reader runs in a child process, whose peak resident size (ru_maxrss
 * starts at the size at fork) must grow by far less than what the bomb
 * inflates to.
 */
static void
test_deflate_bomb(void **state)
{
	unsigned char	*bomb;
	struct dcm_info	 in;
	char		 path[] = "/tmp/zhiying-bomb-XXXXXX", err[256],
			 line[512];
	long long	 before, after;
	double		 t0, secs;
	size_t		 len;
	ssize_t		 n;
	int		 fd, pfd[2], wst;
	pid_t		 pid;

	(void)state;
	bomb = synth_deflated(1ULL << 30, &len);
	printf("deflate bomb: %zu bytes inflating to %llu\n", len, 1ULL << 30);
	assert_true(len < (2u << 20));
	assert_true((fd = mkstemp(path)) != -1);
	assert_true(write(fd, bomb, len) == (ssize_t)len);
	close(fd);
	free(bomb);
	assert_int_equal(pipe(pfd), 0);
	fflush(stdout);
	if ((pid = fork()) == 0) {
		close(pfd[0]);
		before = peak_rss();
		t0 = now_s();
		n = dcm_read_info(path, NULL, &in, err, sizeof(err));
		secs = now_s() - t0;
		after = peak_rss();
		(void)dprintf(pfd[1], "%zd %.3f %lld %s", n, secs,
		    after - before, err);
		_exit(0);
	}
	assert_true(pid > 0);
	close(pfd[1]);
	n = read(pfd[0], line, sizeof(line) - 1);
	close(pfd[0]);
	assert_true(waitpid(pid, &wst, 0) == pid);
	unlink(path);
	assert_true(n > 0);
	line[n] = '\0';
	{
		long long	 grew;
		int		 rc, off = 0;

		assert_int_equal(sscanf(line, "%d %lf %lld %n", &rc, &secs,
		    &grew, &off), 3);
		printf("deflate bomb refused in %.3f s, peak RSS grew by %lld"
		    " kB: %s\n", secs, grew / 1024, line + off);
		assert_int_equal(rc, -1);
		assert_non_null(strstr(line + off, "inflates past the limit"));
		/* Wide: a busy 2-core machine.  Inflating 1 GiB and
		 * parsing it took 34 s before. */
		assert_true(secs < 20);
		assert_true(grew < (64LL << 20));
	}
}

/* The limits on inflation: ratio past DCM_INFLATE_FREE, absolute size,
 * both settable; real deflated files still load. */
static void
test_deflate_limits(void **state)
{
	struct dcm_limits lim = { 0, 0, 0, 0, 0 };
	struct dcm_info	 in;
	unsigned char	*b;
	const char	*d;
	char		 err[256], p[4096];
	float		*px;
	size_t		 len;

	(void)state;
	/* 1 MiB of zeros, a thousand to one: under the free size. */
	b = synth_deflated(1 << 20, &len);
	assert_int_equal(dcm_read_info_mem(b, len, NULL, &in, err,
	    sizeof(err)), 0);
	assert_int_equal(in.rows, 16384);
	free(b);
	/* 24 MiB at a thousand to one: past 200:1. */
	b = synth_deflated(24 << 20, &len);
	assert_int_equal(dcm_read_info_mem(b, len, NULL, &in, err,
	    sizeof(err)), -1);
	printf("24 MiB of zeros in %zu bytes: %s\n", len, err);
	assert_non_null(strstr(err, "inflates past the limit"));
	/* A site that allows the ratio reads it... */
	lim.inflate_ratio = 1100;
	assert_int_equal(dcm_read_info_mem(b, len, &lim, &in, err,
	    sizeof(err)), 0);
	assert_true(in.pixel_bytes == (24u << 20));
	/* ...unless past its absolute limit. */
	lim.max_inflated = 16 << 20;
	assert_int_equal(dcm_read_info_mem(b, len, &lim, &in, err,
	    sizeof(err)), -1);
	assert_non_null(strstr(err, "limit of 16777216 bytes"));
	free(b);

	NEED_DATA(d);
	path_of(p, sizeof(p), d, "edge/pydicom/image_dfl.dcm");
	assert_int_equal(dcm_read_frame(p, NULL, 0, &px, &in, err,
	    sizeof(err)), 0);
	free(px);
	assert_string_equal(in.transfer_syntax, "1.2.840.10008.1.2.1.99");
	assert_int_equal(dcm_check_pixels(&in, NULL, err, sizeof(err)), 0);
}

/* The pixel data must hold what the header declares. */
static void
test_pixel_check(void **state)
{
	static unsigned char	 b[1 << 16];
	struct dcm_info		 in;
	char			 err[256];
	size_t			 n, o;
	unsigned char		 item[8];

	(void)state;
	n = synth_ct(b, 2, 8);
	assert_int_equal(dcm_read_info_mem(b, n, NULL, &in, err,
	    sizeof(err)), 0);
	assert_true(in.pixel_bytes == 8);
	assert_int_equal(dcm_check_pixels(&in, NULL, err, sizeof(err)), 0);
	/* Rows say 3; the data holds 2. */
	n = synth_ct(b, 3, 8);
	assert_int_equal(dcm_read_info_mem(b, n, NULL, &in, err,
	    sizeof(err)), 0);
	assert_int_equal(dcm_check_pixels(&in, NULL, err, sizeof(err)), -1);
	printf("short: %s\n", err);
	assert_non_null(strstr(err, "Pixel Data holds 8 bytes"));
	/* 65535 x 65535 with a few kB of pixels (the review's file). */
	n = synth_img(b, 65535, 65535, 32768);
	assert_int_equal(dcm_read_info_mem(b, n, NULL, &in, err,
	    sizeof(err)), 0);
	assert_int_equal(dcm_check_pixels(&in, NULL, err, sizeof(err)), -1);
	printf("huge: %s\n", err);
	assert_non_null(strstr(err, "larger than"));
	/* Within the pixel limit, but the data is short. */
	n = synth_img(b, 4096, 4096, 32768);
	assert_int_equal(dcm_read_info_mem(b, n, NULL, &in, err,
	    sizeof(err)), 0);
	assert_int_equal(dcm_check_pixels(&in, NULL, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "need 33554432"));

	/* Encapsulated: one fragment for two frames is refused, one for
	 * one frame is not (the check reads no fragment). */
	memset(item, 0, sizeof(item));
	for (n = 1; n <= 2; n++) {
		o = put_meta(b, "1.2.840.10008.1.2.4.50");
		o = put_ct_head(b, o, 64, 64, n == 1 ? "1 " : "2 ",
		    0xffffffffU);
		b[o - 6] = 'O', b[o - 5] = 'B';
		o = put_el(b, o, 0xfffe, 0xe000, NULL, 0);
		o = put_el(b, o, 0xfffe, 0xe000, item, sizeof(item));
		o = put_el(b, o, 0xfffe, 0xe0dd, NULL, 0);
		assert_int_equal(dcm_read_info_mem(b, o, NULL, &in, err,
		    sizeof(err)), 0);
		assert_int_equal(in.compressed, 1);
		assert_int_equal(in.fragments, 1);
		assert_int_equal(in.frames, (int)n);
		assert_int_equal(dcm_check_pixels(&in, NULL, err,
		    sizeof(err)), n == 1 ? 0 : -1);
	}
	printf("encapsulated: %s\n", err);
	assert_non_null(strstr(err, "1 fragment(s) for 2 frame(s)"));
}

static void
test_garbage(void **state)
{
	unsigned char	 b[8192];
	struct dcm_info	 in;
	struct dcm_limits lim = { 0, 0, 0, 0, 0 };
	char		 err[256];
	size_t		 o, i;

	(void)state;
	memset(b, 0, sizeof(b));
	assert_int_equal(dcm_read_info_mem(b, 0, NULL, &in, err,
	    sizeof(err)), -1);
	assert_true(err[0] != '\0');
	memset(b, 'A', 300);
	assert_int_equal(dcm_read_info_mem(b, 300, NULL, &in, err,
	    sizeof(err)), -1);
	printf("text: %s\n", err);
	assert_true(err[0] != '\0');
	assert_int_equal(dcm_read_info("/nonexistent/x.dcm", NULL, &in, err,
	    sizeof(err)), -1);
	assert_non_null(strstr(err, "cannot open"));

	/* 40 nested undefined-length sequences (0008,1115). */
	o = 0;
	for (i = 0; i < 40; i++) {
		o = put_el(b, o, 0x0008, 0x1115, NULL, 0xffffffffU);
		o = put_el(b, o, 0xfffe, 0xe000, NULL, 0xffffffffU);
	}
	o = put_el(b, o, 0x0008, 0x0060, "CT", 2);
	for (i = 0; i < 40; i++) {
		o = put_el(b, o, 0xfffe, 0xe00d, NULL, 0);
		o = put_el(b, o, 0xfffe, 0xe0dd, NULL, 0);
	}
	assert_int_equal(dcm_read_info_mem(b, o, NULL, &in, err,
	    sizeof(err)), -1);
	printf("nested: %s\n", err);
	assert_non_null(strstr(err, "nested deeper than 16"));
	lim.max_depth = 50;
	assert_int_equal(dcm_read_info_mem(b, o, &lim, &in, err,
	    sizeof(err)), 0);
	lim.max_depth = 0;
	lim.max_file = 100;
	assert_int_equal(dcm_read_info_mem(b, o, &lim, &in, err,
	    sizeof(err)), -1);
	assert_non_null(strstr(err, "over the limit"));
}

static void
test_lidc(void **state)
{
	const char	*d, *rel = "ct/LIDC-IDRI-0002/"
	    "1.3.6.1.4.1.14519.5.2.1.6279.6001.490157381160200744295382098329/"
	    "1.3.6.1.4.1.14519.5.2.1.6279.6001.619372068417051974713149104919/"
	    "000100.dcm";
	char		 p[4096], err[256];
	struct dcm_info	 in, in2;
	unsigned char	*b;
	size_t		 len, off, k;
	float		*px;
	int		 r, c, expl, air;
	double		 hu;

	NEED_DATA(d);
	path_of(p, sizeof(p), d, rel);
	assert_int_equal(dcm_read_info(p, NULL, &in, err, sizeof(err)), 0);
	assert_string_equal(in.modality, "CT");
	assert_int_equal(in.rows, 512);
	assert_int_equal(in.cols, 512);
	assert_int_equal(in.pixel_spacing_source, DCM_SPACING_PIXEL);
	assert_true(fabs(in.pixel_spacing[0] - 0.682) < 0.001);
	assert_true(fabs(in.pixel_spacing[1] - 0.682) < 0.001);
	assert_true(fabs(in.slice_thickness - 1.25) < 1e-6);
	assert_true(fabs(in.kvp - 120) < 1e-6);
	assert_string_equal(in.kernel, "STANDARD");
	/* Patient Position (0018,5100): the nodule reader's gravity. */
	assert_string_equal(in.patient_position, "FFS");
	assert_non_null(strstr(in.manufacturer, "GE"));
	assert_true(in.has_ipp && in.has_iop);
	assert_true(fabs(in.iop[0] - 1) < 1e-6 && fabs(in.iop[4] - 1) < 1e-6);
	assert_int_equal(in.frames, 1);
	assert_int_equal(in.has_pixels, 1);
	printf("LIDC: %s %s %dx%d slope %g intercept %g z %g TS %s\n",
	    in.manufacturer, in.model, in.cols, in.rows, in.rescale_slope,
	    in.rescale_intercept, in.ipp[2], dcm_ts_name(in.transfer_syntax));

	assert_int_equal(dcm_read_frame(p, NULL, 0, &px, &in2, err,
	    sizeof(err)), 0);
	assert_string_equal(in2.sop_instance_uid, in.sop_instance_uid);
	/* Air beside the body, on the left and right of the middle row. */
	/* Air in front of the chest: the top rows of the middle column. */
	air = 0;
	for (r = 0; r < 40; r++) {
		hu = px[r * 512 + 256];
		if (hu > -1100 && hu < -900)
			air++;
	}
	printf("LIDC: HU at (10,256) %g, (256,256) %g; %d/40 air pixels\n",
	    px[10 * 512 + 256], px[256 * 512 + 256], air);
	assert_true(air > 35);

	/* The same pixels from the raw bytes: the last (7FE0,0010). */
	assert_non_null(b = slurp(p, &len));
	off = 0;
	for (k = len - 8; k > 0; k--)
		if (memcmp(b + k, "\xe0\x7f\x10\x00", 4) == 0) {
			off = k;
			break;
		}
	assert_true(off > 0);
	expl = memcmp(b + off + 4, "OW", 2) == 0 ||
	    memcmp(b + off + 4, "OB", 2) == 0;
	off += expl ? 12 : 8;
	assert_int_equal(len - off, (size_t)512 * 512 * 2);
	for (r = 0; r < 512; r += 73)
		for (c = 0; c < 512; c += 91) {
			k = off + 2 * ((size_t)r * 512 + (size_t)c);
			int raw = in.pixel_representation ?
			    (int)(int16_t)(b[k] | b[k + 1] << 8) :
			    (int)(b[k] | b[k + 1] << 8);
			hu = raw * in.rescale_slope + in.rescale_intercept;
			assert_true(fabs(px[r * 512 + c] - hu) < 1e-3);
		}
	free(b);
	free(px);
}

struct cmpstat {
	double	 maxerr, meanerr, range;
	long	 diff;
};

static int
compare_files(const char *a, const char *ref, struct cmpstat *s,
    char *err, size_t errlen)
{
	struct dcm_info	 ia, ir;
	float		*pa = NULL, *pr = NULL, lo, hi;
	size_t		 i, n;
	double		 sum = 0, e;
	int		 f, rc = -1;

	memset(s, 0, sizeof(*s));
	if (dcm_read_info(ref, NULL, &ir, err, errlen) == -1 ||
	    dcm_read_info(a, NULL, &ia, err, errlen) == -1)
		return -1;
	if (ia.rows != ir.rows || ia.cols != ir.cols ||
	    ia.frames != ir.frames) {
		snprintf(err, errlen, "geometry differs");
		return -1;
	}
	n = (size_t)ir.rows * (size_t)ir.cols;
	for (f = 0; f < ir.frames; f++) {
		if (dcm_read_frame(ref, NULL, f, &pr, NULL, err, errlen) ==
		    -1 || dcm_read_frame(a, NULL, f, &pa, NULL, err, errlen) ==
		    -1)
			goto done;
		lo = hi = pr[0];
		for (i = 0; i < n; i++) {
			if (pr[i] < lo)
				lo = pr[i];
			if (pr[i] > hi)
				hi = pr[i];
			e = fabs((double)pa[i] - (double)pr[i]);
			if (e > 0)
				s->diff++;
			if (e > s->maxerr)
				s->maxerr = e;
			sum += e;
		}
		s->range = hi - lo;
		free(pa);
		free(pr);
		pa = pr = NULL;
	}
	s->meanerr = sum / ((double)n * ir.frames);
	rc = 0;
done:
	free(pa);
	free(pr);
	return rc;
}

static void
test_wg04(void **state)
{
	static const char *codec[] = {
		"J2KR", "JLSL", "JPLL", "RLE", "J2KI", "JLSN", "JPLY"
	};
	static const char *img[] = { "CT1", "CT2", "RG1", "RG2", "RG3" };
	const char	*d;
	char		 a[4096], r[4096], rel[256], err[256];
	struct cmpstat	 s;
	struct stat	 st;
	size_t		 ci, ii;
	int		 lossless, n = 0;

	NEED_DATA(d);
	for (ci = 0; ci < sizeof(codec) / sizeof(codec[0]); ci++) {
		lossless = ci < 4;
		for (ii = 0; ii < sizeof(img) / sizeof(img[0]); ii++) {
			snprintf(rel, sizeof(rel), "edge/nema-wg04/%s/%s_%s",
			    codec[ci], img[ii], codec[ci]);
			path_of(a, sizeof(a), d, rel);
			snprintf(rel, sizeof(rel), "edge/nema-wg04/REF/%s_UNC",
			    img[ii]);
			path_of(r, sizeof(r), d, rel);
			if (stat(a, &st) == -1 || stat(r, &st) == -1)
				continue;
			if (compare_files(a, r, &s, err, sizeof(err)) == -1) {
				printf("WG04 %s_%s: FAILED: %s\n", img[ii],
				    codec[ci], err);
				fail();
			}
			printf("WG04 %s_%s vs REF: %s, max abs err %g, mean "
			    "abs err %.4f, %ld pixels differ, range %g\n",
			    img[ii], codec[ci], lossless ? "lossless" :
			    "lossy", s.maxerr, s.meanerr, s.diff, s.range);
			if (lossless)
				assert_true(s.maxerr == 0);
			else
				assert_true(s.meanerr < 0.01 * s.range);
			/* The JLSN codestreams say NEAR = 4 (SOS marker). */
			if (strcmp(codec[ci], "JLSN") == 0)
				assert_true(s.maxerr <= 4);
			n++;
		}
	}
	assert_true(n >= 20);
}

/* Files that hold the same pixels in other encodings. */
static void
test_same_pixels(void **state)
{
	static const char *pairs[][2] = {
		{ "pydicom/MR_small.dcm", "pydicom/MR_small_bigendian.dcm" },
		{ "pydicom/MR_small.dcm", "pydicom/MR_small_expb.dcm" },
		{ "pydicom/MR_small.dcm", "pydicom/MR_small_implicit.dcm" },
		{ "pydicom/MR_small.dcm", "pydicom/MR_small_RLE.dcm" },
		{ "pydicom/MR_small.dcm", "pydicom/MR_small_jp2klossless.dcm" },
		{ "pydicom/MR_small.dcm",
		    "pydicom/MR_small_jpeg_ls_lossless.dcm" },
		{ "pydicom/rtdose.dcm", "pydicom/rtdose_expb.dcm" },
		{ "pydicom/rtdose.dcm", "pydicom/rtdose_rle.dcm" },
		{ "pydicom/SC_rgb_small_odd.dcm",
		    "pydicom/SC_rgb_small_odd_big_endian.dcm" },
		{ "nema-wg04/REF/CT1_UNC", "fo-dicom/D_CLUNIE_CT1_RLE_FRAGS.dcm" },
		{ "nema-wg04/REF/CT1_UNC", "fo-dicom/GH177_D_CLUNIE_CT1_IVRLE_"
		    "BigEndian_undefined_length.dcm" },
	};
	const char	*d;
	char		 a[4096], b[4096], rel[512], err[512];
	struct cmpstat	 cs;
	size_t		 i;

	NEED_DATA(d);
	for (i = 0; i < sizeof(pairs) / sizeof(pairs[0]); i++) {
		snprintf(rel, sizeof(rel), "edge/%s", pairs[i][0]);
		path_of(a, sizeof(a), d, rel);
		snprintf(rel, sizeof(rel), "edge/%s", pairs[i][1]);
		path_of(b, sizeof(b), d, rel);
		if (compare_files(b, a, &cs, err, sizeof(err)) == -1) {
			printf("same pixels %s: FAILED: %s\n", pairs[i][1], err);
			fail();
		}
		printf("same pixels %s vs %s: max abs err %g\n", pairs[i][1],
		    pairs[i][0], cs.maxerr);
		assert_true(cs.maxerr == 0);
	}
}

struct walk {
	int	 ok, refused, frames;
	char	 reasons[64][200];
	int	 nreason[64];
	int	 kinds;
};

static void
walk_note(struct walk *w, const char *reason)
{
	char	 k[200];
	int	 i;

	/* Group reasons by their text up to a digit or a colon. */
	snprintf(k, sizeof(k), "%.150s", reason);
	k[strcspn(k, "0123456789:(")] = '\0';
	for (i = 0; i < w->kinds; i++)
		if (strcmp(w->reasons[i], k) == 0) {
			w->nreason[i]++;
			return;
		}
	if (w->kinds < 64) {
		memcpy(w->reasons[w->kinds], k, sizeof(k));
		w->nreason[w->kinds++] = 1;
	}
}

static int
skip_name(const char *n)
{
	size_t	 l = strlen(n);

	return n[0] == '.' || strncmp(n, "LICENSE", 7) == 0 ||
	    strncmp(n, "README", 6) == 0 ||
	    (l > 4 && strcmp(n + l - 4, ".txt") == 0);
}

static int	 native16_files;

/*
 * Where dcm_native16() takes a file, its pixels read raw from
 * pixel_offset and mapped through its table are frame 0 as
 * dcm_read_frame() decoded it (px), bit for bit; compressed, deflated
 * and big endian files never get an offset.
 */
static void
check_native16(const char *p, const struct dcm_info *in, const float *px)
{
	unsigned char	*b;
	float		*tab, v;
	size_t		 len, i, npix;

	if (in->compressed || strcmp(in->transfer_syntax,
	    "1.2.840.10008.1.2.2") == 0 || strcmp(in->transfer_syntax,
	    "1.2.840.10008.1.2.1.99") == 0)
		assert_true(in->pixel_offset == 0);
	assert_non_null(tab = malloc(65536 * sizeof(*tab)));
	if (dcm_native16(in, NULL, tab) == -1) {
		free(tab);
		return;
	}
	assert_non_null(b = slurp(p, &len));
	assert_true(len == in->file_size);
	npix = (size_t)in->rows * (size_t)in->cols;
	assert_true(in->pixel_offset + 2 * npix <= len);
	for (i = 0; i < npix; i++) {
		v = tab[b[in->pixel_offset + 2 * i] |
		    (unsigned)b[in->pixel_offset + 2 * i + 1] << 8];
		if (memcmp(&v, &px[i], sizeof(v)) != 0)
			fail_msg("%s: pixel %zu is %g raw, %g decoded", p, i,
			    (double)v, (double)px[i]);
	}
	native16_files++;
	free(b);
	free(tab);
}

/* Header reads that DCMTK parsed from the bytes read, staging nothing;
 * those of them the bounded walk answered alone, without DCMTK. */
static int	 direct_files, walked_files;

/* Load one file: info and every frame; the header read's answer must be
 * the full parse's (of frame 0), byte for byte.  Returns 0 (OK) or -1
 * (refused, reason in err). */
static int
load_all(const char *p, struct dcm_info *in, int *frames, char *err,
    size_t errlen)
{
	struct dcm_counts c0, c1;
	struct dcm_info	 full;
	float		*px;
	int		 f;

	*frames = 0;
	dcm_counts_get(&c0);
	if (dcm_read_info(p, NULL, in, err, errlen) == -1)
		return -1;
	dcm_counts_get(&c1);
	if (c1.staged == c0.staged)
		direct_files++;
	if (c1.walked > c0.walked)
		walked_files++;
	if (!in->has_pixels) {
		if (dcm_read_frame(p, NULL, 0, &px, NULL, err, errlen) != -1)
			return -2;
		return 1;
	}
	for (f = 0; f < in->frames; f++) {
		if (dcm_read_frame(p, NULL, f, &px, f == 0 ? &full : NULL,
		    err, errlen) == -1)
			return -1;
		if (f == 0) {
			if (memcmp(in, &full, sizeof(full)) != 0)
				fail_msg("%s: the header read differs from "
				    "the full parse", p);
			check_native16(p, in, px);
		}
		free(px);
		(*frames)++;
	}
	return 0;
}

/* Files named *.dcm only (a series beside its annotations). */
static int	 walk_dcm_only;

static void
walk_dir(const char *dir, const char *top, struct walk *w)
{
	struct dirent	**ents;
	struct stat	 st;
	struct dcm_info	 in;
	char		 p[4096], err[512];
	int		 i, n, rc, frames;

	if ((n = scandir(dir, &ents, NULL, alphasort)) < 0)
		return;
	for (i = 0; i < n; i++) {
		if (skip_name(ents[i]->d_name)) {
			free(ents[i]);
			continue;
		}
		snprintf(p, sizeof(p), "%s/%s", dir, ents[i]->d_name);
		free(ents[i]);
		if (stat(p, &st) == -1)
			continue;
		if (S_ISDIR(st.st_mode)) {
			walk_dir(p, top, w);
			continue;
		}
		if (walk_dcm_only && (strlen(p) < 4 ||
		    strcmp(p + strlen(p) - 4, ".dcm") != 0))
			continue;
		rc = load_all(p, &in, &frames, err, sizeof(err));
		assert_int_not_equal(rc, -2);
		if (rc == -1) {
			assert_true(err[0] != '\0');
			printf("refused  %s: %s\n", p + strlen(top) + 1, err);
			w->refused++;
			walk_note(w, err);
		} else {
			/* What decodes, the ingest check lets through. */
			if (rc == 0 && dcm_check_pixels(&in, NULL, err,
			    sizeof(err)) == -1)
				fail_msg("%s decodes but fails the pixel "
				    "check: %s", p, err);
			printf("OK       %s: %s %s %dx%d %d frame(s) %s%s\n",
			    p + strlen(top) + 1, in.modality, in.photometric,
			    in.cols, in.rows, in.frames,
			    in.transfer_syntax[0] ? dcm_ts_name(
			    in.transfer_syntax) : "no meta",
			    rc == 1 ? " (no pixel data: frame refused)" : "");
			w->ok++;
			w->frames += frames;
		}
	}
	free(ents);
}

static void
test_edge_corpus(void **state)
{
	const char	*d;
	char		 top[4096], p[4096], err[512];
	struct walk	*w;
	struct dcm_info	 in;
	float		*px;
	int		 i;

	NEED_DATA(d);
	assert_non_null(w = calloc(1, sizeof(*w)));
	path_of(top, sizeof(top), d, "edge");
	printf("== corpus report: %s\n", top);
	walk_dir(top, top, w);
	printf("== %d OK (%d frames decoded), %d refused; reasons:\n",
	    w->ok, w->frames, w->refused);
	for (i = 0; i < w->kinds; i++)
		printf("   %3d  %s\n", w->nreason[i], w->reasons[i]);
	printf("== %d file(s) of native 16-bit grey pixels read raw as "
	    "decoded\n", native16_files);
	printf("== %d header read(s) parsed from the bytes read, nothing "
	    "staged; %d of them by the walk alone\n", direct_files,
	    walked_files);
	assert_true(w->ok > 200);
	assert_true(native16_files > 0);
	assert_true(direct_files > 0);
	free(w);

	path_of(p, sizeof(p), top,
	    "orthanc/2026-05-06-Deeply-Nested-Sequence.dcm");
	assert_int_equal(dcm_read_info(p, NULL, &in, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "nested deeper"));

	path_of(p, sizeof(p), top, "orthanc/2017-06-27-XSSInjection.dcm");
	assert_int_equal(dcm_read_info(p, NULL, &in, err, sizeof(err)), 0);
	assert_string_equal(in.patient_name,
	    "HelloWorld<script>alert(\"XSS inside DICOM file 1\");</script>");
	assert_string_equal(in.study_description,
	    "MyStudy<script>alert(\"XSS inside DICOM file 2\");</script>");

	path_of(p, sizeof(p), top, "pydicom/MR_truncated.dcm");
	assert_int_equal(dcm_read_frame(p, NULL, 0, &px, &in, err,
	    sizeof(err)), -1);
	printf("MR_truncated: %s\n", err);
	path_of(p, sizeof(p), top, "pydicom/rtplan_truncated.dcm");
	assert_int_equal(dcm_read_info(p, NULL, &in, err, sizeof(err)), -1);
	printf("rtplan_truncated: %s\n", err);

	for (i = 0; i < 2; i++) {
		path_of(p, sizeof(p), top, i == 0 ?
		    "orthanc/Issue22-NoPixelData.dcm" :
		    "orthanc/Issue56-NoPixelData.dcm");
		assert_int_equal(dcm_read_info(p, NULL, &in, err,
		    sizeof(err)), 0);
		assert_int_equal(in.has_pixels, 0);
		assert_true(in.sop_instance_uid[0] != '\0');
		assert_int_equal(dcm_read_frame(p, NULL, 0, &px, NULL, err,
		    sizeof(err)), -1);
		assert_string_equal(err, "no pixel data");
	}

	path_of(p, sizeof(p), top, "orthanc/Encodings/DavidClunie/SCSX2");
	assert_int_equal(dcm_read_info(p, NULL, &in, err, sizeof(err)), 0);
	assert_string_equal(in.charset, "GB18030");
	assert_string_equal(in.patient_name,
	    "Wang^XiaoDong=\xe7\x8e\x8b^\xe5\xb0\x8f\xe4\xb8\x9c=");

	path_of(p, sizeof(p), top, "gantry-tilt-ct/01.dcm");
	assert_int_equal(dcm_read_info(p, NULL, &in, err, sizeof(err)), 0);
	assert_true(fabs(in.gantry_tilt - 18.5) < 1e-6);
}

/*
 * The two CT series of the data, every file's header read against the
 * full parse of its frame (load_all()): the loader's commonest input,
 * which the walk must answer alone.
 */
static void
test_ct_series(void **state)
{
	static const char *const dirs[] = { "ct/LIDC-IDRI-0002",
	    "ct/lung-pet-ct-dx" };
	const char	*d;
	char		 top[4096];
	struct walk	*w;
	size_t		 i;
	int		 ok0, walked0;

	NEED_DATA(d);
	assert_non_null(w = calloc(1, sizeof(*w)));
	walk_dcm_only = 1;
	for (i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		path_of(top, sizeof(top), d, dirs[i]);
		ok0 = w->ok;
		walked0 = walked_files;
		walk_dir(top, top, w);
		printf("== %s: %d file(s) read as the full parse reads them, "
		    "%d by the walk alone; %d refused\n", dirs[i],
		    w->ok - ok0, walked_files - walked0, w->refused);
		assert_int_equal(w->refused, 0);
		assert_true(w->ok - ok0 >= 180);
		assert_int_equal(walked_files - walked0, w->ok - ok0);
	}
	walk_dcm_only = 0;
	free(w);
}

static void
test_xray(void **state)
{
	const char	*d;
	char		 p[4096], line[2048], err[512], *f[16], *s;
	FILE		*fp;
	struct dcm_info	 in;
	struct cmpstat	 cs;
	float		*px;
	int		 nf, n = 0, first = 1;

	NEED_DATA(d);
	path_of(p, sizeof(p), d, "xray/CATALOG.tsv");
	assert_non_null(fp = fopen(p, "r"));
	while (fgets(line, sizeof(line), fp) != NULL) {
		line[strcspn(line, "\n")] = '\0';
		for (nf = 0, s = line; nf < 16; nf++) {
			f[nf] = s;
			if ((s = strchr(s, '\t')) == NULL) {
				nf++;
				break;
			}
			*s++ = '\0';
		}
		if (first) {
			first = 0;
			continue;
		}
		assert_true(nf >= 13);
		snprintf(p, sizeof(p), "%s/xray/%s", d, f[0]);
		if (dcm_read_frame(p, NULL, 0, &px, &in, err, sizeof(err)) ==
		    -1) {
			printf("xray %s: FAILED: %s\n", f[0], err);
			fail();
		}
		printf("xray %s: %dx%d %s %s spacing %g (%s)\n", f[0], in.cols,
		    in.rows, in.photometric, in.transfer_syntax[0] ?
		    dcm_ts_name(in.transfer_syntax) : "no meta",
		    in.pixel_spacing[0], in.pixel_spacing_source ==
		    DCM_SPACING_PIXEL ? "Pixel Spacing" :
		    in.pixel_spacing_source == DCM_SPACING_IMAGER ?
		    "Imager Pixel Spacing" : "none");
		assert_int_equal(in.rows, atoi(f[7]));
		assert_int_equal(in.cols, atoi(f[8]));
		assert_string_equal(in.photometric, f[12]);
		if (strstr(f[0], "ModalitySequenceLUT") != NULL)
			assert_int_equal(in.has_modality_lut, 1);
		free(px);
		n++;
	}
	fclose(fp);
	assert_true(n >= 10);

	path_of(p, sizeof(p), d, "xray/chest/barre_CR-MONO1-10-chest_"
	    "no-preamble.dcm");
	assert_int_equal(dcm_read_info(p, NULL, &in, err, sizeof(err)), 0);
	assert_string_equal(in.photometric, "MONOCHROME1");

	{
		static const char *cp[] = {
			"xray/chest/wg04_RG1_chest-PA_CR_J2K-lossy.dcm",
			"xray/chest/wg04_RG1_chest-PA_CR_JPEG-LS-near-"
			    "lossless.dcm"
		};
		char	 r[4096];
		int	 i;

		path_of(r, sizeof(r), d, "xray/chest/wg04_RG1_chest-PA_CR_"
		    "DERIVED-uncompressed-from-JLSN.dcm");
		for (i = 0; i < 2; i++) {
			path_of(p, sizeof(p), d, cp[i]);
			assert_int_equal(compare_files(p, r, &cs, err,
			    sizeof(err)), 0);
			printf("RG1 %s vs DERIVED: max abs err %g, mean abs "
			    "err %.4f, range %g\n", cp[i] + 11, cs.maxerr,
			    cs.meanerr, cs.range);
			assert_true(cs.meanerr < 0.01 * cs.range);
		}
	}
}

static void
test_prefixes(void **state)
{
	const char	*d;
	char		 p[4096], err[512];
	unsigned char	*b;
	struct dcm_info	 in;
	float		*px;
	size_t		 len, k;
	int		 ok = 0, refused = 0;

	NEED_DATA(d);
	path_of(p, sizeof(p), d, "edge/pydicom/CT_small.dcm");
	assert_non_null(b = slurp(p, &len));
	for (k = 0; k < len; k += 997) {
		if (dcm_read_info_mem(b, k, NULL, &in, err, sizeof(err)) == 0)
			ok++;
		else {
			assert_true(err[0] != '\0');
			refused++;
		}
		if (dcm_read_frame_mem(b, k, NULL, 0, &px, NULL, err,
		    sizeof(err)) == 0)
			free(px);
	}
	printf("prefixes of %s: %d read, %d refused\n", p, ok, refused);
	assert_int_equal(dcm_read_info_mem(b, len, NULL, &in, err,
	    sizeof(err)), 0);
	free(b);
}

/*
 * Multi-frame files of the corpus: every frame decoded in one pass equals
 * that frame decoded alone, bit for bit; a buffer of the wrong size is
 * refused.
 */
static void
test_frames_once(void **state)
{
	static const char *const files[] = {
		"edge/fo-dicom/HasFragmentSequence.dcm",
		"edge/pydicom/examples_ybr_color.dcm",
		"edge/pydicom/rtdose.dcm",
		"edge/pydicom/rtdose_expb.dcm",
		"edge/pydicom/rtdose_rle.dcm",
		"edge/pydicom/SC_rgb_rle_32bit_2frame.dcm",
	};
	const char		*d;
	char			 p[4096], err[512];
	struct dcm_info		 in, in2;
	float			*all, *px;
	size_t			 i, plane;
	int			 f;

	NEED_DATA(d);
	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		path_of(p, sizeof(p), d, files[i]);
		if (dcm_read_info(p, NULL, &in, err, sizeof(err)) == -1)
			fail_msg("%s: %s", p, err);
		assert_true(in.frames > 1);
		plane = (size_t)in.rows * (size_t)in.cols;
		assert_non_null(all = malloc(plane * (size_t)in.frames *
		    sizeof(*all)));
		assert_int_equal(dcm_read_frames(p, NULL, all, plane *
		    (size_t)in.frames - 1, &in2, err, sizeof(err)), -1);
		assert_non_null(strstr(err, "do not fit"));
		if (dcm_read_frames(p, NULL, all, plane * (size_t)in.frames,
		    &in2, err, sizeof(err)) == -1)
			fail_msg("%s: %s", p, err);
		assert_int_equal(in2.frames, in.frames);
		for (f = 0; f < in.frames; f++) {
			if (dcm_read_frame(p, NULL, f, &px, NULL, err,
			    sizeof(err)) == -1)
				fail_msg("%s frame %d: %s", p, f, err);
			if (memcmp(px, all + plane * (size_t)f,
			    plane * sizeof(*px)) != 0)
				fail_msg("%s frame %d differs", p, f);
			free(px);
		}
		printf("%s: %d frames of %dx%d read at once\n", files[i],
		    in.frames, in.cols, in.rows);
		free(all);
	}
}

/*
 * Write n bytes of b to a new temporary file; its path into path (of
 * PATH_MAX at least).
 */
static void
put_tmp(char *path, size_t sz, const unsigned char *b, size_t n)
{
	FILE	*fp;
	int	 fd;

	snprintf(path, sz, "/tmp/zy-test-dicom-XXXXXX");
	assert_true((fd = mkstemp(path)) != -1);
	assert_non_null(fp = fdopen(fd, "wb"));
	assert_int_equal(fwrite(b, 1, n, fp), n);
	assert_int_equal(fclose(fp), 0);
}

/*
 * The header read of a file whose Pixel Data ends it, as a series load
 * reads each slice: one pre-scan, the dataset parsed from the bytes read
 * (nothing staged in a memory file), and the same answer, bit for bit,
 * as the full parse of a frame read.  What must not take that way (data
 * after the pixels; an element at or above Pixel Data's tag before it,
 * where DCMTK would stop early) takes the staged parse, with the same
 * answer.  Kind: 0 explicit VR with a meta header, 1 implicit VR without
 * one, 2 a trailing element after the pixels, 3 an element past Pixel
 * Data's tag before Rows, 4 as 0 behind a 20 KB private element (Pixel
 * Data past the first read of the head).
 */
static void
header_direct_one(int kind)
{
	const size_t	 rows = 256, cols = 256, pix = rows * cols * 2;
	unsigned char	*b;
	unsigned char	 us[2];
	struct dcm_counts c0, c1;
	struct dcm_info	 in, ref;
	char		 path[64], err[256];
	float		*px;
	size_t		 o = 0, k;

	assert_non_null(b = calloc(1, pix + 32768));
	switch (kind) {
	case 1:
		o = synth_img(b, (unsigned)rows, (unsigned)cols,
		    (uint32_t)pix);
		break;
	case 3:
		o = put_meta(b, "1.2.840.10008.1.2.1");
		o = put_ex(b, o, 0x0008, 0x0060, "CS", "CT", 2);
		o = put_ex(b, o, 0x7fe1, 0x0010, "LO", "PRIVATE ", 8);
		us[0] = rows & 0xff, us[1] = rows >> 8;
		o = put_ex(b, o, 0x0028, 0x0010, "US", us, 2);
		us[0] = cols & 0xff, us[1] = cols >> 8;
		o = put_ex(b, o, 0x0028, 0x0011, "US", us, 2);
		o = put_ex(b, o, 0x7fe0, 0x0010, "OW", NULL, (uint32_t)pix);
		o += pix;
		break;
	default:
		o = put_meta(b, "1.2.840.10008.1.2.1");
		if (kind == 4) {
			/* A header of 20 KB: Pixel Data past the first
			 * read of the file's head. */
			o = put_ex(b, o, 0x0009, 0x0010, "LO", "ZHIYING TEST ",
			    12);
			o = put_ex(b, o, 0x0009, 0x1001, "OB", NULL, 20000);
			o += 20000;
		}
		o = put_ct_head(b, o, (unsigned)rows, (unsigned)cols, NULL,
		    (uint32_t)pix);
		for (k = 0; k < pix; k++)
			b[o + k] = (unsigned char)(k * 7);
		o += pix;
		if (kind == 2)
			o = put_ex(b, o, 0xfffc, 0xfffc, "OB", "\0\0\0\0", 4);
		break;
	}
	put_tmp(path, sizeof(path), b, o);

	dcm_counts_get(&c0);
	assert_int_equal(dcm_read_info(path, NULL, &in, err, sizeof(err)), 0);
	dcm_counts_get(&c1);
	printf("header read, kind %d: %lu pre-scan(s), %lu staged, %lu "
	    "leaving the pixels unread\n", kind, c1.prescans - c0.prescans,
	    c1.staged - c0.staged, c1.sparse - c0.sparse);
	if (kind == 0 || kind == 1 || kind == 4)
		assert_int_equal(c1.sparse - c0.sparse, 1);
	assert_int_equal(c1.prescans - c0.prescans, 1);
	assert_int_equal(c1.staged - c0.staged, kind == 2 || kind == 3);
	assert_int_equal(in.rows, (int)rows);
	assert_int_equal(in.cols, (int)cols);
	assert_int_equal(in.has_pixels, 1);
	assert_int_equal(in.compressed, 0);
	assert_int_equal(in.pixel_bytes, pix);

	/* The full parse, pixels and all, says the same. */
	memset(&ref, 0x5a, sizeof(ref));
	if (kind == 3)
		assert_int_equal(dcm_read_info_mem(b, o, NULL, &ref, err,
		    sizeof(err)), 0);
	else {
		assert_int_equal(dcm_read_frame_mem(b, o, NULL, 0, &px, &ref,
		    err, sizeof(err)), 0);
		free(px);
	}
	assert_memory_equal(&in, &ref, sizeof(in));

	/* The same bytes given in memory take the same way. */
	dcm_counts_get(&c0);
	assert_int_equal(dcm_read_info_mem(b, o, NULL, &ref, err,
	    sizeof(err)), 0);
	dcm_counts_get(&c1);
	assert_int_equal(c1.staged - c0.staged, kind == 2 || kind == 3);
	assert_memory_equal(&in, &ref, sizeof(in));
	assert_int_equal(unlink(path), 0);
	free(b);
}

static void
test_header_direct(void **state)
{
	int	 kind;

	(void)state;
	for (kind = 0; kind < 5; kind++)
		header_direct_one(kind);
}

#if defined(__SANITIZE_ADDRESS__)
#define WALK_ASAN	1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define WALK_ASAN	1
#endif
#endif

#ifndef WALK_ASAN
/*
 * Allocations of 1 GiB or more while big_watch is set, counted by a
 * malloc of this program's own over glibc's (DCMTK's operator new comes
 * here too).  Not under ASan, whose allocator stands in for glibc's.
 */
extern void	*__libc_malloc(size_t);
static volatile unsigned long	 big_allocs;
static volatile int		 big_watch;

void *
malloc(size_t n)
{
	if (big_watch && n >= ((size_t)1 << 30))
		big_allocs++;
	return __libc_malloc(n);
}
#endif

/*
 * The bounded header walk (dicom.cc): hand-made files, whose header read
 * DCMTK parses from the bytes only where the walk proves every length it
 * will read.
 */
struct wbuf {
	unsigned char	*b;
	size_t		 o;
	int		 ex, big;
};

static void
w16(struct wbuf *w, unsigned v)
{
	w->b[w->o++] = (unsigned char)(w->big ? v >> 8 : v & 0xff);
	w->b[w->o++] = (unsigned char)(w->big ? v & 0xff : v >> 8);
}

static void
w32at(struct wbuf *w, size_t at, uint32_t v)
{
	int	 i;

	for (i = 0; i < 4; i++)
		w->b[at + (size_t)i] = (unsigned char)(v >> (w->big ?
		    24 - 8 * i : 8 * i));
}

/* An element in the buffer's syntax; returns where its length field is
 * (for wpatch()). */
static size_t
wel(struct wbuf *w, unsigned g, unsigned e, const char *vr, const void *v,
    uint32_t len)
{
	size_t	 at;
	int	 longvr = strcmp(vr, "OB") == 0 || strcmp(vr, "OW") == 0 ||
		    strcmp(vr, "SQ") == 0 || strcmp(vr, "UN") == 0 ||
		    strcmp(vr, "UT") == 0;

	w16(w, g);
	w16(w, e);
	if (w->ex) {
		w->b[w->o++] = (unsigned char)vr[0];
		w->b[w->o++] = (unsigned char)vr[1];
		if (!longvr) {
			at = w->o;
			w16(w, len);
			goto value;
		}
		w->b[w->o++] = 0;
		w->b[w->o++] = 0;
	}
	at = w->o;
	w32at(w, w->o, len);
	w->o += 4;
value:
	if (v != NULL && len != 0xffffffffU) {
		memcpy(w->b + w->o, v, len);
		w->o += len;
	}
	return at;
}

static void
wus(struct wbuf *w, unsigned g, unsigned e, unsigned v)
{
	unsigned char	 x[2];

	x[0] = (unsigned char)(w->big ? v >> 8 : v & 0xff);
	x[1] = (unsigned char)(w->big ? v & 0xff : v >> 8);
	wel(w, g, e, "US", x, 2);
}

/* An item, item delimiter or sequence delimiter; returns where its
 * length is. */
static size_t
witem(struct wbuf *w, unsigned e, uint32_t len)
{
	size_t	 at;

	w16(w, 0xfffe);
	w16(w, e);
	at = w->o;
	w32at(w, w->o, len);
	w->o += 4;
	return at;
}

/* Set the defined length at 'at' to what was written since 'from'. */
static void
wpatch(struct wbuf *w, size_t at, size_t from)
{
	w32at(w, at, (uint32_t)(w->o - from));
}

/* The image around what the caller adds (hook: 0 after Modality, 1
 * after the image pixel group): 16 x 16, 12 of 16 bits. */
static void
wimage(struct wbuf *w, void (*hook)(struct wbuf *, int))
{
	size_t	 k;

	wel(w, 0x0008, 0x0060, "CS", "CT", 2);
	if (hook != NULL)
		hook(w, 0);
	wus(w, 0x0028, 0x0002, 1);
	wel(w, 0x0028, 0x0004, "CS", "MONOCHROME2 ", 12);
	wus(w, 0x0028, 0x0010, 16);
	wus(w, 0x0028, 0x0011, 16);
	wus(w, 0x0028, 0x0100, 16);
	wus(w, 0x0028, 0x0101, 12);
	wus(w, 0x0028, 0x0102, 11);
	wus(w, 0x0028, 0x0103, 0);
	if (hook != NULL)
		hook(w, 1);
	wel(w, 0x7fe0, 0x0010, "OW", NULL, 512);
	for (k = 0; k < 512; k++)
		w->b[w->o++] = (unsigned char)(k * 5 & 0x0f);
}

/* Sequences, nested two deep, with defined and undefined lengths. */
static void
hook_nested(struct wbuf *w, int where)
{
	size_t	 sq, it, sq2, it2;

	if (where == 0) {
		/* Defined lengths: a sequence of one item. */
		sq = wel(w, 0x0008, 0x1140, "SQ", NULL, 0);
		it = witem(w, 0xe000, 0);
		wel(w, 0x0008, 0x1150, "UI", "1.2.840.10008.5.1.4.1.1.2", 26);
		wel(w, 0x0008, 0x1155, "UI", "1.2.3.4", 8);
		wpatch(w, it, it + 4);
		wpatch(w, sq, sq + 4);
		return;
	}
	/* Undefined lengths outside, a defined one inside. */
	wel(w, 0x0040, 0x0275, "SQ", NULL, 0xffffffffU);
	witem(w, 0xe000, 0xffffffffU);
	sq2 = wel(w, 0x0040, 0x0008, "SQ", NULL, 0);
	it2 = witem(w, 0xe000, 0xffffffffU);
	wel(w, 0x0008, 0x0100, "SH", "T-1234", 6);
	witem(w, 0xe00d, 0);
	wpatch(w, sq2, sq2 + 4);
	(void)it2;
	wel(w, 0x0040, 0x1001, "SH", "RP1 ", 4);
	witem(w, 0xe00d, 0);
	witem(w, 0xe0dd, 0);
}

/* An element inside an item of undefined length runs past the end of
 * its sequence (of defined length), though not past the data. */
static void
hook_overrun(struct wbuf *w, int where)
{
	size_t	 sq;

	if (where != 0)
		return;
	sq = wel(w, 0x0008, 0x1140, "SQ", NULL, 0);
	witem(w, 0xe000, 0xffffffffU);
	wel(w, 0x0008, 0x1150, "UI", "1.2.840.10008.5.1.4.1.1.2", 26);
	/* The sequence ends here, its item does not. */
	wpatch(w, sq, sq + 4);
	wel(w, 0x0008, 0x1155, "UI", "1.2.3.4", 8);
	witem(w, 0xe00d, 0);
}

/* A private creator that DCMTK's private dictionary knows, and an element
 * of its block that the dictionary calls SQ, holding no item. */
static void
hook_private_sq(struct wbuf *w, int where)
{
	unsigned char	 v[16];

	if (where != 0)
		return;
	wel(w, 0x0009, 0x0010, "LO", "DCMTK_ANONYMIZER", 16);
	memset(v, 0, sizeof(v));
	v[0] = 0x09;
	v[2] = 0x02;
	v[3] = 0x10;	/* (0009,1002), 8 bytes of value */
	v[4] = 8;
	wel(w, 0x0009, 0x1000, "SQ", v, sizeof(v));
}

/* A file image: kind 0 explicit VR little endian with a meta header, 1
 * implicit VR with one, 2 implicit VR without one, 3 explicit VR big
 * endian with one; hook adds elements.  Returns its size. */
static size_t
walk_file(unsigned char *b, int kind, void (*hook)(struct wbuf *, int))
{
	static const char *const ts[] = { "1.2.840.10008.1.2.1",
	    "1.2.840.10008.1.2", NULL, "1.2.840.10008.1.2.2" };
	struct wbuf	 w;

	memset(&w, 0, sizeof(w));
	w.b = b;
	w.ex = kind == 0 || kind == 3;
	w.big = kind == 3;
	if (ts[kind] != NULL)
		w.o = put_meta(b, ts[kind]);
	wimage(&w, hook);
	return w.o;
}

/* The way a header read takes b, and that it says what the full parse
 * of the frame says; the staged count moves only off the direct way.  A
 * file that the reader refuses (ok 0) must be refused for a reason, not
 * for want of memory, and by the full parse too. */
/* Whether the last walk_read() was answered by the walk alone. */
static unsigned long	 walk_walked;

static int
walk_read(const unsigned char *b, size_t n, const char *what, int ok)
{
	struct dcm_counts c0, c1;
	struct dcm_info	 in, ref;
	char		 why[256], err[256];
	float		*px = NULL;
	int		 way, rc;

	way = dcm_head_way(b, n, NULL, why, sizeof(why));
	printf("walk %-34s way %d %s\n", what, way, why);
	if (way == DCM_HEAD_REFUSED)
		return way;
	memset(&in, 0x5a, sizeof(in));
	dcm_counts_get(&c0);
	rc = dcm_read_info_mem(b, n, NULL, &in, err, sizeof(err));
	dcm_counts_get(&c1);
	assert_int_equal(c1.staged - c0.staged, way == DCM_HEAD_DIRECT ? 0 :
	    1);
	walk_walked = c1.walked - c0.walked;
	if (!ok) {
		printf("walk %-34s refused: %s\n", what, err);
		assert_int_equal(rc, -1);
		assert_null(strstr(err, "out of memory"));
		assert_int_equal(dcm_read_frame_mem(b, n, NULL, 0, &px, NULL,
		    err, sizeof(err)), -1);
		return way;
	}
	assert_int_equal(rc, 0);
	memset(&ref, 0x5a, sizeof(ref));
	assert_int_equal(dcm_read_frame_mem(b, n, NULL, 0, &px, &ref, err,
	    sizeof(err)), 0);
	free(px);
	assert_memory_equal(&in, &ref, sizeof(in));
	assert_int_equal(in.rows, 16);
	return way;
}

/*
 * The out-of-memory case of the fuzz driver's kind, by hand: a meta
 * header whose group length (0002,0000) claims 20 bytes more than group 2
 * holds, before an implicit VR dataset whose first element's 12 bytes of
 * value read, in explicit VR, as (0008,0070) OB declaring 0xFFFFFFF0
 * bytes.  DCMTK reads the meta header by its group length, so it takes
 * the first dataset element for a meta element (in explicit VR: a
 * 2-byte length of 0) and then the hidden one, and from a buffer it
 * allocates those 4 GiB before it finds the data short.  The pre-scan
 * reads group 2 as group 2 and the dataset as implicit VR: all lengths
 * in bounds.
 */
static size_t
walk_oom_file(unsigned char *b)
{
	static const unsigned char hid[12] = { 0x08, 0x00, 0x70, 0x00, 'O',
	    'B', 0, 0, 0xf0, 0xff, 0xff, 0xff };
	struct wbuf	 w;
	uint32_t	 gl;

	memset(&w, 0, sizeof(w));
	w.b = b;
	w.o = put_meta(b, "1.2.840.10008.1.2");
	gl = (uint32_t)b[140] | (uint32_t)b[141] << 8;
	w32at(&w, 140, gl + 20);
	wel(&w, 0x0008, 0x0005, "", hid, sizeof(hid));
	wimage(&w, NULL);
	return w.o;
}

static void
test_head_walk(void **state)
{
	static unsigned char	 b[8192];
	struct dcm_info		 in;
	char			 err[256], line[64];
	size_t			 n;
	int			 kind;

	(void)state;
	/* Well-formed: every syntax, sequences nested and not. */
	for (kind = 0; kind < 4; kind++) {
		n = walk_file(b, kind, NULL);
		snprintf(line, sizeof(line), "plain, kind %d", kind);
		assert_int_equal(walk_read(b, n, line, 1), DCM_HEAD_DIRECT);
		n = walk_file(b, kind, hook_nested);
		snprintf(line, sizeof(line), "nested sequences, kind %d", kind);
		assert_int_equal(walk_read(b, n, line, 1), DCM_HEAD_DIRECT);
	}

	/* The pre-scan lets these by (their lengths lie within the data);
	 * the layout suits; the walk does not prove them. */
	n = walk_oom_file(b);
	assert_int_equal(walk_read(b, n, "meta group length 20 too long", 0),
	    DCM_HEAD_UNBOUNDED);
#ifndef WALK_ASAN
	/* No allocation of a GiB or more while reading it: from a buffer,
	 * DCMTK allocated the 4 GiB the hidden element declares. */
	big_allocs = 0;
	big_watch = 1;
	(void)dcm_read_info_mem(b, n, NULL, &in, err, sizeof(err));
	big_watch = 0;
	printf("walk: allocations of 1 GiB or more reading it: %lu\n",
	    big_allocs);
	assert_int_equal(big_allocs, 0);
#endif
	n = walk_file(b, 0, hook_overrun);
	assert_int_equal(walk_read(b, n, "element past its sequence", 1),
	    DCM_HEAD_UNBOUNDED);
	n = walk_file(b, 2, hook_private_sq);
	assert_int_equal(walk_read(b, n, "private SQ holding no item", 0),
	    DCM_HEAD_UNBOUNDED);
	/* The same private element, its creator unknown: a plain value. */
	n = walk_file(b, 2, hook_private_sq);
	memcpy(memmem(b, n, "DCMTK_ANONYMIZER", 16), "ZHIYING_TEST_PRV", 16);
	assert_int_equal(walk_read(b, n, "unknown private creator", 1),
	    DCM_HEAD_DIRECT);
	/* A nested element declaring more than the data holds is the
	 * pre-scan's to refuse. */
	n = walk_file(b, 0, hook_nested);
	{
		unsigned char	*t = memmem(b, n, "T-1234", 6);

		assert_non_null(t);
		t[-2] = t[-1] = 0xff;	/* SH: 0xFFFF bytes */
		assert_int_equal(walk_read(b, n, "nested SH of 0xFFFF bytes", 0),
		    DCM_HEAD_REFUSED);
	}

	(void)in;
	(void)err;
}

/*
 * Values in every form the header read may meet, each file in the four
 * syntaxes of walk_file(): what the walk answers alone (walked 1) and
 * what it leaves to DCMTK (walked 0) must both be what the full parse of
 * the frame says, byte for byte (walk_read()).
 */
struct vel {
	unsigned	 g, e;
	const char	*vr;
	const char	*v;
	uint32_t	 n;
};
#define VEL(g, e, vr, v)	{ g, e, vr, v, sizeof(v) - 1 }

struct vcase {
	const char	*what;
	int		 walked;
	struct vel	 el[12];
};

static const struct vcase	*vcur;

/* The case's elements after Modality; US and SS values are written as
 * little-endian bytes and turned for big endian. */
static void
hook_values(struct wbuf *w, int where)
{
	const struct vel	*el;
	unsigned char		 x[16];
	size_t			 i, k;

	if (where != 0)
		return;
	for (i = 0; i < 12 && vcur->el[i].vr != NULL; i++) {
		el = &vcur->el[i];
		if ((strcmp(el->vr, "US") == 0 || strcmp(el->vr, "SS") == 0) &&
		    el->n <= sizeof(x)) {
			for (k = 0; k + 1 < el->n; k += 2) {
				x[k] = (unsigned char)el->v[w->big ? k + 1 : k];
				x[k + 1] = (unsigned char)el->v[w->big ? k :
				    k + 1];
			}
			wel(w, el->g, el->e, el->vr, x, el->n);
		} else
			wel(w, el->g, el->e, el->vr, el->v, el->n);
	}
}

static void
test_head_values(void **state)
{
	static const struct vcase cases[] = {
		{ "DS padded, signed, several values", 1, {
		    VEL(0x0028, 0x0030, "DS", "0.703125\\0.703125 "),
		    VEL(0x0020, 0x0032, "DS",
			"-166.000000\\-171.699997\\-10.000"),
		    VEL(0x0020, 0x0037, "DS", "1\\0\\0\\0\\1\\0 "),
		    VEL(0x0018, 0x0050, "DS", " 2.5"),
		    VEL(0x0028, 0x1052, "DS", "-1024 "),
		    VEL(0x0028, 0x1053, "DS", "1 "),
		    VEL(0x0028, 0x1050, "DS", "40\\-600"),
		    VEL(0x0028, 0x1051, "DS", "+4.0E2\\1500"),
		    VEL(0x0018, 0x0060, "DS", "120.0 "),
		    VEL(0x0020, 0x1041, "DS", "-1.0e+01") } },
		{ "DS values DCMTK reads in part or not", 1, {
		    VEL(0x0018, 0x1120, "DS", "1.5.2 "),
		    VEL(0x0010, 0x1020, "DS", "1e999 "),
		    VEL(0x0018, 0x0050, "DS", ". "),
		    VEL(0x0018, 0x0088, "DS", "- "),
		    VEL(0x0028, 0x0030, "DS", "0.5\\"),
		    VEL(0x0020, 0x0032, "DS", "1\\\\3 ") } },
		{ "IS padded, signed, several values", 1, {
		    VEL(0x0020, 0x0011, "IS", " 3 "),
		    VEL(0x0020, 0x0013, "IS", "+12 "),
		    VEL(0x0028, 0x0008, "IS", "1\\2 ") } },
		{ "IS negative, odd length", 1, {
		    VEL(0x0020, 0x0011, "IS", "-7"),
		    VEL(0x0020, 0x0013, "IS", "123456789") } },
		{ "empty values", 1, {
		    VEL(0x0018, 0x0050, "DS", ""),
		    VEL(0x0020, 0x0011, "IS", ""),
		    VEL(0x0010, 0x0010, "PN", ""),
		    VEL(0x0028, 0x0030, "DS", ""),
		    VEL(0x0018, 0x1164, "DS", "0.1\\0.1 "),
		    VEL(0x0028, 0x0006, "US", ""),
		    VEL(0x0028, 0x1050, "DS", "    "),
		    VEL(0x0020, 0x0013, "IS", "  ") } },
		{ "odd-length and padded strings, a character set", 1, {
		    VEL(0x0008, 0x0005, "CS", "ISO_IR 100"),
		    VEL(0x0010, 0x0020, "LO", "ABC"),
		    VEL(0x0008, 0x1030, "LO", " CHEST "),
		    VEL(0x0008, 0x0080, "LO", "X Y Z"),
		    VEL(0x0008, 0x0008, "CS", "ORIGINAL\\PRIMARY\\AXIAL"),
		    VEL(0x0008, 0x0018, "UI", "1.2.3.4\0"),
		    VEL(0x0010, 0x0010, "PN", "Doe^John "),
		    VEL(0x0008, 0x0050, "SH", "A1\0 ") } },
		{ "empty values in a list", 1, {
		    VEL(0x0008, 0x0008, "CS", "\\A\\\\") } },
		{ "Pixel Padding Value US", 1, {
		    VEL(0x0028, 0x0120, "US", "\x30\xf8") } },
		{ "Pixel Padding Value SS, two values", 1, {
		    VEL(0x0028, 0x0120, "SS", "\x18\xfc\x01\x00") } },
		{ "spaces beside a backslash", 0, {
		    VEL(0x0008, 0x0008, "CS", "ORIGINAL \\ PRIMARY") } },
		{ "a DS with a comma", 0, {
		    VEL(0x0018, 0x0050, "DS", "2,5 ") } },
		{ "an IS that is not a number", 0, {
		    VEL(0x0020, 0x0013, "IS", "12-3") } },
		{ "an IS of ten digits", 0, {
		    VEL(0x0020, 0x0011, "IS", "1234567890") } },
		{ "Modality twice", 0, {
		    VEL(0x0008, 0x0060, "CS", "MR") } },
		{ "Series Number written as US", 0, {
		    VEL(0x0020, 0x0011, "US", "\x05\x00") } },
		{ "a character set that maps 5CH", 0, {
		    VEL(0x0008, 0x0005, "CS", "ISO_IR 13 ") } },
		{ "a UTF-8 name", 0, {
		    VEL(0x0008, 0x0005, "CS", "ISO_IR 192"),
		    VEL(0x0010, 0x0010, "PN", "Caf\xc3\xa9 ") } },
		{ "a space inside a UI", 0, {
		    VEL(0x0020, 0x0052, "UI", "1.3ISO_IR 6.5962") } },
		{ "a space inside a DA", 0, {
		    VEL(0x0008, 0x0020, "DA", "2003 0505") } },
		{ "spaces inside CS, LO and PN values", 1, {
		    VEL(0x0018, 0x5100, "CS", "H F S "),
		    VEL(0x0008, 0x1030, "LO", "CHEST  ABDOMEN "),
		    VEL(0x0010, 0x0010, "PN", "Doe^John Q^^Dr ") } },
		{ "a NUL inside a string", 0, {
		    VEL(0x0010, 0x0020, "LO", "A\0BC") } },
		{ "a Modality LUT Sequence", 0, {
		    VEL(0x0028, 0x3000, "SQ", "") } },
		{ "a US of odd length", 0, {
		    VEL(0x0028, 0x0006, "US", "\x01") } },
	};
	static unsigned char	 b[8192];
	char			 line[128];
	size_t			 i, n;
	int			 kind, walked = 0;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		vcur = &cases[i];
		for (kind = 0; kind < 4; kind++) {
			n = walk_file(b, kind, hook_values);
			snprintf(line, sizeof(line), "%.40s, kind %d",
			    cases[i].what, kind);
			assert_int_equal(walk_read(b, n, line, 1),
			    DCM_HEAD_DIRECT);
			printf("walk %-46s %s\n", line, walk_walked ?
			    "answered by the walk" : "left to DCMTK");
			assert_int_equal((int)walk_walked, cases[i].walked);
			walked += (int)walk_walked;
		}
	}
	/* The plain files of test_head_walk() too. */
	for (kind = 0; kind < 4; kind++) {
		n = walk_file(b, kind, NULL);
		(void)walk_read(b, n, "plain", 1);
		assert_int_equal((int)walk_walked, 1);
		n = walk_file(b, kind, hook_nested);
		(void)walk_read(b, n, "nested", 1);
		assert_int_equal((int)walk_walked, 1);
	}
	printf("walk: %d of the hand-made files answered by the walk\n",
	    walked);
}

/*
 * JPEG data whose marker walk meets a TEM marker (FF01) before its frame
 * header: DCMTK 3.6.7's bit-depth scan never moves past TEM and loops for
 * ever (the fuzz driver's timeout).  The frame read must refuse it, at
 * once; it runs in a child that an alarm ends, so that a hang fails the
 * test instead of stalling it.
 */
static void
test_jpeg_tem(void **state)
{
	static const unsigned char frag[16] = { 0xff, 0xd8, 0xff, 0x01,
	    0xff, 0xc0, 0x00, 0x0b, 0x08, 0x00, 0x10, 0x00, 0x10, 0x01, 0x01,
	    0x11 };
	unsigned char	 b[2048];
	char		 err[256], line[300];
	float		*px = NULL;
	size_t		 o;
	ssize_t		 k;
	int		 pfd[2], wst, rc;
	pid_t		 pid;

	(void)state;
	o = put_meta(b, "1.2.840.10008.1.2.4.50");
	o = put_ct_head(b, o, 16, 16, NULL, 0);
	/* put_ct_head ends with an OW Pixel Data of length 0: make it an
	 * encapsulated OB one. */
	o -= 12;
	o = put_ex(b, o, 0x7fe0, 0x0010, "OB", NULL, 0xffffffffU);
	memcpy(b + o, "\xfe\xff\x00\xe0\x00\x00\x00\x00", 8);	/* BOT */
	o += 8;
	memcpy(b + o, "\xfe\xff\x00\xe0\x10\x00\x00\x00", 8);
	o += 8;
	memcpy(b + o, frag, sizeof(frag));
	o += sizeof(frag);
	memcpy(b + o, "\xfe\xff\xdd\xe0\x00\x00\x00\x00", 8);
	o += 8;
	assert_int_equal(pipe(pfd), 0);
	fflush(stdout);
	if ((pid = fork()) == 0) {
		close(pfd[0]);
		alarm(60);
		err[0] = '\0';
		rc = dcm_read_frame_mem(b, o, NULL, 0, &px, NULL, err,
		    sizeof(err));
		(void)dprintf(pfd[1], "%d %s", rc, err);
		_exit(0);
	}
	assert_true(pid > 0);
	close(pfd[1]);
	k = read(pfd[0], line, sizeof(line) - 1);
	close(pfd[0]);
	assert_true(waitpid(pid, &wst, 0) == pid);
	assert_true(WIFEXITED(wst));
	assert_true(k > 0);
	line[k] = '\0';
	printf("JPEG with TEM before SOF: %s\n", line);
	assert_int_equal(strncmp(line, "-1 ", 3), 0);
	assert_non_null(strstr(line, "TEM marker"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ts_name),
		cmocka_unit_test(test_deflate_bomb),
		cmocka_unit_test(test_deflate_limits),
		cmocka_unit_test(test_pixel_check),
		cmocka_unit_test(test_synthetic),
		cmocka_unit_test(test_header_direct),
		cmocka_unit_test(test_head_walk),
		cmocka_unit_test(test_head_values),
		cmocka_unit_test(test_jpeg_tem),
		cmocka_unit_test(test_lut_sequences),
		cmocka_unit_test(test_garbage),
		cmocka_unit_test(test_lidc),
		cmocka_unit_test(test_wg04),
		cmocka_unit_test(test_same_pixels),
		cmocka_unit_test(test_edge_corpus),
		cmocka_unit_test(test_ct_series),
		cmocka_unit_test(test_xray),
		cmocka_unit_test(test_prefixes),
		cmocka_unit_test(test_frames_once),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
