/*
 * auth.h - password hashing and session tokens.
 *
 * Passwords are hashed with Argon2id (libsodium's crypto_pwhash_str, the
 * RFC 9106 construction) and stored as the encoded string with its salt
 * and cost.  Session and CSRF tokens are 256 random bits, base64url
 * without padding; the database keeps only the SHA-256 of a session token,
 * so a copy of the database cannot be used to log in.
 */
#ifndef ZY_AUTH_H
#define ZY_AUTH_H

#include <stddef.h>

#define AUTH_HASH_MAX	128	/* >= crypto_pwhash_STRBYTES */
#define AUTH_TOKEN_LEN	43	/* 32 bytes, base64url, no padding */
#define AUTH_DIGEST_LEN	64	/* SHA-256 in hex */
#define AUTH_MASKED_LEN	(2 * AUTH_TOKEN_LEN)	/* a masked CSRF token */
#define AUTH_PASSWORD_MAX 256

/* Initialise the crypto library; call once at start.  Returns 0 or -1. */
int	 auth_init(void);

/* Hash a password into out (AUTH_HASH_MAX bytes).  Returns 0, or -1 when
 * memory for the hash is short. */
int	 auth_password_hash(const char *password, char *out);

/* Check a password against a stored hash.  Returns 1 on a match, 0 on no
 * match or a malformed hash.  When hash is NULL a fixed hash is checked
 * so that unknown logins take as long as known ones. */
int	 auth_password_verify(const char *hash, const char *password);

/* Return NULL if the password is acceptable as a new password, or a reason
 * in Chinese for the user (static storage). */
const char *auth_password_policy(const char *password);

/* Write a new random token (AUTH_TOKEN_LEN chars + NUL) into out. */
void	 auth_token_new(char *out);

/* Return 1 if s has the shape of a token, 0 if not. */
int	 auth_token_valid(const char *s);

/* SHA-256 of a token, in lower-case hex, into out (AUTH_DIGEST_LEN + 1).
 * Returns 0 or -1. */
int	 auth_token_digest(const char *token, char *out);

/*
 * A CSRF token as a page carries it: a fresh random pad, then the token
 * with the pad added symbol by symbol (mod 64).  Every response carries
 * different bytes for the same secret, so a compressed page that also
 * reflects what an attacker sent cannot reveal the token by its length
 * (the BREACH attack, Gluck, Harris and Prado 2013; the same defence as
 * Django's and Rails' masked tokens).  auth_csrf_mask() writes
 * AUTH_MASKED_LEN chars + NUL into out.
 */
void	 auth_csrf_mask(const char *token, char *out);

/* Return 1 if s has the shape of a CSRF token as a form or header may
 * send it: masked (AUTH_MASKED_LEN) or plain (AUTH_TOKEN_LEN). */
int	 auth_csrf_valid(const char *s);

/* Constant-time check that sent (masked or plain) carries token:
 * 1 if it does, 0 if not or if either is malformed. */
int	 auth_csrf_equal(const char *sent, const char *token);

/* Constant-time comparison of two NUL-terminated strings: 1 if equal. */
int	 auth_equal(const char *a, const char *b);

#endif /* ZY_AUTH_H */
