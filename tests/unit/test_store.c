/*
 * test_store.c - the folder-tree image store and its keys.
 */
#include "config.h"

#include <sys/stat.h>

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
		if (strncmp(e->d_name, ".tmp-", 5) == 0)
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
	(void)snprintf(buf, sizeof(buf), "%s/1/1.2/1.2.3", root);
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

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_uid),
		cmocka_unit_test(test_key),
		cmocka_unit_test(test_dir_store),
	};

	return cmocka_run_group_tests_name("store", tests, NULL, NULL);
}
