/*
 * auth.c - Argon2id password hashes, random tokens, SHA-256 digests.
 */
#include "config.h"

#include <string.h>

#include <openssl/evp.h>
#include <sodium.h>

#include "auth.h"
#include "log.h"

/* A hash of a random password, checked for unknown logins. */
static char	dummy_hash[AUTH_HASH_MAX];

int
auth_init(void)
{
	char	pw[AUTH_TOKEN_LEN + 1];

	if (sodium_init() < 0) {
		log_error("%s: libsodium failed to initialise", __func__);
		return -1;
	}
	auth_token_new(pw);
	return auth_password_hash(pw, dummy_hash);
}

int
auth_password_hash(const char *password, char *out)
{
	unsigned long long	 ops;
	size_t			 mem;

	_Static_assert(AUTH_HASH_MAX >= crypto_pwhash_STRBYTES,
	    "hash buffer too small");
	/* The interactive limits (2 passes, 64 MiB) suit an online login;
	 * the memory cost is what defeats GPU guessing. */
	ops = crypto_pwhash_OPSLIMIT_INTERACTIVE;
	mem = crypto_pwhash_MEMLIMIT_INTERACTIVE;
	if (crypto_pwhash_str_alg(out, password, strlen(password), ops, mem,
	    crypto_pwhash_ALG_ARGON2ID13) != 0) {
		log_error("%s: out of memory", __func__);
		return -1;
	}
	return 0;
}

int
auth_password_verify(const char *hash, const char *password)
{
	size_t	 len;

	len = strlen(password);
	if (hash == NULL || strncmp(hash, "$argon2id$", 10) != 0) {
		/* Spend the same time as a real check, then refuse. */
		if (crypto_pwhash_str_verify(dummy_hash, password, len) == 0)
			log_debug("%s: dummy hash matched", __func__);
		return 0;
	}
	return crypto_pwhash_str_verify(hash, password, len) == 0;
}

const char *
auth_password_policy(const char *pw)
{
	size_t	 i, len;
	int	 letter = 0, digit = 0;

	len = strlen(pw);
	if (len < 8)
		return "密码至少需要8位";
	if (len > AUTH_PASSWORD_MAX)
		return "密码过长";
	for (i = 0; i < len; i++) {
		if ((pw[i] >= 'a' && pw[i] <= 'z') ||
		    (pw[i] >= 'A' && pw[i] <= 'Z'))
			letter = 1;
		else if (pw[i] >= '0' && pw[i] <= '9')
			digit = 1;
	}
	if (!letter || !digit)
		return "密码须同时包含字母和数字";
	return NULL;
}

void
auth_token_new(char *out)
{
	unsigned char	 raw[32];

	randombytes_buf(raw, sizeof(raw));
	(void)sodium_bin2base64(out, AUTH_TOKEN_LEN + 1, raw, sizeof(raw),
	    sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	sodium_memzero(raw, sizeof(raw));
}

int
auth_token_valid(const char *s)
{
	size_t	 i;

	for (i = 0; s[i] != '\0'; i++) {
		if (i >= AUTH_TOKEN_LEN)
			return 0;
		if (!((s[i] >= 'a' && s[i] <= 'z') ||
		    (s[i] >= 'A' && s[i] <= 'Z') ||
		    (s[i] >= '0' && s[i] <= '9') || s[i] == '-' || s[i] == '_'))
			return 0;
	}
	return i == AUTH_TOKEN_LEN;
}

/* The index of a base64url symbol, or -1. */
static int
b64url_index(char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '-')
		return 62;
	if (c == '_')
		return 63;
	return -1;
}

static const char b64url[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

void
auth_csrf_mask(const char *token, char *out)
{
	unsigned char	 raw[AUTH_TOKEN_LEN];
	size_t		 i;
	int		 t;

	/* 256 is a multiple of 64: each pad symbol is uniform. */
	randombytes_buf(raw, sizeof(raw));
	for (i = 0; i < AUTH_TOKEN_LEN; i++) {
		t = b64url_index(token[i]);
		out[i] = b64url[raw[i] & 63];
		out[AUTH_TOKEN_LEN + i] = b64url[((t < 0 ? 0 : t) +
		    (raw[i] & 63)) & 63];
	}
	out[AUTH_MASKED_LEN] = '\0';
	sodium_memzero(raw, sizeof(raw));
}

int
auth_csrf_valid(const char *s)
{
	size_t	 i;

	for (i = 0; s[i] != '\0'; i++)
		if (i >= AUTH_MASKED_LEN || b64url_index(s[i]) < 0)
			return 0;
	return i == AUTH_TOKEN_LEN || i == AUTH_MASKED_LEN;
}

int
auth_csrf_equal(const char *sent, const char *token)
{
	unsigned int	 diff;
	size_t		 i;

	if (!auth_token_valid(token) || !auth_csrf_valid(sent))
		return 0;
	/* A plain token is still taken: it is never on a page of ours,
	 * but a form opened before the masking began carries one. */
	if (strlen(sent) == AUTH_TOKEN_LEN)
		return auth_equal(sent, token);
	diff = 0;
	for (i = 0; i < AUTH_TOKEN_LEN; i++)
		diff |= (unsigned int)((b64url_index(sent[AUTH_TOKEN_LEN + i]) -
		    b64url_index(sent[i]) + 64) & 63) ^
		    (unsigned int)b64url_index(token[i]);
	return diff == 0;
}

int
auth_token_digest(const char *token, char *out)
{
	unsigned char	 md[EVP_MAX_MD_SIZE];
	unsigned int	 mdlen = 0;

	if (EVP_Digest(token, strlen(token), md, &mdlen, EVP_sha256(),
	    NULL) != 1 || mdlen != 32) {
		log_error("%s: SHA-256 failed", __func__);
		return -1;
	}
	(void)sodium_bin2hex(out, AUTH_DIGEST_LEN + 1, md, mdlen);
	return 0;
}

int
auth_equal(const char *a, const char *b)
{
	size_t	 la, lb;

	la = strlen(a);
	lb = strlen(b);
	if (la != lb)
		return 0;
	return sodium_memcmp(a, b, la) == 0;
}
