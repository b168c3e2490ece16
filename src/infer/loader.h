/*
 * loader.h - load the series of a job from the image store.
 */
#ifndef ZY_LOADER_H
#define ZY_LOADER_H

#include <stddef.h>

#include <libpq-fe.h>

#include "series.h"
#include "store.h"

/*
 * Load series series_id: its instances' files (instances.storage_key in
 * the store, by Instance Number then row) through series_load().
 * Returns 0 with a new volume in *out (series_free() it), or -1 with an
 * English reason in err: no instances, a file missing from the store, a
 * file that cannot be read, database trouble, or "cancelled" once
 * *cancel (may be NULL) is set by another thread.  spare (may be NULL):
 * the voxel memory of a volume freed before (series_recycle()), used
 * again when it fits (struct series_spare).
 */
int	 loader_series(PGconn *, struct store *, long long series_id,
	    volatile int *cancel, struct series_spare *spare,
	    struct series_volume **out, char *err, size_t errlen);

struct film;

/* Whether a loaded volume is a film: one CR, DX or SC image (a DX or
 * CR series, or a Secondary Capture of a film). */
int	 loader_is_film(const struct series_volume *);

/*
 * The film of series series_id (one image, loaded already as a volume):
 * its file read again as the 2-D image a viewer shows (film.h), with the
 * 检查部位 of the live applications of its study as evidence of the
 * part and view where the tags are silent.  Returns 0 with *out
 * (film_free() it), or -1 with an English reason in err.
 */
int	 loader_film(PGconn *, struct store *, long long series_id,
	    struct film **out, char *err, size_t errlen);

#endif /* ZY_LOADER_H */
