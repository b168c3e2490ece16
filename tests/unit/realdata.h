/*
 * realdata.h - the real series of ../shared/data for the unit tests of
 * the readers: where the data is, and a folder of .dcm files loaded as
 * one series.  A test that finds no data skips, saying so.
 */
#ifndef ZY_REALDATA_H
#define ZY_REALDATA_H

#include <stddef.h>

#include "series.h"

/* The shared data folder: $ZY_DATA, or ../shared/data beside the tree. */
const char	*realdata_dir(void);

/* The first folder at or under dir that holds .dcm files into out (sz
 * bytes).  Returns 0, or -1 when there is none. */
int		 realdata_find_dcm_dir(const char *dir, char *out, size_t sz);

/*
 * Load the .dcm files of dir (sorted by name) as one series into *v; the
 * path of a .xml file beside them (an LIDC reading file) into xml when
 * xml is not NULL ("" when none).  Returns 0, or -1 when dir cannot be
 * read or holds no .dcm file; a series that does not load fails the
 * test.
 */
int		 realdata_load(const char *dir, struct series_volume **v,
		    char *xml, size_t xsz);

#endif /* ZY_REALDATA_H */
