/* SHA-256, HMAC-SHA256 and a constant-time string comparison, for session
 * cookies, CSRF tokens and stored password hashes. */
#ifndef RC_CRYPTO_H
#define RC_CRYPTO_H

#include <stddef.h>

/* Constant-time equality of two strings (length leaks, content does not). */
int rc_ct_streq(const char *a, const char *b);

/* SHA-256 and HMAC-SHA256 (RFC 2104); out is 32 bytes. */
void rc_sha256(const void *data, size_t len, unsigned char out[32]);
void rc_hmac_sha256(const void *key, size_t keylen, const void *msg, size_t msglen,
                    unsigned char out[32]);

#endif
