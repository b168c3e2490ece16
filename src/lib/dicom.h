/*
 * dicom.h - safe reading of DICOM files: header attributes and pixels.
 *
 * Files come from PACS and from web uploads, so every input is treated as
 * hostile.  Before DCMTK sees a file, an iterative pre-scan walks its
 * element structure and refuses anything that is structurally impossible
 * (a length past the end of the data, an item outside a sequence), that
 * nests sequences deeper than the limit, or that is larger than the limit.
 * Deflated datasets are inflated here and then scanned like any other; a
 * dataset that would inflate past max_inflated, or past inflate_ratio
 * times its compressed size once beyond DCM_INFLATE_FREE, is refused
 * after a first pass that only counts (a deflate bomb costs no memory).  Refusals come back as one English sentence in
 * the caller's err buffer; nothing is logged here (the caller logs once,
 * where it handles the error).
 *
 * Every call is self-contained: it reads the whole file, answers and
 * frees everything.  The functions may be called from several threads.
 * The library's own messages (DCMTK, OpenJPEG) are silenced.
 */
#ifndef ZY_DICOM_H
#define ZY_DICOM_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Limits on one file.  A zero field takes its default. */
struct dcm_limits {
	size_t	 max_file;	/* bytes: 1 GiB */
	int	 max_depth;	/* sequence nesting: 16 */
	size_t	 max_pixels;	/* rows * columns of one frame: 1 << 28 */
	size_t	 max_inflated;	/* bytes of an inflated dataset: 512 MiB */
	unsigned inflate_ratio;	/* inflated / deflated bytes: 200 */
};

/* A deflated dataset may inflate to this many bytes whatever its ratio
 * (small files of mostly empty pixels compress very well). */
#define DCM_INFLATE_FREE	((size_t)8 << 20)
#define DCM_DEF_MAX_INFLATED	((size_t)512 << 20)
#define DCM_DEF_INFLATE_RATIO	200

#define DCM_SPACING_NONE	0
#define DCM_SPACING_PIXEL	1	/* from Pixel Spacing (0028,0030) */
#define DCM_SPACING_IMAGER	2	/* from Imager Pixel Spacing (0018,1164) */

/*
 * The attributes the study index, the series loader and the AI matcher
 * need.  Strings are UTF-8 (converted from Specific Character Set),
 * NUL-terminated, trimmed of padding, cut at a character boundary when
 * longer than the field, and "" when absent.  Multi-valued strings keep
 * DICOM's backslash.  Person names keep their ^ and = separators.
 * Doubles are NAN when absent or unreadable; integers 0.
 */
struct dcm_info {
	char	 sop_class_uid[65], sop_instance_uid[65];
	char	 study_uid[65], series_uid[65], frame_of_reference_uid[65];
	char	 transfer_syntax[65];	/* "" when the file has no meta header */
	char	 patient_id[129], patient_name[325], patient_sex[17];
	char	 patient_birth_date[9], patient_age[17];
	char	 accession[65], study_date[9], study_time[17];
	char	 study_description[257], series_description[257];
	char	 modality[17], body_part[65], manufacturer[129], model[129];
	char	 kernel[129], institution[257], image_type[129];
	char	 photometric[17];
	char	 view_position[17];	/* radiographs: PA, AP, LL, ... */
	char	 patient_position[17];	/* Patient Position (0018,5100):
					 * "HFS", "FFP", "HFDL", ... or "" */
	char	 laterality[17];	/* Image Laterality, else Laterality:
					 * "L", "R", "B", "U" or "" */
	char	 contrast_agent[129];	/* Contrast/Bolus Agent; "" if none */
	char	 charset[65];		/* Specific Character Set as found */
	int	 series_number, instance_number;
	int	 rows, cols, frames;	/* frames is 1 when absent */
	int	 bits_allocated, bits_stored, high_bit, pixel_representation;
	int	 samples_per_pixel, planar_configuration;
	double	 slice_thickness, spacing_between_slices, kvp, gantry_tilt;
	double	 slice_location;
	double	 patient_size;		/* (0010,1020), metres; NAN if absent */
	double	 pixel_spacing[2];	/* row spacing, column spacing (mm) */
	int	 pixel_spacing_source;	/* DCM_SPACING_*; zero values ignored */
	double	 ipp[3], iop[6];
	int	 has_ipp, has_iop;
	double	 rescale_slope, rescale_intercept;	/* 1 and 0 if absent */
	int	 has_modality_lut;	/* Modality LUT Sequence replaces them */
	double	 window_center, window_width;	/* first values */
	int	 voi_luts;		/* items of the VOI LUT Sequence
					 * (0028,3010); dcm_read_voi_lut() */
	char	 voi_function[17];	/* VOI LUT Function (0028,1056):
					 * "LINEAR", "LINEAR_EXACT",
					 * "SIGMOID"; "" when absent */
	int	 has_padding;
	double	 pixel_padding;		/* Pixel Padding Value, raw stored value */
	int	 has_pixels;		/* Pixel Data (7FE0,0010) is present */
	int	 compressed;		/* pixel data is encapsulated */
	unsigned long long pixel_bytes;	/* native: length of Pixel Data */
	int	 fragments;		/* encapsulated: fragments, offset
					 * table excluded */
	unsigned long long file_size;	/* bytes of the file as read */
	unsigned long long pixel_offset; /* native little-endian Pixel
					 * Data of pixel_bytes: where its
					 * value starts in the file; 0 if
					 * not such (see dcm_native16()) */
};

/*
 * Read the header attributes of the file at path (or of len bytes at buf)
 * into *info.  limits may be NULL for the defaults.  Returns 0, or -1 with
 * an English reason in err (errlen bytes, always NUL-terminated; err may
 * be NULL).  Nothing is allocated for the caller.
 */
int	 dcm_read_info(const char *path, const struct dcm_limits *,
	    struct dcm_info *info, char *err, size_t errlen);
int	 dcm_read_info_mem(const void *buf, size_t len,
	    const struct dcm_limits *, struct dcm_info *info, char *err,
	    size_t errlen);

/*
 * Decode frame number frame (0-based) as modality values: a float array
 * of rows * cols, row-major, which the caller frees with free().  Stored
 * values are masked to Bits Stored and sign-extended from High Bit, then
 * mapped through the Modality LUT Sequence if there is one (its first
 * item; a stored value below the first one mapped takes the first
 * entry, above the last the last, PS3.3 C.11.1.1.1), otherwise through
 * Rescale Slope and Intercept (CT: Hounsfield units); a Modality LUT
 * whose descriptor disagrees with its data is refused.  MONOCHROME1
 * is not inverted and Pixel Padding Value is not applied: both are only
 * reported in info.  Colour images (RGB, YBR_FULL and the YBR forms JPEG
 * and JPEG 2000 decoders convert to RGB) come back as luminance,
 * 0.299 R + 0.587 G + 0.114 B, without modality mapping; PALETTE COLOR
 * and uncompressed YBR 4:2:2 are refused.  JPEG 2000 is decoded with
 * OpenJPEG, the other compressed syntaxes (JPEG, JPEG-LS, RLE) with DCMTK.
 * If info is not NULL it is filled as by dcm_read_info().  Returns 0, or
 * -1 with a reason in err and *out set to NULL.
 */
int	 dcm_read_frame(const char *path, const struct dcm_limits *,
	    int frame, float **out, struct dcm_info *info, char *err,
	    size_t errlen);
int	 dcm_read_frame_mem(const void *buf, size_t len,
	    const struct dcm_limits *, int frame, float **out,
	    struct dcm_info *info, char *err, size_t errlen);

/*
 * A LUT of the grayscale pipeline (PS3.3 C.11.1.1.1, C.11.2.1.1): n
 * entries (n > 0), the first mapping stored (or modality) value first;
 * each entry an unsigned value of bits bits (8..16), as a float.
 */
struct dcm_lut_table {
	long	 first;
	size_t	 n;
	int	 bits;
	float	*v;		/* n entries; dcm_lut_table_free() */
};

/*
 * Read VOI LUT number item (0-based; 0 is the default one a viewer
 * shows) of the VOI LUT Sequence (0028,3010) of the file at path (or of
 * len bytes at buf) into *out: LUT Descriptor number of entries (0 means
 * 65536), first mapped value (signed when Pixel Representation is 1),
 * bits per entry, and the LUT Data.  A sequence without that item, a
 * descriptor that disagrees with the length of the data, an empty LUT
 * Data, or entries outside 8..16 bits are refused.  Returns 0 (free
 * *out with dcm_lut_table_free()), or -1 with an English reason in err
 * and *out empty.
 */
int	 dcm_read_voi_lut(const char *path, const struct dcm_limits *,
	    int item, struct dcm_lut_table *out, char *err, size_t errlen);
int	 dcm_read_voi_lut_mem(const void *buf, size_t len,
	    const struct dcm_limits *, int item, struct dcm_lut_table *out,
	    char *err, size_t errlen);

/* Free the entries of t and empty it (t may be NULL). */
void	 dcm_lut_table_free(struct dcm_lut_table *t);

/*
 * Decode every frame of the file at path, in order, into dst, which has
 * room for exactly frames * rows * cols values (dstlen), as
 * dcm_read_frame() would decode them one by one, but reading and parsing
 * the file once.  info as for dcm_read_frame().  Returns 0, or -1 with a
 * reason in err (dst may then hold some frames).
 */
int	 dcm_read_frames(const char *path, const struct dcm_limits *,
	    float *dst, size_t dstlen, struct dcm_info *info, char *err,
	    size_t errlen);

/*
 * The fast way to the pixels of the commonest CT image: one frame of
 * uncompressed little-endian 16-bit grey samples (MONOCHROME1 or 2, Bits
 * Stored and High Bit consistent, no Modality LUT) lying at
 * info->pixel_offset, Rows x Columns x 2 bytes, within the file of
 * info->file_size bytes that dcm_read_info() read.  For such a file,
 * fills tab (65536 floats) with the modality value of every stored
 * sample, indexed by the sample's little-endian value: tab[b[0] | b[1] <<
 * 8] is exactly what dcm_read_frame() gives for the pixel of bytes b.
 * Returns 0, or -1 for any other file (decode it with dcm_read_frame()).
 * With tab NULL, only says whether the file is such a one.  The caller reads the bytes itself and checks that the file still has
 * file_size bytes.
 */
int	 dcm_native16(const struct dcm_info *, const struct dcm_limits *,
	    float *tab);

/*
 * Whether the pixel data of a file read by dcm_read_info() holds what its
 * header declares: Rows x Columns within max_pixels, 1 or 3 samples of 8,
 * 16 or 32 bits, and for native data Rows x Columns x Samples per Pixel x
 * Bits Allocated / 8 x Number of Frames bytes at least; encapsulated data
 * at least one fragment per frame.  Returns 0, or -1 with an English
 * reason in err.  limits may be NULL for the defaults.
 */
int	 dcm_check_pixels(const struct dcm_info *, const struct dcm_limits *,
	    char *err, size_t errlen);

/*
 * What the reads of the calling thread have cost so far: pre-scans of a
 * file's bytes (one per read), and copies of them staged into a memory
 * file for DCMTK (none for a header read whose Pixel Data ends the file:
 * DCMTK parses that from the bytes read, or the walk answers alone).
 * For tests and benchmarks.
 */
struct dcm_counts {
	unsigned long	 prescans;
	unsigned long	 staged;
	unsigned long	 walked;	/* header reads answered by the
					 * bounded walk alone, no DCMTK
					 * parse (see dcm_head_way()) */
	unsigned long	 sparse;	/* header reads of a file that
					 * left its pixels unread */
};
void	 dcm_counts_get(struct dcm_counts *);

/*
 * How a header read (dcm_read_info_mem, or dcm_read_info of a file)
 * would take these bytes, for tests: DCM_HEAD_DIRECT, the bounded walk
 * of dicom.cc proves every length: the header is read from the walk's
 * values alone where each is in a form DCMTK is known to read the same
 * way (dcm_counts.walked), else DCMTK parses the bytes from the buffer;
 * DCM_HEAD_UNBOUNDED, the layout suits (the top level's
 * native Pixel Data ends the data) but the walk could not prove a length
 * or how DCMTK reads it, so a memory file is staged; DCM_HEAD_STAGED, the
 * layout does not suit (a memory file); DCM_HEAD_REFUSED, the pre-scan
 * refuses the bytes.  why (may be NULL) gets the reason of any but the
 * first.
 */
enum {
	DCM_HEAD_REFUSED = -1,
	DCM_HEAD_STAGED = 0,
	DCM_HEAD_UNBOUNDED = 1,
	DCM_HEAD_DIRECT = 2
};
int	 dcm_head_way(const void *, size_t, const struct dcm_limits *,
	    char *why, size_t whylen);

/* A short English name of a transfer syntax UID ("JPEG 2000 lossless"),
 * or "unknown" (static strings; never NULL). */
const char	*dcm_ts_name(const char *ts_uid);

/*
 * The DICOM network: a C-STORE service class provider (zhiying-scp).
 *
 * A listening network accepts TCP connections; with fork_each set, every
 * connection is served by a child process of its own (DCMTK forks it), so
 * several senders are received at once and a crash ends one association
 * only.  Nagle's algorithm is switched off on every connection.
 */
struct dcm_net;
struct dcm_assoc;

struct dcm_assoc_info {
	char	 calling_ae[17];
	char	 called_ae[17];
	char	 peer[64];	/* the sender's address */
};

/* Why an association request is refused (PS3.8 9.3.4). */
enum dcm_reject {
	DCM_REJECT_CALLING_AE,	/* permanent: calling AE title not recognised */
	DCM_REJECT_CALLED_AE,	/* permanent: called AE title not recognised */
	DCM_REJECT_BUSY,	/* transient: local limit exceeded */
	DCM_REJECT__MAX
};

/* The answer to one C-STORE request. */
enum dcm_store_status {
	DCM_STORE_OK,		/* 0000: stored */
	DCM_STORE_REFUSED,	/* C000: cannot understand: do not resend */
	DCM_STORE_BUSY,		/* A700: out of resources: resend later */
	DCM_STORE__MAX
};

/* Called for each received object, written to path (with a meta header).
 * The callback may keep or remove the file; reason (size bytes) is sent
 * back as the Error Comment when the status is not DCM_STORE_OK. */
typedef enum dcm_store_status (*dcm_store_fn)(void *arg, const char *path,
	    char *reason, size_t size);

#define DCM_ACCEPT_TIMEOUT	0	/* nothing arrived in time */
#define DCM_ACCEPT_REQUEST	1	/* *out is an association request */
#define DCM_ACCEPT_FORKED	2	/* a child process took a connection */

/* Listen on TCP port of the IPv4 address addr ("0.0.0.0": every one).
 * Every read or write of a connection gives up after timeout seconds
 * without progress.  Returns NULL with err on failure. */
struct dcm_net	*dcm_net_listen(const char *addr, int port, int fork_each,
		    int timeout, char *err, size_t errlen);

/* Wait up to timeout seconds for an association request.  Returns one of
 * DCM_ACCEPT_*, or -1 with err.  With fork_each, DCM_ACCEPT_REQUEST comes
 * back in the child process, DCM_ACCEPT_FORKED in the parent; but the
 * child of a connection whose request could not be read (garbage, a
 * closed or a stalled connection) gets -1 or DCM_ACCEPT_TIMEOUT too:
 * dcm_net_is_child() tells it apart, and such a child must exit. */
int		 dcm_net_accept(struct dcm_net *, int timeout,
		    struct dcm_assoc **out, char *err, size_t errlen);

/* Whether this is a child forked for a connection (which has already
 * closed its copy of the listening socket). */
int		 dcm_net_is_child(const struct dcm_net *);

void		 dcm_net_free(struct dcm_net *);

/* Who asks: AE titles and address of the request. */
void		 dcm_assoc_get_info(const struct dcm_assoc *,
		    struct dcm_assoc_info *);

/* Accept the request: the storage SOP classes given (NULL-terminated)
 * with the common transfer syntaxes, and Verification (C-ECHO).  our_ae
 * answers as the responding AE title.  Returns 0, or -1 with err. */
int		 dcm_assoc_accept(struct dcm_assoc *, const char *our_ae,
		    const char *const *sop_classes, char *err, size_t errlen);

/* Refuse the request. */
void		 dcm_assoc_reject(struct dcm_assoc *, enum dcm_reject);

/* Serve C-ECHO and C-STORE until the peer releases (returns 0) or aborts,
 * times out (timeout seconds without a message) or errs (-1 with err).
 * Each object is written to a new file in spool_dir and given to fn. */
int		 dcm_assoc_serve(struct dcm_assoc *, const char *spool_dir,
		    int timeout, dcm_store_fn fn, void *arg, char *err,
		    size_t errlen);

/* Release the association's resources (and close its connection). */
void		 dcm_assoc_free(struct dcm_assoc *);

#ifdef __cplusplus
}
#endif

#endif /* ZY_DICOM_H */
