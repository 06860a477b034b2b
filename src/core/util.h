/* Small pure helpers: ids, timestamps, growable buffers, hashing, comparisons. */
#ifndef RC_UTIL_H
#define RC_UTIL_H

#include <apr_pools.h>
#include <apr_time.h>
#include <stddef.h>
#include <stdint.h>
#include "encode.h"
#include "utf8.h"

/* A uuid4 string ("xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx") in p. */
char *rc_uuid4(apr_pool_t *p);
/* 1 when s has the uuid shape (any version, lower or upper hex). */
int rc_is_uuid(const char *s);
/* UTC "YYYY-MM-DDTHH:MM:SS.ffffffZ", the format Chainlit's data layer writes. */
char *rc_timestamp(apr_pool_t *p, apr_time_t t);
/* Random bytes as lowercase hex (2*n characters). */
char *rc_random_hex(apr_pool_t *p, size_t n);

/* A growable byte buffer whose storage is freed by a cleanup of the pool it was
 * made in, so a long answer grows without leaving copies in the request pool. */
typedef struct {
    char *data;
    size_t len, cap;
} rc_buf;
rc_buf *rc_buf_make(apr_pool_t *p, size_t initial);
/* Returns 0, or -1 when memory is exhausted (the buffer is unchanged). */
int rc_buf_append(rc_buf *b, const char *s, size_t n);
int rc_buf_appends(rc_buf *b, const char *s);
void rc_buf_clear(rc_buf *b);
/* NUL-terminated copy of the content in p. */
char *rc_buf_pstrdup(apr_pool_t *p, const rc_buf *b);

/* Constant-time equality of two strings (length leaks, content does not). */
int rc_ct_streq(const char *a, const char *b);

/* SHA-256 and HMAC-SHA256 (RFC 2104); out is 32 bytes. */
void rc_sha256(const void *data, size_t len, unsigned char out[32]);
void rc_hmac_sha256(const void *key, size_t keylen, const void *msg, size_t msglen,
                    unsigned char out[32]);
/* base64url without padding of n bytes, in p. */
char *rc_b64url(apr_pool_t *p, const unsigned char *data, size_t n);

#endif
