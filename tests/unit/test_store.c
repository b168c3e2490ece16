/*
 * test_store.c - the folder-tree image store and its keys.
 */
#include "config.h"

#include <sys/stat.h>
#include <sys/wait.h>

#include <dirent.h>
#include <ftw.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "store.h"

static void
test_uid(void **state)
{
	(void)state;
	assert_true(store_uid_valid("1.2.840.10008.5.1.4.1.1.2"));
	assert_true(store_uid_valid("1.3.6.1.4.1.14519.5.2.1.6279.6001.490157381160200744295382098329"));
	assert_true(store_uid_valid("0"));
	assert_false(store_uid_valid(""));
	assert_false(store_uid_valid("1..2"));
	assert_false(store_uid_valid(".1.2"));
	assert_false(store_uid_valid("1.2."));
	assert_false(store_uid_valid("1.02.3"));	/* leading zero */
	assert_false(store_uid_valid("1.2.a"));
	assert_false(store_uid_valid("../../etc/passwd"));
	assert_false(store_uid_valid("1.2/3"));
	assert_false(store_uid_valid("1.2222222222222222222222222222222222222222222222222222222222222222"));
}

static void
test_key(void **state)
{
	char	 k[256];

	(void)state;
	assert_int_equal(store_key_instance(k, sizeof(k), 7, "1.2.3", "1.2.3.4",
	    "1.2.3.4.5"), 0);
	assert_string_equal(k, "7/1.2.3/1.2.3.4/1.2.3.4.5.dcm");
	assert_int_equal(store_key_instance(k, sizeof(k), 0, "1.2", "1.2",
	    "1.2"), -1);
	assert_int_equal(store_key_instance(k, sizeof(k), 1, "1.2", "..",
	    "1.2"), -1);
	assert_int_equal(store_key_instance(k, 8, 1, "1.2", "1.2", "1.2"), -1);
}

static void
write_file(const char *path, const char *text)
{
	FILE	*fp;

	assert_non_null(fp = fopen(path, "w"));
	fputs(text, fp);
	fclose(fp);
}

static int
count_tmp(const char *dir)
{
	DIR		*d;
	struct dirent	*e;
	int		 n = 0;

	assert_non_null(d = opendir(dir));
	while ((e = readdir(d)) != NULL)
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

static int
rm_entry(const char *path, const struct stat *sb, int type, struct FTW *f)
{
	(void)sb;
	(void)type;
	(void)f;
	return remove(path);
}

static void
test_dir_store(void **state)
{
	char		 root[] = "/tmp/zystoreXXXXXX", src[512], p[1024], buf[64];
	struct store	*s;
	struct stat	 sb;
	FILE		*fp;

	(void)state;
	assert_non_null(mkdtemp(root));
	(void)snprintf(src, sizeof(src), "%s/in.dcm", root);
	write_file(src, "first");
	assert_non_null(s = store_open_dir(root));
	assert_int_equal(store_exists(s, "1/1.2/1.2.3/1.2.3.4.dcm"), 0);
	assert_int_equal(store_put_file(s, "1/1.2/1.2.3/1.2.3.4.dcm", src), 0);
	assert_int_equal(store_exists(s, "1/1.2/1.2.3/1.2.3.4.dcm"), 1);
	assert_int_equal(store_local_path(s, "1/1.2/1.2.3/1.2.3.4.dcm", p,
	    sizeof(p)), 0);
	assert_non_null(fp = fopen(p, "r"));
	assert_non_null(fgets(buf, sizeof(buf), fp));
	fclose(fp);
	assert_string_equal(buf, "first");
	/* Replacing is atomic and leaves no temporary file behind. */
	write_file(src, "second");
	assert_int_equal(store_put_file(s, "1/1.2/1.2.3/1.2.3.4.dcm", src), 0);
	assert_non_null(fp = fopen(p, "r"));
	assert_non_null(fgets(buf, sizeof(buf), fp));
	fclose(fp);
	assert_string_equal(buf, "second");
	(void)snprintf(buf, sizeof(buf), "%s/.tmp", root);
	assert_int_equal(count_tmp(buf), 0);
	assert_int_equal(stat(p, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0640);
	/* Keys that could climb out are refused. */
	assert_int_equal(store_put_file(s, "../x.dcm", src), -1);
	assert_int_equal(store_put_file(s, "/etc/x.dcm", src), -1);
	assert_int_equal(store_put_file(s, "1/A.dcm", src), -1);
	/* A missing source fails and leaves nothing. */
	assert_int_equal(store_put_file(s, "2/1.2/1.2/1.2.dcm",
	    "/nonexistent/file"), -1);
	assert_int_equal(store_exists(s, "2/1.2/1.2/1.2.dcm"), 0);
	assert_int_equal(store_remove(s, "1/1.2/1.2.3/1.2.3.4.dcm"), 0);
	assert_int_equal(store_exists(s, "1/1.2/1.2.3/1.2.3.4.dcm"), 0);
	assert_int_equal(store_remove(s, "1/1.2/1.2.3/1.2.3.4.dcm"), 0);
	store_close(s);
	assert_int_equal(nftw(root, rm_entry, 16, FTW_DEPTH | FTW_PHYS), 0);
}

/* The first line of the file at path, into buf. */
static void
read_line(const char *path, char *buf, size_t size)
{
	FILE	*fp;

	assert_non_null(fp = fopen(path, "r"));
	assert_non_null(fgets(buf, (int)size, fp));
	fclose(fp);
}

/*
 * Moving renames: the source is gone and the object is the same inode;
 * an object there already is replaced; a folder removed behind the
 * store's back (it remembers the last one it made) is made again; a
 * file with a second name is copied, not taken.
 */
static void
test_dir_move(void **state)
{
	char		 root[] = "/tmp/zystoreXXXXXX", src[512], p[1024];
	char		 buf[64], lnk[512];
	struct store	*s;
	struct stat	 a, b;
	const char	*key = "1/1.2/1.2.3/1.2.3.5.dcm";

	(void)state;
	assert_non_null(mkdtemp(root));
	(void)snprintf(src, sizeof(src), "%s/spool.dcm", root);
	assert_non_null(s = store_open_dir(root));
	assert_int_equal(store_local_path(s, key, p, sizeof(p)), 0);

	write_file(src, "first");
	assert_int_equal(stat(src, &a), 0);
	assert_int_equal(store_move_file(s, key, src), 0);
	assert_int_equal(access(src, F_OK), -1);
	assert_int_equal(stat(p, &b), 0);
	assert_true(a.st_ino == b.st_ino);
	assert_int_equal(b.st_mode & 0777, 0640);
	read_line(p, buf, sizeof(buf));
	assert_string_equal(buf, "first");

	/* Over an object already there. */
	write_file(src, "second");
	assert_int_equal(store_move_file(s, key, src), 0);
	assert_int_equal(access(src, F_OK), -1);
	read_line(p, buf, sizeof(buf));
	assert_string_equal(buf, "second");

	/* The folder it made last, removed: made again. */
	assert_int_equal(unlink(p), 0);
	(void)snprintf(buf, sizeof(buf), "%s/1/1.2/1.2.3", root);
	assert_int_equal(rmdir(buf), 0);
	write_file(src, "third");
	assert_int_equal(store_move_file(s, key, src), 0);
	read_line(p, buf, sizeof(buf));
	assert_string_equal(buf, "third");

	/* Two names: copied, and the source removed; the other name
	 * keeps its own inode. */
	write_file(src, "fourth");
	(void)snprintf(lnk, sizeof(lnk), "%s/other.dcm", root);
	assert_int_equal(link(src, lnk), 0);
	assert_int_equal(stat(lnk, &a), 0);
	assert_int_equal(store_move_file(s, key, src), 0);
	assert_int_equal(access(src, F_OK), -1);
	assert_int_equal(stat(p, &b), 0);
	assert_true(a.st_ino != b.st_ino);
	read_line(p, buf, sizeof(buf));
	assert_string_equal(buf, "fourth");
	(void)snprintf(buf, sizeof(buf), "%s/.tmp", root);
	assert_int_equal(count_tmp(buf), 0);

	/* A missing source fails and leaves the object as it was. */
	assert_int_equal(store_move_file(s, key, "/nonexistent/file"), -1);
	read_line(p, buf, sizeof(buf));
	assert_string_equal(buf, "fourth");
	assert_int_equal(store_move_file(s, "../x.dcm", lnk), -1);
	store_close(s);
	assert_int_equal(nftw(root, rm_entry, 16, FTW_DEPTH | FTW_PHYS), 0);
}

/* A file named as a partial write of process pid in dir. */
static void
touch(const char *dir, const char *prefix, long pid, const char *rest)
{
	char	 p[1024];

	(void)snprintf(p, sizeof(p), "%s/%s%ld-%s", dir, prefix, pid, rest);
	write_file(p, "partial");
}

static int
present(const char *dir, const char *prefix, long pid, const char *rest)
{
	char		 p[1024];
	struct stat	 sb;

	(void)snprintf(p, sizeof(p), "%s/%s%ld-%s", dir, prefix, pid, rest);
	return stat(p, &sb) == 0;
}

/* What a writer that died leaves is swept: by its pid, or as the files of
 * any process gone; the files of live processes and other names stay. */
static void
test_sweep(void **state)
{
	char		 root[] = "/tmp/zystoreXXXXXX", tmp[600], other[600];
	struct store	*s;
	pid_t		 dead;
	int		 wst;

	(void)state;
	assert_non_null(mkdtemp(root));
	assert_non_null(s = store_open_dir(root));
	(void)snprintf(tmp, sizeof(tmp), "%s/.tmp", root);
	/* A writer that died mid-write. */
	if ((dead = fork()) == 0) {
		touch(tmp, "", (long)getpid(), "aaaaaa");
		_exit(0);
	}
	assert_true(dead > 0 && waitpid(dead, &wst, 0) == dead);
	assert_true(present(tmp, "", (long)dead, "aaaaaa"));
	touch(tmp, "", 1, "bbbbbb");		/* init: alive */
	touch(tmp, "", (long)getpid(), "cccccc");	/* ours: not begun */
	assert_int_equal(store_sweep(s, 0), 2);
	assert_false(present(tmp, "", (long)dead, "aaaaaa"));
	assert_false(present(tmp, "", (long)getpid(), "cccccc"));
	assert_true(present(tmp, "", 1, "bbbbbb"));
	/* A reaped writer by its pid, alive or not. */
	assert_int_equal(store_sweep(s, 1), 1);
	assert_int_equal(count_tmp(tmp), 0);

	/* Another folder, another prefix: only those names. */
	(void)snprintf(other, sizeof(other), "%s/spool", root);
	assert_int_equal(mkdir(other, 0750), 0);
	touch(other, "upload-", (long)dead, "dddddd");
	touch(other, "upload-", 1, "eeeeee");
	touch(other, "scp-", (long)dead, "ffffff");
	write_file(strcat(strcpy(tmp, other), "/upload-x-1"), "odd");
	assert_int_equal(store_sweep_files(other, "upload-", (long)dead), 1);
	assert_int_equal(store_sweep_files(other, "upload-", 0), 0);
	assert_true(present(other, "upload-", 1, "eeeeee"));
	assert_true(present(other, "scp-", (long)dead, "ffffff"));
	assert_int_equal(count_tmp(other), 3);
	assert_int_equal(store_sweep_files("/nonexistent/spool", "upload-", 0),
	    0);
	store_close(s);
	assert_int_equal(nftw(root, rm_entry, 16, FTW_DEPTH | FTW_PHYS), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_uid),
		cmocka_unit_test(test_key),
		cmocka_unit_test(test_dir_store),
		cmocka_unit_test(test_dir_move),
		cmocka_unit_test(test_sweep),
	};

	return cmocka_run_group_tests_name("store", tests, NULL, NULL);
}
