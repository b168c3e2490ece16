/*
 * rle.h - the DICOM RLE Lossless decoder (PS3.5 Annex G).
 *
 * Written here rather than taken from DCMTK, whose RLE decoder reads past
 * its buffers on malformed segments: every offset and run is checked
 * against the data the frame really has.
 */
#ifndef ZY_RLE_H
#define ZY_RLE_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Decode one RLE frame of len bytes (its fragments joined) holding npix
 * pixels of spp samples of bps bytes each, into out (npix * spp * bps
 * bytes): samples little endian, colour by plane (planar configuration
 * 1).  Returns 0, or -1 with an English reason in err.
 */
int	 rle_decode(const unsigned char *frame, size_t len, size_t npix,
	    int spp, int bps, unsigned char *out, char *err, size_t errlen);

#ifdef __cplusplus
}
#endif

#endif /* ZY_RLE_H */
