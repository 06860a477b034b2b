/* Bytes as text: hex (both ways) and base64url. */
#ifndef RC_ENCODE_H
#define RC_ENCODE_H

#include <apr_pools.h>
#include <stddef.h>

/* Writes n bytes as 2*n lowercase hex digits at out (no NUL); returns the end. */
char *rc_hex_encode(char *out, const void *data, size_t n);
/* The same in uppercase, the form percent-encoding uses (RFC 3986 2.1). */
char *rc_hex_encode_upper(char *out, const void *data, size_t n);
/* The value (0..15) of the hex digit c, either case, or -1. */
int rc_hex_value(int c);
/* 1 when s[0..n) are all lowercase hex digits, the form rc_hex_encode and
 * rc_random_hex write: what session ids and login nonces are checked against. */
int rc_is_hex(const char *s, size_t n);

/* base64url without padding of n bytes, in p. */
char *rc_b64url(apr_pool_t *p, const unsigned char *data, size_t n);

#endif
