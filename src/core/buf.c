/* A growable byte buffer freed with its pool (see buf.h). */
#include "buf.h"

#include <apr_strings.h>
#include <stdlib.h>
#include <string.h>

static apr_status_t buf_cleanup(void *data)
{
    rc_buf *b = data;

    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
    return APR_SUCCESS;
}

rc_buf *rc_buf_make(apr_pool_t *p, size_t initial)
{
    rc_buf *b = apr_pcalloc(p, sizeof(*b));

    b->cap = initial ? initial : 256;
    b->data = malloc(b->cap);
    if (!b->data) {
        abort();
    }
    b->data[0] = '\0';
    apr_pool_cleanup_register(p, b, buf_cleanup, apr_pool_cleanup_null);
    return b;
}

int rc_buf_append(rc_buf *b, const char *s, size_t n)
{
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap;
        char *grown;
        while (b->len + n + 1 > cap) {
            cap *= 2;
        }
        grown = realloc(b->data, cap);
        if (!grown) {
            return -1;
        }
        b->data = grown;
        b->cap = cap;
    }
    memcpy(b->data + b->len, s, n);
    b->len += n;
    b->data[b->len] = '\0';
    return 0;
}

int rc_buf_appends(rc_buf *b, const char *s)
{
    return rc_buf_append(b, s, strlen(s));
}

void rc_buf_clear(rc_buf *b)
{
    b->len = 0;
    b->data[0] = '\0';
}

char *rc_buf_pstrdup(apr_pool_t *p, const rc_buf *b)
{
    return apr_pstrmemdup(p, b->data, b->len);
}
