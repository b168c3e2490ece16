/*
 * test_auth.c - password hashing and session tokens.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "auth.h"

static int
setup(void **state)
{
	(void)state;
	return auth_init();
}

static void
test_hash_verify(void **state)
{
	char	 h[AUTH_HASH_MAX];

	(void)state;
	assert_int_equal(auth_password_hash("Zhiying2026", h), 0);
	assert_true(strncmp(h, "$argon2id$", 10) == 0);
	/* The encoded hash carries the interactive cost: 64 MiB, 2 passes. */
	assert_non_null(strstr(h, "m=65536,t=2"));
	assert_int_equal(auth_password_verify(h, "Zhiying2026"), 1);
	assert_int_equal(auth_password_verify(h, "zhiying2026"), 0);
	assert_int_equal(auth_password_verify(h, ""), 0);
	assert_int_equal(auth_password_verify(h, "Zhiying20266"), 0);
}

static void
test_hash_salted(void **state)
{
	char	 a[AUTH_HASH_MAX], b[AUTH_HASH_MAX];

	(void)state;
	assert_int_equal(auth_password_hash("same password 1", a), 0);
	assert_int_equal(auth_password_hash("same password 1", b), 0);
	assert_string_not_equal(a, b);
	assert_int_equal(auth_password_verify(a, "same password 1"), 1);
	assert_int_equal(auth_password_verify(b, "same password 1"), 1);
}

static void
test_hash_unicode(void **state)
{
	char	 h[AUTH_HASH_MAX];

	(void)state;
	assert_int_equal(auth_password_hash("密码abc123", h), 0);
	assert_int_equal(auth_password_verify(h, "密码abc123"), 1);
	assert_int_equal(auth_password_verify(h, "密码abc12"), 0);
}

static void
test_verify_malformed(void **state)
{
	(void)state;
	/* Unknown logins and damaged hashes never match. */
	assert_int_equal(auth_password_verify(NULL, "x"), 0);
	assert_int_equal(auth_password_verify("", "x"), 0);
	assert_int_equal(auth_password_verify("$argon2id$v=19$garbage", "x"), 0);
	assert_int_equal(auth_password_verify("$2y$10$abcdefghijklmnopqrstuv", "x"), 0);
	assert_int_equal(auth_password_verify("plaintext", "plaintext"), 0);
}

static void
test_policy(void **state)
{
	(void)state;
	assert_null(auth_password_policy("Zhiying2026"));
	assert_non_null(auth_password_policy("short1"));
	assert_non_null(auth_password_policy("onlyletters"));
	assert_non_null(auth_password_policy("1234567890"));
}

static void
test_token_shape(void **state)
{
	char	 t[AUTH_TOKEN_LEN + 1], u[AUTH_TOKEN_LEN + 1];
	size_t	 i;

	(void)state;
	auth_token_new(t);
	auth_token_new(u);
	assert_int_equal(strlen(t), AUTH_TOKEN_LEN);
	assert_string_not_equal(t, u);
	assert_int_equal(auth_token_valid(t), 1);
	for (i = 0; i < AUTH_TOKEN_LEN; i++)
		assert_non_null(strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZ"
		    "abcdefghijklmnopqrstuvwxyz0123456789-_", t[i]));
}

static void
test_token_entropy(void **state)
{
	char	 t[AUTH_TOKEN_LEN + 1];
	int	 seen[256] = { 0 }, distinct = 0, i, k;

	(void)state;
	/* 1000 tokens use the whole base64url alphabet: no fixed bytes. */
	for (k = 0; k < 1000; k++) {
		auth_token_new(t);
		for (i = 0; i < AUTH_TOKEN_LEN; i++)
			seen[(unsigned char)t[i]]++;
	}
	for (i = 0; i < 256; i++)
		if (seen[i])
			distinct++;
	assert_int_equal(distinct, 64);
}

static void
test_token_invalid(void **state)
{
	char	 t[AUTH_TOKEN_LEN + 2];

	(void)state;
	assert_int_equal(auth_token_valid(""), 0);
	assert_int_equal(auth_token_valid("abc"), 0);
	memset(t, 'A', AUTH_TOKEN_LEN + 1);
	t[AUTH_TOKEN_LEN + 1] = '\0';
	assert_int_equal(auth_token_valid(t), 0);	/* one too long */
	t[AUTH_TOKEN_LEN] = '\0';
	assert_int_equal(auth_token_valid(t), 1);
	t[5] = '=';
	assert_int_equal(auth_token_valid(t), 0);
	t[5] = ';';
	assert_int_equal(auth_token_valid(t), 0);
}

static void
test_digest(void **state)
{
	char	 d[AUTH_DIGEST_LEN + 1];

	(void)state;
	/* FIPS 180-2 test vector. */
	assert_int_equal(auth_token_digest("abc", d), 0);
	assert_string_equal(d, "ba7816bf8f01cfea414140de5dae2223"
	    "b00361a396177a9cb410ff61f20015ad");
	assert_int_equal(auth_token_digest("", d), 0);
	assert_string_equal(d, "e3b0c44298fc1c149afbf4c8996fb924"
	    "27ae41e4649b934ca495991b7852b855");
}

static void
test_equal(void **state)
{
	(void)state;
	assert_int_equal(auth_equal("abc", "abc"), 1);
	assert_int_equal(auth_equal("abc", "abd"), 0);
	assert_int_equal(auth_equal("abc", "ab"), 0);
	assert_int_equal(auth_equal("", ""), 1);
}

static void
test_csrf_mask(void **state)
{
	char	 t[AUTH_TOKEN_LEN + 1], u[AUTH_TOKEN_LEN + 1];
	char	 m[AUTH_MASKED_LEN + 1], n[AUTH_MASKED_LEN + 1];
	char	 bad[AUTH_MASKED_LEN + 2];
	int	 k, same_half;

	(void)state;
	auth_token_new(t);
	auth_token_new(u);
	auth_csrf_mask(t, m);
	auth_csrf_mask(t, n);
	assert_int_equal(strlen(m), AUTH_MASKED_LEN);
	assert_int_equal(auth_csrf_valid(m), 1);
	/* Two pages carry different bytes for the same secret, and the
	 * secret itself is not among them. */
	assert_string_not_equal(m, n);
	assert_null(strstr(m, t));
	assert_int_equal(auth_csrf_equal(m, t), 1);
	assert_int_equal(auth_csrf_equal(n, t), 1);
	assert_int_equal(auth_csrf_equal(m, u), 0);
	/* The plain token is still taken; another's is not. */
	assert_int_equal(auth_csrf_equal(t, t), 1);
	assert_int_equal(auth_csrf_equal(u, t), 0);
	/* Any one symbol changed, in the pad or the masked half, fails. */
	for (k = 0; k < AUTH_MASKED_LEN; k++) {
		memcpy(bad, m, sizeof(m));
		bad[k] = bad[k] == 'A' ? 'B' : 'A';
		assert_int_equal(auth_csrf_equal(bad, t), 0);
	}
	/* Wrong lengths and symbols. */
	memcpy(bad, m, sizeof(m));
	bad[AUTH_MASKED_LEN - 1] = '\0';
	assert_int_equal(auth_csrf_valid(bad), 0);
	assert_int_equal(auth_csrf_equal(bad, t), 0);
	memcpy(bad, m, sizeof(m));
	bad[AUTH_MASKED_LEN] = 'A';
	bad[AUTH_MASKED_LEN + 1] = '\0';
	assert_int_equal(auth_csrf_valid(bad), 0);
	memcpy(bad, m, sizeof(m));
	bad[3] = '=';
	assert_int_equal(auth_csrf_equal(bad, t), 0);
	assert_int_equal(auth_csrf_equal("", t), 0);
	assert_int_equal(auth_csrf_equal(m, "short"), 0);
	/* The pad is fresh: over 200 masks, no two share the first half. */
	same_half = 0;
	for (k = 0; k < 200; k++) {
		auth_csrf_mask(t, n);
		if (memcmp(n, m, AUTH_TOKEN_LEN) == 0)
			same_half++;
		assert_int_equal(auth_csrf_equal(n, t), 1);
	}
	assert_int_equal(same_half, 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hash_verify),
		cmocka_unit_test(test_hash_salted),
		cmocka_unit_test(test_hash_unicode),
		cmocka_unit_test(test_verify_malformed),
		cmocka_unit_test(test_policy),
		cmocka_unit_test(test_token_shape),
		cmocka_unit_test(test_token_entropy),
		cmocka_unit_test(test_token_invalid),
		cmocka_unit_test(test_digest),
		cmocka_unit_test(test_equal),
		cmocka_unit_test(test_csrf_mask),
	};

	return cmocka_run_group_tests_name("auth", tests, setup, NULL);
}
