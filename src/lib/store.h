/*
 * store.h - the image store: where received DICOM files are kept.
 *
 * A store maps a key (a relative name made of safe characters, built by
 * store_key_instance()) to the bytes of one file.  The default backend is
 * a folder tree; another backend (an S3-compatible object store) fills in
 * the same operations.  Writes are atomic: a reader sees either no object
 * or the whole of it, never a part, even if the writer dies midway; what a
 * writer that died leaves behind is removed by store_sweep().
 */
#ifndef ZY_STORE_H
#define ZY_STORE_H

#include <stddef.h>

struct store;

struct store_ops {
	/* Copy the file at src under key, replacing any object there.
	 * Returns 0 or -1 (logged). */
	int	(*put_file)(struct store *, const char *key, const char *src);
	/* Move the file at src under key: as put_file, but src is gone
	 * afterwards and need not be copied when it can be renamed.  Both
	 * return only once the object is durable (on disk under its
	 * name).  Returns 0 or -1 (logged; src may then remain). */
	int	(*move_file)(struct store *, const char *key, const char *src);
	/* Whether key exists: 1, 0, or -1 on error. */
	int	(*exists)(struct store *, const char *key);
	/* Local path of the object for reading, into buf; 0 or -1.  A remote
	 * backend downloads to a cache first. */
	int	(*local_path)(struct store *, const char *key, char *buf,
		    size_t size);
	/* Remove key; 0 if removed or absent, -1 on error. */
	int	(*remove)(struct store *, const char *key);
	/* Remove the partial writes of process pid, or with pid 0 of every
	 * process that is gone.  Returns how many, or -1 on error. */
	int	(*sweep)(struct store *, long pid);
	void	(*close)(struct store *);
};

struct store {
	const struct store_ops	*ops;
	void			*priv;
};

/* Open the folder-tree backend rooted at dir (created if missing).
 * Returns NULL (logged) on failure.  Close with store_close(). */
struct store	*store_open_dir(const char *dir);

void		 store_close(struct store *);

/* Build the key of an instance: "<institution>/<study>/<series>/<sop>.dcm",
 * where each UID must be a valid DICOM UID (digits and dots, <= 64).
 * Returns 0, or -1 if a UID is malformed or buf too small. */
int		 store_key_instance(char *buf, size_t size, long long institution,
		    const char *study_uid, const char *series_uid,
		    const char *sop_uid);

/* Whether s is a valid DICOM UID (PS3.5 9.1): 1 or 0. */
int		 store_uid_valid(const char *s);

/* Remove the files of folder dir named <prefix><pid>-...: those of
 * process pid, or with pid 0 those of every process that is gone (and of
 * the caller, which has not begun one).  Other files are left alone.
 * Returns how many were removed, or -1 if dir cannot be read (a missing
 * folder is 0). */
int		 store_sweep_files(const char *dir, const char *prefix, long pid);

#define store_put_file(s, k, f)		((s)->ops->put_file((s), (k), (f)))
#define store_move_file(s, k, f)	((s)->ops->move_file((s), (k), (f)))
#define store_exists(s, k)		((s)->ops->exists((s), (k)))
#define store_local_path(s, k, b, n)	((s)->ops->local_path((s), (k), (b), (n)))
#define store_remove(s, k)		((s)->ops->remove((s), (k)))
#define store_sweep(s, p)		((s)->ops->sweep((s), (p)))

#endif /* ZY_STORE_H */
