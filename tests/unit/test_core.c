/*
 * test_core.c - arena, capped buffer, configuration, model tables.
 */
#include "config.h"

#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "arena.h"
#include "audit.h"
#include "buf.h"
#include "conf.h"
#include "model.h"

static void
test_arena_basic(void **state)
{
	struct arena	*a;
	char		*p, *q;
	int		 i;

	(void)state;
	assert_non_null(a = arena_new(128));
	p = arena_strdup(a, "影像诊断");
	assert_string_equal(p, "影像诊断");
	q = arena_printf(a, "%s-%d", "x", 42);
	assert_string_equal(q, "x-42");
	assert_int_equal((uintptr_t)arena_alloc(a, 3) % 16, 0);
	/* Larger than a chunk, and many small ones across chunks. */
	assert_non_null(p = arena_alloc(a, 10000));
	memset(p, 1, 10000);
	for (i = 0; i < 1000; i++)
		assert_non_null(arena_alloc(a, 24));
	assert_true(arena_used(a) >= 10000 + 1000 * 24);
	arena_reset(a);
	assert_int_equal(arena_used(a), 0);
	assert_string_equal(arena_strdup(a, "again"), "again");
	arena_free(a);
}

static void
test_arena_cap(void **state)
{
	struct arena	*a;

	(void)state;
	assert_non_null(a = arena_new(0));
	arena_set_cap(a, 1024);
	assert_non_null(arena_alloc(a, 1000));
	assert_null(arena_alloc(a, 100));
	assert_null(arena_calloc(a, SIZE_MAX / 2, 4));	/* overflow */
	assert_null(arena_alloc(a, SIZE_MAX));
	arena_reset(a);
	assert_non_null(arena_alloc(a, 1000));
	arena_free(a);
}

static void
test_buf_cap(void **state)
{
	struct buf	 b;
	char		*s;

	(void)state;
	buf_init(&b, 10);
	assert_int_equal(buf_appends(&b, "12345"), 0);
	assert_int_equal(buf_printf(&b, "%d", 678), 0);
	assert_int_equal(buf_appends(&b, "9ab"), -1);	/* 11 > 10 */
	assert_string_equal(b.data, "12345678");
	assert_int_equal(buf_appends(&b, "90"), 0);
	s = buf_take(&b);
	assert_string_equal(s, "1234567890");
	free(s);
	assert_null(b.data);
	s = buf_take(&b);
	assert_string_equal(s, "");
	free(s);
	buf_free(&b);
}

static void
test_conf_defaults_file_env(void **state)
{
	struct conf	 c;
	char		 err[512], path[] = "/tmp/zyconfXXXXXX";
	FILE		*fp;
	int		 fd;

	(void)state;
	assert_int_equal(conf_load(&c, NULL, err, sizeof(err)), 0);
	assert_int_equal(c.workers, 4);
	assert_int_equal(c.session_idle, 1800);
	assert_string_equal(c.site_name, "粤医智影");

	assert_true((fd = mkstemp(path)) >= 0);
	assert_non_null(fp = fdopen(fd, "w"));
	fprintf(fp, "# comment\n\nworkers = 8\n  listen=127.0.0.1:9100  \n"
	    "session_idle = 60\n");
	fclose(fp);
	setenv("ZHIYING_WORKERS", "3", 1);
	assert_int_equal(conf_load(&c, path, err, sizeof(err)), 0);
	assert_int_equal(c.workers, 3);		/* environment wins */
	assert_string_equal(c.listen, "127.0.0.1:9100");
	assert_int_equal(c.session_idle, 60);
	unsetenv("ZHIYING_WORKERS");

	fp = fopen(path, "w");
	fprintf(fp, "workers = 9999\n");
	fclose(fp);
	assert_int_equal(conf_load(&c, path, err, sizeof(err)), -1);
	assert_non_null(strstr(err, ":1: workers: 9999 is outside 1..256"));

	/* A number with decimals: the calcium reader's calibration. */
	assert_int_equal(conf_load(&c, NULL, err, sizeof(err)), 0);
	assert_true(c.cac_calibration == 0.75);
	fp = fopen(path, "w");
	fprintf(fp, "cac_calibration = 0.68\n");
	fclose(fp);
	assert_int_equal(conf_load(&c, path, err, sizeof(err)), 0);
	assert_true(fabs(c.cac_calibration - 0.68) < 1e-12);
	setenv("ZHIYING_CAC_CALIBRATION", "0.8", 1);
	assert_int_equal(conf_load(&c, path, err, sizeof(err)), 0);
	assert_true(fabs(c.cac_calibration - 0.8) < 1e-12);
	setenv("ZHIYING_CAC_CALIBRATION", "2", 1);
	assert_int_equal(conf_load(&c, path, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "cac_calibration: 2 is outside 0.3..1.5"));
	setenv("ZHIYING_CAC_CALIBRATION", "0,7", 1);
	assert_int_equal(conf_load(&c, path, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "'0,7' is not a number"));
	setenv("ZHIYING_CAC_CALIBRATION", "nan", 1);
	assert_int_equal(conf_load(&c, path, err, sizeof(err)), -1);
	unsetenv("ZHIYING_CAC_CALIBRATION");

	fp = fopen(path, "w");
	fprintf(fp, "no_such_option = 1\n");
	fclose(fp);
	assert_int_equal(conf_load(&c, path, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "unknown option 'no_such_option'"));

	fp = fopen(path, "w");
	fprintf(fp, "workers 4\n");
	fclose(fp);
	assert_int_equal(conf_load(&c, path, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "expected 'name = value'"));

	setenv("ZHIYING_SESSION_IDLE", "abc", 1);
	assert_int_equal(conf_load(&c, NULL, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "ZHIYING_SESSION_IDLE"));
	unsetenv("ZHIYING_SESSION_IDLE");
	unlink(path);
	assert_int_equal(conf_load(&c, path, err, sizeof(err)), -1);
}

/* The receiver's keys: local by default; the production example
 * listens on every interface and loads as it is. */
static void
test_conf_receiver(void **state)
{
	struct conf	 c;
	char		 err[512];

	(void)state;
	assert_int_equal(conf_load(&c, NULL, err, sizeof(err)), 0);
	assert_string_equal(c.scp_listen, "127.0.0.1");
	assert_int_equal(c.scp_timeout, 60);
	/* The server's sample, as make install writes it (its @...@ paths
	 * are plain strings to the parser). */
	assert_int_equal(conf_load(&c, ZY_TOP_SRCDIR "/dist/zhiying.conf.in",
	    err, sizeof(err)), 0);
	assert_string_equal(c.db_scp,
	    "host=/var/run/postgresql dbname=zhiying user=zhiying_scp");
	assert_string_equal(c.scp_listen, "0.0.0.0");
	assert_int_equal(c.scp_port, 11112);
	setenv("ZHIYING_SCP_TIMEOUT", "0", 1);
	assert_int_equal(conf_load(&c, NULL, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "scp_timeout: 0 is outside 1..3600"));
	unsetenv("ZHIYING_SCP_TIMEOUT");
}

static void
test_model(void **state)
{
	char	 buf[128];

	(void)state;
	assert_int_equal(model_roles_parse("{applicant,doctor}"),
	    ROLE_BIT(ROLE_APPLICANT) | ROLE_BIT(ROLE_DOCTOR));
	assert_int_equal(model_roles_parse("{}"), 0);
	assert_int_equal(model_roles_parse("{admin,bogus,stats}"),
	    ROLE_BIT(ROLE_ADMIN) | ROLE_BIT(ROLE_STATS));
	assert_string_equal(model_roles_zh(ROLE_BIT(ROLE_APPLICANT) |
	    ROLE_BIT(ROLE_DOCTOR), buf, sizeof(buf)), "邀请方人员、受邀方人员");
	assert_int_equal(model_lookup(title_names, TITLE__MAX, "attending"),
	    TITLE_ATTENDING);
	assert_string_equal(title_names[TITLE_RESIDENT].zh, "住院医师");
	assert_string_equal(level_names[LEVEL_PRIMARY].zh, "基层");
	assert_string_equal(alliance_kind_names[ALLIANCE_COUNTY].zh, "医共体");
	assert_int_equal(model_lookup(level_names, LEVEL__MAX, "x"), -1);
}

/* The audit log in Chinese for the console: actions named, the detail's
 * keys named, application states and readers by their Chinese names,
 * what is not known kept as it is. */
static void
test_audit_zh(void **state)
{
	char	 b[256];

	(void)state;
	assert_string_equal(audit_action_zh("report_lock_broken"),
	    "强制解锁报告");
	assert_string_equal(audit_action_zh("application_viewed"), "查看申请");
	assert_string_equal(audit_action_zh("something_new"), "something_new");
	assert_string_equal(audit_detail_zh("{\"diag_no\": \"ZY2026120700001\","
	    " \"from\": \"reporting\", \"to\": \"pending\"}", b, sizeof(b)),
	    "诊断号：ZY2026120700001；原状态：报告中；新状态：待报告");
	assert_string_equal(audit_detail_zh("{\"reader\": \"ct_lung_nodule\","
	    " \"attempt\": 2, \"odd\": [1]}", b, sizeof(b)),
	    "AI应用：CT肺结节智能诊断；尝试次数：2；odd：[1]");
	assert_string_equal(audit_detail_zh("{}", b, sizeof(b)), "");
	assert_string_equal(audit_detail_zh("not json", b, sizeof(b)),
	    "not json");
	/* Cut at the buffer, never past it. */
	(void)audit_detail_zh("{\"reason\": \"影像不清晰，请重新上传\"}", b, 14);
	assert_string_equal(b, "原因：影");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_arena_basic),
		cmocka_unit_test(test_arena_cap),
		cmocka_unit_test(test_buf_cap),
		cmocka_unit_test(test_conf_defaults_file_env),
		cmocka_unit_test(test_conf_receiver),
		cmocka_unit_test(test_model),
		cmocka_unit_test(test_audit_zh),
	};

	return cmocka_run_group_tests_name("core", tests, NULL, NULL);
}
