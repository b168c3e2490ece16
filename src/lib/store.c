/*
 * store.c - the folder-tree image store.
 *
 * An object is written to a temporary file in the store's .tmp folder,
 * named after the writing process (<pid>-XXXXXX), flushed to disk, then
 * renamed over its name: rename(2) is atomic, so a crash leaves either the
 * old object, the new one, or a temporary file that no key ever points
 * at, in one place, where store_sweep() finds the files of dead writers.
 */
#include "config.h"

#include <sys/stat.h>
#include <sys/types.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "store.h"

#define TMP_DIR		".tmp"	/* under the root: partial writes */

struct dirstore {
	char	 root[PATH_MAX];
	/* The folder of the last object written, known to exist, and a
	 * descriptor of it for fsync(2): a series' images share one, so
	 * it is made (and opened) once, not once per image. */
	char	 made[PATH_MAX];
	int	 madefd;
};

int
store_sweep_files(const char *dir, const char *prefix, long pid)
{
	DIR		*d;
	struct dirent	*e;
	char		 path[PATH_MAX], *end;
	size_t		 plen = strlen(prefix);
	long		 owner;
	int		 n = 0;

	if ((d = opendir(dir)) == NULL) {
		if (errno == ENOENT)
			return 0;
		log_error("%s: %s: %s", __func__, dir, strerror(errno));
		return -1;
	}
	while ((e = readdir(d)) != NULL) {
		if (strncmp(e->d_name, prefix, plen) != 0)
			continue;
		errno = 0;
		owner = strtol(e->d_name + plen, &end, 10);
		if (errno != 0 || end == e->d_name + plen || *end != '-' ||
		    owner <= 0)
			continue;
		/* pid 0: the files of processes gone, whose pid may not be
		 * reused yet, and our own (we have not begun one). */
		if (pid > 0 ? owner != pid : owner != (long)getpid() &&
		    (kill((pid_t)owner, 0) == 0 || errno != ESRCH))
			continue;
		if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir,
		    e->d_name) >= sizeof(path))
			continue;
		if (unlink(path) == -1 && errno != ENOENT)
			log_error("%s: %s: %s", __func__, path,
			    strerror(errno));
		else {
			log_info("%s: removed %s, left by process %ld",
			    __func__, path, owner);
			n++;
		}
	}
	(void)closedir(d);
	return n;
}

int
store_uid_valid(const char *s)
{
	size_t	 n = 0;
	int	 comp = 0;

	/* Components of digits separated by dots; no leading zero in a
	 * component of more than one digit; at most 64 characters. */
	for (; s[n] != '\0'; n++) {
		if (n >= 64)
			return 0;
		if (s[n] == '.') {
			if (comp == 0)
				return 0;
			comp = 0;
		} else if (s[n] >= '0' && s[n] <= '9') {
			if (comp == 1 && s[n - 1] == '0')
				return 0;
			comp++;
		} else
			return 0;
	}
	return n > 0 && comp > 0;
}

int
store_key_instance(char *buf, size_t size, long long inst, const char *study,
    const char *series, const char *sop)
{
	int	 n;

	if (inst <= 0 || !store_uid_valid(study) || !store_uid_valid(series) ||
	    !store_uid_valid(sop))
		return -1;
	n = snprintf(buf, size, "%lld/%s/%s/%s.dcm", inst, study, series, sop);
	return n < 0 || (size_t)n >= size ? -1 : 0;
}

/* Keys come from store_key_instance(), but check again: a key must never
 * climb out of the root. */
static int
key_safe(const char *key)
{
	const char	*p;

	if (*key == '\0' || *key == '/' || strstr(key, "..") != NULL)
		return 0;
	for (p = key; *p != '\0'; p++)
		if (!((*p >= '0' && *p <= '9') || *p == '.' || *p == '/' ||
		    (*p >= 'a' && *p <= 'z')))
			return 0;
	return 1;
}

static int
mkdirs(char *path)
{
	char	*p;

	for (p = path + 1; *p != '\0'; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(path, 0750) == -1 && errno != EEXIST) {
			*p = '/';
			return -1;
		}
		*p = '/';
	}
	if (mkdir(path, 0750) == -1 && errno != EEXIST)
		return -1;
	return 0;
}

static int
dir_path(struct store *s, const char *key, char *buf, size_t size)
{
	struct dirstore	*d = s->priv;
	int		 n;

	if (!key_safe(key)) {
		log_error("%s: refusing key '%s'", __func__, key);
		return -1;
	}
	n = snprintf(buf, size, "%s/%s", d->root, key);
	return n < 0 || (size_t)n >= size ? -1 : 0;
}

/*
 * The folder of dst (a path under the root) made and open: a descriptor
 * of it (owned by the store), or -1 (logged).
 */
static int
dir_folder(struct store *s, const char *dst)
{
	struct dirstore	*d = s->priv;
	char		 folder[PATH_MAX], *slash;

	(void)snprintf(folder, sizeof(folder), "%s", dst);
	if ((slash = strrchr(folder, '/')) != NULL)
		*slash = '\0';
	if (d->madefd != -1 && strcmp(folder, d->made) == 0)
		return d->madefd;
	if (d->madefd != -1)
		(void)close(d->madefd);
	d->madefd = -1;
	d->made[0] = '\0';
	if (mkdirs(folder) == -1 || (d->madefd = open(folder,
	    O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1) {
		log_error("%s: %s: %s", __func__, folder, strerror(errno));
		return -1;
	}
	(void)snprintf(d->made, sizeof(d->made), "%s", folder);
	return d->madefd;
}

/* Forget the folder made: it was removed behind the store's back. */
static void
dir_forget(struct store *s)
{
	struct dirstore	*d = s->priv;

	if (d->madefd != -1)
		(void)close(d->madefd);
	d->madefd = -1;
	d->made[0] = '\0';
}

static int
dir_put_file(struct store *s, const char *key, const char *src)
{
	char	 dst[PATH_MAX], tmp[PATH_MAX], buf[65536];
	int	 in = -1, out = -1, dfd, rc = -1;
	ssize_t	 n, w, off;

	if (dir_path(s, key, dst, sizeof(dst)) == -1)
		return -1;
	if ((dfd = dir_folder(s, dst)) == -1)
		return -1;
	if (snprintf(tmp, sizeof(tmp), "%s/" TMP_DIR "/%ld-XXXXXX",
	    ((struct dirstore *)s->priv)->root, (long)getpid()) >=
	    (int)sizeof(tmp))
		return -1;
	if ((in = open(src, O_RDONLY | O_CLOEXEC)) == -1) {
		log_error("%s: %s: %s", __func__, src, strerror(errno));
		goto out;
	}
	if ((out = mkstemp(tmp)) == -1) {
		log_error("%s: %s: %s", __func__, tmp, strerror(errno));
		tmp[0] = '\0';
		goto out;
	}
	while ((n = read(in, buf, sizeof(buf))) > 0)
		for (off = 0; off < n; off += w)
			if ((w = write(out, buf + off, (size_t)(n - off))) <= 0) {
				log_error("%s: %s: %s", __func__, tmp,
				    strerror(errno));
				goto out;
			}
	/* The data on disk before the name: the rename may replace an
	 * object that is named already. */
	if (n < 0 || fsync(out) == -1 || fchmod(out, 0640) == -1) {
		log_error("%s: %s: %s", __func__, tmp, strerror(errno));
		goto out;
	}
	if (rename(tmp, dst) == -1 && (errno != ENOENT ||
	    (dir_forget(s), (dfd = dir_folder(s, dst)) == -1) ||
	    rename(tmp, dst) == -1)) {
		log_error("%s: %s: %s", __func__, dst, strerror(errno));
		goto out;
	}
	tmp[0] = '\0';
	/* Then the name itself. */
	if (fsync(dfd) == -1) {
		log_error("%s: %s: %s", __func__, dst, strerror(errno));
		goto out;
	}
	rc = 0;
out:
	if (in != -1)
		(void)close(in);
	if (out != -1 && close(out) == -1 && rc == 0) {
		log_error("%s: %s: %s", __func__, dst, strerror(errno));
		rc = -1;
	}
	if (rc == -1 && tmp[0] != '\0')
		(void)unlink(tmp);
	return rc;
}

/*
 * Rename src into place: no copy.  A new name goes first and the flush
 * after (one journal commit on ext4 makes both durable; the folder's
 * fsync then has nothing left to do): nothing refers to the object
 * before the caller commits its index row, which it does only once this
 * returns.  An object there already is only replaced by data that is on
 * disk (fsync first, then rename).  Across file systems (EXDEV), or from
 * something that is not a plain file with one name, a copy as
 * dir_put_file(), and src removed.
 */
static int
dir_move_file(struct store *s, const char *key, const char *src)
{
	struct stat	 sb;
	char		 dst[PATH_MAX];
	int		 fd, dfd, rc = -1, again = 1;

	if (dir_path(s, key, dst, sizeof(dst)) == -1)
		return -1;
	if ((dfd = dir_folder(s, dst)) == -1)
		return -1;
	if ((fd = open(src, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) == -1) {
		log_error("%s: %s: %s", __func__, src, strerror(errno));
		return -1;
	}
	if (fstat(fd, &sb) == -1 || !S_ISREG(sb.st_mode) ||
	    sb.st_nlink != 1 || fchmod(fd, 0640) == -1) {
		(void)close(fd);
		goto copy;
	}
	while (renameat2(AT_FDCWD, src, AT_FDCWD, dst,
	    RENAME_NOREPLACE) == -1) {
		if (errno == ENOENT && again) {
			/* The folder went away since it was made. */
			again = 0;
			dir_forget(s);
			if ((dfd = dir_folder(s, dst)) == -1)
				goto out;
			continue;
		}
		if (errno == EXDEV) {
			(void)close(fd);
			goto copy;
		}
		if (errno != EEXIST && errno != EINVAL && errno != ENOSYS) {
			log_error("%s: %s: %s", __func__, dst,
			    strerror(errno));
			goto out;
		}
		/* Replacing, or no RENAME_NOREPLACE here: data first. */
		if (fsync(fd) == -1 || rename(src, dst) == -1) {
			log_error("%s: %s: %s", __func__, dst,
			    strerror(errno));
			goto out;
		}
		break;
	}
	if (fsync(fd) == -1 || fsync(dfd) == -1) {
		log_error("%s: %s: %s", __func__, dst, strerror(errno));
		goto out;
	}
	rc = 0;
out:
	if (close(fd) == -1 && rc == 0) {
		log_error("%s: %s: %s", __func__, dst, strerror(errno));
		rc = -1;
	}
	return rc;
copy:
	if (dir_put_file(s, key, src) == -1)
		return -1;
	(void)unlink(src);
	return 0;
}

static int
dir_exists(struct store *s, const char *key)
{
	char		 p[PATH_MAX];
	struct stat	 st;

	if (dir_path(s, key, p, sizeof(p)) == -1)
		return -1;
	if (stat(p, &st) == 0)
		return S_ISREG(st.st_mode);
	return errno == ENOENT ? 0 : -1;
}

static int
dir_local_path(struct store *s, const char *key, char *buf, size_t size)
{
	return dir_path(s, key, buf, size);
}

static int
dir_remove(struct store *s, const char *key)
{
	char	 p[PATH_MAX];

	if (dir_path(s, key, p, sizeof(p)) == -1)
		return -1;
	if (unlink(p) == -1 && errno != ENOENT) {
		log_error("%s: %s: %s", __func__, p, strerror(errno));
		return -1;
	}
	return 0;
}

static int
dir_sweep(struct store *s, long pid)
{
	struct dirstore	*d = s->priv;
	char		 p[PATH_MAX];

	if (snprintf(p, sizeof(p), "%s/" TMP_DIR, d->root) >= (int)sizeof(p))
		return -1;
	return store_sweep_files(p, "", pid);
}

static void
dir_close(struct store *s)
{
	struct dirstore	*d = s->priv;

	if (d->madefd != -1)
		(void)close(d->madefd);
	free(s->priv);
	free(s);
}

static const struct store_ops dir_ops = {
	dir_put_file,
	dir_move_file,
	dir_exists,
	dir_local_path,
	dir_remove,
	dir_sweep,
	dir_close,
};

struct store *
store_open_dir(const char *dir)
{
	struct store	*s;
	struct dirstore	*d;
	char		 tmp[PATH_MAX];

	if (snprintf(tmp, sizeof(tmp), "%s", dir) >= (int)sizeof(tmp) ||
	    mkdirs(tmp) == -1) {
		log_error("%s: %s: %s", __func__, dir, strerror(errno));
		return NULL;
	}
	if ((s = calloc(1, sizeof(*s))) == NULL ||
	    (d = calloc(1, sizeof(*d))) == NULL) {
		free(s);
		return NULL;
	}
	if (realpath(dir, d->root) == NULL ||
	    snprintf(tmp, sizeof(tmp), "%s/" TMP_DIR, d->root) >=
	    (int)sizeof(tmp) || (mkdir(tmp, 0750) == -1 && errno != EEXIST)) {
		log_error("%s: %s: %s", __func__, dir, strerror(errno));
		free(d);
		free(s);
		return NULL;
	}
	d->madefd = -1;
	s->ops = &dir_ops;
	s->priv = d;
	return s;
}

void
store_close(struct store *s)
{
	if (s != NULL)
		s->ops->close(s);
}
