/*
 * realdata.c - the real series of ../shared/data for the unit tests of
 * the readers (realdata.h).
 */
#include "config.h"

#include <sys/stat.h>

#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "realdata.h"

const char *
realdata_dir(void)
{
	const char	*d = getenv("ZY_DATA");

	return d != NULL && *d ? d : ZY_TOP_SRCDIR "/../shared/data";
}

int
realdata_find_dcm_dir(const char *dir, char *out, size_t sz)
{
	DIR		*d;
	struct dirent	*e;
	char		 p[1024];
	struct stat	 s;
	int		 found = 0;

	if ((d = opendir(dir)) == NULL)
		return -1;
	while ((e = readdir(d)) != NULL)
		if (strstr(e->d_name, ".dcm") != NULL) {
			found = 1;
			break;
		}
	if (found) {
		closedir(d);
		(void)snprintf(out, sz, "%s", dir);
		return 0;
	}
	rewinddir(d);
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		(void)snprintf(p, sizeof(p), "%s/%s", dir, e->d_name);
		if (stat(p, &s) == 0 && S_ISDIR(s.st_mode) &&
		    realdata_find_dcm_dir(p, out, sz) == 0) {
			closedir(d);
			return 0;
		}
	}
	closedir(d);
	return -1;
}

static int
path_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int
realdata_load(const char *dir, struct series_volume **v, char *xml,
    size_t xsz)
{
	char		**paths = NULL, path[2400], err[512];
	size_t		 n = 0, cap = 0, i;
	DIR		*d;
	struct dirent	*e;

	if (xml != NULL && xsz > 0)
		*xml = '\0';
	if ((d = opendir(dir)) == NULL)
		return -1;
	while ((e = readdir(d)) != NULL) {
		if (xml != NULL && strstr(e->d_name, ".xml") != NULL)
			(void)snprintf(xml, xsz, "%s/%s", dir, e->d_name);
		if (strstr(e->d_name, ".dcm") == NULL)
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 256;
			assert_non_null(paths = realloc(paths,
			    cap * sizeof(*paths)));
		}
		(void)snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		assert_non_null(paths[n++] = strdup(path));
	}
	closedir(d);
	if (n == 0) {
		free(paths);
		return -1;
	}
	qsort(paths, n, sizeof(*paths), path_cmp);
	if (series_load((const char *const *)paths, n, NULL, v, err,
	    sizeof(err)) == -1)
		fail_msg("%s: %s", dir, err);
	for (i = 0; i < n; i++)
		free(paths[i]);
	free(paths);
	return 0;
}
