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
 * *cancel (may be NULL) is set by another thread.
 */
int	 loader_series(PGconn *, struct store *, long long series_id,
	    volatile int *cancel, struct series_volume **out, char *err,
	    size_t errlen);

#endif /* ZY_LOADER_H */
