/* libFuzzer target: the multipart scanner fed the input (after a first byte
 * choosing a split position) in one piece, split in two there, and byte by
 * byte for short inputs. Checks: the callbacks come in order, body bytes
 * never exceed the input, and every way of splitting gives the same parts,
 * bytes and result. Names go through rc_mp_clean_filename and the
 * re-encoding, whose output must scan back to the same names. */
#include "multipart.h"

#include <apr_general.h>
#include <apr_strings.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define BOUNDARY "fuzzB"

typedef struct {
    apr_pool_t *p;
    int in_part, parts, ends;
    size_t data;
    uint64_t hash;
    const char *last_name, *last_clean;
} digest;

static void mix(digest *d, const void *buf, size_t len)
{
    const unsigned char *s = buf;
    size_t i;

    for (i = 0; i < len; i++) {
        d->hash = (d->hash ^ s[i]) * 1099511628211ull;
    }
}

static int rt_part(void *ctx, const char *name, const char *filename, const char *ctype)
{
    const char **want = ctx;

    (void)ctype;
    if (strcmp(name, want[0]) != 0 || !filename || strcmp(filename, want[1]) != 0) {
        abort();   /* the re-encoding did not scan back to the same names */
    }
    return 0;
}

static int on_part(void *ctx, const char *name, const char *filename, const char *ctype)
{
    digest *d = ctx;

    if (d->in_part || !name) {
        abort();
    }
    d->in_part = 1;
    d->parts++;
    mix(d, name, strlen(name) + 1);
    mix(d, filename ? filename : "\x01", filename ? strlen(filename) + 1 : 1);
    mix(d, ctype ? ctype : "\x01", ctype ? strlen(ctype) + 1 : 1);
    if (filename) {
        const char *c = rc_mp_clean_filename(d->p, filename);
        size_t n = strlen(c);
        if (!n || n > 255 || strchr(c, '/') || strchr(c, '\\') || c[0] == '.'
            || c[n - 1] == '.' || c[n - 1] == ' ') {
            abort();
        }
        for (; *c; c++) {
            if ((unsigned char)*c < 0x20 || *c == 0x7f) {
                abort();
            }
        }
        d->last_name = apr_pstrdup(d->p, name);
        d->last_clean = rc_mp_clean_filename(d->p, filename);
    }
    return 0;
}

static int on_data(void *ctx, const char *buf, size_t len)
{
    digest *d = ctx;

    if (!d->in_part || !len) {
        abort();
    }
    d->data += len;
    mix(d, buf, len);
    return 0;
}

static int on_end(void *ctx)
{
    digest *d = ctx;

    if (!d->in_part) {
        abort();
    }
    d->in_part = 0;
    d->ends++;
    mix(d, "|", 1);
    return 0;
}

/* Feeds data split at the given positions; returns the final code. */
static int scan(apr_pool_t *p, const uint8_t *data, size_t size, size_t step, size_t split,
                digest *d)
{
    rc_mp *m = rc_mp_create(p, BOUNDARY, on_part, on_data, on_end, d);
    size_t pos = 0;
    int rc = 0;

    memset(d, 0, sizeof(*d));
    d->p = p;
    d->hash = 14695981039346656037ull;
    if (step) {
        for (pos = 0; pos < size && !rc; pos += step) {
            rc = rc_mp_feed(m, (const char *)data + pos, size - pos < step ? size - pos : step);
        }
    }
    else {
        rc = rc_mp_feed(m, (const char *)data, split);
        if (!rc) {
            rc = rc_mp_feed(m, (const char *)data + split, size - split);
        }
    }
    if (!rc) {
        rc = rc_mp_finish(m);
    }
    if (d->data > size || d->ends > d->parts || (rc != 0) != (rc_mp_error(m) != NULL)) {
        abort();
    }
    mix(d, &rc, sizeof(rc));
    return rc;
}

static int same(const digest *a, const digest *b)
{
    return a->parts == b->parts && a->ends == b->ends && a->data == b->data && a->hash == b->hash;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int initialized;
    apr_pool_t *p;
    digest one, two, bytes;
    size_t split;

    if (!initialized) {
        apr_initialize();
        initialized = 1;
    }
    if (!size) {
        return 0;
    }
    split = data[0] % size;
    data++;
    size--;
    apr_pool_create(&p, NULL);
    scan(p, data, size, size ? size : 1, 0, &one);
    scan(p, data, size, 0, split, &two);
    if (!same(&one, &two)) {
        abort();
    }
    if (size <= 4096) {
        scan(p, data, size, 1, 0, &bytes);
        if (!same(&one, &bytes)) {
            abort();
        }
    }
    /* The content type parser on the input as a header value. */
    {
        const char *b = rc_mp_boundary(p, apr_pstrmemdup(p, (const char *)data, size));
        if (b && (!*b || strlen(b) > 70 || strpbrk(b, "\r\n"))) {
            abort();
        }
    }
    /* Re-encoding round trip of the last file's name. */
    if (one.last_name) {
        const char *want[2];
        const char *body;
        rc_mp *m;
        apr_pool_t *q;

        want[0] = one.last_name;
        want[1] = one.last_clean;
        apr_pool_create(&q, p);
        m = rc_mp_create(q, "rt", rt_part, NULL, NULL, (void *)want);
        body = apr_pstrcat(q, rc_mp_part_head(q, "rt", want[0], want[1], "text/plain"),
                           rc_mp_tail(q, "rt"), NULL);
        /* names with control characters lose them in the head: compare then */
        if (!strpbrk(want[0], "\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c\x0d\x0e\x0f"
                               "\x10\x11\x12\x13\x14\x15\x16\x17\x18\x19\x1a\x1b\x1c\x1d\x1e\x1f\x7f")
            && strlen(body) < RC_MP_HEADERS_MAX) {
            if (rc_mp_feed(m, body, strlen(body)) != 0 || rc_mp_finish(m) != 0) {
                abort();
            }
        }
    }
    apr_pool_destroy(p);
    return 0;
}
