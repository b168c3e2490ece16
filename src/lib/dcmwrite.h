/*
 * dcmwrite.h - write a volume as a DICOM CT Image Storage series.
 *
 * The synthetic phantoms (zhiying-phantom) and tests need real DICOM
 * files that go through the same ingest, series loader and AI readers as
 * a scanner's.  This writer needs no toolkit: each slice becomes one
 * Part 10 file (128-byte preamble, "DICM", File Meta group), Explicit VR
 * Little Endian, CT Image Storage, signed 16-bit pixels with Rescale
 * Slope 1 and Intercept 0, so that stored values are Hounsfield units.
 * Text is written as UTF-8 (Specific Character Set ISO_IR 192), so a
 * patient name may be Chinese.
 */
#ifndef ZY_DCMWRITE_H
#define ZY_DCMWRITE_H

#include <stddef.h>
#include <stdint.h>

#include "series.h"

#define DCMWRITE_CT_CLASS	"1.2.840.10008.5.1.4.1.1.2"
/* Digital X-Ray Image Storage, for presentation. */
#define DCMWRITE_DX_CLASS	"1.2.840.10008.5.1.4.1.1.1.1"
#define DCMWRITE_EXPLICIT_LE	"1.2.840.10008.1.2.1"
#define DCMWRITE_UID_MAX	64

/*
 * A Modality or VOI LUT of a film, written as given (PS3.3 C.11.1.1.1,
 * C.11.2.1.1): the LUT Descriptor (entries, 0 meaning 65536; the first
 * stored value mapped, as 16 bits, signed for signed pixels; bits per
 * entry) and count words of LUT Data (OW).  Nothing is checked, so that
 * tests can write a descriptor that disagrees with its data.
 */
struct dcmwrite_lut {
	unsigned	 entries;	/* descriptor's first value */
	long		 first;		/* its second */
	unsigned	 bits;		/* its third */
	const uint16_t	*data;		/* count words */
	size_t		 count;
};

/*
 * What goes into the files besides the volume.  Strings are UTF-8;
 * NULL or "" takes the default given.  A zero number takes its default.
 * The UIDs, when given, must be valid (digits and dots, at most 64
 * characters, no empty component, no leading zero in a component).
 */
struct dcmwrite_opts {
	const char	*patient_name;	/* PN: "PHANTOM^ZHIYING" */
	const char	*patient_id;	/* LO: "ZY-PHANTOM" */
	const char	*patient_sex;	/* CS, "M", "F" or "O": "O" */
	const char	*patient_birth_date;	/* DA, YYYYMMDD: empty */
	const char	*accession;	/* SH: empty */
	const char	*study_date;	/* DA, YYYYMMDD: today */
	const char	*study_time;	/* TM, HHMMSS: now */
	const char	*study_description;	/* LO: "Phantom CT" */
	const char	*series_description;	/* LO: "Phantom chest" */
	const char	*body_part;	/* CS: "CHEST" */
	const char	*kernel;	/* SH: "STANDARD" */
	const char	*view_position;	/* CS, a film's PA, AP...: none */
	const char	*laterality;	/* CS, Image Laterality "L", "R": none */
	const char	*study_uid;	/* generated when empty */
	const char	*series_uid;	/* generated when empty */
	const char	*frame_uid;	/* Frame of Reference: generated */
	int		 series_number;	/* 1 */
	double		 kvp;		/* the volume's kvp; else 120 */
	double		 patient_size;	/* DS, metres: none when 0 */
	double		 slice_thickness;	/* the volume's; else dz */
	double		 window_center;	/* both zero: the volume's */
	double		 window_width;	/* window, else 40 and 400 */
	/* A film (DX) only: */
	int		 pixel_unsigned;	/* Pixel Representation 0,
					 * values clamped to 0..65535 */
	int		 no_window;	/* write no Window Center/Width */
	const char	*voi_function;	/* VOI LUT Function; NULL: none */
	const struct dcmwrite_lut *modality_lut;	/* replaces the
					 * Rescale Slope and Intercept */
	const struct dcmwrite_lut *voi_luts;	/* nvoi_luts items of the */
	size_t		 nvoi_luts;	/* VOI LUT Sequence */
};

/*
 * A volume whose modality is "DX" (one slice: a radiograph) is written
 * as one Digital X-Ray Image Storage file instead, its values as stored
 * (no Hounsfield units), with the view position given, MONOCHROME1 when
 * the volume's photometric says so (else MONOCHROME2).
 *
 * Write the volume v into the folder dir as nz files IM000001.dcm,
 * IM000002.dcm, ... in volume order, Instance Number 1..nz, slice k at
 * Image Position Patient origin + k * step (normal * dz when step is
 * zero), Image Orientation Patient row\col and Pixel Spacing dy\dx.
 * Voxels are rounded to the nearest integer and clamped to -32768..32767;
 * NaN becomes -1024 (air).  Every file gets a new SOP Instance UID.
 *
 * dir is created (mode 0755) if it does not exist; its parent must.
 * Each file is written under a temporary name, synced and renamed into
 * place, so a reader never sees half a file; files of the same name are
 * replaced.  opts may be NULL for the defaults.
 *
 * Returns 0, or -1 with an English reason in err (errlen bytes, always
 * NUL-terminated; err may be NULL); the files this call wrote before it
 * failed are removed then.  Nothing is logged.
 */
int	 dcmwrite_series(const struct series_volume *v,
	    const struct dcmwrite_opts *opts, const char *dir, char *err,
	    size_t errlen);

/*
 * Make a new UID, "2.25." and the decimal of 128 random bits (PS3.5
 * B.2), into buf of size bytes (at least DCMWRITE_UID_MAX + 1).
 * Returns 0, or -1 when buf is too small or no random bytes came.
 */
int	 dcmwrite_uid(char *buf, size_t size);

/* Whether s is a valid UID: 1 or 0. */
int	 dcmwrite_uid_valid(const char *s);

#endif /* ZY_DCMWRITE_H */
