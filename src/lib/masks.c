/*
 * masks.c - label volumes of the AI readers: colours, deflate, inflate.
 */
#include "config.h"

#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <zlib.h>

#include "buf.h"
#include "log.h"
#include "masks.h"

const char *const masks_kind_names[MASKS_KIND__MAX] = {
	"lobe", "nodule", "ggo", "consolidation", "rib", "fracture",
	"vertebra",
};

int
masks_kind_parse(const char *name)
{
	int	 i;

	for (i = 0; name != NULL && i < MASKS_KIND__MAX; i++)
		if (strcmp(masks_kind_names[i], name) == 0)
			return i;
	return -1;
}

int
masks_kind_shell(enum masks_kind k)
{
	return k == MASKS_LOBE || k == MASKS_RIB || k == MASKS_VERTEBRA;
}

/* The palettes: the lobes in cool hues apart from the strong warm ones
 * of what was found, so that a nodule never takes a lobe's colour. */
static const unsigned char pal_lobe[5][3] = {
	{ 0x5a, 0x8d, 0xee },	/* 右肺上叶 blue */
	{ 0x4e, 0xc9, 0xa0 },	/* 右肺中叶 green */
	{ 0xa0, 0x7b, 0xe0 },	/* 右肺下叶 violet */
	{ 0x3f, 0xc1, 0xe0 },	/* 左肺上叶 cyan */
	{ 0x9c, 0xcc, 0x65 },	/* 左肺下叶 light green */
};
static const unsigned char pal_strong[4][3] = {
	{ 0xff, 0x20, 0x20 },	/* red */
	{ 0xff, 0x00, 0xc8 },	/* magenta */
	{ 0xff, 0x8c, 0x00 },	/* orange */
	{ 0xe0, 0x00, 0x60 },	/* crimson */
};
static const unsigned char pal_bone[2][3] = {
	{ 0xe8, 0xd0, 0x8a },	/* sand */
	{ 0x9f, 0xc8, 0xe8 },	/* light blue */
};

void
masks_colour(enum masks_kind k, int i, char out[8], unsigned char *rgb)
{
	const unsigned char	*c;
	static const unsigned char ggo[3] = { 0xff, 0xd4, 0x00 };
	static const unsigned char cons[3] = { 0xff, 0x30, 0x30 };

	if (i < 0)
		i = 0;
	switch (k) {
	case MASKS_LOBE:
		c = pal_lobe[i % 5];
		break;
	case MASKS_GGO:
		c = ggo;
		break;
	case MASKS_CONSOLIDATION:
		c = cons;
		break;
	case MASKS_RIB:
	case MASKS_VERTEBRA:
		c = pal_bone[i % 2];
		break;
	case MASKS_NODULE:
	case MASKS_FRACTURE:
	default:
		c = pal_strong[i % 4];
		break;
	}
	(void)snprintf(out, 8, "#%02x%02x%02x", c[0], c[1], c[2]);
	if (rgb != NULL)
		memcpy(rgb, c, 3);
}

int
masks_colour_parse(const char *s, unsigned char rgb[3])
{
	unsigned int	 v[3];
	int		 i;

	if (s == NULL || strlen(s) != 7 || s[0] != '#')
		return -1;
	for (i = 1; i < 7; i++)
		if (strchr("0123456789abcdefABCDEF", s[i]) == NULL)
			return -1;
	if (sscanf(s + 1, "%2x%2x%2x", &v[0], &v[1], &v[2]) != 3)
		return -1;
	for (i = 0; i < 3; i++)
		rgb[i] = (unsigned char)v[i];
	return 0;
}

int
masks_legend_add(json_t *legend, int label, const char *name,
    enum masks_kind k, int i)
{
	char	 col[8];

	masks_colour(k, i, col, NULL);
	return json_array_append_new(legend, json_pack("{s:i, s:s, s:s, s:s}",
	    "label", label, "name", name, "kind", masks_kind_names[k],
	    "colour", col));
}

int
masks_legend_centres(json_t *legend, const uint8_t *lab, int nx, int ny,
    int nz)
{
	double	 sum[256][3];
	size_t	 cnt[256], i, o;
	json_t	*e, *v;
	int	 x, y, z, l;

	memset(sum, 0, sizeof(sum));
	memset(cnt, 0, sizeof(cnt));
	for (z = 0, o = 0; z < nz; z++)
		for (y = 0; y < ny; y++)
			for (x = 0; x < nx; x++, o++)
				if ((l = lab[o]) != 0) {
					sum[l][0] += x;
					sum[l][1] += y;
					sum[l][2] += z;
					cnt[l]++;
				}
	json_array_foreach(legend, i, e) {
		l = (int)json_integer_value(json_object_get(e, "label"));
		if (l < 1 || l > 255 || cnt[l] == 0)
			continue;
		v = json_pack("[f, f, f]",
		    round(sum[l][0] / (double)cnt[l] * 10) / 10,
		    round(sum[l][1] / (double)cnt[l] * 10) / 10,
		    round(sum[l][2] / (double)cnt[l] * 10) / 10);
		if (v == NULL || json_object_set_new(e, "at", v) == -1)
			return -1;
	}
	return 0;
}

int
masks_encode(const uint8_t *lab, size_t n, struct buf *out)
{
	z_stream	 zs;
	unsigned char	 chunk[65536];
	size_t		 len0 = out->len;
	int		 rc;

	memset(&zs, 0, sizeof(zs));
	/* The fastest level: a chest CT's 68 MB of labels, long runs of
	 * few values, deflate 3.5x faster than at level 6 to about 3x
	 * the bytes (still under 1 % of the labels), and this runs in the
	 * daemon's storing of every result. */
	if (deflateInit(&zs, Z_BEST_SPEED) != Z_OK)
		return -1;
	zs.next_in = (Bytef *)(uintptr_t)lab;
	do {
		/* avail_in is 32 bits: feed a large volume in pieces. */
		if (zs.avail_in == 0 && n > 0) {
			zs.avail_in = n > UINT_MAX / 2 ? UINT_MAX / 2 :
			    (uInt)n;
			n -= zs.avail_in;
		}
		zs.next_out = chunk;
		zs.avail_out = sizeof(chunk);
		rc = deflate(&zs, n == 0 && zs.avail_in == 0 ? Z_FINISH :
		    Z_NO_FLUSH);
		if (rc == Z_STREAM_ERROR || buf_append(out, chunk,
		    sizeof(chunk) - zs.avail_out) == -1) {
			(void)deflateEnd(&zs);
			out->len = len0;
			return -1;
		}
	} while (rc != Z_STREAM_END);
	(void)deflateEnd(&zs);
	return 0;
}

int
masks_decode(const unsigned char *z, size_t len, uint8_t *out, size_t n,
    char *err, size_t errlen)
{
	z_stream	 zs;
	unsigned char	 extra;
	size_t		 got = 0;
	int		 rc, full = 0;

	memset(&zs, 0, sizeof(zs));
	if (inflateInit(&zs) != Z_OK) {
		errfmt(err, errlen, "inflate: out of memory");
		return -1;
	}
	zs.next_in = (Bytef *)(uintptr_t)z;
	zs.next_out = out;
	for (;;) {
		/* avail_in and avail_out are 32 bits: in pieces. */
		if (zs.avail_in == 0 && len > 0) {
			zs.avail_in = len > UINT_MAX / 2 ? UINT_MAX / 2 :
			    (uInt)len;
			len -= zs.avail_in;
		}
		if (zs.avail_out == 0) {
			got += full ? 0 : (size_t)(zs.next_out - out) - got;
			if (got == n) {
				/* All there: only the stream's end may
				 * follow, into a byte that must stay
				 * unwritten. */
				full = 1;
				zs.next_out = &extra;
				zs.avail_out = 1;
			} else
				zs.avail_out = n - got > UINT_MAX / 2 ?
				    UINT_MAX / 2 : (uInt)(n - got);
		}
		rc = inflate(&zs, Z_NO_FLUSH);
		if (full && zs.avail_out == 0) {
			(void)inflateEnd(&zs);
			errfmt(err, errlen, "labels: more than %zu bytes", n);
			return -1;
		}
		if (rc == Z_STREAM_END)
			break;
		if (rc == Z_BUF_ERROR && zs.avail_in == 0 && len == 0) {
			(void)inflateEnd(&zs);
			errfmt(err, errlen, "labels: data cut short");
			return -1;
		}
		if (rc != Z_OK && rc != Z_BUF_ERROR) {
			(void)inflateEnd(&zs);
			errfmt(err, errlen, "labels: %s", rc == Z_MEM_ERROR ?
			    "out of memory" : "not deflate data");
			return -1;
		}
	}
	if (!full)
		got = (size_t)(zs.next_out - out);
	(void)inflateEnd(&zs);
	if (got != n) {
		errfmt(err, errlen, "labels: %zu bytes, %zu expected", got, n);
		return -1;
	}
	return 0;
}
