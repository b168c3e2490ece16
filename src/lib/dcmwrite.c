/*
 * dcmwrite.c - write a volume as a DICOM CT Image Storage series.
 *
 * Every file is built in memory, File Meta group then dataset, each
 * element appended in ascending tag order (an element out of order is a
 * bug here and fails the write), and written in one go.  Values are
 * padded to even length, UIDs with NUL, everything else with a space.
 */
#include "config.h"

#include <sys/random.h>
#include <sys/stat.h>
#include <sys/types.h>

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "dcmwrite.h"
#include "series.h"

/* Ours, made once as 2.25 and 128 random bits (PS3.5 B.2). */
#define DW_IMPL_UID	"2.25.327736191913481517645017873214301504352"
#define DW_IMPL_NAME	"ZHIYING"
#define DW_MANUFACTURER	"zhiying phantom"
#define DW_CHARSET	"ISO_IR 192"
#define DW_IMAGE_TYPE	"DERIVED\\SECONDARY\\AXIAL"
#define DW_FILM_IMAGE_TYPE "DERIVED\\SECONDARY"
#define DW_MAX_SLICES	999999		/* IM%06d */
#define DW_DS_MAX	16		/* bytes of one DS value */
#define DW_CT_AIR	-1024

/* One dataset or meta group being built. */
struct dw {
	struct buf	 b;
	uint32_t	 last;		/* the tag written last */
	int		 bad;		/* out of memory, order or length */
};

static void
errfmt(char *err, size_t errlen, const char *fmt, ...)
{
	va_list	 ap;

	if (err == NULL || errlen == 0)
		return;
	va_start(ap, fmt);
	(void)vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

/* The VRs whose explicit form has a 4-byte length (PS3.5 7.1.2). */
static int
vr_is_long(const char *vr)
{
	static const char *const longs[] = { "OB", "OD", "OF", "OL", "OV",
	    "OW", "SQ", "SV", "UC", "UN", "UR", "UT", "UV" };
	size_t	 i;

	for (i = 0; i < sizeof(longs) / sizeof(longs[0]); i++)
		if (memcmp(vr, longs[i], 2) == 0)
			return 1;
	return 0;
}

static void
dw_put(struct dw *d, const void *p, size_t n)
{
	if (!d->bad && buf_append(&d->b, p, n) == -1)
		d->bad = 1;
}

static void
dw_put16(struct dw *d, unsigned v)
{
	unsigned char	 p[2] = { v & 0xff, (v >> 8) & 0xff };

	dw_put(d, p, 2);
}

static void
dw_put32(struct dw *d, uint32_t v)
{
	unsigned char	 p[4] = { v & 0xff, (v >> 8) & 0xff,
	    (v >> 16) & 0xff, (v >> 24) & 0xff };

	dw_put(d, p, 4);
}

/* One element, explicit VR little endian; an odd value gets pad. */
static void
dw_elem(struct dw *d, unsigned g, unsigned e, const char *vr,
    const void *val, size_t len, char pad)
{
	uint32_t	 tag = (uint32_t)g << 16 | e;
	size_t		 plen = len + (len & 1);

	if (d->b.len > 0 && tag <= d->last)
		d->bad = 1;
	d->last = tag;
	if (plen > (vr_is_long(vr) ? (size_t)0xfffffffe : (size_t)0xffff))
		d->bad = 1;
	if (d->bad)
		return;
	dw_put16(d, g);
	dw_put16(d, e);
	dw_put(d, vr, 2);
	if (vr_is_long(vr)) {
		dw_put16(d, 0);
		dw_put32(d, (uint32_t)plen);
	} else
		dw_put16(d, (unsigned)plen);
	if (len > 0)
		dw_put(d, val, len);
	if (len & 1)
		dw_put(d, &pad, 1);
}

static void
dw_str(struct dw *d, unsigned g, unsigned e, const char *vr, const char *s)
{
	dw_elem(d, g, e, vr, s, strlen(s),
	    memcmp(vr, "UI", 2) == 0 ? '\0' : ' ');
}

static void
dw_us(struct dw *d, unsigned g, unsigned e, unsigned v)
{
	unsigned char	 p[2] = { v & 0xff, (v >> 8) & 0xff };

	dw_elem(d, g, e, "US", p, 2, 0);
}

static void
dw_is(struct dw *d, unsigned g, unsigned e, long v)
{
	char	 s[16];

	(void)snprintf(s, sizeof(s), "%ld", v);
	dw_str(d, g, e, "IS", s);
}

/* A decimal string of at most 16 bytes; -1 if v cannot be one. */
static int
ds_format(char *out, size_t size, double v)
{
	int	 prec, n;

	if (!isfinite(v) || size < DW_DS_MAX + 1)
		return -1;
	if (fabs(v) < 1e-12)
		v = 0;		/* also turns -0 into 0 */
	for (prec = 12; prec > 0; prec--) {
		n = snprintf(out, size, "%.*g", prec, v);
		if (n > 0 && n <= DW_DS_MAX)
			return 0;
	}
	return -1;
}

/* n DS values joined by backslashes; a value that is not finite fails. */
static void
dw_ds(struct dw *d, unsigned g, unsigned e, const double *v, int n)
{
	char	 s[(DW_DS_MAX + 1) * 6];
	size_t	 len = 0;
	int	 i;

	s[0] = '\0';
	for (i = 0; i < n && i < 6; i++) {
		if (i > 0)
			s[len++] = '\\';
		if (ds_format(s + len, sizeof(s) - len, v[i]) == -1) {
			d->bad = 1;
			return;
		}
		len += strlen(s + len);
	}
	dw_str(d, g, e, "DS", s);
}

static void
dw_ds1(struct dw *d, unsigned g, unsigned e, double v)
{
	dw_ds(d, g, e, &v, 1);
}

/* ---- checks of the caller's text ---- */

/*
 * Characters in s if it is valid UTF-8 without control characters, else
 * -1.  Backslash (the value separator) is refused too.
 */
static long
utf8_chars(const char *s)
{
	const unsigned char	*p = (const unsigned char *)s;
	uint32_t		 c;
	long			 n = 0;
	int			 i, more;

	while (*p != '\0') {
		c = *p++;
		if (c < 0x80) {
			if (c < 0x20 || c == 0x7f || c == '\\')
				return -1;
			n++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf) {
			more = 1;
			c &= 0x1f;
		} else if (c >= 0xe0 && c <= 0xef) {
			more = 2;
			c &= 0x0f;
		} else if (c >= 0xf0 && c <= 0xf4) {
			more = 3;
			c &= 0x07;
		} else
			return -1;
		for (i = 0; i < more; i++, p++) {
			if ((*p & 0xc0) != 0x80)
				return -1;
			c = c << 6 | (*p & 0x3f);
		}
		if ((more == 2 && c < 0x800) || (more == 3 && c < 0x10000) ||
		    c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
			return -1;
		n++;
	}
	return n;
}

/* Whether s is a string of VR vr that fits (PS3.5 6.2). */
static int
text_ok(const char *s, const char *vr)
{
	const char	*p;
	long		 n;
	size_t		 i, len = strlen(s);

	if (strcmp(vr, "DA") == 0) {
		if (len != 0 && len != 8)
			return 0;
		for (i = 0; i < len; i++)
			if (s[i] < '0' || s[i] > '9')
				return 0;
		return 1;
	}
	if (strcmp(vr, "TM") == 0) {
		/* HH, HHMM or HHMMSS, optionally .F to .FFFFFF */
		p = strchr(s, '.');
		n = p != NULL ? p - s : (long)len;
		if (n != 2 && n != 4 && n != 6)
			return 0;
		if (p != NULL && (strlen(p + 1) < 1 || strlen(p + 1) > 6))
			return 0;
		for (i = 0; i < len; i++)
			if ((s[i] < '0' || s[i] > '9') && s + i != p)
				return 0;
		return 1;
	}
	if (strcmp(vr, "CS") == 0) {
		if (len > 16)
			return 0;
		for (i = 0; i < len; i++)
			if (!((s[i] >= 'A' && s[i] <= 'Z') ||
			    (s[i] >= '0' && s[i] <= '9') || s[i] == ' ' ||
			    s[i] == '_'))
				return 0;
		return 1;
	}
	if ((n = utf8_chars(s)) == -1)
		return 0;
	if (strcmp(vr, "SH") == 0)
		return n <= 16;
	if (strcmp(vr, "LO") == 0)
		return n <= 64;
	if (strcmp(vr, "PN") == 0) {
		/* At most three component groups of 64 characters. */
		if (len > 3 * 64 * 4)
			return 0;
		for (i = 0, p = s; ; i++) {
			const char	*q = strchr(p, '=');
			char		 grp[64 * 4 + 1];
			size_t		 glen = q != NULL ?
			    (size_t)(q - p) : strlen(p);

			if (i >= 3 || glen >= sizeof(grp))
				return 0;
			memcpy(grp, p, glen);
			grp[glen] = '\0';
			if (utf8_chars(grp) > 64)
				return 0;
			if (q == NULL)
				break;
			p = q + 1;
		}
		return 1;
	}
	return 0;
}

/* ---- UIDs ---- */

int
dcmwrite_uid_valid(const char *s)
{
	size_t	 i, len = strlen(s);
	int	 start = 1;

	if (len == 0 || len > DCMWRITE_UID_MAX)
		return 0;
	for (i = 0; i < len; i++) {
		if (s[i] == '.') {
			if (start)
				return 0;	/* empty component */
			start = 1;
			continue;
		}
		if (s[i] < '0' || s[i] > '9')
			return 0;
		if (start && s[i] == '0' && s[i + 1] != '.' &&
		    s[i + 1] != '\0')
			return 0;		/* leading zero */
		start = 0;
	}
	return !start;
}

int
dcmwrite_uid(char *buf, size_t size)
{
	unsigned char	 r[16];
	uint32_t	 w[4];
	char		 dig[40];
	size_t		 got = 0, nd = 0, i;
	uint64_t	 cur, rem;
	ssize_t		 n;

	if (size < DCMWRITE_UID_MAX + 1)
		return -1;
	while (got < sizeof(r)) {
		n = getrandom(r + got, sizeof(r) - got, 0);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		got += (size_t)n;
	}
	for (i = 0; i < 4; i++)
		w[i] = (uint32_t)r[4 * i] << 24 | (uint32_t)r[4 * i + 1] << 16 |
		    (uint32_t)r[4 * i + 2] << 8 | r[4 * i + 3];
	/* The 128-bit number w[0..3] (most significant first), in decimal
	 * by repeated division by ten: at most 39 digits. */
	do {
		rem = 0;
		for (i = 0; i < 4; i++) {
			cur = rem << 32 | w[i];
			w[i] = (uint32_t)(cur / 10);
			rem = cur % 10;
		}
		dig[nd++] = (char)('0' + rem);
	} while ((w[0] | w[1] | w[2] | w[3]) != 0);
	memcpy(buf, "2.25.", 5);
	for (i = 0; i < nd; i++)
		buf[5 + i] = dig[nd - 1 - i];
	buf[5 + nd] = '\0';
	return 0;
}

/* ---- the series ---- */

/* Everything that is the same in every file of the series. */
struct dw_series {
	const struct series_volume *v;
	const char	*name, *pid, *sex, *birth, *acc, *sdesc, *edesc;
	const char	*body, *kernel, *view, *laterality;
	const char	*sop_class, *modality;	/* CT, or DX for a film */
	char		 date[9], time[7];
	char		 study_uid[DCMWRITE_UID_MAX + 1];
	char		 series_uid[DCMWRITE_UID_MAX + 1];
	char		 frame_uid[DCMWRITE_UID_MAX + 1];
	int		 series_number;
	int		 film, pixel_unsigned, no_window;
	const char	*voi_function;
	const struct dcmwrite_lut *mlut, *vluts;
	size_t		 nvluts;
	double		 kvp, thickness, wc, ww, size;
	double		 normal[3], step[3], iop[6], ps[2];
};

static const char *
opt_str(const char *s, const char *def)
{
	return s != NULL && *s != '\0' ? s : def;
}

static double
vec_len(const double *a)
{
	return sqrt(a[0] * a[0] + a[1] * a[1] + a[2] * a[2]);
}

static int
vec_finite(const double *a)
{
	return isfinite(a[0]) && isfinite(a[1]) && isfinite(a[2]);
}

/* Check the text fields against their VRs.  Returns 0, or -1 with err. */
static int
dw_texts_check(const struct dw_series *s, char *err, size_t errlen)
{
	const struct {
		const char	*val, *vr, *name;
	} texts[] = {
		{ s->name, "PN", "patient name" },
		{ s->pid, "LO", "patient ID" },
		{ s->birth, "DA", "patient birth date" },
		{ s->acc, "SH", "accession number" },
		{ s->sdesc, "LO", "study description" },
		{ s->edesc, "LO", "series description" },
		{ s->body, "CS", "body part" },
		{ s->kernel, "SH", "convolution kernel" },
		{ s->view, "CS", "view position" },
		{ s->laterality, "CS", "image laterality" },
	};
	size_t	 i;

	for (i = 0; i < sizeof(texts) / sizeof(texts[0]); i++)
		if (!text_ok(texts[i].val, texts[i].vr)) {
			errfmt(err, errlen, "bad %s: not a valid DICOM %s "
			    "value", texts[i].name, texts[i].vr);
			return -1;
		}
	return 0;
}

/* The given UID if valid, else a new one when none is given, into uid
 * (DCMWRITE_UID_MAX + 1 bytes).  Returns 0, or -1 with err. */
static int
dw_uid_take(char *uid, const char *given, const char *name, char *err,
    size_t errlen)
{
	if (given == NULL || *given == '\0') {
		if (dcmwrite_uid(uid, DCMWRITE_UID_MAX + 1) == -1) {
			errfmt(err, errlen, "no random bytes for a UID: %s",
			    strerror(errno));
			return -1;
		}
		return 0;
	}
	if (!dcmwrite_uid_valid(given)) {
		errfmt(err, errlen, "bad %s: %s", name, given);
		return -1;
	}
	memcpy(uid, given, strlen(given) + 1);
	return 0;
}

/* Check v and opts and fill *s.  Returns 0, or -1 with err. */
static int
dw_series_init(struct dw_series *s, const struct series_volume *v,
    const struct dcmwrite_opts *o, char *err, size_t errlen)
{
	static const struct dcmwrite_opts zero;
	struct tm	 tm;
	time_t		 now;
	double		 len;
	int		 k;

	if (o == NULL)
		o = &zero;
	memset(s, 0, sizeof(*s));
	s->v = v;
	if (v == NULL || v->vox == NULL || v->nx < 1 || v->ny < 1 ||
	    v->nz < 1) {
		errfmt(err, errlen, "no volume to write");
		return -1;
	}
	if (v->nx > 0xffff || v->ny > 0xffff || v->nz > DW_MAX_SLICES ||
	    (uint64_t)v->nx * (uint64_t)v->ny * 2 > 0xfffffffeULL) {
		errfmt(err, errlen, "volume too large: %dx%dx%d voxels",
		    v->nx, v->ny, v->nz);
		return -1;
	}
	s->sop_class = DCMWRITE_CT_CLASS;
	s->modality = "CT";
	if (strcmp(v->modality, "DX") == 0) {
		if (v->nz != 1) {
			errfmt(err, errlen, "a DX image has one frame, not %d",
			    v->nz);
			return -1;
		}
		s->sop_class = DCMWRITE_DX_CLASS;
		s->modality = "DX";
	} else if (v->modality[0] != '\0' && strcmp(v->modality, "CT") != 0) {
		errfmt(err, errlen, "a %s volume cannot be written as CT",
		    v->modality);
		return -1;
	}
	if (!isfinite(v->spacing[0]) || !isfinite(v->spacing[1]) ||
	    v->spacing[0] <= 0 || v->spacing[1] <= 0) {
		errfmt(err, errlen, "bad pixel spacing %g x %g mm",
		    v->spacing[0], v->spacing[1]);
		return -1;
	}
	if (!vec_finite(v->row) || !vec_finite(v->col) ||
	    !vec_finite(v->origin) || !vec_finite(v->step) ||
	    !vec_finite(v->normal) || vec_len(v->row) < 1e-6 ||
	    vec_len(v->col) < 1e-6) {
		errfmt(err, errlen, "bad volume geometry");
		return -1;
	}
	for (k = 0; k < 3; k++) {
		s->iop[k] = v->row[k] / vec_len(v->row);
		s->iop[3 + k] = v->col[k] / vec_len(v->col);
	}
	if (fabs(s->iop[0] * s->iop[3] + s->iop[1] * s->iop[4] +
	    s->iop[2] * s->iop[5]) > 1e-3) {
		errfmt(err, errlen, "row and column directions are not "
		    "orthogonal");
		return -1;
	}
	/* The normal: the volume's, else row x column. */
	if ((len = vec_len(v->normal)) > 1e-6)
		for (k = 0; k < 3; k++)
			s->normal[k] = v->normal[k] / len;
	else {
		s->normal[0] = s->iop[1] * s->iop[5] - s->iop[2] * s->iop[4];
		s->normal[1] = s->iop[2] * s->iop[3] - s->iop[0] * s->iop[5];
		s->normal[2] = s->iop[0] * s->iop[4] - s->iop[1] * s->iop[3];
	}
	if (vec_len(v->step) > 1e-9)
		memcpy(s->step, v->step, sizeof(s->step));
	else if (v->nz > 1 && isfinite(v->spacing[2]) && v->spacing[2] > 0)
		for (k = 0; k < 3; k++)
			s->step[k] = s->normal[k] * v->spacing[2];
	else if (v->nz > 1) {
		errfmt(err, errlen, "no slice spacing");
		return -1;
	}
	s->ps[0] = v->spacing[1];	/* between rows: dy */
	s->ps[1] = v->spacing[0];	/* between columns: dx */

	s->name = opt_str(o->patient_name, "PHANTOM^ZHIYING");
	s->pid = opt_str(o->patient_id, "ZY-PHANTOM");
	s->sex = opt_str(o->patient_sex, "O");
	s->birth = opt_str(o->patient_birth_date, "");
	s->acc = opt_str(o->accession, "");
	s->sdesc = opt_str(o->study_description, "Phantom CT");
	s->edesc = opt_str(o->series_description, "Phantom chest");
	s->body = opt_str(o->body_part, "CHEST");
	s->kernel = opt_str(o->kernel, "STANDARD");
	s->view = opt_str(o->view_position, "");
	s->laterality = opt_str(o->laterality, "");
	if (dw_texts_check(s, err, errlen) == -1)
		return -1;
	if (strcmp(s->sex, "M") != 0 && strcmp(s->sex, "F") != 0 &&
	    strcmp(s->sex, "O") != 0) {
		errfmt(err, errlen, "bad patient sex (M, F or O)");
		return -1;
	}

	now = time(NULL);
	if (localtime_r(&now, &tm) == NULL ||
	    strftime(s->date, sizeof(s->date), "%Y%m%d", &tm) != 8 ||
	    strftime(s->time, sizeof(s->time), "%H%M%S", &tm) != 6) {
		errfmt(err, errlen, "no current time");
		return -1;
	}
	if (o->study_date != NULL && *o->study_date != '\0') {
		if (strlen(o->study_date) != 8 ||
		    !text_ok(o->study_date, "DA")) {
			errfmt(err, errlen, "bad study date (YYYYMMDD)");
			return -1;
		}
		memcpy(s->date, o->study_date, 9);
	}
	if (o->study_time != NULL && *o->study_time != '\0') {
		if (strlen(o->study_time) != 6 ||
		    !text_ok(o->study_time, "TM")) {
			errfmt(err, errlen, "bad study time (HHMMSS)");
			return -1;
		}
		memcpy(s->time, o->study_time, 7);
	}

	if (dw_uid_take(s->study_uid, o->study_uid, "study UID", err,
	    errlen) == -1 ||
	    dw_uid_take(s->series_uid, o->series_uid, "series UID", err,
	    errlen) == -1 ||
	    dw_uid_take(s->frame_uid, o->frame_uid, "frame of reference UID",
	    err, errlen) == -1)
		return -1;

	s->series_number = o->series_number != 0 ? o->series_number : 1;
	s->size = isfinite(o->patient_size) && o->patient_size > 0 ?
	    o->patient_size : 0.0;
	if (isfinite(o->kvp) && o->kvp > 0)
		s->kvp = o->kvp;
	else if (isfinite(v->kvp) && v->kvp > 0)
		s->kvp = v->kvp;
	else
		s->kvp = 120;
	if (isfinite(o->slice_thickness) && o->slice_thickness > 0)
		s->thickness = o->slice_thickness;
	else if (isfinite(v->slice_thickness) && v->slice_thickness > 0)
		s->thickness = v->slice_thickness;
	else if (isfinite(v->spacing[2]) && v->spacing[2] > 0)
		s->thickness = v->spacing[2];
	else
		s->thickness = vec_len(s->step);
	if (o->window_center != 0 || o->window_width != 0) {
		s->wc = o->window_center;
		s->ww = o->window_width;
	} else if (isfinite(v->window_center) && isfinite(v->window_width) &&
	    v->window_width > 0) {
		s->wc = v->window_center;
		s->ww = v->window_width;
	} else {
		s->wc = 40;
		s->ww = 400;
	}
	if (!isfinite(s->wc) || !isfinite(s->ww) || s->ww < 1) {
		errfmt(err, errlen, "bad window %g/%g", s->wc, s->ww);
		return -1;
	}
	s->film = strcmp(s->modality, "DX") == 0;
	if (!s->film && (o->pixel_unsigned || o->no_window ||
	    o->voi_function != NULL || o->modality_lut != NULL ||
	    o->nvoi_luts > 0)) {
		errfmt(err, errlen, "LUTs and unsigned pixels are written "
		    "for films (DX) only");
		return -1;
	}
	if (o->voi_function != NULL && (*o->voi_function == '\0' ||
	    !text_ok(o->voi_function, "CS"))) {
		errfmt(err, errlen, "bad VOI LUT Function");
		return -1;
	}
	s->pixel_unsigned = o->pixel_unsigned;
	s->no_window = o->no_window;
	s->voi_function = o->voi_function;
	s->mlut = o->modality_lut;
	s->vluts = o->voi_luts;
	s->nvluts = o->voi_luts != NULL ? o->nvoi_luts : 0;
	return 0;
}

/* A LUT Sequence (tag g,e) of the n LUTs at l, each an item of defined
 * length holding LUT Descriptor and LUT Data. */
static void
dw_lut_seq(struct dw *d, unsigned g, unsigned e, const struct dcmwrite_lut *l,
    size_t n)
{
	struct dw	 it, sq;
	unsigned char	 desc[6];
	size_t		 i, k;

	memset(&sq, 0, sizeof(sq));
	buf_init(&sq.b, 0);
	for (i = 0; i < n && !sq.bad; i++) {
		memset(&it, 0, sizeof(it));
		buf_init(&it.b, 0);
		desc[0] = l[i].entries & 0xff;
		desc[1] = (l[i].entries >> 8) & 0xff;
		desc[2] = (unsigned long)l[i].first & 0xff;
		desc[3] = ((unsigned long)l[i].first >> 8) & 0xff;
		desc[4] = l[i].bits & 0xff;
		desc[5] = (l[i].bits >> 8) & 0xff;
		dw_elem(&it, 0x0028, 0x3002, "US", desc, 6, 0);
		for (k = 0; k < l[i].count && !it.bad; k++) {
			if (k == 0) {
				dw_put16(&it, 0x0028);
				dw_put16(&it, 0x3006);
				dw_put(&it, "OW", 2);
				dw_put16(&it, 0);
				dw_put32(&it, (uint32_t)(l[i].count * 2));
			}
			dw_put16(&it, l[i].data[k]);
		}
		if (l[i].count == 0)
			dw_elem(&it, 0x0028, 0x3006, "OW", NULL, 0, 0);
		dw_put16(&sq, 0xfffe);
		dw_put16(&sq, 0xe000);
		dw_put32(&sq, (uint32_t)it.b.len);
		if (!it.bad && it.b.len > 0)
			dw_put(&sq, it.b.data, it.b.len);
		sq.bad |= it.bad;
		buf_free(&it.b);
	}
	if (sq.bad)
		d->bad = 1;
	else
		dw_elem(d, g, e, "SQ", sq.b.data, sq.b.len, 0);
	buf_free(&sq.b);
}

/* The File Meta group (with preamble and magic) of one file. */
static int
dw_meta(struct buf *out, const char *sop_class, const char *sop_uid)
{
	static const unsigned char version[2] = { 0, 1 };
	static const char	 preamble[128];
	struct dw		 m;
	unsigned char		 gl[12] = { 2, 0, 0, 0, 'U', 'L', 4, 0 };
	int			 rc = -1;

	memset(&m, 0, sizeof(m));
	buf_init(&m.b, 0);
	dw_elem(&m, 0x0002, 0x0001, "OB", version, 2, 0);
	dw_str(&m, 0x0002, 0x0002, "UI", sop_class);
	dw_str(&m, 0x0002, 0x0003, "UI", sop_uid);
	dw_str(&m, 0x0002, 0x0010, "UI", DCMWRITE_EXPLICIT_LE);
	dw_str(&m, 0x0002, 0x0012, "UI", DW_IMPL_UID);
	dw_str(&m, 0x0002, 0x0013, "SH", DW_IMPL_NAME);
	if (m.bad)
		goto out;
	gl[8] = m.b.len & 0xff;
	gl[9] = (m.b.len >> 8) & 0xff;
	gl[10] = (m.b.len >> 16) & 0xff;
	gl[11] = (m.b.len >> 24) & 0xff;
	if (buf_append(out, preamble, sizeof(preamble)) == -1 ||
	    buf_append(out, "DICM", 4) == -1 ||
	    buf_append(out, gl, sizeof(gl)) == -1 ||
	    buf_append(out, m.b.data, m.b.len) == -1)
		goto out;
	rc = 0;
out:
	buf_free(&m.b);
	return rc;
}

/* Slice k's values as little-endian int16 into pix (nx * ny * 2). */
static void
dw_pixels(const struct series_volume *v, int k, unsigned char *pix)
{
	const float	*f = v->vox + (size_t)k * v->nx * v->ny;
	size_t		 i, n = (size_t)v->nx * v->ny;
	double		 x;
	long		 q;

	for (i = 0; i < n; i++) {
		x = f[i];
		if (isnan(x))
			q = DW_CT_AIR;
		else if (x <= -32768)
			q = -32768;
		else if (x >= 32767)
			q = 32767;
		else
			q = lround(x);
		pix[2 * i] = (unsigned)q & 0xff;
		pix[2 * i + 1] = ((unsigned)q >> 8) & 0xff;
	}
}

/* Slice k's values as little-endian uint16 into pix (a film with
 * unsigned pixels). */
static void
dw_pixels_u(const struct series_volume *v, int k, unsigned char *pix)
{
	const float	*f = v->vox + (size_t)k * v->nx * v->ny;
	size_t		 i, n = (size_t)v->nx * v->ny;
	double		 x;
	long		 q;

	for (i = 0; i < n; i++) {
		x = f[i];
		q = isnan(x) || x <= 0 ? 0 : x >= 65535 ? 65535 : lround(x);
		pix[2 * i] = (unsigned)q & 0xff;
		pix[2 * i + 1] = ((unsigned)q >> 8) & 0xff;
	}
}

/* The dataset of slice k, after the meta group in d->b. */
static void
dw_dataset(struct dw *d, const struct dw_series *s, int k,
    const char *sop_uid, const unsigned char *pix)
{
	const struct series_volume *v = s->v;
	double		 ipp[3];
	int		 i;

	for (i = 0; i < 3; i++)
		ipp[i] = v->origin[i] + k * s->step[i];
	dw_str(d, 0x0008, 0x0005, "CS", DW_CHARSET);
	dw_str(d, 0x0008, 0x0008, "CS", strcmp(s->modality, "CT") == 0 ?
	    DW_IMAGE_TYPE : DW_FILM_IMAGE_TYPE);
	dw_str(d, 0x0008, 0x0016, "UI", s->sop_class);
	dw_str(d, 0x0008, 0x0018, "UI", sop_uid);
	dw_str(d, 0x0008, 0x0020, "DA", s->date);
	dw_str(d, 0x0008, 0x0021, "DA", s->date);
	dw_str(d, 0x0008, 0x0030, "TM", s->time);
	dw_str(d, 0x0008, 0x0031, "TM", s->time);
	dw_str(d, 0x0008, 0x0050, "SH", s->acc);
	dw_str(d, 0x0008, 0x0060, "CS", s->modality);
	dw_str(d, 0x0008, 0x0070, "LO", DW_MANUFACTURER);
	dw_str(d, 0x0008, 0x0090, "PN", "");
	dw_str(d, 0x0008, 0x1030, "LO", s->sdesc);
	dw_str(d, 0x0008, 0x103e, "LO", s->edesc);
	dw_str(d, 0x0010, 0x0010, "PN", s->name);
	dw_str(d, 0x0010, 0x0020, "LO", s->pid);
	dw_str(d, 0x0010, 0x0030, "DA", s->birth);
	dw_str(d, 0x0010, 0x0040, "CS", s->sex);
	if (s->size > 0)
		dw_ds1(d, 0x0010, 0x1020, s->size);
	dw_str(d, 0x0018, 0x0015, "CS", s->body);
	if (s->thickness > 0)
		dw_ds1(d, 0x0018, 0x0050, s->thickness);
	else
		dw_str(d, 0x0018, 0x0050, "DS", "");
	dw_ds1(d, 0x0018, 0x0060, s->kvp);
	if (v->nz > 1)
		dw_ds1(d, 0x0018, 0x0088, vec_len(s->step));
	else if (isfinite(v->spacing[2]) && v->spacing[2] > 0)
		dw_ds1(d, 0x0018, 0x0088, v->spacing[2]);
	if (strcmp(s->modality, "CT") == 0)
		dw_str(d, 0x0018, 0x1210, "SH", s->kernel);
	dw_str(d, 0x0018, 0x5100, "CS", "HFS");
	if (*s->view != '\0')
		dw_str(d, 0x0018, 0x5101, "CS", s->view);
	dw_str(d, 0x0020, 0x000d, "UI", s->study_uid);
	dw_str(d, 0x0020, 0x000e, "UI", s->series_uid);
	dw_str(d, 0x0020, 0x0010, "SH", "1");
	dw_is(d, 0x0020, 0x0011, s->series_number);
	dw_is(d, 0x0020, 0x0012, 1);
	dw_is(d, 0x0020, 0x0013, k + 1);
	dw_ds(d, 0x0020, 0x0032, ipp, 3);
	dw_ds(d, 0x0020, 0x0037, s->iop, 6);
	dw_str(d, 0x0020, 0x0052, "UI", s->frame_uid);
	if (*s->laterality != '\0')
		dw_str(d, 0x0020, 0x0062, "CS", s->laterality);
	dw_str(d, 0x0020, 0x1040, "LO", "");
	dw_ds1(d, 0x0020, 0x1041, ipp[0] * s->normal[0] +
	    ipp[1] * s->normal[1] + ipp[2] * s->normal[2]);
	dw_us(d, 0x0028, 0x0002, 1);
	/* A film may be MONOCHROME1 (its values then as stored: white is
	 * low); everything else is MONOCHROME2. */
	dw_str(d, 0x0028, 0x0004, "CS", strcmp(s->modality, "DX") == 0 &&
	    strcmp(s->v->photometric, "MONOCHROME1") == 0 ? "MONOCHROME1" :
	    "MONOCHROME2");
	dw_us(d, 0x0028, 0x0010, (unsigned)v->ny);
	dw_us(d, 0x0028, 0x0011, (unsigned)v->nx);
	dw_ds(d, 0x0028, 0x0030, s->ps, 2);
	dw_us(d, 0x0028, 0x0100, 16);
	dw_us(d, 0x0028, 0x0101, 16);
	dw_us(d, 0x0028, 0x0102, 15);
	dw_us(d, 0x0028, 0x0103, s->pixel_unsigned ? 0 : 1);
	if (!s->no_window) {
		dw_ds1(d, 0x0028, 0x1050, s->wc);
		dw_ds1(d, 0x0028, 0x1051, s->ww);
	}
	/* A Modality LUT replaces the rescale (PS3.3 C.11.1). */
	if (s->mlut == NULL) {
		dw_ds1(d, 0x0028, 0x1052, 0);
		dw_ds1(d, 0x0028, 0x1053, 1);
	}
	if (strcmp(s->modality, "CT") == 0)
		dw_str(d, 0x0028, 0x1054, "LO", "HU");
	if (s->voi_function != NULL)
		dw_str(d, 0x0028, 0x1056, "CS", s->voi_function);
	if (s->mlut != NULL)
		dw_lut_seq(d, 0x0028, 0x3000, s->mlut, 1);
	if (s->nvluts > 0)
		dw_lut_seq(d, 0x0028, 0x3010, s->vluts, s->nvluts);
	dw_elem(d, 0x7fe0, 0x0010, "OW", pix,
	    (size_t)v->nx * v->ny * 2, 0);
}

/* Write len bytes at p to fd entirely.  Returns 0 or -1 (errno). */
static int
write_all(int fd, const void *p, size_t len)
{
	const char	*c = p;
	ssize_t		 n;

	while (len > 0) {
		n = write(fd, c, len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (n == 0)
				errno = EIO;
			return -1;
		}
		c += n;
		len -= (size_t)n;
	}
	return 0;
}

/*
 * Write data to dir/name through a temporary file in dir: written,
 * synced, renamed.  Returns 0, or -1 with err (the temporary removed).
 */
static int
file_put(const char *dir, const char *name, const void *data, size_t len,
    char *err, size_t errlen)
{
	char	 tmp[4096], path[4096];
	int	 fd, n;

	n = snprintf(path, sizeof(path), "%s/%s", dir, name);
	if (n < 0 || (size_t)n >= sizeof(path) ||
	    (size_t)snprintf(tmp, sizeof(tmp), "%s/.%s.XXXXXX", dir, name) >=
	    sizeof(tmp)) {
		errfmt(err, errlen, "%s: path too long", dir);
		return -1;
	}
	if ((fd = mkstemp(tmp)) == -1) {
		errfmt(err, errlen, "%s: %s", tmp, strerror(errno));
		return -1;
	}
	if (write_all(fd, data, len) == -1 || fchmod(fd, 0644) == -1 ||
	    fsync(fd) == -1) {
		errfmt(err, errlen, "%s: %s", tmp, strerror(errno));
		(void)close(fd);
		(void)unlink(tmp);
		return -1;
	}
	if (close(fd) == -1) {
		errfmt(err, errlen, "%s: %s", tmp, strerror(errno));
		(void)unlink(tmp);
		return -1;
	}
	if (rename(tmp, path) == -1) {
		errfmt(err, errlen, "%s: %s", path, strerror(errno));
		(void)unlink(tmp);
		return -1;
	}
	return 0;
}

/* Sync dir itself so that the renames last.  Returns 0 or -1 (errno). */
static int
dir_sync(const char *dir)
{
	int	 fd, rc;

	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1)
		return -1;
	rc = fsync(fd);
	if (rc == -1 && errno == EINVAL)
		rc = 0;		/* the file system cannot: nothing to do */
	(void)close(fd);
	return rc;
}

int
dcmwrite_series(const struct series_volume *v,
    const struct dcmwrite_opts *opts, const char *dir, char *err,
    size_t errlen)
{
	struct dw_series	 s;
	struct dw		 d;
	struct stat		 st;
	unsigned char		*pix = NULL;
	char			 sop[DCMWRITE_UID_MAX + 1], name[32];
	char			 path[4096];
	int			 k, done = 0;

	memset(&d, 0, sizeof(d));
	buf_init(&d.b, 0);
	if (err != NULL && errlen > 0)
		err[0] = '\0';
	if (dw_series_init(&s, v, opts, err, errlen) == -1)
		goto fail;
	if (dir == NULL || *dir == '\0') {
		errfmt(err, errlen, "no folder to write to");
		goto fail;
	}
	if (mkdir(dir, 0755) == -1 && errno != EEXIST) {
		errfmt(err, errlen, "%s: %s", dir, strerror(errno));
		goto fail;
	}
	if (stat(dir, &st) == -1 || !S_ISDIR(st.st_mode)) {
		errfmt(err, errlen, "%s: not a folder", dir);
		goto fail;
	}
	if ((pix = malloc((size_t)v->nx * v->ny * 2)) == NULL) {
		errfmt(err, errlen, "out of memory");
		goto fail;
	}
	for (k = 0; k < v->nz; k++) {
		if (dcmwrite_uid(sop, sizeof(sop)) == -1) {
			errfmt(err, errlen, "no random bytes for a UID: %s",
			    strerror(errno));
			goto fail;
		}
		if (s.pixel_unsigned)
			dw_pixels_u(v, k, pix);
		else
			dw_pixels(v, k, pix);
		buf_clear(&d.b);
		d.last = 0;
		d.bad = 0;
		if (dw_meta(&d.b, s.sop_class, sop) == -1) {
			errfmt(err, errlen, "out of memory");
			goto fail;
		}
		/* The order check starts anew after the meta group. */
		d.last = 0x00020013;
		dw_dataset(&d, &s, k, sop, pix);
		if (d.bad) {
			errfmt(err, errlen, "slice %d: cannot encode the "
			    "dataset (out of memory or a bad value)", k + 1);
			goto fail;
		}
		(void)snprintf(name, sizeof(name), "IM%06d.dcm", k + 1);
		if (file_put(dir, name, d.b.data, d.b.len, err, errlen) == -1)
			goto fail;
		done = k + 1;
	}
	if (dir_sync(dir) == -1) {
		errfmt(err, errlen, "%s: %s", dir, strerror(errno));
		goto fail;
	}
	free(pix);
	buf_free(&d.b);
	return 0;
fail:
	for (k = 0; k < done; k++) {
		(void)snprintf(path, sizeof(path), "%s/IM%06d.dcm", dir,
		    k + 1);
		(void)unlink(path);
	}
	free(pix);
	buf_free(&d.b);
	return -1;
}
