/*
 * fuzz_dicom.c - libFuzzer driver: the input is a DICOM file (an upload).
 */
#include "config.h"

#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dicom.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dcm_limits	 lim = { 8u << 20, 16, 4u << 20, 32u << 20, 0 };
	struct dcm_info		 in, ref;
	struct dcm_counts	 c0, c1;
	char			 err[256];
	float			*px = NULL;
	size_t			 i, n;
	int			 walked;

	dcm_counts_get(&c0);
	if (dcm_read_info_mem(data, size, &lim, &in, err, sizeof(err)) ==
	    -1) {
		if (err[0] == '\0' || strlen(err) >= sizeof(err))
			abort();
		return 0;
	}
	/* Answered by the bounded walk alone, without DCMTK's parse. */
	dcm_counts_get(&c1);
	walked = c1.walked != c0.walked;
	if (in.patient_name[sizeof(in.patient_name) - 1] != '\0' ||
	    in.study_description[sizeof(in.study_description) - 1] != '\0')
		abort();
	/* The ingest check: an answer, with a reason when it refuses. */
	err[0] = '\0';
	if (dcm_check_pixels(&in, &lim, err, sizeof(err)) == -1 &&
	    err[0] == '\0')
		abort();
	/* The first VOI LUT, as the film loader reads it: an answer, its
	 * entries all there, or a reason. */
	if (in.voi_luts > 0) {
		struct dcm_lut_table	 t;

		if (dcm_read_voi_lut_mem(data, size, &lim, 0, &t, err,
		    sizeof(err)) == -1) {
			if (err[0] == '\0' || t.v != NULL)
				abort();
		} else {
			if (t.n == 0 || t.bits < 8 || t.bits > 16)
				abort();
			for (i = 0; i < t.n; i++)
				if (!(t.v[i] >= 0 && t.v[i] < 65536))
					abort();
			dcm_lut_table_free(&t);
		}
	}
	if (dcm_read_frame_mem(data, size, &lim, 0, &px, &ref, err,
	    sizeof(err)) == -1) {
		if (err[0] == '\0' || px != NULL)
			abort();
		return 0;
	}
	/* What the walk answered is what DCMTK's full parse says, byte
	 * for byte. */
	if (walked && memcmp(&in, &ref, sizeof(in)) != 0)
		abort();
	in = ref;
	/* Touch every value: the buffer must hold rows * cols floats. */
	n = (size_t)in.rows * (size_t)in.cols;
	for (i = 0; i < n; i++)
		if (isnan(px[i]) && in.rows < 0)
			abort();
	free(px);
	return 0;
}
