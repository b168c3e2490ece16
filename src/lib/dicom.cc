/*
 * dicom.cc - safe reading of DICOM files: header attributes and pixels.
 *
 * The only C++ file of the project: it wraps DCMTK behind the C API of
 * dicom.h and is written in the same style as the C files.  The order of
 * work for every call is:
 *
 *   1. read the file into memory (refusing files over the size limit);
 *   2. pre-scan the element structure without recursion, inflating a
 *      deflated dataset once its inflated size is known to be within
 *      the limits (a first pass counts), and refuse lengths past the end of
 *      the data and sequences nested deeper than the limit, since DCMTK
 *      recurses once per nesting level;
 *   3. let DCMTK parse the bytes from memory (a header read whose bytes
 *      the bounded walk proves, and whose values it can read as DCMTK
 *      reads them, needs no parse: dcm_info_walk());
 *   4. copy the attributes out, or decode one frame (JPEG, JPEG-LS and
 *      with DCMTK's codecs, RLE with rle.c, JPEG 2000 with OpenJPEG
 *      through j2k.c).
 */
#include "config.h"

#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <new>

#include <zlib.h>

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dctk.h>
#include <dcmtk/dcmdata/dcistrmb.h>
#include <dcmtk/dcmdata/dcistrmf.h>
#include <dcmtk/dcmdata/dcostrmf.h>
#include <dcmtk/dcmdata/dcpixseq.h>
#include <dcmtk/dcmdata/dcpxitem.h>
#include <dcmtk/dcmjpeg/djdecode.h>
#include <dcmtk/dcmjpls/djdecode.h>
#include <dcmtk/dcmnet/assoc.h>
#include <dcmtk/dcmnet/dimse.h>
#include <dcmtk/dcmnet/dul.h>
#include <dcmtk/dcmnet/dulstruc.h>
#include <dcmtk/dcmnet/dcmtrans.h>
#include <dcmtk/oflog/oflog.h>

#include "dicom.h"
#include "j2k.h"
#include "rle.h"
#include "log.h"

#define DCM_DEF_MAX_FILE	((size_t)1 << 30)
#define DCM_DEF_MAX_DEPTH	16
#define DCM_MAX_MAX_DEPTH	64	/* DCMTK's recursion stays shallow */
#define DCM_DEF_MAX_PIXELS	((size_t)1 << 28)
#define DCM_UNDEF		0xffffffffU

/* Effective limits of one call. */
struct dcm_lim {
	size_t	 max_file;
	int	 max_depth;
	size_t	 max_pixels;
	size_t	 max_inflated;
	unsigned inflate_ratio;
};

/* What the pre-scan learnt about the layout of the file. */
struct dcm_scan {
	char		 ts[65];	/* from the meta header, or "" */
	int		 has_meta;
	int		 deflated;
	unsigned char	*inflated;	/* deflated datasets only */
	size_t		 inflated_len;
	/* Without a meta header: where the dataset starts and how the
	 * pre-scan read it.  DCMTK is then told the same, so that it can
	 * never take a length field the pre-scan did not check. */
	size_t		 data_pos;
	int		 explicit_vr, big;
	int		 fd;		/* the bytes DCMTK reads; -1 if none */
	/* Native Pixel Data of the dataset itself (not in a sequence),
	 * with a defined length: where its value starts and its length,
	 * both checked against the data.  pixel_len 0: none such. */
	size_t		 pixel_pos, pixel_len;
	/* The parse stopped at that Pixel Data (a header read): DCMTK
	 * holds what precedes it, the pre-scan knows the element. */
	int		 stopped;
	/* dcm_head_walk() of these bytes: 0 not yet, 1 proved, 2 not. */
	int		 walk;
};

/* How dcm_parse() is asked to work. */
enum {
	DCM_P_HEADER = 1 << 0,	/* the caller will not ask for the pixels */
	DCM_P_SCANNED = 1 << 1	/* *sc holds this buffer's pre-scan */
};

/* Release what a parse kept: the inflated copy and the stream's file. */
static void
dcm_scan_free(struct dcm_scan *sc)
{
	free(sc->inflated);
	sc->inflated = NULL;
	if (sc->fd >= 0)
		(void)close(sc->fd);
	sc->fd = -1;
}

/*
 * Put bytes in an anonymous memory file for DCMTK to read as a file:
 * then an element larger than what remains is refused by DCMTK ("larger
 * than remaining bytes") instead of allocated, and large values are read
 * only when asked for.  The holelen bytes at hole are left out (a hole of
 * the file, which reads as zeros and takes no memory): a header read
 * leaves out the native Pixel Data value, which DCMTK then only skips.
 * Returns the descriptor or -1.
 */
static int
dcm_memfile(const unsigned char *p, size_t len, size_t hole, size_t holelen)
{
	int	 fd;
	size_t	 off = 0, stop;
	ssize_t	 w;

	if ((fd = memfd_create("zhiying-dicom", MFD_CLOEXEC)) == -1)
		return -1;
	if (holelen > 0 && ftruncate(fd, (off_t)len) == -1) {
		(void)close(fd);
		return -1;
	}
	while (off < len) {
		stop = off < hole ? hole : len;
		if (holelen > 0 && off == hole) {
			off += holelen;
			continue;
		}
		if ((w = pwrite(fd, p + off, stop - off, (off_t)off)) <= 0) {
			(void)close(fd);
			return -1;
		}
		off += (size_t)w;
	}
	return fd;
}

/* One open container of the pre-scan. */
enum dcm_kind { DCM_K_ROOT, DCM_K_ITEM, DCM_K_SEQ, DCM_K_FRAG };
struct dcm_level {
	enum dcm_kind	 kind;
	size_t		 end;		/* SIZE_MAX: undefined length */
	int		 explicit_vr;
	int		 big;
};

/* How stored sample values become numbers. */
struct dcm_fmt {
	int		 bytes;		/* per sample: 1, 2 or 4 */
	int		 shift;		/* high_bit + 1 - bits_stored */
	uint32_t	 mask;
	int		 sgnd;
	int		 bits;		/* bits stored */
	int		 clamp;		/* decoded lossy data may overshoot */
};


static int
dcm_global_setup(void)
{
	OFLog::configure(OFLogger::FATAL_LOG_LEVEL);
	DJDecoderRegistration::registerCodecs();
	DJLSDecoderRegistration::registerCodecs();
	return dcmDataDict.isDictionaryLoaded() ? 1 : 0;
}

/* Register the codecs and quiet the logger once (thread-safe: C++11
 * initialises function-local statics exactly once).  Returns 0, or -1 if
 * DCMTK's data dictionary could not be loaded. */
static int
dcm_global_init(void)
{
	static const int ok = dcm_global_setup();

	return ok ? 0 : -1;
}

static void
dcm_lim_set(struct dcm_lim *l, const struct dcm_limits *u)
{
	l->max_file = DCM_DEF_MAX_FILE;
	l->max_depth = DCM_DEF_MAX_DEPTH;
	l->max_pixels = DCM_DEF_MAX_PIXELS;
	l->max_inflated = DCM_DEF_MAX_INFLATED;
	l->inflate_ratio = DCM_DEF_INFLATE_RATIO;
	if (u == NULL)
		return;
	if (u->max_file != 0)
		l->max_file = u->max_file;
	if (u->max_depth > 0)
		l->max_depth = u->max_depth;
	if (l->max_depth > DCM_MAX_MAX_DEPTH)
		l->max_depth = DCM_MAX_MAX_DEPTH;
	if (u->max_pixels != 0)
		l->max_pixels = u->max_pixels;
	if (u->max_inflated != 0)
		l->max_inflated = u->max_inflated;
	if (u->inflate_ratio != 0)
		l->inflate_ratio = u->inflate_ratio;
}

/*
 * Each thread keeps one buffer for the files it reads, up to
 * DCM_TLBUF_MAX bytes: reading a series of files then costs no fresh
 * pages (and no page faults) per file.  Larger files get a buffer of
 * their own.
 */
#define DCM_TLBUF_MAX	((size_t)8 << 20)

struct dcm_tlbuf {
	unsigned char	*p;
	size_t		 cap;
	int		 busy;
	~dcm_tlbuf() { free(p); }
};
static thread_local struct dcm_tlbuf dcm_tl;

/* What this thread's reads cost, for dcm_counts_get(). */
static thread_local struct dcm_counts dcm_tl_counts;

/* Release a buffer from dcm_file_load(). */
static void
dcm_file_put(unsigned char *p)
{
	if (p != NULL && p == dcm_tl.p)
		dcm_tl.busy = 0;
	else
		free(p);
}

/* Read a whole regular file of at most max bytes into a buffer.
 * Returns 0 with *buf (release it with dcm_file_put()) and *len, or
 * -1. */
static int
dcm_file_load(const char *path, size_t max, unsigned char **buf,
    size_t *len, char *err, size_t errlen)
{
	struct stat	 st;
	unsigned char	*p = NULL, *q;
	size_t		 n = 0, want;
	ssize_t		 r;
	int		 fd;

	*buf = NULL;
	*len = 0;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		errfmt(err, errlen, "cannot open the file: %s",
		    strerror(errno));
		goto fail;
	}
	if (fstat(fd, &st) == -1) {
		errfmt(err, errlen, "cannot stat the file: %s",
		    strerror(errno));
		goto fail;
	}
	if (!S_ISREG(st.st_mode)) {
		errfmt(err, errlen, "not a regular file");
		goto fail;
	}
	if (st.st_size < 0 || (unsigned long long)st.st_size > max) {
		errfmt(err, errlen, "file is %lld bytes, over the limit "
		    "of %zu", (long long)st.st_size, max);
		goto fail;
	}
	want = (size_t)st.st_size;
	if (want <= DCM_TLBUF_MAX && !dcm_tl.busy) {
		if (dcm_tl.cap < (want ? want : 1)) {
			if ((q = (unsigned char *)realloc(dcm_tl.p,
			    want ? want : 1)) != NULL) {
				dcm_tl.p = q;
				dcm_tl.cap = want ? want : 1;
			}
		}
		if (dcm_tl.cap >= (want ? want : 1)) {
			p = dcm_tl.p;
			dcm_tl.busy = 1;
		}
	}
	if (p == NULL &&
	    (p = (unsigned char *)malloc(want ? want : 1)) == NULL) {
		errfmt(err, errlen, "out of memory for a %zu-byte file",
		    want);
		goto fail;
	}
	while (n < want) {
		r = read(fd, p + n, want - n);
		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1) {
			errfmt(err, errlen, "cannot read the file: %s",
			    strerror(errno));
			goto fail;
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	close(fd);
	*buf = p;
	*len = n;
	return 0;
fail:
	if (fd != -1)
		close(fd);
	dcm_file_put(p);
	return -1;
}

static unsigned
dcm_rd16(const unsigned char *p, int big)
{
	return big ? (unsigned)p[0] << 8 | p[1] : (unsigned)p[1] << 8 | p[0];
}

static uint32_t
dcm_rd32(const unsigned char *p, int big)
{
	if (big)
		return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
		    (uint32_t)p[2] << 8 | p[3];
	return (uint32_t)p[3] << 24 | (uint32_t)p[2] << 16 |
	    (uint32_t)p[1] << 8 | p[0];
}

/*
 * What DCMTK's DcmVR makes of a two-character VR name: its enumeration,
 * whether it is a standard VR, whether it takes the 4-byte length.  The
 * constructor looks the name up by string comparison through DCMTK's VR
 * table, and the pre-scan and the walk asked it several times for every
 * element (a tenth of a header read's time); the 676 upper-case names
 * are asked once and kept, any other name is asked each time.
 */
struct dcm_vrinfo {
	DcmEVR		 evr;
	unsigned char	 standard, extended;
};

static struct dcm_vrinfo
dcm_vrinfo_ask(const char name[3])
{
	DcmVR			 vr(name);
	struct dcm_vrinfo	 vi;

	vi.evr = vr.getEVR();
	vi.standard = vr.isStandard() ? 1 : 0;
	vi.extended = vr.usesExtendedLengthEncoding() ? 1 : 0;
	return vi;
}

struct dcm_vrtab {
	struct dcm_vrinfo	 v[26][26];
};

static struct dcm_vrtab
dcm_vrtab_make(void)
{
	struct dcm_vrtab	 t;
	char			 name[3];
	int			 i, k;

	name[2] = '\0';
	for (i = 0; i < 26; i++)
		for (k = 0; k < 26; k++) {
			name[0] = (char)('A' + i);
			name[1] = (char)('A' + k);
			t.v[i][k] = dcm_vrinfo_ask(name);
		}
	return t;
}

static struct dcm_vrinfo
dcm_vrinfo_of(const unsigned char *p)
{
	static const struct dcm_vrtab	 t = dcm_vrtab_make();
	char				 name[3];

	if (p[0] >= 'A' && p[0] <= 'Z' && p[1] >= 'A' && p[1] <= 'Z')
		return t.v[p[0] - 'A'][p[1] - 'A'];
	name[0] = (char)p[0];
	name[1] = (char)p[1];
	name[2] = '\0';
	return dcm_vrinfo_ask(name);
}

/* Read an explicit VR element header at p (n bytes available).  Sets
 * *hdr (8 or 12), *vl and the VR; returns -1 if n is too short. */
static int
dcm_explicit_header(const unsigned char *p, size_t n, int big, DcmEVR *evr,
    size_t *hdr, uint32_t *vl)
{
	struct dcm_vrinfo	 vr = dcm_vrinfo_of(p + 4);

	*evr = vr.evr;
	if (vr.extended) {
		if (n < 12)
			return -1;
		*hdr = 12;
		*vl = dcm_rd32(p + 8, big);
	} else {
		*hdr = 8;
		*vl = dcm_rd16(p + 6, big);
	}
	return 0;
}

/*
 * Walk the elements of a dataset at p[pos..len) without recursion and
 * refuse impossible lengths and nesting deeper than max_depth.  The end
 * of the data inside undefined-length containers is tolerated, as DCMTK
 * tolerates it.  Returns 0 or -1.
 */
static int
dcm_prescan_dataset(const unsigned char *p, size_t len, size_t pos,
    int explicit_vr, int big, int max_depth, size_t *pix_pos,
    size_t *pix_len, char *err, size_t errlen)
{
	const DcmDataDictionary	*dict = NULL;
	struct dcm_level	*st = NULL, *l;
	size_t			 cap, sp = 0, lim, hdr, end;
	uint32_t		 vl;
	unsigned		 g, e;
	int			 depth = 0, seq, un, rc = -1;
	DcmEVR			 evr;

	cap = (size_t)max_depth * 2 + 4;
	if ((st = (struct dcm_level *)calloc(cap, sizeof(*st))) == NULL) {
		errfmt(err, errlen, "out of memory for the structure scan");
		return -1;
	}
	dict = &dcmDataDict.rdlock();
	st[0].kind = DCM_K_ROOT;
	st[0].end = len;
	st[0].explicit_vr = explicit_vr;
	st[0].big = big;
	for (;;) {
		l = &st[sp];
		/* Items may overrun a defined-length sequence (DCMTK reads
		 * them): a container ends where the data passes its end. */
		if (l->end != SIZE_MAX && pos >= l->end) {
			if (sp == 0)
				break;
			if (l->kind == DCM_K_SEQ || l->kind == DCM_K_FRAG)
				depth--;
			sp--;
			continue;
		}
		if (pos == len)
			break;
		lim = l->end == SIZE_MAX ? len : l->end;
		if (pos > lim || lim - pos < 8) {
			errfmt(err, errlen, "truncated element header at "
			    "offset %zu", pos);
			goto fail;
		}
		g = dcm_rd16(p + pos, l->big);
		e = dcm_rd16(p + pos + 2, l->big);
		if (l->kind == DCM_K_SEQ || l->kind == DCM_K_FRAG) {
			vl = dcm_rd32(p + pos + 4, l->big);
			if (g == 0xfffe && e == 0xe0dd) {
				pos += 8;
				depth--;
				sp--;
				continue;
			}
			if (g != 0xfffe || e != 0xe000) {
				errfmt(err, errlen, "element (%04x,%04x) "
				    "where a sequence item was expected at "
				    "offset %zu", g, e, pos);
				goto fail;
			}
			pos += 8;
			if (l->kind == DCM_K_FRAG) {
				if (vl == DCM_UNDEF || vl > lim - pos) {
					errfmt(err, errlen, "pixel data "
					    "fragment at offset %zu runs past "
					    "the end of the data", pos - 8);
					goto fail;
				}
				pos += vl;
				continue;
			}
			if (vl != DCM_UNDEF && vl > len - pos) {
				errfmt(err, errlen, "sequence item at "
				    "offset %zu runs past the end of the data",
				    pos - 8);
				goto fail;
			}
			if (sp + 1 >= cap)
				goto deep;
			sp++;
			st[sp].kind = DCM_K_ITEM;
			st[sp].end = vl == DCM_UNDEF ? SIZE_MAX : pos + vl;
			st[sp].explicit_vr = l->explicit_vr;
			st[sp].big = l->big;
			continue;
		}
		/* Root or item: delimiters, then an element. */
		if (g == 0xfffe && e == 0xe00d) {
			pos += 8;
			if (l->kind == DCM_K_ITEM)
				sp--;
			continue;
		}
		if (g == 0xfffe && e == 0xe0dd) {
			pos += 8;
			if (l->kind == DCM_K_ITEM && l->end == SIZE_MAX) {
				/* Item closed by its sequence's delimiter. */
				sp -= 2;
				depth--;
			}
			continue;
		}
		if (g == 0xfffe) {
			errfmt(err, errlen, "sequence item (%04x,%04x) "
			    "outside a sequence at offset %zu", g, e, pos);
			goto fail;
		}
		seq = un = 0;
		evr = EVR_UNKNOWN;
		if (l->explicit_vr) {
			if (dcm_explicit_header(p + pos, lim - pos, l->big,
			    &evr, &hdr, &vl) == -1) {
				errfmt(err, errlen, "truncated element "
				    "header at offset %zu", pos);
				goto fail;
			}
			seq = evr == EVR_SQ;
			un = evr == EVR_UN || evr == EVR_UNKNOWN;
		} else {
			const DcmDictEntry *de;

			hdr = 8;
			vl = dcm_rd32(p + pos + 4, l->big);
			de = dict->findEntry(DcmTagKey((Uint16)g, (Uint16)e),
			    NULL);
			seq = de != NULL && de->getEVR() == EVR_SQ;
			un = de == NULL;
		}
		pos += hdr;
		if (vl == DCM_UNDEF) {
			if (sp + 1 >= cap || depth + 1 > max_depth)
				goto deep;
			sp++;
			depth++;
			st[sp].big = l->big;
			st[sp].explicit_vr = l->explicit_vr;
			if ((g == 0x7fe0 && e == 0x0010) || (!seq &&
			    (evr == EVR_OB || evr == EVR_OW)))
				st[sp].kind = DCM_K_FRAG;
			else {
				st[sp].kind = DCM_K_SEQ;
				if (l->explicit_vr && evr == EVR_UN) {
					/* UN of undefined length: implicit
					 * VR little endian inside. */
					st[sp].explicit_vr = 0;
					st[sp].big = 0;
				}
			}
			st[sp].end = SIZE_MAX;
			continue;
		}
		if (vl > lim - pos) {
			errfmt(err, errlen, "element (%04x,%04x) at "
			    "offset %zu declares %lu bytes, past the end of "
			    "the data", g, e, pos - hdr, (unsigned long)vl);
			goto fail;
		}
		end = pos + vl;
		if (sp == 0 && g == 0x7fe0 && e == 0x0010 && vl > 0 &&
		    pix_pos != NULL) {
			/* Twice: which one DCMTK keeps is its business;
			 * no offset is given out then. */
			*pix_pos = *pix_len != 0 ? SIZE_MAX : pos;
			*pix_len = vl;
		}
		/* Unknown elements that start with an item tag may be
		 * parsed as sequences: scan them as such too. */
		if (!seq && un && vl >= 8 && dcm_rd16(p + pos, l->big) ==
		    0xfffe && dcm_rd16(p + pos + 2, l->big) == 0xe000)
			seq = 2;
		if (seq) {
			if (sp + 1 >= cap || depth + 1 > max_depth)
				goto deep;
			sp++;
			depth++;
			st[sp].kind = DCM_K_SEQ;
			st[sp].end = end;
			st[sp].big = seq == 2 && l->explicit_vr ? 0 : l->big;
			st[sp].explicit_vr = seq == 2 ? 0 : l->explicit_vr;
			continue;
		}
		pos = end;
	}
	rc = 0;
	goto done;
deep:
	errfmt(err, errlen, "sequences are nested deeper than %d levels",
	    max_depth);
fail:
done:
	dcmDataDict.rdunlock();
	free(st);
	return rc;
}

/*
 * One inflation of len bytes at p (wbits as for inflateInit2) into dst
 * (dstlen bytes), or, with dst NULL, into a scratch buffer only to count
 * the output.  Stops as soon as the output passes max.  Returns the zlib
 * result (Z_STREAM_END when whole, Z_BUF_ERROR when the input ran out,
 * Z_MEM_ERROR when max was passed) with *outlen the bytes produced.
 */
static int
dcm_inflate_pass(const unsigned char *p, size_t len, int wbits,
    unsigned char *dst, size_t dstlen, size_t max, size_t *outlen,
    char *msg, size_t msglen)
{
	unsigned char	 scratch[65536];
	z_stream	 z;
	size_t		 n = 0, room;
	int		 zr;

	*outlen = 0;
	msg[0] = '\0';
	memset(&z, 0, sizeof(z));
	if (inflateInit2(&z, wbits) != Z_OK)
		return Z_STREAM_ERROR;
	z.next_in = (Bytef *)p;
	z.avail_in = len > UINT32_MAX ? UINT32_MAX : (uInt)len;
	do {
		if (dst != NULL) {
			/* One byte past the end would be past max: the
			 * counting pass measured the output already. */
			room = dstlen - n;
			z.next_out = dst + n;
		} else {
			room = sizeof(scratch);
			z.next_out = scratch;
		}
		if (room == 0)
			break;
		z.avail_out = room > UINT32_MAX ? UINT32_MAX : (uInt)room;
		zr = inflate(&z, Z_NO_FLUSH);
		n += room - z.avail_out;
		if (n > max) {
			zr = Z_MEM_ERROR;
			break;
		}
	} while (zr == Z_OK);
	if (dst != NULL && room == 0)
		zr = n == dstlen ? Z_STREAM_END : Z_DATA_ERROR;
	if (z.msg != NULL)
		(void)snprintf(msg, msglen, "%s", z.msg);
	inflateEnd(&z);
	*outlen = n;
	return zr;
}

/*
 * Inflate a deflated dataset (raw deflate, or zlib-wrapped as some
 * writers do) into a new buffer of exactly its size.  A first pass only
 * counts the output and gives up as soon as it passes the limit: the
 * absolute one, or inflate_ratio times the compressed size once past
 * DCM_INFLATE_FREE.  So a deflate bomb is refused without its output ever
 * being held, and in time proportional to the limit, not to the bomb.
 * Returns 0 or -1.
 */
static int
dcm_inflate(const unsigned char *p, size_t len, const struct dcm_lim *lim,
    unsigned char **out, size_t *outlen, char *err, size_t errlen)
{
	unsigned char	*b = NULL;
	size_t		 max, n, got;
	char		 msg[128];
	int		 zr = Z_DATA_ERROR, wbits = -MAX_WBITS, attempt;

	*out = NULL;
	*outlen = 0;
	max = lim->max_inflated;
	if (len <= max / lim->inflate_ratio &&
	    (size_t)lim->inflate_ratio * len < max)
		max = (size_t)lim->inflate_ratio * len;
	if (max < DCM_INFLATE_FREE)
		max = lim->max_inflated < DCM_INFLATE_FREE ?
		    lim->max_inflated : DCM_INFLATE_FREE;
	for (attempt = 0; attempt < 2; attempt++) {
		wbits = attempt == 0 ? -MAX_WBITS : MAX_WBITS + 32;
		zr = dcm_inflate_pass(p, len, wbits, NULL, 0, max, &n, msg,
		    sizeof(msg));
		if (zr == Z_MEM_ERROR) {
			errfmt(err, errlen, "deflated dataset of %zu bytes "
			    "inflates past the limit of %zu bytes", len, max);
			goto fail;
		}
		if (zr == Z_STREAM_END || (zr == Z_BUF_ERROR && n > 0))
			break;
		if (attempt == 1 || n > 0) {
			errfmt(err, errlen, "deflated dataset is "
			    "corrupt (%s)", msg[0] ? msg : "bad data");
			goto fail;
		}
	}
	if (n == 0) {
		errfmt(err, errlen, "deflated dataset is empty");
		goto fail;
	}
	if ((b = (unsigned char *)malloc(n)) == NULL) {
		errfmt(err, errlen, "out of memory inflating the dataset");
		goto fail;
	}
	zr = dcm_inflate_pass(p, len, wbits, b, n, max, &got, msg,
	    sizeof(msg));
	if (got != n || (zr != Z_STREAM_END && zr != Z_BUF_ERROR)) {
		errfmt(err, errlen, "deflated dataset is corrupt (%s)",
		    msg[0] ? msg : "bad data");
		goto fail;
	}
	*out = b;
	*outlen = n;
	return 0;
fail:
	free(b);
	return -1;
}

/*
 * Pre-scan a whole file image: preamble, meta header, then the dataset
 * in the transfer syntax the meta header names (or as detected when it
 * has none).  Fills *sc; sc->inflated is set for deflated datasets and
 * freed by the caller.  Returns 0 or -1.
 */
static int
dcm_prescan(const unsigned char *p, size_t len, const struct dcm_lim *lim,
    struct dcm_scan *sc, char *err, size_t errlen)
{
	size_t		 pos = 0, hdr, n;
	uint32_t	 vl;
	unsigned	 gle, gbe;
	int		 explicit_vr = 1, big = 0;
	DcmEVR		 evr;
	char		 vrname[3];

	memset(sc, 0, sizeof(*sc));
	sc->fd = -1;
	dcm_tl_counts.prescans++;
	if (len == 0) {
		errfmt(err, errlen, "empty file");
		return -1;
	}
	if (len >= 132 && memcmp(p + 128, "DICM", 4) == 0)
		pos = 132;
	while (len - pos >= 8 && dcm_rd16(p + pos, 0) == 0x0002) {
		/* The meta information is explicit VR little endian, always
		 * (PS3.10 7.1): without a known VR, DCMTK would read the
		 * group as implicit and take a VR and reserved bytes for a
		 * four-byte length. */
		vrname[0] = (char)p[pos + 4];
		vrname[1] = (char)p[pos + 5];
		vrname[2] = '\0';
		if (vrname[0] < 'A' || vrname[0] > 'Z' || vrname[1] < 'A' ||
		    vrname[1] > 'Z' || dcm_vrinfo_of(p + pos + 4).evr ==
		    EVR_UNKNOWN || dcm_vrinfo_of(p + pos + 4).evr ==
		    EVR_UNKNOWN2B) {
			errfmt(err, errlen, "file meta information element "
			    "(0002,%04x) has no valid VR",
			    dcm_rd16(p + pos + 2, 0));
			return -1;
		}
		if (dcm_explicit_header(p + pos, len - pos, 0, &evr, &hdr,
		    &vl) == -1 || vl == DCM_UNDEF || vl > len - pos - hdr) {
			errfmt(err, errlen, "file meta information "
			    "element (0002,%04x) runs past the end of the "
			    "file", dcm_rd16(p + pos + 2, 0));
			return -1;
		}
		if (dcm_rd16(p + pos + 2, 0) == 0x0010) {
			n = vl < sizeof(sc->ts) ? vl : sizeof(sc->ts) - 1;
			memcpy(sc->ts, p + pos + hdr, n);
			sc->ts[n] = '\0';
			while (n > 0 && (sc->ts[n - 1] == '\0' ||
			    sc->ts[n - 1] == ' '))
				sc->ts[--n] = '\0';
		}
		sc->has_meta = 1;
		pos += hdr + vl;
	}
	if (pos == 0 && len < 8) {
		errfmt(err, errlen, "file is too short to be DICOM "
		    "(%zu bytes)", len);
		return -1;
	}
	if (strcmp(sc->ts, UID_LittleEndianImplicitTransferSyntax) == 0)
		explicit_vr = 0;
	else if (strcmp(sc->ts, UID_BigEndianExplicitTransferSyntax) == 0)
		big = 1;
	else if (strcmp(sc->ts,
	    UID_DeflatedExplicitVRLittleEndianTransferSyntax) == 0) {
		sc->deflated = 1;
		if (dcm_inflate(p + pos, len - pos, lim,
		    &sc->inflated, &sc->inflated_len, err, errlen) == -1)
			return -1;
		if (dcm_prescan_dataset(sc->inflated, sc->inflated_len, 0, 1, 0,
		    lim->max_depth, NULL, NULL, err, errlen) == -1)
			goto fail;
		return 0;
	} else if (sc->ts[0] == '\0' && len - pos >= 8) {
		/* No transfer syntax: detect as DCMTK does, from the first
		 * element's group number and VR characters. */
		gle = dcm_rd16(p + pos, 0);
		gbe = dcm_rd16(p + pos, 1);
		big = gbe < gle;
		if (pos == 0 && ((big ? gbe : gle) > 0x0028 ||
		    ((big ? gbe : gle) & 1))) {
			errfmt(err, errlen, "not a DICOM file: no "
			    "preamble or meta header, and the data does not "
			    "start with a DICOM element");
			return -1;
		}
		dcm_explicit_header(p + pos, len - pos, big, &evr, &hdr, &vl);
		explicit_vr = evr != EVR_UNKNOWN && evr != EVR_UNKNOWN2B &&
		    p[pos + 4] >= 'A' && p[pos + 4] <= 'Z' &&
		    p[pos + 5] >= 'A' && p[pos + 5] <= 'Z';
	}
	if (pos == len && !sc->has_meta) {
		errfmt(err, errlen, "no DICOM dataset in the file");
		return -1;
	}
	/* There is no implicit VR big endian transfer syntax. */
	if (!explicit_vr && big) {
		errfmt(err, errlen, "not a DICOM file: implicit VR in big "
		    "endian byte order");
		return -1;
	}
	sc->data_pos = pos;
	sc->explicit_vr = explicit_vr;
	sc->big = big;
	if (dcm_prescan_dataset(p, len, pos, explicit_vr, big, lim->max_depth,
	    &sc->pixel_pos, &sc->pixel_len, err, errlen) == -1)
		return -1;
	return 0;
fail:
	free(sc->inflated);
	sc->inflated = NULL;
	return -1;
}

/*
 * The bounded header walk.  A header read may let DCMTK parse the bytes
 * from a buffer (DcmInputBufferStream) instead of from a memory file; but
 * from a buffer DCMTK loads every value as it meets it, allocating the
 * length the element declares before it reads a byte, where from a file
 * it defers values over 4 KB and refuses one "larger than remaining
 * bytes".  So a buffer parse is safe only where every length DCMTK will
 * read has been checked first, in the syntax DCMTK will read it in: the
 * pre-scan alone does not prove that (a wrong meta group length makes
 * DCMTK read dataset elements as meta elements, in another syntax; an
 * item may overrun its sequence; in implicit VR a private element may be
 * a sequence to DCMTK through its private dictionary).  dcm_head_walk()
 * visits every element before the top level's Pixel Data, nested ones
 * included, and says yes only when
 *
 *   - a meta header (PS3.10 7.1) follows the 128-byte preamble and
 *     "DICM", starts with its group length (0002,0000), UL, whose value
 *     is the exact size of the group 2 elements after it, and names one
 *     of the three native syntaxes (PS3.5 A.1, A.2, A.3) exactly; or
 *     there is no meta header and the pre-scan's syntax is read as is;
 *   - every element header is whole, explicit VRs are standard ones, and
 *     every defined length fits in what is left of its enclosing item,
 *     sequence and the data before Pixel Data (PS3.5 7.1, 7.5);
 *   - undefined lengths belong to sequences (and their items), closed
 *     by delimitation items of length 0 (PS3.5 7.5.2) before Pixel Data;
 *   - sequences nest no deeper than the limit;
 *   - nothing DCMTK may read as a sequence (in implicit VR, an element
 *     its dictionary calls SQ under any private creator in view, or one
 *     it does not know; in explicit VR, SQ and UN) hides what the walk
 *     did not check: one that starts with an item is walked as a
 *     sequence, whichever way DCMTK reads it; one that starts with any
 *     other (FFFE,xxxx) tag, or that can only be a sequence and holds no
 *     item, is refused; the rest are values DCMTK may read either way;
 *   - the top level's native Pixel Data (OB or OW, even defined length)
 *     ends the data, so that DCMTK stops at its header.
 *
 * Anything else takes the memory file, exactly as before.  Returns 1;
 * 0 with the reason in why when the layout suits (native Pixel Data ends
 * the data) but a length is not proved; -1, with the reason, when the
 * layout does not suit.
 */
struct dcm_wlevel {
	enum dcm_kind	 kind;		/* DCM_K_ROOT, _SEQ or _ITEM */
	size_t		 end;		/* SIZE_MAX: undefined length */
	size_t		 lim;		/* the nearest defined end above */
};

#define DCM_WALK_CREATORS	32

/* A private creator met by the walk (implicit VR only). */
struct dcm_wcreator {
	size_t			 level;
	unsigned		 group, block;
	const unsigned char	*v;
	size_t			 n;
};

/* The three native syntaxes a walked header may be in. */
static int
dcm_walk_ts(const unsigned char *v, size_t n, int *explicit_vr, int *big)
{
	static const struct {
		const char	*uid;
		int		 explicit_vr, big;
	} ts[] = {
		{ UID_LittleEndianImplicitTransferSyntax, 0, 0 },
		{ UID_LittleEndianExplicitTransferSyntax, 1, 0 },
		{ UID_BigEndianExplicitTransferSyntax, 1, 1 }
	};
	size_t	 i, k;

	for (i = 0; i < sizeof(ts) / sizeof(ts[0]); i++) {
		k = strlen(ts[i].uid);
		/* The UID, padded with one NUL to an even length or not. */
		if ((n == k || (n == k + 1 && v[k] == '\0')) &&
		    memcmp(v, ts[i].uid, k) == 0) {
			*explicit_vr = ts[i].explicit_vr;
			*big = ts[i].big;
			return 0;
		}
	}
	return -1;
}

/* What DCMTK may read an element as: sequence, unknown (UN: read as a
 * value, or as a sequence when of undefined length), or a plain value. */
enum {
	DCM_W_SQ = 1 << 0,
	DCM_W_UNKNOWN = 1 << 1,
	DCM_W_PLAIN = 1 << 2
};

static int
dcm_walk_entry(const DcmDictEntry *de)
{
	if (de == NULL)
		return DCM_W_UNKNOWN;
	return de->getEVR() == EVR_SQ ? DCM_W_SQ : DCM_W_PLAIN;
}

/*
 * What DCMTK may take an implicit VR element for (DCM_W_ bits): it looks
 * its VR up in the data dictionary, a private element's (odd group,
 * element 1000H and up) under the private creator that reserved its block
 * in the same item (PS3.5 7.8.1).  Every creator of that block in view is
 * tried, as read, trimmed of trailing padding, and of leading spaces too;
 * an entry found under none leaves the element unknown.
 */
static int
dcm_walk_vr_implicit(const DcmDataDictionary *dict, unsigned g, unsigned e,
    const struct dcm_wcreator *cr, size_t ncr)
{
	const DcmDictEntry	*de;
	DcmTagKey		 key((Uint16)g, (Uint16)e);
	char			 name[72];
	size_t			 i, n, k;
	int			 variant, what;

	what = dcm_walk_entry(dict->findEntry(key, NULL));
	if (!(g & 1) || e < 0x1000)
		return what;
	for (i = 0; i < ncr; i++) {
		if (cr[i].group != g || cr[i].block != (e >> 8))
			continue;
		n = cr[i].n < sizeof(name) - 1 ? cr[i].n : sizeof(name) - 1;
		for (variant = 0; variant < 3; variant++) {
			memcpy(name, cr[i].v, n);
			name[n] = '\0';
			k = strlen(name);
			if (variant >= 1)
				while (k > 0 && name[k - 1] == ' ')
					name[--k] = '\0';
			if (variant == 2) {
				k = strspn(name, " ");
				memmove(name, name + k, strlen(name + k) + 1);
			}
			if ((de = dict->findEntry(key, name)) != NULL)
				what |= dcm_walk_entry(de);
		}
	}
	return what;
}

/*
 * The top-level elements a header read answers from (dcm_info_fill()),
 * which the walk notes as it passes them: a header read then needs no
 * DCMTK parse when every one of them is in a form whose reading by DCMTK
 * is certain (dcm_info_walk()).
 */
static const DcmTagKey dcm_want_tags[] = {
	DCM_SpecificCharacterSet, DCM_SOPClassUID, DCM_SOPInstanceUID,
	DCM_StudyInstanceUID, DCM_SeriesInstanceUID, DCM_FrameOfReferenceUID,
	DCM_PatientID, DCM_PatientName, DCM_PatientSex, DCM_PatientBirthDate,
	DCM_PatientAge, DCM_AccessionNumber, DCM_StudyDate, DCM_StudyTime,
	DCM_StudyDescription, DCM_SeriesDescription, DCM_Modality,
	DCM_BodyPartExamined, DCM_Manufacturer, DCM_ManufacturerModelName,
	DCM_ConvolutionKernel, DCM_InstitutionName, DCM_ImageType,
	DCM_ViewPosition, DCM_PatientPosition, DCM_ImageLaterality,
	DCM_Laterality, DCM_ContrastBolusAgent, DCM_PhotometricInterpretation,
	DCM_SeriesNumber, DCM_InstanceNumber, DCM_Rows, DCM_Columns,
	DCM_NumberOfFrames, DCM_BitsAllocated, DCM_BitsStored, DCM_HighBit,
	DCM_PixelRepresentation, DCM_SamplesPerPixel,
	DCM_PlanarConfiguration, DCM_SliceThickness, DCM_SpacingBetweenSlices,
	DCM_KVP, DCM_PatientSize, DCM_GantryDetectorTilt, DCM_SliceLocation,
	DCM_PixelSpacing, DCM_ImagerPixelSpacing, DCM_ImagePositionPatient,
	DCM_ImageOrientationPatient, DCM_RescaleSlope, DCM_RescaleIntercept,
	DCM_ModalityLUTSequence, DCM_VOILUTSequence, DCM_VOILUTFunction,
	DCM_WindowCenter, DCM_WindowWidth, DCM_PixelPaddingValue
};
#define DCM_NWANT	(sizeof(dcm_want_tags) / sizeof(dcm_want_tags[0]))

/* The wanted tags as (group << 16 | element), sorted, with the VR of
 * each in DCMTK's dictionary (EVR_UNKNOWN when it has none). */
struct dcm_wantset {
	uint32_t	 key[DCM_NWANT];
	DcmEVR		 vr[DCM_NWANT];
	int		 ok;
};

static struct dcm_wantset
dcm_wantset_make(void)
{
	struct dcm_wantset	 ws;
	const DcmDictEntry	*de;
	size_t			 i, k;
	uint32_t		 t;

	ws.ok = dcmDataDict.isDictionaryLoaded() ? 1 : 0;
	for (i = 0; i < DCM_NWANT; i++)
		ws.key[i] = (uint32_t)dcm_want_tags[i].getGroup() << 16 |
		    dcm_want_tags[i].getElement();
	/* Insertion sort: 58 keys, once. */
	for (i = 1; i < DCM_NWANT; i++)
		for (k = i; k > 0 && ws.key[k - 1] > ws.key[k]; k--) {
			t = ws.key[k];
			ws.key[k] = ws.key[k - 1];
			ws.key[k - 1] = t;
		}
	{
		const DcmDataDictionary	&dict = dcmDataDict.rdlock();

		for (i = 0; i < DCM_NWANT; i++) {
			de = dict.findEntry(DcmTagKey((Uint16)(ws.key[i] >>
			    16), (Uint16)(ws.key[i] & 0xffff)), NULL);
			ws.vr[i] = de != NULL ? de->getEVR() : EVR_UNKNOWN;
		}
		dcmDataDict.rdunlock();
	}
	return ws;
}

/* The set, made once (C++11 initialises function-local statics exactly
 * once, thread-safe). */
static const struct dcm_wantset *
dcm_wantset_get(void)
{
	static const struct dcm_wantset ws = dcm_wantset_make();

	return &ws;
}

/* Index of a wanted tag, or -1. */
static int
dcm_want_index(const struct dcm_wantset *ws, uint32_t key)
{
	size_t	 lo = 0, hi = DCM_NWANT, mid;

	while (lo < hi) {
		mid = (lo + hi) / 2;
		if (ws->key[mid] == key)
			return (int)mid;
		if (ws->key[mid] < key)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -1;
}

/* What the walk noted of each wanted element of the top level. */
struct dcm_wval {
	const unsigned char	*v;	/* its value */
	uint32_t		 n;	/* length; DCM_UNDEF: a sequence */
	DcmEVR			 vr;	/* explicit VR: as written;
					 * implicit: EVR_UNKNOWN */
	int			 seen;	/* times met */
	int			 seq;	/* walked as a sequence */
};

struct dcm_wvals {
	const struct dcm_wantset *ws;
	struct dcm_wval		 val[DCM_NWANT];
	size_t			 elements;	/* of the top level */
};

static void
dcm_wvals_note(struct dcm_wvals *wv, unsigned g, unsigned e, DcmEVR vr,
    const unsigned char *v, uint32_t n, int seq)
{
	int	 i;

	wv->elements++;
	if ((i = dcm_want_index(wv->ws, (uint32_t)g << 16 | e)) < 0)
		return;
	wv->val[i].seen++;
	wv->val[i].v = v;
	wv->val[i].n = n;
	wv->val[i].vr = vr;
	wv->val[i].seq = seq;
}

static int
dcm_head_walk(const unsigned char *p, size_t len, const struct dcm_scan *sc,
    int max_depth, struct dcm_wvals *wv, char *why, size_t whylen)
{
	const DcmDataDictionary	*dict = NULL;
	struct dcm_wlevel	*st = NULL, *l;
	struct dcm_wcreator	 cr[DCM_WALK_CREATORS];
	const unsigned char	*h, *tsv = NULL;
	size_t			 cap, sp = 0, ncr = 0, pos, hdr, pixhdr, glen,
				 tsn = 0, start;
	uint32_t		 vl;
	unsigned		 g, e, g2, e2;
	int			 explicit_vr, big, depth = 0, rc = 0, nts = 0,
				 seq, what;
	DcmEVR			 evr = EVR_UNKNOWN;
	char			 vrname[3];

	if (why != NULL && whylen > 0)
		why[0] = '\0';
	/* The layout: native Pixel Data of the top level ends the data. */
	if (sc->deflated) {
		errfmt(why, whylen, "deflated dataset");
		return -1;
	}
	if (sc->pixel_len == 0 || sc->pixel_pos == SIZE_MAX ||
	    (sc->pixel_len & 1) || sc->pixel_pos > len ||
	    sc->pixel_len != len - sc->pixel_pos) {
		errfmt(why, whylen, "no single top-level Pixel Data of an "
		    "even defined length that ends the data");
		return -1;
	}
	explicit_vr = sc->explicit_vr;
	big = sc->big;
	hdr = explicit_vr ? 12 : 8;
	if (sc->pixel_pos < sc->data_pos + hdr) {
		errfmt(why, whylen, "no dataset before Pixel Data");
		return -1;
	}
	pixhdr = sc->pixel_pos - hdr;
	h = p + pixhdr;
	if (dcm_rd16(h, big) != 0x7fe0 || dcm_rd16(h + 2, big) != 0x0010 ||
	    (explicit_vr && (h[4] != 'O' || (h[5] != 'B' && h[5] != 'W') ||
	    h[6] != 0 || h[7] != 0))) {
		errfmt(why, whylen, "Pixel Data is not native OB or OW");
		return -1;
	}

	/* The meta header, as DCMTK reads it from a file (its group length
	 * says where it ends), must end where the pre-scan's does. */
	if (sc->has_meta) {
		if (len < 132 || memcmp(p + 128, "DICM", 4) != 0) {
			errfmt(why, whylen, "meta header without the preamble");
			return 0;
		}
		pos = 132;
		if (sc->data_pos < pos + 12 || dcm_rd16(p + pos, 0) != 0x0002 ||
		    dcm_rd16(p + pos + 2, 0) != 0x0000 || p[pos + 4] != 'U' ||
		    p[pos + 5] != 'L' || dcm_rd16(p + pos + 6, 0) != 4) {
			errfmt(why, whylen, "meta header does not start with "
			    "its group length");
			return 0;
		}
		glen = dcm_rd32(p + pos + 8, 0);
		pos += 12;
		start = pos;
		while (pos < sc->data_pos) {
			if (sc->data_pos - pos < 8 ||
			    dcm_rd16(p + pos, 0) != 0x0002) {
				errfmt(why, whylen, "meta header element at "
				    "offset %zu", pos);
				return 0;
			}
			vrname[0] = (char)p[pos + 4];
			vrname[1] = (char)p[pos + 5];
			vrname[2] = '\0';
			if (vrname[0] < 'A' || vrname[0] > 'Z' ||
			    vrname[1] < 'A' || vrname[1] > 'Z' ||
			    !dcm_vrinfo_of(p + pos + 4).standard ||
			    dcm_explicit_header(p + pos, sc->data_pos - pos, 0,
			    &evr, &hdr, &vl) == -1 || evr == EVR_SQ ||
			    vl > sc->data_pos - pos - hdr) {
				errfmt(why, whylen, "meta header element "
				    "(0002,%04x) is not a plain one within "
				    "the header", dcm_rd16(p + pos + 2, 0));
				return 0;
			}
			if (dcm_rd16(p + pos + 2, 0) == 0x0010) {
				tsv = p + pos + hdr;
				tsn = vl;
				nts++;
			}
			pos += hdr + vl;
		}
		if (glen != sc->data_pos - start) {
			errfmt(why, whylen, "meta group length %zu where the "
			    "group holds %zu bytes", glen, sc->data_pos - start);
			return 0;
		}
		if (nts != 1 || dcm_walk_ts(tsv, tsn, &explicit_vr, &big) == -1 ||
		    explicit_vr != sc->explicit_vr || big != sc->big) {
			errfmt(why, whylen, "not one native transfer syntax");
			return 0;
		}
	} else if (sc->ts[0] != '\0') {
		errfmt(why, whylen, "transfer syntax without a meta header");
		return 0;
	}

	/* The dataset, up to Pixel Data's header. */
	cap = (size_t)max_depth * 2 + 2;
	if ((st = (struct dcm_wlevel *)calloc(cap, sizeof(*st))) == NULL) {
		errfmt(why, whylen, "out of memory");
		return 0;
	}
	if (!explicit_vr)
		dict = &dcmDataDict.rdlock();
	st[0].kind = DCM_K_ROOT;
	st[0].end = pixhdr;
	st[0].lim = pixhdr;
	pos = sc->data_pos;
	for (;;) {
		l = &st[sp];
		if (l->end != SIZE_MAX && pos == l->end) {
			if (sp == 0)
				break;
			if (l->kind == DCM_K_SEQ)
				depth--;
			while (ncr > 0 && cr[ncr - 1].level >= sp)
				ncr--;
			sp--;
			continue;
		}
		if (l->lim - pos < 8) {
			errfmt(why, whylen, "element header at offset %zu runs "
			    "past its container", pos);
			goto done;
		}
		g = dcm_rd16(p + pos, big);
		e = dcm_rd16(p + pos + 2, big);
		if (l->kind == DCM_K_SEQ) {
			vl = dcm_rd32(p + pos + 4, big);
			if (g == 0xfffe && e == 0xe0dd && l->end == SIZE_MAX &&
			    vl == 0) {
				pos += 8;
				depth--;
				sp--;
				continue;
			}
			if (g != 0xfffe || e != 0xe000) {
				errfmt(why, whylen, "(%04x,%04x) at offset %zu "
				    "where a sequence holds items", g, e, pos);
				goto done;
			}
			pos += 8;
			if (vl != DCM_UNDEF && vl > l->lim - pos) {
				errfmt(why, whylen, "item at offset %zu declares "
				    "%lu bytes, past its sequence", pos - 8,
				    (unsigned long)vl);
				goto done;
			}
			if (sp + 1 >= cap) {
				errfmt(why, whylen, "nested too deep");
				goto done;
			}
			sp++;
			st[sp].kind = DCM_K_ITEM;
			st[sp].end = vl == DCM_UNDEF ? SIZE_MAX : pos + vl;
			st[sp].lim = vl == DCM_UNDEF ? l->lim : pos + vl;
			continue;
		}
		/* The dataset or an item: elements, and the item's end. */
		if (g == 0xfffe) {
			vl = dcm_rd32(p + pos + 4, big);
			if (e == 0xe00d && l->kind == DCM_K_ITEM &&
			    l->end == SIZE_MAX && vl == 0) {
				pos += 8;
				while (ncr > 0 && cr[ncr - 1].level >= sp)
					ncr--;
				sp--;
				continue;
			}
			errfmt(why, whylen, "(fffe,%04x) out of place at offset "
			    "%zu", e, pos);
			goto done;
		}
		if (sp == 0 && (g > 0x7fe0 || (g == 0x7fe0 && e >= 0x0010))) {
			errfmt(why, whylen, "(%04x,%04x) at offset %zu, before "
			    "Pixel Data", g, e, pos);
			goto done;
		}
		if (explicit_vr) {
			vrname[0] = (char)p[pos + 4];
			vrname[1] = (char)p[pos + 5];
			vrname[2] = '\0';
			if (vrname[0] < 'A' || vrname[0] > 'Z' ||
			    vrname[1] < 'A' || vrname[1] > 'Z' ||
			    !dcm_vrinfo_of(p + pos + 4).standard) {
				errfmt(why, whylen, "element (%04x,%04x) at "
				    "offset %zu has no standard VR", g, e, pos);
				goto done;
			}
			if (dcm_explicit_header(p + pos, l->lim - pos, big,
			    &evr, &hdr, &vl) == -1) {
				errfmt(why, whylen, "element header at offset "
				    "%zu runs past its container", pos);
				goto done;
			}
			what = evr == EVR_SQ ? DCM_W_SQ : evr == EVR_UN ?
			    DCM_W_UNKNOWN : DCM_W_PLAIN;
			/* UN of undefined length is read as implicit VR
			 * (PS3.5 6.2.2): not walked here. */
			if (evr == EVR_UN && vl == DCM_UNDEF)
				what |= DCM_W_PLAIN;
		} else {
			hdr = 8;
			vl = dcm_rd32(p + pos + 4, 0);
			what = dcm_walk_vr_implicit(dict, g, e, cr, ncr);
		}
		pos += hdr;
		seq = 0;
		if (vl == DCM_UNDEF) {
			/* A sequence, and nothing but a sequence to DCMTK. */
			if ((what & DCM_W_PLAIN) || what == 0) {
				errfmt(why, whylen, "element (%04x,%04x) at "
				    "offset %zu of undefined length is not a "
				    "sequence", g, e, pos - hdr);
				goto done;
			}
			seq = 1;
		} else if (vl > l->lim - pos) {
			errfmt(why, whylen, "element (%04x,%04x) at offset %zu "
			    "declares %lu bytes, past its container", g, e,
			    pos - hdr, (unsigned long)vl);
			goto done;
		} else if (vl > 0 && (what & (DCM_W_SQ | DCM_W_UNKNOWN))) {
			g2 = vl >= 4 ? dcm_rd16(p + pos, big) : 0;
			e2 = vl >= 4 ? dcm_rd16(p + pos + 2, big) : 0;
			if (vl >= 8 && g2 == 0xfffe && e2 == 0xe000)
				seq = 1;	/* whichever way DCMTK reads it */
			else if (g2 == 0xfffe) {
				errfmt(why, whylen, "element (%04x,%04x) at "
				    "offset %zu starts with (fffe,%04x)", g, e,
				    pos - hdr, e2);
				goto done;
			} else if (what & DCM_W_SQ) {
				/* DCMTK may read items that are not there,
				 * their headers past the value. */
				errfmt(why, whylen, "sequence (%04x,%04x) at "
				    "offset %zu holds no item", g, e, pos - hdr);
				goto done;
			}
		}
		/* The wanted elements of the top level, for
		 * dcm_info_walk(). */
		if (wv != NULL && sp == 0)
			dcm_wvals_note(wv, g, e, explicit_vr ? evr :
			    EVR_UNKNOWN, p + pos, vl, seq);
		if (seq) {
			if (depth + 1 > max_depth || sp + 1 >= cap) {
				errfmt(why, whylen, "sequences nested deeper "
				    "than %d levels", max_depth);
				goto done;
			}
			sp++;
			depth++;
			st[sp].kind = DCM_K_SEQ;
			st[sp].end = vl == DCM_UNDEF ? SIZE_MAX : pos + vl;
			st[sp].lim = vl == DCM_UNDEF ? l->lim : pos + vl;
			continue;
		}
		/* A private creator (PS3.5 7.8.1), for the elements after
		 * it in the same item. */
		if (!explicit_vr && (g & 1) && e >= 0x0010 && e <= 0x00ff) {
			if (ncr == DCM_WALK_CREATORS) {
				errfmt(why, whylen, "more than %d private "
				    "creators", DCM_WALK_CREATORS);
				goto done;
			}
			cr[ncr].level = sp;
			cr[ncr].group = g;
			cr[ncr].block = e;
			cr[ncr].v = p + pos;
			cr[ncr].n = vl;
			ncr++;
		}
		pos += vl;
	}
	rc = 1;
done:
	if (dict != NULL)
		dcmDataDict.rdunlock();
	free(st);
	return rc;
}

/*
 * A header read straight from the bytes: DCMTK parses the dataset up to
 * the top level's native Pixel Data and stops after that element's tag
 * and length, so that it reads no pixel value and no file is staged.
 * Only when the bounded walk above proves every length DCMTK will read;
 * DCMTK is given the dataset alone (the walk read the meta header) in
 * the syntax the walk read, and the result is kept only when DCMTK stops
 * exactly where the walk met Pixel Data, in that syntax; the pre-scan's
 * element stands in for it (sc->stopped).  Returns 1, or 0 when any of
 * this does not hold: *ff may then hold part of a parse, and the caller
 * parses the whole file as before.
 */
static int
dcm_parse_head(DcmFileFormat *ff, const unsigned char *p, size_t len,
    const struct dcm_lim *lim, struct dcm_scan *sc)
{
	DcmInputBufferStream	 is;
	DcmDataset		*ds = ff->getDataset();
	E_TransferSyntax	 xfer;
	OFCondition		 cond;
	offile_off_t		 at;

	if (sc->walk == 0)
		sc->walk = dcm_head_walk(p, len, sc, lim->max_depth, NULL,
		    NULL, 0) == 1 ? 1 : 2;
	if (sc->walk != 1)
		return 0;
	xfer = !sc->explicit_vr ? EXS_LittleEndianImplicit : sc->big ?
	    EXS_BigEndianExplicit : EXS_LittleEndianExplicit;
	is.setBuffer(p + sc->data_pos, (offile_off_t)(len - sc->data_pos));
	is.setEos();
	ds->transferInit();
	cond = ds->readUntilTag(is, xfer, EGL_noChange, DCM_MaxReadLength,
	    DCM_PixelData);
	ds->transferEnd();
	at = is.tell();
	is.releaseBuffer();
	if (cond.bad() || at < 0 ||
	    (size_t)at != sc->pixel_pos - sc->data_pos || ds->card() == 0 ||
	    ds->getOriginalXfer() != xfer)
		return 0;
	sc->stopped = 1;
	return 1;
}

/*
 * Pre-scan and parse a file image with DCMTK.  Returns the parsed file
 * (delete it) and fills *sc (dcm_scan_free() it after the file), or NULL.
 * flags: DCM_P_HEADER, the value of native Pixel Data is not given to
 * DCMTK (its length is): the caller must not ask for the pixels;
 * DCM_P_SCANNED, *sc is the pre-scan of these bytes under these limits
 * already, and is not done again.
 */
static DcmFileFormat *
dcm_parse(const unsigned char *p, size_t len, const struct dcm_lim *lim,
    int flags, struct dcm_scan *sc, char *err, size_t errlen)
{
	DcmFileFormat		*ff = NULL;
	OFCondition		 cond;
	char			 fdpath[64];
	int			 header_only = flags & DCM_P_HEADER;

	if (!(flags & DCM_P_SCANNED)) {
		if (dcm_global_init() == -1) {
			errfmt(err, errlen, "DCMTK's data dictionary is not "
			    "loaded (check DCMDICTPATH)");
			return NULL;
		}
		if (len > lim->max_file) {
			errfmt(err, errlen, "file is %zu bytes, over the "
			    "limit of %zu", len, lim->max_file);
			return NULL;
		}
		if (dcm_prescan(p, len, lim, sc, err, errlen) == -1)
			return NULL;
	}
	if ((ff = new (std::nothrow) DcmFileFormat()) == NULL) {
		errfmt(err, errlen, "out of memory");
		goto fail;
	}
	if (header_only && dcm_parse_head(ff, p, len, lim, sc) == 1)
		return ff;
	if (header_only) {
		/* Whatever the attempt left in it goes. */
		delete ff;
		if ((ff = new (std::nothrow) DcmFileFormat()) == NULL) {
			errfmt(err, errlen, "out of memory");
			goto fail;
		}
	}
	/* DCMTK reads the pre-scanned bytes as a file (see dcm_memfile);
	 * without a meta header it is told how the pre-scan read them. */
	if (sc->deflated)
		sc->fd = dcm_memfile(sc->inflated, sc->inflated_len, 0, 0);
	else if (header_only && sc->pixel_len > 0 &&
	    sc->pixel_pos != SIZE_MAX)
		sc->fd = dcm_memfile(p, len, sc->pixel_pos, sc->pixel_len);
	else
		sc->fd = dcm_memfile(p, len, 0, 0);
	if (sc->fd == -1) {
		errfmt(err, errlen, "cannot stage the file: %s",
		    strerror(errno));
		goto fail;
	}
	dcm_tl_counts.staged++;
	(void)snprintf(fdpath, sizeof(fdpath), "/proc/self/fd/%d", sc->fd);
	if (sc->deflated || !sc->has_meta) {
		DcmInputFileStream	 is(fdpath, sc->deflated ? 0 :
		    (offile_off_t)sc->data_pos);
		DcmDataset		*ds = ff->getDataset();

		if (is.status().bad()) {
			errfmt(err, errlen, "%s", is.status().text());
			goto fail;
		}
		ds->transferInit();
		cond = ds->read(is, sc->deflated ? EXS_LittleEndianExplicit :
		    !sc->explicit_vr ? EXS_LittleEndianImplicit : sc->big ?
		    EXS_BigEndianExplicit : EXS_LittleEndianExplicit,
		    EGL_noChange, DCM_MaxReadLength);
		ds->transferEnd();
	} else {
		DcmInputFileStream	 is(fdpath);

		if (is.status().bad()) {
			errfmt(err, errlen, "%s", is.status().text());
			goto fail;
		}
		ff->transferInit();
		cond = ff->read(is, EXS_Unknown, EGL_noChange,
		    DCM_MaxReadLength);
		ff->transferEnd();
	}
	if (cond.bad()) {
		errfmt(err, errlen, "not a readable DICOM file: %s",
		    cond.text());
		goto fail;
	}
	if (ff->getDataset()->card() == 0) {
		errfmt(err, errlen, "the DICOM dataset is empty");
		goto fail;
	}
	return ff;
fail:
	delete ff;
	dcm_scan_free(sc);
	return NULL;
}

/* Copy s to dst (size n) as valid UTF-8, trimmed of spaces and NULs at
 * both ends, bad bytes replaced by '?', cut at a character boundary. */
static void
dcm_copy_utf8(char *dst, size_t n, const char *s, size_t slen)
{
	const unsigned char	*u = (const unsigned char *)s;
	size_t			 i = 0, o = 0, k, clen;
	uint32_t		 cp;

	while (slen > 0 && (u[slen - 1] == ' ' || u[slen - 1] == '\0'))
		slen--;
	while (i < slen && (u[i] == ' ' || u[i] == '\0'))
		i++;
	while (i < slen) {
		clen = 1;
		cp = u[i];
		if (u[i] >= 0x80) {
			if (u[i] >= 0xc2 && u[i] <= 0xdf)
				clen = 2, cp = u[i] & 0x1f;
			else if (u[i] >= 0xe0 && u[i] <= 0xef)
				clen = 3, cp = u[i] & 0x0f;
			else if (u[i] >= 0xf0 && u[i] <= 0xf4)
				clen = 4, cp = u[i] & 0x07;
			else
				clen = 0;
			for (k = 1; clen != 0 && k < clen; k++) {
				if (i + k >= slen || (u[i + k] & 0xc0) != 0x80)
					clen = 0;
				else
					cp = cp << 6 | (u[i + k] & 0x3f);
			}
			if ((clen == 3 && (cp < 0x800 ||
			    (cp >= 0xd800 && cp <= 0xdfff))) ||
			    (clen == 4 && (cp < 0x10000 || cp > 0x10ffff)))
				clen = 0;
		} else if (u[i] == '\0')
			clen = 0;
		if (clen == 0) {
			if (o + 1 >= n)
				break;
			dst[o++] = '?';
			i++;
			continue;
		}
		if (o + clen >= n)
			break;
		memcpy(dst + o, u + i, clen);
		o += clen;
		i += clen;
	}
	dst[o] = '\0';
}

static void
dcm_get_str(DcmItem *it, const DcmTagKey &tag, char *dst, size_t n)
{
	OFString	 s;

	dst[0] = '\0';
	if (it->findAndGetOFStringArray(tag, s).good())
		dcm_copy_utf8(dst, n, s.c_str(), s.length());
}

static double
dcm_get_dbl(DcmItem *it, const DcmTagKey &tag, unsigned long pos)
{
	Float64		 d;

	if (it->findAndGetFloat64(tag, d, pos).good() && isfinite(d))
		return d;
	return NAN;
}

/* An integer from an IS, US, SS, UL or SL element; def if absent. */
static long
dcm_get_int(DcmItem *it, const DcmTagKey &tag, long def)
{
	Uint16		 u16;
	Sint16		 s16;
	Sint32		 s32;
	Uint32		 u32;

	if (it->findAndGetUint16(tag, u16).good())
		return u16;
	if (it->findAndGetSint32(tag, s32).good())
		return s32;
	if (it->findAndGetSint16(tag, s16).good())
		return s16;
	if (it->findAndGetUint32(tag, u32).good())
		return (long)u32;
	return def;
}

/* An US or SS value read as the pixel representation says (the VR of
 * these "xs" attributes depends on it). */
static int
dcm_get_xs(DcmItem *it, const DcmTagKey &tag, unsigned long pos, int sgnd,
    long *v)
{
	Uint16		 u16;
	Sint16		 s16;

	if (it->findAndGetUint16(tag, u16, pos).good()) {
		*v = sgnd ? (long)(Sint16)u16 : (long)u16;
		return 0;
	}
	if (it->findAndGetSint16(tag, s16, pos).good()) {
		*v = sgnd ? (long)s16 : (long)(Uint16)s16;
		return 0;
	}
	return -1;
}

/*
 * The attributes of a header, read through src (a dataset DCMTK parsed,
 * or the values the header walk noted): one reading of them whichever
 * the source, so that the two cannot drift apart.  ts is the meta
 * header's syntax.  The LUT sequences and the pixels are the caller's.
 */
template <class S>
static void
dcm_info_fill_attrs(S &ds, const char *ts, struct dcm_info *info)
{
	double		 a, b;
	long		 v;
	int		 i;

	memset(info, 0, sizeof(*info));
	ds.str(DCM_SpecificCharacterSet, info->charset,
	    sizeof(info->charset));
	ds.utf8(info->charset);
	dcm_copy_utf8(info->transfer_syntax, sizeof(info->transfer_syntax),
	    ts, strlen(ts));
	ds.str(DCM_SOPClassUID, info->sop_class_uid,
	    sizeof(info->sop_class_uid));
	ds.str(DCM_SOPInstanceUID, info->sop_instance_uid,
	    sizeof(info->sop_instance_uid));
	ds.str(DCM_StudyInstanceUID, info->study_uid,
	    sizeof(info->study_uid));
	ds.str(DCM_SeriesInstanceUID, info->series_uid,
	    sizeof(info->series_uid));
	ds.str(DCM_FrameOfReferenceUID, info->frame_of_reference_uid,
	    sizeof(info->frame_of_reference_uid));
	ds.str(DCM_PatientID, info->patient_id,
	    sizeof(info->patient_id));
	ds.str(DCM_PatientName, info->patient_name,
	    sizeof(info->patient_name));
	ds.str(DCM_PatientSex, info->patient_sex,
	    sizeof(info->patient_sex));
	ds.str(DCM_PatientBirthDate, info->patient_birth_date,
	    sizeof(info->patient_birth_date));
	ds.str(DCM_PatientAge, info->patient_age,
	    sizeof(info->patient_age));
	ds.str(DCM_AccessionNumber, info->accession,
	    sizeof(info->accession));
	ds.str(DCM_StudyDate, info->study_date,
	    sizeof(info->study_date));
	ds.str(DCM_StudyTime, info->study_time,
	    sizeof(info->study_time));
	ds.str(DCM_StudyDescription, info->study_description,
	    sizeof(info->study_description));
	ds.str(DCM_SeriesDescription, info->series_description,
	    sizeof(info->series_description));
	ds.str(DCM_Modality, info->modality, sizeof(info->modality));
	ds.str(DCM_BodyPartExamined, info->body_part,
	    sizeof(info->body_part));
	ds.str(DCM_Manufacturer, info->manufacturer,
	    sizeof(info->manufacturer));
	ds.str(DCM_ManufacturerModelName, info->model,
	    sizeof(info->model));
	ds.str(DCM_ConvolutionKernel, info->kernel,
	    sizeof(info->kernel));
	ds.str(DCM_InstitutionName, info->institution,
	    sizeof(info->institution));
	ds.str(DCM_ImageType, info->image_type,
	    sizeof(info->image_type));
	ds.str(DCM_ViewPosition, info->view_position,
	    sizeof(info->view_position));
	ds.str(DCM_PatientPosition, info->patient_position,
	    sizeof(info->patient_position));
	ds.str(DCM_ImageLaterality, info->laterality,
	    sizeof(info->laterality));
	if (info->laterality[0] == '\0')
		ds.str(DCM_Laterality, info->laterality,
		    sizeof(info->laterality));
	ds.str(DCM_ContrastBolusAgent, info->contrast_agent,
	    sizeof(info->contrast_agent));
	ds.str(DCM_PhotometricInterpretation, info->photometric,
	    sizeof(info->photometric));

	info->series_number = (int)ds.integer(DCM_SeriesNumber, 0);
	info->instance_number = (int)ds.integer(DCM_InstanceNumber, 0);
	info->rows = (int)ds.integer(DCM_Rows, 0);
	info->cols = (int)ds.integer(DCM_Columns, 0);
	v = ds.integer(DCM_NumberOfFrames, 1);
	info->frames = v < 1 || v > INT32_MAX ? 0 : (int)v;
	info->bits_allocated = (int)ds.integer(DCM_BitsAllocated, 0);
	info->bits_stored = (int)ds.integer(DCM_BitsStored,
	    info->bits_allocated);
	info->high_bit = (int)ds.integer(DCM_HighBit,
	    info->bits_stored - 1);
	info->pixel_representation = (int)ds.integer(
	    DCM_PixelRepresentation, 0);
	info->samples_per_pixel = (int)ds.integer(DCM_SamplesPerPixel,
	    1);
	info->planar_configuration = (int)ds.integer(
	    DCM_PlanarConfiguration, 0);

	info->slice_thickness = ds.dbl(DCM_SliceThickness, 0);
	info->spacing_between_slices = ds.dbl(
	    DCM_SpacingBetweenSlices, 0);
	info->kvp = ds.dbl(DCM_KVP, 0);
	info->patient_size = ds.dbl(DCM_PatientSize, 0);
	info->gantry_tilt = ds.dbl(DCM_GantryDetectorTilt, 0);
	info->slice_location = ds.dbl(DCM_SliceLocation, 0);

	info->pixel_spacing[0] = info->pixel_spacing[1] = NAN;
	a = ds.dbl(DCM_PixelSpacing, 0);
	b = ds.dbl(DCM_PixelSpacing, 1);
	if (a > 0 && b > 0)
		info->pixel_spacing_source = DCM_SPACING_PIXEL;
	else {
		a = ds.dbl(DCM_ImagerPixelSpacing, 0);
		b = ds.dbl(DCM_ImagerPixelSpacing, 1);
		if (a > 0 && b > 0)
			info->pixel_spacing_source = DCM_SPACING_IMAGER;
	}
	if (info->pixel_spacing_source != DCM_SPACING_NONE) {
		info->pixel_spacing[0] = a;
		info->pixel_spacing[1] = b;
	}
	info->has_ipp = 1;
	for (i = 0; i < 3; i++)
		if (isnan(info->ipp[i] = ds.dbl(
		    DCM_ImagePositionPatient, (unsigned long)i)))
			info->has_ipp = 0;
	info->has_iop = 1;
	for (i = 0; i < 6; i++)
		if (isnan(info->iop[i] = ds.dbl(
		    DCM_ImageOrientationPatient, (unsigned long)i)))
			info->has_iop = 0;

	info->rescale_slope = ds.dbl(DCM_RescaleSlope, 0);
	if (isnan(info->rescale_slope) || info->rescale_slope == 0)
		info->rescale_slope = 1;
	info->rescale_intercept = ds.dbl(DCM_RescaleIntercept, 0);
	if (isnan(info->rescale_intercept))
		info->rescale_intercept = 0;
	ds.str(DCM_VOILUTFunction, info->voi_function,
	    sizeof(info->voi_function));
	info->window_center = ds.dbl(DCM_WindowCenter, 0);
	info->window_width = ds.dbl(DCM_WindowWidth, 0);
	info->pixel_padding = NAN;
	if (ds.xs(DCM_PixelPaddingValue, 0,
	    info->pixel_representation == 1, &v) == 0) {
		info->has_padding = 1;
		info->pixel_padding = (double)v;
	}
}

/* Where dcm_info_fill_attrs() reads a dataset DCMTK parsed. */
struct dcm_src_ds {
	DcmDataset	*ds;

	void str(const DcmTagKey &t, char *dst, size_t n)
	{
		dcm_get_str(ds, t, dst, n);
	}
	double dbl(const DcmTagKey &t, unsigned long pos)
	{
		return dcm_get_dbl(ds, t, pos);
	}
	long integer(const DcmTagKey &t, long def)
	{
		return dcm_get_int(ds, t, def);
	}
	int xs(const DcmTagKey &t, unsigned long pos, int sgnd, long *v)
	{
		return dcm_get_xs(ds, t, pos, sgnd, v);
	}
	/* Convert in place; a character set DCMTK cannot convert leaves
	 * the bytes as they are, and dcm_copy_utf8() cleans them. */
	void utf8(const char *charset)
	{
		if (charset[0] != '\0')
			(void)ds->convertToUTF8();
	}
};

/* Fill *info from a parsed dataset; ts is the meta header's syntax. */
static void
dcm_info_fill(DcmDataset *ds, const char *ts, struct dcm_info *info)
{
	struct dcm_src_ds	 src = { ds };

	dcm_info_fill_attrs(src, ts, info);
	{
		DcmSequenceOfItems *sq = NULL;

		info->has_modality_lut = ds->findAndGetSequence(
		    DCM_ModalityLUTSequence, sq).good() && sq != NULL &&
		    sq->card() > 0;
		sq = NULL;
		if (ds->findAndGetSequence(DCM_VOILUTSequence, sq).good() &&
		    sq != NULL)
			info->voi_luts = (int)sq->card();
	}
	info->has_pixels = ds->tagExists(DCM_PixelData);
	{
		DcmXfer			 x(ds->getOriginalXfer());
		DcmElement		*el = NULL;
		DcmPixelSequence	*ps = NULL;

		info->compressed = info->has_pixels && x.isEncapsulated();
		/* The lengths only: no value is loaded or decoded. */
		if (info->has_pixels &&
		    ds->findAndGetElement(DCM_PixelData, el).good() &&
		    el != NULL && el->ident() == EVR_PixelData) {
			if (!info->compressed)
				info->pixel_bytes = el->getLength();
			else if (OFstatic_cast(DcmPixelData *, el)->
			    getEncapsulatedRepresentation(x.getXfer(), NULL,
			    ps).good() && ps != NULL && ps->card() > 0)
				info->fragments = (int)(ps->card() - 1 >
				    INT32_MAX ? INT32_MAX : ps->card() - 1);
		}
	}
}

/*
 * Where dcm_info_fill_attrs() reads the values the header walk noted: a
 * header read without a DCMTK parse.  Each getter answers exactly as
 * DCMTK 3.6.7 answers the dataset getter above, for the forms of value
 * whose reading by DCMTK is certain; any other form sets bad, and the
 * caller then lets DCMTK parse the file, for every attribute (never some
 * from here, some from there).  What DCMTK does, and what is taken here:
 *
 *   - an element is read with the VR written (explicit VR) or the VR of
 *     its dictionary (implicit VR, PS3.5 7.1.3); a wanted element written
 *     with another VR than the dictionary's (US or SS for "xs"), met
 *     twice in the dataset, walked as a sequence, or not in the
 *     dictionary, is bad;
 *   - strings (findAndGetOFStringArray(), normalised): DCMTK strips the
 *     trailing padding and, for most VRs, the spaces around each
 *     backslash-separated value; dcm_copy_utf8() then trims both ends.
 *     Taken: printable ASCII, with spaces and NULs only after the last
 *     other character, and no space beside a backslash, which every
 *     normalisation leaves as it is between the ends, nor inside an AS,
 *     DA, TM or UI value (DCMTK drops a space inside a UI: the fuzz
 *     driver found "1.3ISO_IR 6.5962" read "1.3ISO_IR6.5962"); the
 *     character set
 *     (0008,0005) one of those that read ASCII as ASCII (PS3.3
 *     C.12.1.1.2), so that convertToUTF8() leaves such bytes as they
 *     are;
 *   - DS (DcmDecimalString::getFloat64()): value pos of the backslash-
 *     separated list, spaces trimmed, through OFStandard::atof(), which
 *     is called here too; NAN where it fails, where there is no value
 *     pos, or where the number is not finite.  Taken: digits, signs,
 *     '.', 'e', 'E', spaces and backslashes only, no space inside a
 *     value;
 *   - IS (DcmIntegerString::getSint32(): sscanf "%d" of the first value,
 *     trimmed): taken when that value is empty (the default, as DCMTK's
 *     failed read) or a sign and 1 to 9 digits; US: the first 16 bits
 *     in the syntax's byte order, the default when empty; an odd length
 *     is bad;
 *   - the xs Pixel Padding Value (US or SS): 16 bits read as the pixel
 *     representation says, whichever VR.
 */
struct dcm_src_walk {
	const struct dcm_wvals	*wv;
	int			 big, explicit_vr;
	int			 bad;

	const struct dcm_wval *get(const DcmTagKey &t, DcmEVR *dvr)
	{
		const struct dcm_wval	*v;
		int			 i;

		i = dcm_want_index(wv->ws, (uint32_t)t.getGroup() << 16 |
		    t.getElement());
		if (i < 0) {
			bad = 1;
			return NULL;
		}
		v = &wv->val[i];
		*dvr = wv->ws->vr[i];
		if (v->seen == 0)
			return NULL;
		if (v->seen > 1 || v->seq || v->n == DCM_UNDEF ||
		    *dvr == EVR_UNKNOWN) {
			bad = 1;
			return NULL;
		}
		if (explicit_vr && v->vr != *dvr && !(*dvr == EVR_xs &&
		    (v->vr == EVR_US || v->vr == EVR_SS))) {
			bad = 1;
			return NULL;
		}
		return v;
	}

	void str(const DcmTagKey &t, char *dst, size_t n)
	{
		const struct dcm_wval	*v;
		DcmEVR			 dvr;
		size_t			 i, first = 0, last = 0;
		int			 any = 0, spaced = 1;

		dst[0] = '\0';
		if ((v = get(t, &dvr)) == NULL)
			return;
		switch (dvr) {
		case EVR_AS: case EVR_DA: case EVR_TM: case EVR_UI:
			/* Values without spaces: DCMTK drops a space inside
			 * a UI ("1.3 6" reads "1.36"). */
			spaced = 0;
			break;
		case EVR_AE: case EVR_CS: case EVR_LO: case EVR_PN:
		case EVR_SH:
			break;
		default:
			bad = 1;
			return;
		}
		for (i = 0; i < v->n; i++)
			if (v->v[i] != ' ' && v->v[i] != '\0') {
				if (!any)
					first = i;
				last = i;
				any = 1;
			}
		if (!spaced && any && memchr(v->v + first, ' ', last -
		    first) != NULL) {
			bad = 1;
			return;
		}
		for (i = 0; any && i <= last; i++) {
			if (v->v[i] < 0x20 || v->v[i] > 0x7e ||
			    (v->v[i] == '\\' && ((i > 0 &&
			    v->v[i - 1] == ' ') || (i < last &&
			    v->v[i + 1] == ' ')))) {
				bad = 1;
				return;
			}
		}
		dcm_copy_utf8(dst, n, (const char *)v->v, v->n);
	}

	/* Value pos of a backslash-separated list, trimmed of spaces, into
	 * buf (size n); 1, 0 when there is no value pos, -1 when bad. */
	int part(const struct dcm_wval *v, unsigned long pos, char *buf,
	    size_t n)
	{
		size_t		 i = 0, a, b;
		unsigned long	 k = 0;

		while (k < pos) {
			while (i < v->n && v->v[i] != '\\')
				i++;
			if (i == v->n)
				return 0;
			i++;
			k++;
		}
		for (a = i; i < v->n && v->v[i] != '\\'; i++)
			;
		b = i;
		while (a < b && v->v[a] == ' ')
			a++;
		while (b > a && v->v[b - 1] == ' ')
			b--;
		if (b - a >= n || memchr(v->v + a, ' ', b - a) != NULL)
			return -1;
		memcpy(buf, v->v + a, b - a);
		buf[b - a] = '\0';
		return 1;
	}

	/* Whether every byte of the value is one of ok. */
	int only(const struct dcm_wval *v, const char *ok)
	{
		uint32_t	 i;

		for (i = 0; i < v->n; i++)
			if (v->v[i] == '\0' || strchr(ok, v->v[i]) == NULL)
				return 0;
		return 1;
	}

	double dbl(const DcmTagKey &t, unsigned long pos)
	{
		const struct dcm_wval	*v;
		DcmEVR			 dvr;
		char			 buf[64];
		OFBool			 ok = OFFalse;
		double			 d;
		int			 r;

		if ((v = get(t, &dvr)) == NULL)
			return NAN;
		if (dvr != EVR_DS || !only(v, "0123456789+-.eE \\")) {
			bad = 1;
			return NAN;
		}
		/* No value pos: DCMTK gives "" for the first value of an
		 * empty element, and fails for any other. */
		if ((r = part(v, pos, buf, sizeof(buf))) == -1) {
			bad = 1;
			return NAN;
		}
		if (r == 0) {
			if (pos > 0)
				return NAN;
			buf[0] = '\0';
		}
		d = OFStandard::atof(buf, &ok);
		return ok && isfinite(d) ? d : NAN;
	}

	long integer(const DcmTagKey &t, long def)
	{
		const struct dcm_wval	*v;
		DcmEVR			 dvr;
		char			 buf[16], *q;
		long			 x;
		int			 r;

		if ((v = get(t, &dvr)) == NULL)
			return def;
		if (dvr == EVR_US) {
			if (v->n & 1) {
				bad = 1;
				return def;
			}
			return v->n == 0 ? def : (long)dcm_rd16(v->v, big);
		}
		if (dvr != EVR_IS || !only(v, "0123456789+- \\")) {
			bad = 1;
			return def;
		}
		if ((r = part(v, 0, buf, sizeof(buf))) == -1) {
			bad = 1;
			return def;
		}
		if (r == 0 || buf[0] == '\0')
			return def;	/* sscanf() finds no number */
		q = buf + (buf[0] == '+' || buf[0] == '-');
		if (strlen(q) < 1 || strlen(q) > 9 ||
		    strspn(q, "0123456789") != strlen(q)) {
			bad = 1;
			return def;
		}
		x = strtol(buf, NULL, 10);
		return x;
	}

	int xs(const DcmTagKey &t, unsigned long pos, int sgnd, long *out)
	{
		const struct dcm_wval	*v;
		DcmEVR			 dvr;
		unsigned		 u;

		if ((v = get(t, &dvr)) == NULL)
			return -1;
		if (v->n & 1) {
			bad = 1;
			return -1;
		}
		if ((unsigned long long)pos * 2 + 2 > v->n)
			return -1;
		u = dcm_rd16(v->v + pos * 2, big);
		*out = sgnd ? (long)(Sint16)u : (long)u;
		return 0;
	}

	/* Character sets under which DCMTK's conversion leaves printable
	 * ASCII as it is (the single-byte ISO 8859 and TIS 620 sets, UTF-8,
	 * GB18030 and GBK; not ISO_IR 13, whose 5CH and 7EH differ, nor code
	 * extensions).  Anything else: DCMTK converts. */
	void utf8(const char *charset)
	{
		static const char *const ascii[] = { "ISO_IR 100",
		    "ISO_IR 101", "ISO_IR 109", "ISO_IR 110", "ISO_IR 144",
		    "ISO_IR 127", "ISO_IR 126", "ISO_IR 138", "ISO_IR 148",
		    "ISO_IR 203", "ISO_IR 166", "ISO_IR 192", "GB18030",
		    "GBK" };
		size_t	 i;

		if (charset[0] == '\0')
			return;
		for (i = 0; i < sizeof(ascii) / sizeof(ascii[0]); i++)
			if (strcmp(charset, ascii[i]) == 0)
				return;
		bad = 1;
	}
};

/*
 * A header read from the walk alone: where dcm_head_walk() proves the
 * bytes and every wanted value is in a form dcm_src_walk reads as DCMTK
 * does, *info is filled without a DCMTK parse (the pixels as
 * dcm_open_mem() fills them after a parse stopped at them).  A LUT
 * sequence of the top level, or a dataset empty before Pixel Data,
 * goes to DCMTK.  Returns 1, or 0 (info untouched; sc->walk says how
 * the walk went, for dcm_parse_head()).
 */
static int
dcm_info_walk(const unsigned char *p, size_t len, const struct dcm_lim *lim,
    struct dcm_scan *sc, struct dcm_info *info)
{
	struct dcm_wvals	 wv;
	struct dcm_src_walk	 src;
	struct dcm_info		 tmp;
	int			 i;

	memset(&wv, 0, sizeof(wv));
	wv.ws = dcm_wantset_get();
	if (!wv.ws->ok)
		return 0;
	sc->walk = dcm_head_walk(p, len, sc, lim->max_depth, &wv, NULL,
	    0) == 1 ? 1 : 2;
	if (sc->walk != 1 || wv.elements == 0)
		return 0;
	if (((i = dcm_want_index(wv.ws, 0x00283000)) >= 0 &&
	    wv.val[i].seen) || ((i = dcm_want_index(wv.ws, 0x00283010)) >= 0 &&
	    wv.val[i].seen))
		return 0;
	src.wv = &wv;
	src.big = sc->big;
	src.explicit_vr = sc->explicit_vr;
	src.bad = 0;
	dcm_info_fill_attrs(src, sc->ts, &tmp);
	if (src.bad)
		return 0;
	tmp.has_pixels = 1;
	tmp.compressed = 0;
	tmp.pixel_bytes = sc->pixel_len;
	tmp.file_size = len;
	/* Native little-endian data, as given: dcm_native16()'s. */
	if (!sc->big)
		tmp.pixel_offset = sc->pixel_pos;
	*info = tmp;
	dcm_tl_counts.walked++;
	return 1;
}

int
dcm_check_pixels(const struct dcm_info *in, const struct dcm_limits *ul,
    char *err, size_t errlen)
{
	struct dcm_lim		 lim;
	unsigned long long	 frame, need;

	dcm_lim_set(&lim, ul);
	if (!in->has_pixels) {
		errfmt(err, errlen, "the file has no pixel data");
		return -1;
	}
	if (in->rows <= 0 || in->cols <= 0 || in->frames <= 0) {
		errfmt(err, errlen, "invalid image size %dx%d, %d frame(s)",
		    in->cols, in->rows, in->frames);
		return -1;
	}
	if ((unsigned long long)in->rows * (unsigned long long)in->cols >
	    lim.max_pixels) {
		errfmt(err, errlen, "image of %dx%d is larger than %zu pixels",
		    in->cols, in->rows, lim.max_pixels);
		return -1;
	}
	if (in->samples_per_pixel != 1 && in->samples_per_pixel != 3) {
		errfmt(err, errlen, "Samples per Pixel is %d, not 1 or 3",
		    in->samples_per_pixel);
		return -1;
	}
	if (in->bits_allocated != 8 && in->bits_allocated != 16 &&
	    in->bits_allocated != 32) {
		errfmt(err, errlen, "Bits Allocated is %d, not 8, 16 or 32",
		    in->bits_allocated);
		return -1;
	}
	if (in->compressed) {
		if (in->fragments < in->frames) {
			errfmt(err, errlen, "encapsulated Pixel Data has %d "
			    "fragment(s) for %d frame(s)", in->fragments,
			    in->frames);
			return -1;
		}
		return 0;
	}
	frame = (unsigned long long)in->rows * (unsigned long long)in->cols *
	    (unsigned long long)in->samples_per_pixel *
	    (unsigned long long)(in->bits_allocated / 8);
	/* YBR_FULL_422 keeps two samples of three. */
	if (strcmp(in->photometric, "YBR_FULL_422") == 0)
		frame = frame / 3 * 2;
	/* Divide rather than multiply: frames may be up to 2^31. */
	if (frame == 0 || in->pixel_bytes / frame <
	    (unsigned long long)in->frames) {
		need = (unsigned long long)in->frames > ULLONG_MAX / frame ?
		    ULLONG_MAX : frame * (unsigned long long)in->frames;
		errfmt(err, errlen, "Pixel Data holds %llu bytes, but %dx%d "
		    "pixels, %d frame(s), %d sample(s) of %d bits need %llu",
		    in->pixel_bytes, in->cols, in->rows, in->frames,
		    in->samples_per_pixel, in->bits_allocated, need);
		return -1;
	}
	return 0;
}

/* Parse a file image and fill info.  Returns the parsed file (delete it;
 * dcm_scan_free() it after it) or NULL.  flags as for dcm_parse(). */
static DcmFileFormat *
dcm_open_mem(const void *buf, size_t len, const struct dcm_limits *ul,
    int flags, struct dcm_lim *lim, struct dcm_scan *sc,
    struct dcm_info *info, char *err, size_t errlen)
{
	DcmFileFormat	*ff;

	dcm_lim_set(lim, ul);
	if (buf == NULL && len != 0) {
		errfmt(err, errlen, "no data");
		return NULL;
	}
	if ((ff = dcm_parse((const unsigned char *)buf, len, lim,
	    flags, sc, err, errlen)) == NULL)
		return NULL;
	dcm_info_fill(ff->getDataset(), sc->ts, info);
	if (sc->stopped) {
		/* The element DCMTK stopped at: native pixels (checked by
		 * dcm_parse_head()) of the length the pre-scan read. */
		info->has_pixels = 1;
		info->compressed = 0;
		info->pixel_bytes = sc->pixel_len;
	}
	info->file_size = len;
	/* Where the pixels lie in the bytes given, for dcm_native16():
	 * native little-endian data of the length DCMTK found, read as
	 * given (not inflated). */
	if (!sc->deflated && !sc->big && sc->pixel_len > 0 &&
	    sc->pixel_pos != SIZE_MAX && info->has_pixels &&
	    !info->compressed && info->pixel_bytes == sc->pixel_len &&
	    DcmXfer(ff->getDataset()->getOriginalXfer()).isLittleEndian() &&
	    !DcmXfer(ff->getDataset()->getOriginalXfer()).isEncapsulated())
		info->pixel_offset = sc->pixel_pos;
	return ff;
}

void
dcm_counts_get(struct dcm_counts *c)
{
	*c = dcm_tl_counts;
}

int
dcm_head_way(const void *buf, size_t len, const struct dcm_limits *ul,
    char *why, size_t whylen)
{
	struct dcm_lim	 lim;
	struct dcm_scan	 sc;
	int		 rc;

	if (why != NULL && whylen > 0)
		why[0] = '\0';
	dcm_lim_set(&lim, ul);
	try {
		if (dcm_global_init() == -1) {
			errfmt(why, whylen, "DCMTK's data dictionary is not "
			    "loaded");
			return DCM_HEAD_REFUSED;
		}
		if (buf == NULL || len > lim.max_file) {
			errfmt(why, whylen, "no data, or over the size limit");
			return DCM_HEAD_REFUSED;
		}
		if (dcm_prescan((const unsigned char *)buf, len, &lim, &sc,
		    why, whylen) == -1)
			return DCM_HEAD_REFUSED;
		rc = dcm_head_walk((const unsigned char *)buf, len, &sc,
		    lim.max_depth, NULL, why, whylen);
		dcm_scan_free(&sc);
	} catch (...) {
		errfmt(why, whylen, "internal error in DCMTK");
		return DCM_HEAD_REFUSED;
	}
	return rc == 1 ? DCM_HEAD_DIRECT : rc == 0 ? DCM_HEAD_UNBOUNDED :
	    DCM_HEAD_STAGED;
}

static int
dcm_read_info_mem_x(const void *buf, size_t len, const struct dcm_limits *ul,
    struct dcm_info *info, char *err, size_t errlen)
{
	struct dcm_lim	 lim;
	struct dcm_scan	 sc;
	DcmFileFormat	*ff;

	/* The checks of dcm_open_mem() and dcm_parse(), in their order, so
	 * that the walk may answer between the pre-scan and DCMTK. */
	dcm_lim_set(&lim, ul);
	if (buf == NULL && len != 0) {
		errfmt(err, errlen, "no data");
		return -1;
	}
	if (dcm_global_init() == -1) {
		errfmt(err, errlen, "DCMTK's data dictionary is not loaded "
		    "(check DCMDICTPATH)");
		return -1;
	}
	if (len > lim.max_file) {
		errfmt(err, errlen, "file is %zu bytes, over the limit of %zu",
		    len, lim.max_file);
		return -1;
	}
	if (dcm_prescan((const unsigned char *)buf, len, &lim, &sc, err,
	    errlen) == -1)
		return -1;
	if (dcm_info_walk((const unsigned char *)buf, len, &lim, &sc,
	    info) == 1) {
		dcm_scan_free(&sc);
		return 0;
	}
	if ((ff = dcm_open_mem(buf, len, ul, DCM_P_HEADER | DCM_P_SCANNED,
	    &lim, &sc, info, err, errlen)) == NULL)
		return -1;
	delete ff;
	dcm_scan_free(&sc);
	return 0;
}

int
dcm_read_info_mem(const void *buf, size_t len, const struct dcm_limits *ul,
    struct dcm_info *info, char *err, size_t errlen)
{
	if (err != NULL && errlen > 0)
		err[0] = '\0';
	try {
		return dcm_read_info_mem_x(buf, len, ul, info, err, errlen);
	} catch (const std::bad_alloc &) {
		errfmt(err, errlen, "out of memory");
	} catch (...) {
		errfmt(err, errlen, "internal error in DCMTK");
	}
	return -1;
}

/* Bytes of a file's head in which a header read looks for Pixel Data,
 * and the most it reads after the pixels. */
#define DCM_SPARSE_HEAD	((size_t)64 << 10)
#define DCM_SPARSE_FIRST	((size_t)8 << 10)	/* read first */
#define DCM_SPARSE_TAIL	((size_t)64 << 10)

/* read(2) exactly n bytes at off into p; 0, or -1 (error or end). */
static int
dcm_pread_all(int fd, unsigned char *p, size_t n, off_t off)
{
	ssize_t	 r;

	while (n > 0) {
		r = pread(fd, p, n, off);
		if (r == -1 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		p += r;
		n -= (size_t)r;
		off += r;
	}
	return 0;
}

/*
 * A header read without the pixels: the head of the file is read, and
 * if it holds what looks like the header of native Pixel Data (7FE0,0010)
 * whose value runs to within DCM_SPARSE_TAIL bytes of the end, only the
 * bytes after that value are read besides; the value's place in *buf is
 * left as it was (*hole, *holelen).  Nothing is trusted from the guess:
 * dcm_read_info() keeps the answer only if the pre-scan, walking the
 * bytes from the start, met exactly that element at the top level, and
 * so never read the bytes left out.  Returns 0 with a buffer (release
 * it with dcm_file_put()) and *holelen possibly 0, or -1: read the file
 * whole.
 */
static int
dcm_file_load_head(const char *path, size_t max, unsigned char **buf,
    size_t *len, size_t *hole, size_t *holelen)
{
	struct stat	 st;
	unsigned char	*p = NULL, *q;
	size_t		 n, head, i, hdr, end;
	uint32_t	 vl;
	int		 fd, rc = -1, ok;

	*buf = NULL;
	*len = *hole = *holelen = 0;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return -1;
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode) || st.st_size < 0 ||
	    (unsigned long long)st.st_size > max ||
	    (size_t)st.st_size <= DCM_SPARSE_HEAD ||
	    (size_t)st.st_size > DCM_TLBUF_MAX || dcm_tl.busy)
		goto done;
	n = (size_t)st.st_size;
	if (dcm_tl.cap < n) {
		if ((q = (unsigned char *)realloc(dcm_tl.p, n)) == NULL)
			goto done;
		dcm_tl.p = q;
		dcm_tl.cap = n;
	}
	p = dcm_tl.p;
	/* The head in two reads: most headers end within the first
	 * DCM_SPARSE_FIRST bytes, and the candidates are met in the same
	 * order either way. */
	head = DCM_SPARSE_FIRST;
	if (dcm_pread_all(fd, p, head, 0) == -1)
		goto done;
	for (i = 0;; i += 2) {
		if (i + 12 > head && head < DCM_SPARSE_HEAD) {
			if (dcm_pread_all(fd, p + head, DCM_SPARSE_HEAD - head,
			    (off_t)head) == -1)
				goto done;
			head = DCM_SPARSE_HEAD;
		}
		if (i + 12 > head)
			break;
		if (p[i] != 0xe0 || p[i + 1] != 0x7f || p[i + 2] != 0x10 ||
		    p[i + 3] != 0x00)
			continue;
		ok = 0;
		if ((p[i + 4] == 'O' && (p[i + 5] == 'W' || p[i + 5] == 'B')) &&
		    p[i + 6] == 0 && p[i + 7] == 0) {
			hdr = 12;
			vl = dcm_rd32(p + i + 8, 0);
			ok = 1;
		} else {
			hdr = 8;	/* implicit VR */
			vl = dcm_rd32(p + i + 4, 0);
			ok = 1;
		}
		if (!ok || vl == DCM_UNDEF || vl > n - i - hdr)
			continue;
		end = i + hdr + vl;
		if (end <= DCM_SPARSE_HEAD || n - end > DCM_SPARSE_TAIL)
			continue;
		if (end < n && dcm_pread_all(fd, p + end, n - end,
		    (off_t)end) == -1)
			goto done;
		*hole = i + hdr;
		*holelen = vl;
		break;
	}
	if (*holelen == 0 && dcm_pread_all(fd, p + head, n - head,
	    (off_t)head) == -1)
		goto done;
	dcm_tl.busy = 1;
	*buf = p;
	*len = n;
	rc = 0;
done:
	(void)close(fd);
	return rc;
}

/* The header of a file read by dcm_file_load_head() with a hole: 1 when
 * the pre-scan met the hole as the dataset's own Pixel Data and the
 * parse went well, else 0 (read the file whole). */
static int
dcm_read_info_head_x(const unsigned char *buf, size_t len,
    const struct dcm_limits *ul, size_t hole, size_t holelen,
    struct dcm_info *info)
{
	struct dcm_lim	 lim;
	struct dcm_scan	 sc;
	DcmFileFormat	*ff;
	char		 e[8];

	dcm_lim_set(&lim, ul);
	if (dcm_global_init() == -1 || len > lim.max_file)
		return 0;
	/* The pre-scan alone first: it must meet the hole, as the top
	 * level's Pixel Data, before DCMTK sees anything. */
	if (dcm_prescan(buf, len, &lim, &sc, e, sizeof(e)) == -1)
		return 0;
	if (sc.deflated || sc.pixel_pos != hole || sc.pixel_len != holelen) {
		dcm_scan_free(&sc);
		return 0;
	}
	/* The walk alone, when it can answer. */
	if (dcm_info_walk(buf, len, &lim, &sc, info) == 1) {
		dcm_scan_free(&sc);
		return 1;
	}
	/* The parse takes this pre-scan on instead of making its own. */
	if ((ff = dcm_open_mem(buf, len, ul, DCM_P_HEADER | DCM_P_SCANNED,
	    &lim, &sc, info, e, sizeof(e))) == NULL)
		return 0;
	delete ff;
	dcm_scan_free(&sc);
	return 1;
}

int
dcm_read_info(const char *path, const struct dcm_limits *ul,
    struct dcm_info *info, char *err, size_t errlen)
{
	struct dcm_lim	 lim;
	unsigned char	*buf;
	size_t		 len, hole, holelen;
	int		 rc;

	if (err != NULL && errlen > 0)
		err[0] = '\0';
	dcm_lim_set(&lim, ul);
	/* Most images: the header without reading the pixels. */
	if (dcm_file_load_head(path, lim.max_file, &buf, &len, &hole,
	    &holelen) == 0) {
		try {
			rc = holelen > 0 ? dcm_read_info_head_x(buf, len, ul,
			    hole, holelen, info) : -1;
		} catch (...) {
			rc = 0;
		}
		if (rc == 1) {
			dcm_tl_counts.sparse++;
			dcm_file_put(buf);
			return 0;
		}
		if (holelen == 0) {
			/* Read whole already. */
			rc = dcm_read_info_mem(buf, len, ul, info, err,
			    errlen);
			dcm_file_put(buf);
			return rc;
		}
		dcm_file_put(buf);
	}
	if (dcm_file_load(path, lim.max_file, &buf, &len, err, errlen) == -1)
		return -1;
	rc = dcm_read_info_mem(buf, len, ul, info, err, errlen);
	dcm_file_put(buf);
	return rc;
}

/*
 * Load the LUT of item it of a Modality or VOI LUT Sequence (what names
 * it in messages): LUT Descriptor (0028,3002) and LUT Data (0028,3006),
 * PS3.3 C.11.1.1.1 and C.11.2.1.1.  The descriptor's first value is the
 * number of entries (0 means 65536), its second the first stored value
 * mapped (signed when sgnd, Pixel Representation 1), its third the bits
 * of an entry (8 to 16).  Entries of 8 bits may come two to a 16-bit
 * word (the standard's "8 bits allocated") or one to a word (as many
 * writers store them).  A descriptor that disagrees with the data is
 * refused, never read past.  Returns 0 (lut->v set; free it) or -1.
 */
static int
dcm_lut_load(DcmItem *it, int sgnd, const char *what, struct dcm_lut_table *lut,
    char *err, size_t errlen)
{
	const Uint16		*data = NULL;
	unsigned long		 cnt = 0;
	long			 d0, d1, d2;
	size_t			 i;
	unsigned		 w;

	lut->v = NULL;
	if (it == NULL ||
	    dcm_get_xs(it, DCM_LUTDescriptor, 0, 0, &d0) == -1 ||
	    dcm_get_xs(it, DCM_LUTDescriptor, 1, sgnd, &d1) == -1 ||
	    dcm_get_xs(it, DCM_LUTDescriptor, 2, 0, &d2) == -1) {
		errfmt(err, errlen, "%s has no valid LUT Descriptor", what);
		return -1;
	}
	if (it->findAndGetUint16Array(DCM_LUTData, data, &cnt).bad() ||
	    data == NULL || cnt == 0) {
		errfmt(err, errlen, "%s has no LUT Data", what);
		return -1;
	}
	lut->n = d0 == 0 ? 65536 : (size_t)d0;
	lut->first = d1;
	if (d2 < 8 || d2 > 16) {
		errfmt(err, errlen, "%s entries of %ld bits are not "
		    "supported (8 to 16)", what, d2);
		return -1;
	}
	lut->bits = (int)d2;
	if (cnt != lut->n && !(d2 == 8 && cnt == (lut->n + 1) / 2)) {
		errfmt(err, errlen, "%s Data holds %lu values but its "
		    "descriptor announces %zu", what, cnt, lut->n);
		return -1;
	}
	if ((lut->v = (float *)malloc(lut->n * sizeof(float))) == NULL) {
		errfmt(err, errlen, "out of memory for the %s", what);
		return -1;
	}
	for (i = 0; i < lut->n; i++) {
		if (cnt == lut->n)
			w = data[i];
		else
			w = (data[i / 2] >> (8 * (i % 2))) & 0xff;
		lut->v[i] = (float)(w & ((1U << d2) - 1));
	}
	return 0;
}

/* The Modality LUT: the first item of the sequence (PS3.3 C.11.1). */
static int
dcm_mlut_load(DcmDataset *ds, int sgnd, struct dcm_lut_table *lut, char *err,
    size_t errlen)
{
	DcmSequenceOfItems	*sq = NULL;

	lut->v = NULL;
	if (ds->findAndGetSequence(DCM_ModalityLUTSequence, sq).bad() ||
	    sq == NULL) {
		errfmt(err, errlen, "Modality LUT Sequence has no item");
		return -1;
	}
	return dcm_lut_load(sq->getItem(0), sgnd, "Modality LUT", lut, err,
	    errlen);
}

static int
dcm_read_voi_lut_mem_x(const void *buf, size_t len,
    const struct dcm_limits *ul, int item, struct dcm_lut_table *out,
    char *err, size_t errlen)
{
	struct dcm_lim		 lim;
	struct dcm_scan		 sc;
	struct dcm_info		 in;
	DcmFileFormat		*ff;
	DcmSequenceOfItems	*sq = NULL;
	int			 rc = -1;

	if ((ff = dcm_open_mem(buf, len, ul, DCM_P_HEADER, &lim, &sc, &in,
	    err, errlen)) == NULL)
		return -1;
	if (ff->getDataset()->findAndGetSequence(DCM_VOILUTSequence,
	    sq).bad() || sq == NULL || item < 0 ||
	    (unsigned long)item >= sq->card())
		errfmt(err, errlen, "VOI LUT Sequence has no item %d", item);
	else
		rc = dcm_lut_load(sq->getItem((unsigned long)item),
		    in.pixel_representation == 1, "VOI LUT", out, err,
		    errlen);
	delete ff;
	dcm_scan_free(&sc);
	return rc;
}

int
dcm_read_voi_lut_mem(const void *buf, size_t len,
    const struct dcm_limits *ul, int item, struct dcm_lut_table *out,
    char *err, size_t errlen)
{
	if (err != NULL && errlen > 0)
		err[0] = '\0';
	memset(out, 0, sizeof(*out));
	try {
		return dcm_read_voi_lut_mem_x(buf, len, ul, item, out, err,
		    errlen);
	} catch (const std::bad_alloc &) {
		errfmt(err, errlen, "out of memory");
	} catch (...) {
		errfmt(err, errlen, "internal error in DCMTK");
	}
	free(out->v);
	out->v = NULL;
	return -1;
}

int
dcm_read_voi_lut(const char *path, const struct dcm_limits *ul, int item,
    struct dcm_lut_table *out, char *err, size_t errlen)
{
	struct dcm_lim	 lim;
	unsigned char	*buf;
	size_t		 len;
	int		 rc;

	memset(out, 0, sizeof(*out));
	dcm_lim_set(&lim, ul);
	if (dcm_file_load(path, lim.max_file, &buf, &len, err, errlen) == -1)
		return -1;
	rc = dcm_read_voi_lut_mem(buf, len, ul, item, out, err, errlen);
	dcm_file_put(buf);
	return rc;
}

void
dcm_lut_table_free(struct dcm_lut_table *t)
{
	if (t == NULL)
		return;
	free(t->v);
	memset(t, 0, sizeof(*t));
}

/* The stored value of sample i of an uncompressed buffer. */
static inline long long
dcm_sample(const unsigned char *b, size_t i, const struct dcm_fmt *f)
{
	uint32_t	 r;

	if (f->bytes == 1)
		r = b[i];
	else if (f->bytes == 2) {
		uint16_t t;

		memcpy(&t, b + 2 * i, 2);
		r = t;
	} else
		memcpy(&r, b + 4 * i, 4);
	if (f->clamp) {
		/* Decoders clamp to their own precision, which may exceed
		 * Bits Stored: keep the value rather than wrap it. */
		r >>= f->shift;
		return r > f->mask ? f->mask : r;
	}
	r = (r >> f->shift) & f->mask;
	if (f->sgnd && f->bits < 32 && (r >> (f->bits - 1)) & 1)
		return (long long)r - (1LL << f->bits);
	if (f->sgnd && f->bits == 32)
		return (int32_t)r;
	return r;
}

/* Mask and sign-extend a decoded JPEG 2000 sample as DICOM says. */
static inline long long
dcm_norm(int32_t s, const struct dcm_fmt *f)
{
	uint32_t	 r;

	if (f->clamp)
		return s < 0 ? 0 : (uint32_t)s > f->mask ? f->mask :
		    (uint32_t)s;
	r = (uint32_t)s & f->mask;

	if (f->sgnd && f->bits < 32 && (r >> (f->bits - 1)) & 1)
		return (long long)r - (1LL << f->bits);
	if (f->sgnd && f->bits == 32)
		return (int32_t)r;
	return r;
}

static float
dcm_map(long long v, const struct dcm_info *in, const struct dcm_lut_table *lut)
{
	long long	 k;

	if (lut->v != NULL) {
		k = v - lut->first;
		if (k < 0)
			k = 0;
		if ((unsigned long long)k >= lut->n)
			k = (long long)lut->n - 1;
		return lut->v[k];
	}
	return (float)((double)v * in->rescale_slope + in->rescale_intercept);
}

static float
dcm_luma(double r, double g, double b)
{
	return (float)(0.299 * r + 0.587 * g + 0.114 * b);
}

/* Collect the fragments of frame f of an encapsulated pixel sequence into
 * one malloc'ed buffer.  Returns 0 or -1. */
static int
dcm_frame_fragments(DcmPixelSequence *ps, int frames, int f,
    unsigned char **out, size_t *outlen, char *err, size_t errlen)
{
	DcmPixelItem	*pi = NULL;
	Uint8		*bot = NULL, *d;
	unsigned long	 nfrag, first, last, k;
	size_t		 off, total, n;
	uint32_t	 want, next;
	unsigned char	*b = NULL;
	int		 seen, hasbot;

	*out = NULL;
	*outlen = 0;
	nfrag = ps->card();
	if (nfrag < 2) {
		errfmt(err, errlen, "encapsulated pixel data has no "
		    "fragments");
		goto fail;
	}
	nfrag--;	/* item 0 is the Basic Offset Table */
	if (ps->getItem(pi, 0).bad() || pi == NULL) {
		errfmt(err, errlen, "no Basic Offset Table item");
		goto fail;
	}
	hasbot = pi->getLength() / 4 >= (Uint32)frames &&
	    pi->getUint8Array(bot).good() && bot != NULL;
	first = last = 0;
	if (hasbot) {
		/* Offsets count from the first fragment's item tag. */
		want = dcm_rd32(bot + 4 * (size_t)f, 0);
		next = f + 1 < frames ? dcm_rd32(bot + 4 * ((size_t)f + 1), 0) :
		    UINT32_MAX;
		off = 0;
		seen = 0;
		for (k = 1; k <= nfrag; k++) {
			if (ps->getItem(pi, k).bad() || pi == NULL)
				break;
			if (off == want) {
				first = k;
				seen = 1;
			}
			if (seen && off < next)
				last = k;
			off += 8 + (size_t)pi->getLength();
		}
		if (!seen) {
			errfmt(err, errlen, "Basic Offset Table entry of "
			    "frame %d points between fragments", f);
			goto fail;
		}
	} else if ((unsigned long)frames == nfrag) {
		first = last = (unsigned long)f + 1;
	} else if (frames == 1) {
		first = 1;
		last = nfrag;
	} else {
		/* One frame over several fragments and no offset table:
		 * frames start with a JPEG 2000 SOC marker. */
		seen = -1;
		for (k = 1; k <= nfrag; k++) {
			if (ps->getItem(pi, k).bad() || pi == NULL ||
			    pi->getUint8Array(d).bad())
				break;
			if (d != NULL && pi->getLength() >= 2 &&
			    d[0] == 0xff && d[1] == 0x4f)
				seen++;
			if (seen == f && first == 0)
				first = k;
			if (seen == f)
				last = k;
		}
		if (first == 0) {
			errfmt(err, errlen, "cannot find the fragments of "
			    "frame %d (no offset table, %lu fragments for %d "
			    "frames)", f, nfrag, frames);
			goto fail;
		}
	}
	total = 0;
	for (k = first; k <= last; k++) {
		if (ps->getItem(pi, k).bad() || pi == NULL)
			break;
		total += pi->getLength();
	}
	if ((b = (unsigned char *)malloc(total ? total : 1)) == NULL) {
		errfmt(err, errlen, "out of memory for frame %d", f);
		goto fail;
	}
	n = 0;
	for (k = first; k <= last; k++) {
		if (ps->getItem(pi, k).bad() || pi == NULL)
			break;
		d = NULL;
		if (pi->getLength() > 0 && pi->getUint8Array(d).good() &&
		    d != NULL) {
			memcpy(b + n, d, pi->getLength());
			n += pi->getLength();
		}
	}
	*out = b;
	*outlen = n;
	return 0;
fail:
	free(b);
	return -1;
}

/*
 * DCMTK 3.6.7 reads the bit depth of JPEG data (DJCodecDecoder::
 * scanJpegDataForBitDepth) by walking the markers of a fragment from its
 * first byte to the first SOF; at a TEM marker (FF01, ITU-T T.81 Table
 * B.1) it does not move on, and loops for ever (found by fuzzing).  Walk
 * the same way, and say (1) whether the walk would meet TEM.
 */
static int
dcm_jpeg_tem_trap(const unsigned char *d, size_t n)
{
	size_t		 off = 0;
	unsigned	 m;

	while (off + 4 < n) {
		m = (unsigned)d[off] << 8 | d[off + 1];
		if (m == 0xff01)
			return 1;
		if ((m >= 0xffc0 && m <= 0xffcf && m != 0xffc4 &&
		    m != 0xffc8 && m != 0xffcc))
			return 0;	/* SOF: the walk ends */
		if (m == 0xffc4 || m == 0xffc8 || m == 0xffcc ||
		    (m >= 0xffda && m <= 0xfffe))
			off += ((size_t)d[off + 2] << 8 | d[off + 3]) + 2;
		else if (m >= 0xffd0 && m <= 0xffd9)
			off += 2;
		else if (m == 0xffff)
			off += 1;
		else if (d[off] == 0xff && d[off + 1] > 2 && d[off + 1] <= 0xbf)
			off += 2;
		else
			return 0;	/* not a marker: the walk ends */
	}
	return 0;
}

/* The JPEG syntaxes DCMTK's dcmjpeg decodes. */
static int
dcm_is_dcmjpeg(E_TransferSyntax x)
{
	return x == EXS_JPEGProcess1 || x == EXS_JPEGProcess2_4 ||
	    x == EXS_JPEGProcess6_8 || x == EXS_JPEGProcess10_12 ||
	    x == EXS_JPEGProcess14 || x == EXS_JPEGProcess14SV1;
}

/* Refuse JPEG data on which DCMTK would hang: any fragment (one may
 * start a frame) whose marker walk meets TEM.  Returns 0 or -1. */
static int
dcm_jpeg_check(DcmPixelData *pd, E_TransferSyntax xfer, char *err,
    size_t errlen)
{
	DcmPixelSequence	*ps = NULL;
	DcmPixelItem		*pi = NULL;
	Uint8			*d;
	unsigned long		 k, nfrag;

	if (!dcm_is_dcmjpeg(xfer))
		return 0;
	if (pd->getEncapsulatedRepresentation(xfer, NULL, ps).bad() ||
	    ps == NULL) {
		errfmt(err, errlen, "JPEG pixel data is not encapsulated");
		return -1;
	}
	nfrag = ps->card();
	for (k = 1; k < nfrag; k++) {
		d = NULL;
		if (ps->getItem(pi, k).bad() || pi == NULL ||
		    pi->getLength() == 0 || pi->getUint8Array(d).bad() ||
		    d == NULL)
			continue;
		if (dcm_jpeg_tem_trap(d, pi->getLength())) {
			errfmt(err, errlen, "JPEG fragment %lu has a TEM "
			    "marker before its frame header", k);
			return -1;
		}
	}
	return 0;
}

static int
dcm_is_j2k(E_TransferSyntax x)
{
	return x == EXS_JPEG2000LosslessOnly || x == EXS_JPEG2000 ||
	    x == EXS_JPEG2000MulticomponentLosslessOnly ||
	    x == EXS_JPEG2000Multicomponent;
}

/*
 * Decode frame f of a parsed dataset whose info is filled.  Returns 0
 * with *out (free it) or -1.
 */
static int
dcm_frame_decode(DcmDataset *ds, const struct dcm_lim *lim,
    const struct dcm_info *in, int f, float **out, char *err, size_t errlen)
{
	DcmElement		*el = NULL;
	DcmPixelData		*pd;
	DcmPixelSequence	*ps = NULL;
	struct dcm_fmt		 fmt;
	struct dcm_lut_table		 lut;
	struct j2k_image	 ji;
	OFString		 model;
	E_TransferSyntax	 xfer;
	unsigned char		*raw = NULL, *own = NULL, *frag = NULL;
	float			*o = NULL;
	size_t			 npix, fbytes, i, fraglen;
	unsigned long long	 need;
	Uint32			 start = 0, dsize = 0;
	Uint8			*arr = NULL;
	int			 colour, spp, planar, ybr, big;

	memset(&lut, 0, sizeof(lut));
	memset(&ji, 0, sizeof(ji));
	*out = NULL;
	if (!in->has_pixels) {
		errfmt(err, errlen, "no pixel data");
		goto fail;
	}
	if (in->rows < 1 || in->cols < 1) {
		errfmt(err, errlen, "invalid image size %dx%d (Rows, "
		    "Columns)", in->cols, in->rows);
		goto fail;
	}
	if (in->frames < 1) {
		errfmt(err, errlen, "invalid Number of Frames");
		goto fail;
	}
	if (f < 0 || f >= in->frames) {
		errfmt(err, errlen, "frame %d does not exist (the image "
		    "has %d)", f, in->frames);
		goto fail;
	}
	if (in->bits_allocated != 8 && in->bits_allocated != 16 &&
	    in->bits_allocated != 32) {
		errfmt(err, errlen, "Bits Allocated %d is not supported",
		    in->bits_allocated);
		goto fail;
	}
	if (in->bits_stored < 1 || in->bits_stored > in->bits_allocated ||
	    in->high_bit >= in->bits_allocated ||
	    in->high_bit + 1 < in->bits_stored) {
		errfmt(err, errlen, "inconsistent Bits Stored %d, High "
		    "Bit %d for Bits Allocated %d", in->bits_stored,
		    in->high_bit, in->bits_allocated);
		goto fail;
	}
	if (in->pixel_representation != 0 && in->pixel_representation != 1) {
		errfmt(err, errlen, "invalid Pixel Representation %d",
		    in->pixel_representation);
		goto fail;
	}
	spp = in->samples_per_pixel;
	colour = 0;
	ybr = 0;
	if (strcmp(in->photometric, "MONOCHROME1") == 0 ||
	    strcmp(in->photometric, "MONOCHROME2") == 0 ||
	    (in->photometric[0] == '\0' && spp == 1)) {
		if (spp != 1) {
			errfmt(err, errlen, "%s with %d samples per pixel",
			    in->photometric, spp);
			goto fail;
		}
	} else if (strcmp(in->photometric, "RGB") == 0 ||
	    strncmp(in->photometric, "YBR_", 4) == 0) {
		if (spp != 3) {
			errfmt(err, errlen, "%s with %d samples per pixel",
			    in->photometric, spp);
			goto fail;
		}
		colour = 1;
		ybr = strcmp(in->photometric, "YBR_FULL") == 0;
		if (strstr(in->photometric, "422") != NULL ||
		    strstr(in->photometric, "420") != NULL) {
			if (!in->compressed) {
				errfmt(err, errlen, "uncompressed %s "
				    "(subsampled colour) is not supported",
				    in->photometric);
				goto fail;
			}
		}
	} else {
		errfmt(err, errlen, "photometric interpretation '%s' is "
		    "not supported (monochrome, RGB and YBR only)",
		    in->photometric);
		goto fail;
	}
	npix = (size_t)in->rows * (size_t)in->cols;
	if (npix > lim->max_pixels) {
		errfmt(err, errlen, "image of %dx%d is over the limit of "
		    "%zu pixels", in->cols, in->rows, lim->max_pixels);
		goto fail;
	}
	fbytes = npix * (size_t)spp * (size_t)(in->bits_allocated / 8);
	if (fbytes > UINT32_MAX - 1) {
		errfmt(err, errlen, "a frame of %zu bytes is too large",
		    fbytes);
		goto fail;
	}
	if (ds->findAndGetElement(DCM_PixelData, el).bad() || el == NULL ||
	    el->ident() != EVR_PixelData) {
		errfmt(err, errlen, "no pixel data");
		goto fail;
	}
	pd = OFstatic_cast(DcmPixelData *, el);
	xfer = ds->getOriginalXfer();
	fmt.bytes = in->bits_allocated / 8;
	fmt.bits = in->bits_stored;
	fmt.shift = in->high_bit + 1 - in->bits_stored;
	fmt.mask = in->bits_stored == 32 ? 0xffffffffU :
	    (1U << in->bits_stored) - 1;
	fmt.sgnd = in->pixel_representation == 1;
	fmt.clamp = in->compressed && !fmt.sgnd;
	planar = in->planar_configuration;
	if (!colour && in->has_modality_lut &&
	    dcm_mlut_load(ds, fmt.sgnd, &lut, err, errlen) == -1)
		goto fail;
	if ((o = (float *)malloc(npix * sizeof(float))) == NULL) {
		errfmt(err, errlen, "out of memory for a %dx%d frame",
		    in->cols, in->rows);
		goto fail;
	}

	if (in->compressed && dcm_is_j2k(xfer)) {
		if (pd->getEncapsulatedRepresentation(xfer, NULL, ps).bad() ||
		    ps == NULL) {
			errfmt(err, errlen, "JPEG 2000 pixel data is not "
			    "encapsulated");
			goto fail;
		}
		if (dcm_frame_fragments(ps, in->frames, f, &frag, &fraglen,
		    err, errlen) == -1)
			goto fail;
		if (j2k_decode(frag, fraglen, in->cols, in->rows, spp, &ji,
		    err, errlen) == -1)
			goto fail;
		/* OpenJPEG undoes the component transform: RGB out. */
		if (strcmp(in->photometric, "YBR_RCT") == 0 ||
		    strcmp(in->photometric, "YBR_ICT") == 0)
			ybr = 0;
		for (i = 0; i < npix; i++) {
			if (!colour)
				o[i] = dcm_map(dcm_norm(ji.data[i], &fmt), in,
				    &lut);
			else if (ybr)
				o[i] = (float)dcm_norm(ji.data[i], &fmt);
			else
				o[i] = dcm_luma(
				    (double)dcm_norm(ji.data[i], &fmt),
				    (double)dcm_norm(ji.data[npix + i], &fmt),
				    (double)dcm_norm(ji.data[2 * npix + i],
				    &fmt));
		}
		goto done;
	}

	if (in->compressed && xfer == EXS_RLELossless) {
		/* Our own RLE decoder: DCMTK's reads past its buffers on
		 * malformed segments (found by fuzzing). */
		if (pd->getEncapsulatedRepresentation(xfer, NULL, ps).bad() ||
		    ps == NULL) {
			errfmt(err, errlen, "RLE pixel data is not "
			    "encapsulated");
			goto fail;
		}
		if (dcm_frame_fragments(ps, in->frames, f, &frag, &fraglen,
		    err, errlen) == -1)
			goto fail;
		if ((own = (unsigned char *)malloc(fbytes)) == NULL) {
			errfmt(err, errlen, "out of memory for frame %d", f);
			goto fail;
		}
		if (rle_decode(frag, fraglen, npix, spp, fmt.bytes, own, err,
		    errlen) == -1)
			goto fail;
		raw = own;
		planar = 1;	/* the decoder writes colour by plane */
	} else if (in->compressed && in->frames == 1) {
		/* Decode the whole pixel data (JPEG, JPEG-LS). */
		if (dcm_jpeg_check(pd, xfer, err, errlen) == -1)
			goto fail;
		OFCondition cond = ds->chooseRepresentation(
		    EXS_LittleEndianExplicit, NULL);

		if (cond.bad() || pd->getUint8Array(arr).bad() ||
		    arr == NULL || pd->getLength() < fbytes) {
			errfmt(err, errlen, "cannot decode the image "
			    "(%s)%s%s",
			    dcm_ts_name(DcmXfer(xfer).getXferID()),
			    cond.bad() ? ": " : "", cond.bad() ? cond.text() :
			    "");
			goto fail;
		}
		raw = arr;
		planar = (int)dcm_get_int(ds, DCM_PlanarConfiguration, 0);
		if (colour && ds->findAndGetOFString(
		    DCM_PhotometricInterpretation, model).good())
			ybr = model.compare("YBR_FULL") == 0;
	} else if (in->compressed) {
		if (dcm_jpeg_check(pd, xfer, err, errlen) == -1)
			goto fail;
		if (pd->getUncompressedFrameSize(ds, dsize).bad() ||
		    dsize < fbytes) {
			errfmt(err, errlen, "cannot size the decoded "
			    "frame");
			goto fail;
		}
		if ((own = (unsigned char *)malloc((size_t)dsize + 1)) ==
		    NULL) {
			errfmt(err, errlen, "out of memory for frame %d",
			    f);
			goto fail;
		}
		{
			OFCondition cond = pd->getUncompressedFrame(ds,
			    (Uint32)f, start, own, dsize + 1, model);

			if (cond.bad()) {
				errfmt(err, errlen, "cannot decode frame "
				    "%d (%s): %s", f,
				    dcm_ts_name(DcmXfer(xfer).getXferID()),
				    cond.text());
				goto fail;
			}
		}
		raw = own;
		/* The decoders say which layout and colour model they
		 * produced. */
		planar = (int)dcm_get_int(ds, DCM_PlanarConfiguration, 0);
		if (colour)
			ybr = model.compare("YBR_FULL") == 0;
	} else {
		need = (unsigned long long)fbytes *
		    (unsigned long long)in->frames;
		if (pd->getUint8Array(arr).bad() || arr == NULL ||
		    (unsigned long long)pd->getLength() < need) {
			errfmt(err, errlen, "Pixel Data holds %lu bytes "
			    "but %dx%d x %d frame(s) of %d-bit samples need "
			    "%llu", (unsigned long)pd->getLength(), in->cols,
			    in->rows, in->frames, in->bits_allocated, need);
			goto fail;
		}
		raw = arr + fbytes * (size_t)f;
		/* DCMTK swaps OW in 16-bit words on reading big endian;
		 * put 32-bit and OB samples in host order. */
		big = DcmXfer(xfer).isBigEndian();
		if (big && fmt.bytes > 1 && (fmt.bytes == 4 ||
		    pd->getVR() == EVR_OB)) {
			if ((own = (unsigned char *)malloc(fbytes)) == NULL) {
				errfmt(err, errlen, "out of memory for "
				    "frame %d", f);
				goto fail;
			}
			for (i = 0; i < fbytes; i += (size_t)fmt.bytes) {
				if (fmt.bytes == 2) {
					own[i] = raw[i + 1];
					own[i + 1] = raw[i];
				} else if (pd->getVR() == EVR_OB) {
					own[i] = raw[i + 3];
					own[i + 1] = raw[i + 2];
					own[i + 2] = raw[i + 1];
					own[i + 3] = raw[i];
				} else {
					own[i] = raw[i + 2];
					own[i + 1] = raw[i + 3];
					own[i + 2] = raw[i];
					own[i + 3] = raw[i + 1];
				}
			}
			raw = own;
		}
	}
	if (!colour && fmt.bytes == 2 && npix >= 65536) {
		/* 16-bit grey: every stored value maps through one table,
		 * built by the same sample and map functions. */
		float		*tab;
		unsigned char	 b2[2];
		uint16_t	 t16;

		if ((tab = (float *)malloc(65536 * sizeof(*tab))) == NULL) {
			errfmt(err, errlen, "out of memory for frame %d", f);
			goto fail;
		}
		for (i = 0; i < 65536; i++) {
			b2[0] = (unsigned char)(i & 0xff);
			b2[1] = (unsigned char)(i >> 8);
			tab[i] = dcm_map(dcm_sample(b2, 0, &fmt), in, &lut);
		}
		for (i = 0; i < npix; i++) {
			memcpy(&t16, raw + 2 * i, 2);
			o[i] = tab[t16];
		}
		free(tab);
		goto done;
	}
	for (i = 0; i < npix; i++) {
		if (!colour) {
			o[i] = dcm_map(dcm_sample(raw, i, &fmt), in, &lut);
			continue;
		}
		if (planar == 1) {
			if (ybr)
				o[i] = (float)dcm_sample(raw, i, &fmt);
			else
				o[i] = dcm_luma(
				    (double)dcm_sample(raw, i, &fmt),
				    (double)dcm_sample(raw, npix + i, &fmt),
				    (double)dcm_sample(raw, 2 * npix + i,
				    &fmt));
		} else {
			if (ybr)
				o[i] = (float)dcm_sample(raw, 3 * i, &fmt);
			else
				o[i] = dcm_luma(
				    (double)dcm_sample(raw, 3 * i, &fmt),
				    (double)dcm_sample(raw, 3 * i + 1, &fmt),
				    (double)dcm_sample(raw, 3 * i + 2, &fmt));
		}
	}
done:
	j2k_image_free(&ji);
	free(frag);
	free(own);
	free(lut.v);
	*out = o;
	return 0;
fail:
	j2k_image_free(&ji);
	free(frag);
	free(own);
	free(lut.v);
	free(o);
	return -1;
}

int
dcm_native16(const struct dcm_info *in, const struct dcm_limits *ul,
    float *tab)
{
	struct dcm_lim		 lim;
	struct dcm_fmt		 fmt;
	struct dcm_lut_table		 lut;
	unsigned long long	 fbytes;
	unsigned char		 b2[2];
	uint16_t		 t16;
	unsigned		 i;

	dcm_lim_set(&lim, ul);
	/* The checks of dcm_frame_decode(), narrowed to this one case. */
	if (!in->has_pixels || in->compressed || in->pixel_offset == 0 ||
	    in->rows < 1 || in->cols < 1 || in->frames != 1 ||
	    in->bits_allocated != 16 || in->bits_stored < 1 ||
	    in->bits_stored > 16 || in->high_bit >= 16 ||
	    in->high_bit + 1 < in->bits_stored ||
	    (in->pixel_representation != 0 &&
	    in->pixel_representation != 1) ||
	    in->samples_per_pixel != 1 || in->has_modality_lut)
		return -1;
	if (strcmp(in->photometric, "MONOCHROME1") != 0 &&
	    strcmp(in->photometric, "MONOCHROME2") != 0 &&
	    in->photometric[0] != '\0')
		return -1;
	if ((unsigned long long)in->rows * (unsigned long long)in->cols >
	    lim.max_pixels)
		return -1;
	fbytes = (unsigned long long)in->rows * (unsigned long long)in->cols *
	    2;
	if (in->pixel_bytes < fbytes || in->pixel_offset > in->file_size ||
	    in->file_size - in->pixel_offset < in->pixel_bytes)
		return -1;
	if (tab == NULL)
		return 0;
	memset(&lut, 0, sizeof(lut));
	fmt.bytes = 2;
	fmt.bits = in->bits_stored;
	fmt.shift = in->high_bit + 1 - in->bits_stored;
	fmt.mask = (1U << in->bits_stored) - 1;
	fmt.sgnd = in->pixel_representation == 1;
	fmt.clamp = 0;
	for (i = 0; i < 65536; i++) {
		t16 = (uint16_t)i;	/* the little-endian value i */
		memcpy(b2, &t16, 2);
		tab[i] = dcm_map(dcm_sample(b2, 0, &fmt), in, &lut);
	}
	return 0;
}

static int
dcm_read_frame_mem_x(const void *buf, size_t len,
    const struct dcm_limits *ul, int frame, float **out,
    struct dcm_info *info, char *err, size_t errlen)
{
	struct dcm_lim	 lim;
	struct dcm_scan	 sc;
	struct dcm_info	 tmp, *in = info != NULL ? info : &tmp;
	DcmFileFormat	*ff;
	int		 rc;

	if ((ff = dcm_open_mem(buf, len, ul, 0, &lim, &sc, in, err,
	    errlen)) == NULL)
		return -1;
	rc = dcm_frame_decode(ff->getDataset(), &lim, in, frame, out, err,
	    errlen);
	delete ff;
	dcm_scan_free(&sc);
	return rc;
}

int
dcm_read_frame_mem(const void *buf, size_t len, const struct dcm_limits *ul,
    int frame, float **out, struct dcm_info *info, char *err, size_t errlen)
{
	*out = NULL;
	if (err != NULL && errlen > 0)
		err[0] = '\0';
	try {
		return dcm_read_frame_mem_x(buf, len, ul, frame, out, info,
		    err, errlen);
	} catch (const std::bad_alloc &) {
		errfmt(err, errlen, "out of memory");
	} catch (...) {
		errfmt(err, errlen, "internal error in DCMTK");
	}
	free(*out);
	*out = NULL;
	return -1;
}

int
dcm_read_frame(const char *path, const struct dcm_limits *ul, int frame,
    float **out, struct dcm_info *info, char *err, size_t errlen)
{
	struct dcm_lim	 lim;
	unsigned char	*buf;
	size_t		 len;
	int		 rc;

	*out = NULL;
	if (err != NULL && errlen > 0)
		err[0] = '\0';
	dcm_lim_set(&lim, ul);
	if (dcm_file_load(path, lim.max_file, &buf, &len, err, errlen) == -1)
		return -1;
	rc = dcm_read_frame_mem(buf, len, ul, frame, out, info, err, errlen);
	dcm_file_put(buf);
	return rc;
}

static int
dcm_read_frames_mem_x(const void *buf, size_t len,
    const struct dcm_limits *ul, float *dst, size_t dstlen,
    struct dcm_info *in, char *err, size_t errlen)
{
	struct dcm_lim	 lim;
	struct dcm_scan	 sc;
	DcmFileFormat	*ff;
	float		*o;
	size_t		 plane;
	int		 f, rc = -1;

	if ((ff = dcm_open_mem(buf, len, ul, 0, &lim, &sc, in, err,
	    errlen)) == NULL)
		return -1;
	plane = (size_t)in->rows * (size_t)in->cols;
	if (in->rows < 1 || in->cols < 1 || in->frames < 1 ||
	    plane * (size_t)in->frames != dstlen) {
		errfmt(err, errlen, "%dx%d x %d frame(s) do not fit %zu "
		    "values", in->cols, in->rows, in->frames, dstlen);
		goto done;
	}
	for (f = 0; f < in->frames; f++) {
		if (dcm_frame_decode(ff->getDataset(), &lim, in, f, &o, err,
		    errlen) == -1)
			goto done;
		memcpy(dst + plane * (size_t)f, o, plane * sizeof(*o));
		free(o);
	}
	rc = 0;
done:
	delete ff;
	dcm_scan_free(&sc);
	return rc;
}

int
dcm_read_frames(const char *path, const struct dcm_limits *ul, float *dst,
    size_t dstlen, struct dcm_info *info, char *err, size_t errlen)
{
	struct dcm_lim	 lim;
	struct dcm_info	 tmp, *in = info != NULL ? info : &tmp;
	unsigned char	*buf;
	size_t		 len;
	int		 rc = -1;

	if (err != NULL && errlen > 0)
		err[0] = '\0';
	dcm_lim_set(&lim, ul);
	if (dcm_file_load(path, lim.max_file, &buf, &len, err, errlen) == -1)
		return -1;
	try {
		rc = dcm_read_frames_mem_x(buf, len, ul, dst, dstlen, in, err,
		    errlen);
	} catch (const std::bad_alloc &) {
		errfmt(err, errlen, "out of memory");
		rc = -1;
	} catch (...) {
		errfmt(err, errlen, "internal error in DCMTK");
		rc = -1;
	}
	dcm_file_put(buf);
	return rc;
}

const char *
dcm_ts_name(const char *uid)
{
	static const struct {
		const char	*uid;
		const char	*name;
	} t[] = {
		{ "1.2.840.10008.1.2", "implicit VR little endian" },
		{ "1.2.840.10008.1.2.1", "explicit VR little endian" },
		{ "1.2.840.10008.1.2.1.99", "deflated explicit VR little "
		    "endian" },
		{ "1.2.840.10008.1.2.2", "explicit VR big endian" },
		{ "1.2.840.10008.1.2.4.50", "JPEG baseline" },
		{ "1.2.840.10008.1.2.4.51", "JPEG extended" },
		{ "1.2.840.10008.1.2.4.57", "JPEG lossless" },
		{ "1.2.840.10008.1.2.4.70", "JPEG lossless SV1" },
		{ "1.2.840.10008.1.2.4.80", "JPEG-LS lossless" },
		{ "1.2.840.10008.1.2.4.81", "JPEG-LS near-lossless" },
		{ "1.2.840.10008.1.2.4.90", "JPEG 2000 lossless" },
		{ "1.2.840.10008.1.2.4.91", "JPEG 2000" },
		{ "1.2.840.10008.1.2.4.92", "JPEG 2000 multi-component "
		    "lossless" },
		{ "1.2.840.10008.1.2.4.93", "JPEG 2000 multi-component" },
		{ "1.2.840.10008.1.2.4.100", "MPEG-2" },
		{ "1.2.840.10008.1.2.4.102", "MPEG-4" },
		{ "1.2.840.10008.1.2.4.201", "HTJ2K lossless" },
		{ "1.2.840.10008.1.2.4.203", "HTJ2K" },
		{ "1.2.840.10008.1.2.5", "RLE lossless" },
	};
	size_t	 i;

	if (uid == NULL)
		return "unknown";
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		if (strcmp(t[i].uid, uid) == 0)
			return t[i].name;
	return "unknown";
}

/*
 * The DICOM network: C-STORE service class provider.
 */

struct dcm_net {
	T_ASC_Network	*net;
	pid_t		 pid;		/* of the listening process */
};

struct dcm_assoc {
	T_ASC_Association *as;
	int		 accepted;
};

/* Transfer syntaxes accepted: the uncompressed ones and every compressed
 * syntax the reader can decode. */
static const char *const dcm_net_syntaxes[] = {
	UID_LittleEndianExplicitTransferSyntax,
	UID_LittleEndianImplicitTransferSyntax,
	UID_BigEndianExplicitTransferSyntax,
	UID_DeflatedExplicitVRLittleEndianTransferSyntax,
	UID_JPEGProcess14SV1TransferSyntax,
	UID_JPEGProcess14TransferSyntax,
	UID_JPEGProcess1TransferSyntax,
	UID_JPEGProcess2_4TransferSyntax,
	UID_JPEGLSLosslessTransferSyntax,
	UID_JPEGLSLossyTransferSyntax,
	UID_JPEG2000LosslessOnlyTransferSyntax,
	UID_JPEG2000TransferSyntax,
	UID_RLELosslessTransferSyntax,
};
#define DCM_NET_NSYNTAX	\
	((int)(sizeof(dcm_net_syntaxes) / sizeof(dcm_net_syntaxes[0])))
#define DCM_NET_MAXPDU	131072

/* A DCMTK condition as one line of text: its text nests the causes on
 * lines of their own, and the receiver's log has a line per event. */
static void
errcond(char *err, size_t errlen, const OFCondition &cond)
{
	char	*p;

	errfmt(err, errlen, "%s", cond.text());
	for (p = err; errlen > 0 && *p != '\0'; p++)
		if (*p == '\n' || *p == '\r')
			*p = ';';
}

/*
 * DCMTK 3.6 binds its listening socket to every address.  Put one bound
 * to the configured address in its place, under the same descriptor
 * number, before anything is accepted (and before the pid file says the
 * receiver runs): a connection that reached DCMTK's socket in that
 * instant is reset when it closes, never served.
 */
static int
dcm_net_rebind(T_ASC_Network *net, const char *addr, int port, char *err,
    size_t errlen)
{
	PRIVATE_NETWORKKEY	*key = (PRIVATE_NETWORKKEY *)net->network;
	struct sockaddr_in	 sin;
	int			 fd, old, one = 1;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons((uint16_t)port);
	if (inet_pton(AF_INET, addr, &sin.sin_addr) != 1) {
		errfmt(err, errlen, "%s: not an IPv4 address", addr);
		return -1;
	}
	old = (int)key->networkSpecific.TCP.listenSocket;
	(void)close(old);
	if ((fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1 ||
	    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) == -1 ||
	    bind(fd, (struct sockaddr *)&sin, sizeof(sin)) == -1 ||
	    listen(fd, SOMAXCONN) == -1 ||
	    (fd != old && dup2(fd, old) == -1)) {
		errfmt(err, errlen, "%s:%d: %s", addr, port, strerror(errno));
		if (fd != -1)
			(void)close(fd);
		return -1;
	}
	if (fd != old)
		(void)close(fd);
	return 0;
}

extern "C" struct dcm_net *
dcm_net_listen(const char *addr, int port, int fork_each, int timeout,
    char *err, size_t errlen)
{
	struct dcm_net	*n;
	OFCondition	 cond;

	if (dcm_global_init() == -1) {
		errfmt(err, errlen, "DICOM library failed to initialise");
		return NULL;
	}
	/* DCMTK reads this when it opens each connection: without it,
	 * Nagle's algorithm and delayed ACKs cost ~40 ms per exchange. */
	(void)setenv("TCP_NODELAY", "1", 1);
	/* Peers are logged and audited by address; a reverse lookup per
	 * association would only add a DNS delay. */
	dcmDisableGethostbyaddr.set(OFTrue);
	/* Every read and write of a connection gives up after timeout
	 * seconds, inside a PDU too: a sender that stalls halfway through
	 * an A-ASSOCIATE-RQ or a data set cannot hold a child forever. */
	dcmSocketReceiveTimeout.set(timeout);
	dcmSocketSendTimeout.set(timeout);
	if ((n = (struct dcm_net *)calloc(1, sizeof(*n))) == NULL) {
		errfmt(err, errlen, "out of memory");
		return NULL;
	}
	n->pid = getpid();
	cond = ASC_initializeNetwork(NET_ACCEPTOR, port, timeout, &n->net);
	if (cond.bad()) {
		errcond(err, errlen, cond);
		free(n);
		return NULL;
	}
	if (dcm_net_rebind(n->net, addr, port, err, errlen) == -1) {
		(void)ASC_dropNetwork(&n->net);
		free(n);
		return NULL;
	}
	if (fork_each)
		DUL_requestForkOnTransportConnectionReceipt(0, NULL);
	return n;
}

extern "C" int
dcm_net_is_child(const struct dcm_net *n)
{
	return getpid() != n->pid;
}

/* In a forked child: let go of the listening socket, so that only the
 * parent holds the port.  The descriptor is closed only if it still is
 * the listening socket (DCMTK may have closed it already, and its number
 * may now be the connection's). */
static void
dcm_net_child_close(struct dcm_net *n)
{
	PRIVATE_NETWORKKEY	*key = (PRIVATE_NETWORKKEY *)n->net->network;
	int			 fd, on = 0;
	socklen_t		 len = sizeof(on);

	fd = (int)key->networkSpecific.TCP.listenSocket;
	if (fd < 0)
		return;
	if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &on, &len) == 0 && on)
		(void)close(fd);
	key->networkSpecific.TCP.listenSocket = -1;
}

extern "C" int
dcm_net_accept(struct dcm_net *n, int timeout, struct dcm_assoc **out,
    char *err, size_t errlen)
{
	T_ASC_Association	*as = NULL;
	OFCondition		 cond;

	*out = NULL;
	cond = ASC_receiveAssociation(n->net, &as, DCM_NET_MAXPDU, NULL, NULL,
	    OFFalse, DUL_NOBLOCK, timeout);
	if (dcm_net_is_child(n))
		dcm_net_child_close(n);
	if (cond == DUL_NOASSOCIATIONREQUEST) {
		if (as != NULL)
			(void)ASC_destroyAssociation(&as);
		return DCM_ACCEPT_TIMEOUT;
	}
	if (cond.code() == DULC_FORKEDCHILD) {
		/* The parent: the child has the connection, and DCMTK has
		 * already let go of it here; only the structure is left. */
		if (as != NULL)
			(void)ASC_destroyAssociation(&as);
		return DCM_ACCEPT_FORKED;
	}
	if (cond.bad()) {
		errcond(err, errlen, cond);
		if (as != NULL) {
			(void)ASC_dropAssociation(as);
			(void)ASC_destroyAssociation(&as);
		}
		return -1;
	}
	if ((*out = (struct dcm_assoc *)calloc(1, sizeof(**out))) == NULL) {
		errfmt(err, errlen, "out of memory");
		(void)ASC_abortAssociation(as);
		(void)ASC_dropAssociation(as);
		(void)ASC_destroyAssociation(&as);
		return -1;
	}
	(*out)->as = as;
	return DCM_ACCEPT_REQUEST;
}

extern "C" void
dcm_net_free(struct dcm_net *n)
{
	if (n == NULL)
		return;
	(void)ASC_dropNetwork(&n->net);
	free(n);
}

extern "C" void
dcm_assoc_get_info(const struct dcm_assoc *a, struct dcm_assoc_info *ai)
{
	char	 calling[65] = "", called[65] = "", responding[65] = "";
	char	 from[128] = "", to[128] = "";
	char	*colon;

	memset(ai, 0, sizeof(*ai));
	(void)ASC_getAPTitles(a->as->params, calling, sizeof(calling), called,
	    sizeof(called), responding, sizeof(responding));
	(void)ASC_getPresentationAddresses(a->as->params, from, sizeof(from),
	    to, sizeof(to));
	/* "host:port" or a bare host. */
	if ((colon = strrchr(from, ':')) != NULL && strchr(from, ':') == colon)
		*colon = '\0';
	dcm_copy_utf8(ai->calling_ae, sizeof(ai->calling_ae), calling,
	    strlen(calling));
	dcm_copy_utf8(ai->called_ae, sizeof(ai->called_ae), called,
	    strlen(called));
	dcm_copy_utf8(ai->peer, sizeof(ai->peer), from, strlen(from));
}

static int
dcm_net_syntax_known(const char *ts)
{
	int	 i;

	for (i = 0; i < DCM_NET_NSYNTAX; i++)
		if (strcmp(dcm_net_syntaxes[i], ts) == 0)
			return 1;
	return 0;
}

/*
 * Accept each proposed presentation context whose SOP class we store, with
 * the first transfer syntax in the SENDER's order that we can read.  A
 * sender lists the syntax its file is in first: taking it spares a
 * transcoding the sender may not be able to do (a JPEG 2000 file offered
 * by a sender without a JPEG 2000 codec) and keeps the bytes as acquired.
 */
extern "C" int
dcm_assoc_accept(struct dcm_assoc *a, const char *our_ae,
    const char *const *sop_classes, char *err, size_t errlen)
{
	T_ASC_PresentationContext	 pc;
	T_ASC_Parameters		*params = a->as->params;
	const char			*ts;
	OFCondition			 cond;
	int				 i, j, k, n, wanted;

	n = ASC_countPresentationContexts(params);
	for (i = 0; i < n; i++) {
		if (ASC_getPresentationContext(params, i, &pc).bad())
			continue;
		wanted = strcmp(pc.abstractSyntax, UID_VerificationSOPClass) == 0;
		for (k = 0; !wanted && sop_classes[k] != NULL; k++)
			wanted = strcmp(pc.abstractSyntax, sop_classes[k]) == 0;
		ts = NULL;
		for (j = 0; wanted && ts == NULL && j < pc.transferSyntaxCount;
		    j++)
			if (dcm_net_syntax_known(pc.proposedTransferSyntaxes[j]))
				ts = pc.proposedTransferSyntaxes[j];
		if (ts != NULL)
			cond = ASC_acceptPresentationContext(params,
			    pc.presentationContextID, ts);
		else
			cond = ASC_refusePresentationContext(params,
			    pc.presentationContextID, wanted ?
			    ASC_P_TRANSFERSYNTAXESNOTSUPPORTED :
			    ASC_P_ABSTRACTSYNTAXNOTSUPPORTED);
		if (cond.bad())
			break;
	}
	if (cond.good())
		cond = ASC_setAPTitles(params, NULL, NULL, our_ae);
	if (cond.good())
		cond = ASC_acknowledgeAssociation(a->as);
	if (cond.bad()) {
		errcond(err, errlen, cond);
		return -1;
	}
	a->accepted = 1;
	return 0;
}

extern "C" void
dcm_assoc_reject(struct dcm_assoc *a, enum dcm_reject why)
{
	T_ASC_RejectParameters	 rej;

	switch (why) {
	case DCM_REJECT_CALLING_AE:
		rej.result = ASC_RESULT_REJECTEDPERMANENT;
		rej.source = ASC_SOURCE_SERVICEUSER;
		rej.reason = ASC_REASON_SU_CALLINGAETITLENOTRECOGNIZED;
		break;
	case DCM_REJECT_CALLED_AE:
		rej.result = ASC_RESULT_REJECTEDPERMANENT;
		rej.source = ASC_SOURCE_SERVICEUSER;
		rej.reason = ASC_REASON_SU_CALLEDAETITLENOTRECOGNIZED;
		break;
	default:
		rej.result = ASC_RESULT_REJECTEDTRANSIENT;
		rej.source = ASC_SOURCE_SERVICEPROVIDER_PRESENTATION_RELATED;
		rej.reason = ASC_REASON_SP_PRES_LOCALLIMITEXCEEDED;
		break;
	}
	(void)ASC_rejectAssociation(a->as, &rej);
}

/* Receive one C-STORE data set into a spool file, ask fn, answer. */
static OFCondition
dcm_serve_store(struct dcm_assoc *a, T_ASC_PresentationContextID pres,
    T_DIMSE_C_StoreRQ *req, const char *spool, int timeout, dcm_store_fn fn,
    void *arg, unsigned *seq)
{
	T_DIMSE_C_StoreRSP		 rsp;
	T_ASC_PresentationContextID	 dpres = 0;
	DcmOutputFileStream		*fs = NULL;
	DcmDataset			*detail = NULL;
	OFCondition			 cond;
	enum dcm_store_status		 st = DCM_STORE_BUSY;
	char				 path[4096], reason[256] = "";
	int				 n;

	n = snprintf(path, sizeof(path), "%s/%ld-%u.dcm", spool,
	    (long)getpid(), (*seq)++);
	if (n < 0 || (size_t)n >= sizeof(path))
		return makeOFCondition(0, 1, OF_error, "spool path too long");
	cond = DIMSE_createFilestream(path, req, a->as, pres, 1, &fs);
	if (cond.good()) {
		cond = DIMSE_receiveDataSetInFile(a->as, DIMSE_NONBLOCKING,
		    timeout, &dpres, fs, NULL, NULL);
		delete fs;	/* closes the file */
		fs = NULL;
		if (cond.bad()) {
			(void)unlink(path);
			return cond;
		}
		st = fn(arg, path, reason, sizeof(reason));
	} else {
		/* Cannot write the spool file: drain the data set so the
		 * association stays usable, and say why. */
		(void)snprintf(reason, sizeof(reason), "spool: %s",
		    cond.text());
		cond = DIMSE_ignoreDataSet(a->as, DIMSE_NONBLOCKING, timeout,
		    NULL, NULL);
		if (cond.bad())
			return cond;
	}
	(void)unlink(path);

	memset(&rsp, 0, sizeof(rsp));
	rsp.MessageIDBeingRespondedTo = req->MessageID;
	OFStandard::strlcpy(rsp.AffectedSOPClassUID, req->AffectedSOPClassUID,
	    sizeof(rsp.AffectedSOPClassUID));
	OFStandard::strlcpy(rsp.AffectedSOPInstanceUID,
	    req->AffectedSOPInstanceUID, sizeof(rsp.AffectedSOPInstanceUID));
	rsp.opts = O_STORE_AFFECTEDSOPCLASSUID | O_STORE_AFFECTEDSOPINSTANCEUID;
	rsp.DataSetType = DIMSE_DATASET_NULL;
	switch (st) {
	case DCM_STORE_OK:
		rsp.DimseStatus = STATUS_STORE_Success;
		break;
	case DCM_STORE_REFUSED:
		rsp.DimseStatus = STATUS_STORE_Error_CannotUnderstand;
		break;
	default:
		rsp.DimseStatus = STATUS_STORE_Refused_OutOfResources;
		break;
	}
	if (st != DCM_STORE_OK && reason[0] != '\0') {
		/* Error Comment is LO: at most 64 characters. */
		reason[64] = '\0';
		detail = new (std::nothrow) DcmDataset;
		if (detail != NULL)
			(void)detail->putAndInsertString(DCM_ErrorComment,
			    reason);
	}
	cond = DIMSE_sendStoreResponse(a->as, pres, req, &rsp, detail);
	delete detail;
	return cond;
}

extern "C" int
dcm_assoc_serve(struct dcm_assoc *a, const char *spool, int timeout,
    dcm_store_fn fn, void *arg, char *err, size_t errlen)
{
	T_DIMSE_Message			 msg;
	T_ASC_PresentationContextID	 pres;
	OFCondition			 cond;
	unsigned			 seq = 0;

	for (;;) {
		cond = DIMSE_receiveCommand(a->as, DIMSE_NONBLOCKING, timeout,
		    &pres, &msg, NULL);
		if (cond == DUL_PEERREQUESTEDRELEASE) {
			(void)ASC_acknowledgeRelease(a->as);
			return 0;
		}
		if (cond == DUL_PEERABORTEDASSOCIATION) {
			errfmt(err, errlen, "aborted by the peer");
			return -1;
		}
		if (cond == DIMSE_NODATAAVAILABLE) {
			errfmt(err, errlen, "no message for %d s", timeout);
			(void)ASC_abortAssociation(a->as);
			return -1;
		}
		if (cond.bad()) {
			errcond(err, errlen, cond);
			(void)ASC_abortAssociation(a->as);
			return -1;
		}
		switch (msg.CommandField) {
		case DIMSE_C_ECHO_RQ:
			cond = DIMSE_sendEchoResponse(a->as, pres,
			    &msg.msg.CEchoRQ, STATUS_Success, NULL);
			break;
		case DIMSE_C_STORE_RQ:
			cond = dcm_serve_store(a, pres, &msg.msg.CStoreRQ,
			    spool, timeout, fn, arg, &seq);
			break;
		default:
			errfmt(err, errlen, "unsupported DIMSE command"
			    " 0x%04x", (unsigned)msg.CommandField);
			(void)ASC_abortAssociation(a->as);
			return -1;
		}
		if (cond.bad()) {
			errcond(err, errlen, cond);
			(void)ASC_abortAssociation(a->as);
			return -1;
		}
	}
}

extern "C" void
dcm_assoc_free(struct dcm_assoc *a)
{
	if (a == NULL)
		return;
	(void)ASC_dropSCPAssociation(a->as);
	(void)ASC_destroyAssociation(&a->as);
	free(a);
}
