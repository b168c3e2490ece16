/*
 * j2k.h - JPEG 2000 decoding of one DICOM frame with OpenJPEG.
 *
 * The input is a raw codestream (SOC marker FF 4F) or, as some writers
 * produce, a JP2 file.  The header is checked against what the DICOM
 * header announces before anything large is allocated.  OpenJPEG's
 * messages are not printed; its last error becomes the reason in err.
 */
#ifndef ZY_J2K_H
#define ZY_J2K_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

struct j2k_image {
	int	 width, height, ncomp;
	int	 prec;		/* bits of the first component */
	int	 sgnd;		/* the codestream marks samples signed */
	int32_t	*data;		/* ncomp planes of width * height samples */
};

/*
 * Decode len bytes at buf, which must hold an image of exactly width x
 * height with ncomp components of the same size (no subsampling).
 * Returns 0 and fills *img (free it with j2k_image_free()), or -1 with an
 * English reason in err.
 */
int	 j2k_decode(const void *buf, size_t len, int width, int height,
	    int ncomp, struct j2k_image *img, char *err, size_t errlen);

/* Free the samples of an image filled by j2k_decode(); NULL-safe. */
void	 j2k_image_free(struct j2k_image *img);

#ifdef __cplusplus
}
#endif

#endif /* ZY_J2K_H */
