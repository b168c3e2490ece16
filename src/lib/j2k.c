/*
 * j2k.c - JPEG 2000 decoding of one DICOM frame with OpenJPEG.
 */
#include "config.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openjpeg.h>

#include "j2k.h"
#include "log.h"

struct j2k_mem {
	const unsigned char	*p;
	size_t			 len;
	size_t			 pos;
};

struct j2k_msg {
	char	 text[160];
};

static OPJ_SIZE_T
j2k_mem_read(void *dst, OPJ_SIZE_T n, void *user)
{
	struct j2k_mem	*m = user;

	if (m->pos >= m->len)
		return (OPJ_SIZE_T)-1;
	if (n > m->len - m->pos)
		n = m->len - m->pos;
	memcpy(dst, m->p + m->pos, n);
	m->pos += n;
	return n;
}

static OPJ_OFF_T
j2k_mem_skip(OPJ_OFF_T n, void *user)
{
	struct j2k_mem	*m = user;

	if (n < 0) {
		if ((size_t)-n > m->pos)
			return -1;
		m->pos -= (size_t)-n;
		return n;
	}
	if ((size_t)n > m->len - m->pos)
		n = (OPJ_OFF_T)(m->len - m->pos);
	m->pos += (size_t)n;
	return n;
}

static OPJ_BOOL
j2k_mem_seek(OPJ_OFF_T n, void *user)
{
	struct j2k_mem	*m = user;

	if (n < 0 || (size_t)n > m->len)
		return OPJ_FALSE;
	m->pos = (size_t)n;
	return OPJ_TRUE;
}

/* Keep OpenJPEG's last error as the reason; drop warnings and chatter. */
static void
j2k_on_error(const char *msg, void *user)
{
	struct j2k_msg	*e = user;
	size_t		 n;

	snprintf(e->text, sizeof(e->text), "%s", msg);
	n = strlen(e->text);
	while (n > 0 && (e->text[n - 1] == '\n' || e->text[n - 1] == ' '))
		e->text[--n] = '\0';
}

static void
j2k_on_quiet(const char *msg, void *user)
{
	(void)msg;
	(void)user;
}

int
j2k_decode(const void *buf, size_t len, int width, int height, int ncomp,
    struct j2k_image *img, char *err, size_t errlen)
{
	static const unsigned char jp2sig[] = {
		0x00, 0x00, 0x00, 0x0c, 0x6a, 0x50, 0x20, 0x20
	};
	struct j2k_mem		 m;
	struct j2k_msg		 msg;
	opj_dparameters_t	 prm;
	opj_codec_t		*codec = NULL;
	opj_stream_t		*st = NULL;
	opj_image_t		*oi = NULL;
	const unsigned char	*p = buf;
	size_t			 plane, i;
	int			 c, jp2;

	memset(img, 0, sizeof(*img));
	msg.text[0] = '\0';
	if (len < 12) {
		errfmt(err, errlen, "JPEG 2000 frame is too short "
		    "(%zu bytes)", len);
		goto fail;
	}
	jp2 = memcmp(p, jp2sig, sizeof(jp2sig)) == 0;
	if (!jp2 && !(p[0] == 0xff && p[1] == 0x4f)) {
		errfmt(err, errlen, "JPEG 2000 frame does not start with "
		    "a codestream or JP2 signature");
		goto fail;
	}
	m.p = p;
	m.len = len;
	m.pos = 0;
	if ((st = opj_stream_create(OPJ_J2K_STREAM_CHUNK_SIZE, OPJ_TRUE)) ==
	    NULL) {
		errfmt(err, errlen, "out of memory for the JPEG 2000 "
		    "stream");
		goto fail;
	}
	opj_stream_set_user_data(st, &m, NULL);
	opj_stream_set_user_data_length(st, len);
	opj_stream_set_read_function(st, j2k_mem_read);
	opj_stream_set_skip_function(st, j2k_mem_skip);
	opj_stream_set_seek_function(st, j2k_mem_seek);
	if ((codec = opj_create_decompress(jp2 ? OPJ_CODEC_JP2 :
	    OPJ_CODEC_J2K)) == NULL) {
		errfmt(err, errlen, "cannot create a JPEG 2000 decoder");
		goto fail;
	}
	opj_set_error_handler(codec, j2k_on_error, &msg);
	opj_set_warning_handler(codec, j2k_on_quiet, NULL);
	opj_set_info_handler(codec, j2k_on_quiet, NULL);
	opj_set_default_decoder_parameters(&prm);
	if (!opj_setup_decoder(codec, &prm) ||
	    !opj_read_header(st, codec, &oi) || oi == NULL) {
		errfmt(err, errlen, "invalid JPEG 2000 header%s%s",
		    msg.text[0] ? ": " : "", msg.text);
		goto fail;
	}
	if ((int)oi->numcomps != ncomp ||
	    oi->x1 < oi->x0 || oi->y1 < oi->y0 ||
	    oi->x1 - oi->x0 != (OPJ_UINT32)width ||
	    oi->y1 - oi->y0 != (OPJ_UINT32)height) {
		errfmt(err, errlen, "JPEG 2000 image is %ux%u with %u "
		    "component(s) but the DICOM header says %dx%d with %d",
		    oi->x1 - oi->x0, oi->y1 - oi->y0, oi->numcomps,
		    width, height, ncomp);
		goto fail;
	}
	for (c = 0; c < ncomp; c++) {
		if (oi->comps[c].dx != 1 || oi->comps[c].dy != 1 ||
		    oi->comps[c].prec < 1 || oi->comps[c].prec > 31) {
			errfmt(err, errlen, "JPEG 2000 component %d is "
			    "subsampled or has %u-bit precision, which is "
			    "not supported", c, oi->comps[c].prec);
			goto fail;
		}
	}
	if (!opj_decode(codec, st, oi)) {
		errfmt(err, errlen, "JPEG 2000 decoding failed%s%s",
		    msg.text[0] ? ": " : "", msg.text);
		goto fail;
	}
	/* A missing EOC marker is tolerated: the image is complete. */
	(void)opj_end_decompress(codec, st);
	plane = (size_t)width * (size_t)height;
	for (c = 0; c < ncomp; c++) {
		if (oi->comps[c].data == NULL || oi->comps[c].w !=
		    (OPJ_UINT32)width || oi->comps[c].h != (OPJ_UINT32)height) {
			errfmt(err, errlen, "JPEG 2000 decoder returned "
			    "an incomplete component %d", c);
			goto fail;
		}
	}
	if (plane > SIZE_MAX / sizeof(int32_t) / (size_t)ncomp ||
	    (img->data = malloc(plane * (size_t)ncomp * sizeof(int32_t))) ==
	    NULL) {
		errfmt(err, errlen, "out of memory for a %dx%d JPEG 2000 "
		    "frame", width, height);
		goto fail;
	}
	for (c = 0; c < ncomp; c++)
		for (i = 0; i < plane; i++)
			img->data[(size_t)c * plane + i] = oi->comps[c].data[i];
	img->width = width;
	img->height = height;
	img->ncomp = ncomp;
	img->prec = (int)oi->comps[0].prec;
	img->sgnd = oi->comps[0].sgnd != 0;
	opj_image_destroy(oi);
	opj_destroy_codec(codec);
	opj_stream_destroy(st);
	return 0;
fail:
	if (oi != NULL)
		opj_image_destroy(oi);
	if (codec != NULL)
		opj_destroy_codec(codec);
	if (st != NULL)
		opj_stream_destroy(st);
	j2k_image_free(img);
	return -1;
}

void
j2k_image_free(struct j2k_image *img)
{
	if (img == NULL)
		return;
	free(img->data);
	img->data = NULL;
}
