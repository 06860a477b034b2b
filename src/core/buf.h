/* A growable byte buffer whose storage is freed by a cleanup of the pool it was
 * made in, so a long answer grows without leaving copies in the request pool. */
#ifndef RC_BUF_H
#define RC_BUF_H

#include <apr_pools.h>
#include <stddef.h>

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

#endif
