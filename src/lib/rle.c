/*
 * rle.c - DICOM RLE Lossless (PS3.5 Annex G): a 64-byte header of segment
 * offsets, then one PackBits-coded segment per byte plane, most
 * significant byte plane of each sample first.
 */
#include "config.h"

#include <stdint.h>
#include <string.h>

#include "log.h"
#include "rle.h"

static uint32_t
rd32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	    (uint32_t)p[3] << 24;
}

/* PackBits-decode src[0..n) into exactly npix bytes, written every
 * stride bytes of dst.  Returns 0, or -1 if the segment runs short or
 * would write past npix. */
static int
segment_decode(const unsigned char *src, size_t n, unsigned char *dst,
    size_t stride, size_t npix)
{
	size_t	 in = 0, o = 0, k, run;
	int	 c;

	while (o < npix && in < n) {
		c = (signed char)src[in++];
		if (c >= 0) {
			run = (size_t)c + 1;
			if (run > n - in || run > npix - o)
				return -1;
			for (k = 0; k < run; k++)
				dst[(o + k) * stride] = src[in + k];
			in += run;
			o += run;
		} else if (c != -128) {
			run = (size_t)(-c) + 1;
			if (in >= n || run > npix - o)
				return -1;
			for (k = 0; k < run; k++)
				dst[(o + k) * stride] = src[in];
			in++;
			o += run;
		}
	}
	return o == npix ? 0 : -1;
}

int
rle_decode(const unsigned char *frame, size_t len, size_t npix, int spp,
    int bps, unsigned char *out, char *err, size_t errlen)
{
	uint32_t	 nseg, off[16];
	size_t		 s, b, seg, end;

	if (len < 64) {
		errfmt(err, errlen, "RLE frame of %zu bytes has no header",
		    len);
		return -1;
	}
	nseg = rd32(frame);
	if (spp < 1 || bps < 1 || nseg != (uint32_t)(spp * bps) ||
	    nseg > 15) {
		errfmt(err, errlen, "RLE frame has %u segments, %d expected",
		    (unsigned)nseg, spp * bps);
		return -1;
	}
	for (seg = 0; seg < nseg; seg++) {
		off[seg] = rd32(frame + 4 + 4 * seg);
		if (off[seg] < 64 || off[seg] > len ||
		    (seg > 0 && off[seg] < off[seg - 1])) {
			errfmt(err, errlen, "RLE segment %zu starts at %u, "
			    "outside the frame", seg + 1, (unsigned)off[seg]);
			return -1;
		}
	}
	for (s = 0; s < (size_t)spp; s++)
		for (b = 0; b < (size_t)bps; b++) {
			seg = s * (size_t)bps + b;
			end = seg + 1 < nseg ? off[seg + 1] : len;
			/* Plane s, byte bps - 1 - b of each little-endian
			 * sample: the most significant byte comes first. */
			if (segment_decode(frame + off[seg], end - off[seg],
			    out + s * npix * (size_t)bps + ((size_t)bps - 1 - b),
			    (size_t)bps, npix) == -1) {
				errfmt(err, errlen, "RLE segment %zu does not "
				    "decode to %zu bytes", seg + 1, npix);
				return -1;
			}
		}
	return 0;
}
