/*
 * masks.h - the regions an AI reader found, as a label volume: one byte
 * per voxel of the series' own grid (x fastest, the loader's index space,
 * series.h), 0 for nothing, 1..255 a region named by a legend.
 *
 * Stored (sql/034, ai_result_masks) deflated by zlib (RFC 1950/1951): a
 * chest CT's labels are long runs of the same byte, which deflate's
 * run-length and Huffman codes take to some 1-2 % of the raw size (the
 * README gives the figures on LIDC-IDRI-0002).
 *
 * The legend is a JSON array, one object per label used:
 *	{"label": 1, "name": "右肺上叶", "kind": "lobe", "colour": "#4e9a06"}
 * kind says how the viewer draws it (masks_kind_names[]): a lobe, a rib
 * or a vertebra as a translucent shell that tints the CT inside it; a
 * nodule, a lesion or a fracture as an opaque coloured surface.  Stored
 * entries also carry "at": [x, y, z], the centre of the label's voxels
 * in the volume's index space (masks_legend_centres()), where the viewer
 * writes the name over the 三维 picture.
 */
#ifndef ZY_MASKS_H
#define ZY_MASKS_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

enum masks_kind {
	MASKS_LOBE,		/* 肺叶 */
	MASKS_NODULE,		/* 结节 */
	MASKS_GGO,		/* 磨玻璃影 */
	MASKS_CONSOLIDATION,	/* 实变 */
	MASKS_RIB,		/* 肋骨 */
	MASKS_FRACTURE,		/* 骨折 */
	MASKS_VERTEBRA,		/* 椎体 */
	MASKS_KIND__MAX
};

/* "lobe", "nodule", "ggo", "consolidation", "rib", "fracture",
 * "vertebra". */
extern const char *const masks_kind_names[MASKS_KIND__MAX];

/* The kind named name, or -1. */
int	 masks_kind_parse(const char *name);

/* Whether a kind is drawn as a shell tinting the CT (lobe, rib,
 * vertebra) rather than as an opaque region. */
int	 masks_kind_shell(enum masks_kind);

/*
 * The colour of the i-th label (0..) of a kind, as "#rrggbb" into out (8
 * bytes) and, when rgb is not NULL, its three components: the lobes in
 * five distinct colours, nodules and fractures in strong reds, oranges
 * and magentas, ground glass yellow, consolidation red, ribs and
 * vertebrae in alternating light hues.
 */
void	 masks_colour(enum masks_kind, int i, char out[8], unsigned char *rgb);

/* "#rrggbb" into rgb; 0, or -1 when it is not one. */
int	 masks_colour_parse(const char *s, unsigned char rgb[3]);

struct json_t;

/*
 * Append label's entry to the legend array: its name, kind and the
 * colour of the i-th label of that kind (masks_colour()).  Returns 0, or
 * -1 when out of memory.
 */
int	 masks_legend_add(struct json_t *legend, int label, const char *name,
	    enum masks_kind, int i);

/*
 * Add to each entry of legend whose label has voxels in lab (nx * ny *
 * nz, x fastest) "at": the mean of their indices, [x, y, z] to 0.1
 * voxel.  Returns 0, or -1 when out of memory (legend then partly done).
 */
int	 masks_legend_centres(struct json_t *legend, const uint8_t *lab,
	    int nx, int ny, int nz);

/*
 * Deflate n labels, appended to out.  Returns 0, or -1 (memory, the
 * buffer's cap); out is unchanged then.
 */
int	 masks_encode(const uint8_t *lab, size_t n, struct buf *out);

/*
 * Inflate len bytes of masks_encode() into exactly n labels at out.
 * Returns 0, or -1 with an English reason in err (not zlib data, a size
 * other than n, memory).
 */
int	 masks_decode(const unsigned char *z, size_t len, uint8_t *out,
	    size_t n, char *err, size_t errlen);

#endif /* ZY_MASKS_H */
