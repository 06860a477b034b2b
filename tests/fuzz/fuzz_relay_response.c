/* libFuzzer target: a backend's HTTP response, as the relay's own client
 * reads it (relay_response.c), in pieces cut at positions taken from the
 * input, its body fed on to the SSE parser. The same bytes in one piece and
 * in three must give the same body and the same outcome. */
#include "buf.h"
#include "relay_response.h"
#include "sse_parse.h"

#include <apr_general.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    rc_buf *body;
    rc_sse_parser *sse;
    int heads;
} fuzz_ctx;

static int on_head(void *ctx, int status, const char *content_type)
{
    fuzz_ctx *f = ctx;

    if (status < 100 || status > 999 || !content_type) {
        abort();
    }
    f->heads++;
    return 0;
}

static int on_body(void *ctx, const char *data, size_t len)
{
    fuzz_ctx *f = ctx;

    rc_buf_append(f->body, data, len);
    rc_sse_feed(f->sse, data, len);
    return 0;
}

static int on_event(void *ctx, const char *event, const char *data, size_t len)
{
    (void)ctx;
    (void)event;
    (void)data;
    (void)len;
    return 0;
}

/* Feeds data cut at a and b, then the end of the connection. */
static int run(apr_pool_t *p, const char *data, size_t size, size_t a, size_t b, rc_buf **body)
{
    fuzz_ctx f;
    rc_http_response *h;
    size_t cuts[4] = { 0, a, b, size };
    int i, rv = RC_HTTP_MORE;

    memset(&f, 0, sizeof(f));
    f.body = rc_buf_make(p, 64);
    f.sse = rc_sse_create(p, 1 << 16, on_event, &f);
    h = rc_http_response_create(p, on_head, on_body, &f);
    for (i = 0; i < 3 && rv == RC_HTTP_MORE; i++) {
        if (cuts[i + 1] > cuts[i]) {
            rv = rc_http_response_feed(h, data + cuts[i], cuts[i + 1] - cuts[i]);
        }
    }
    if (rv == RC_HTTP_MORE) {
        rv = rc_http_response_eof(h);
    }
    if (f.heads > 1 || (rv == RC_HTTP_MALFORMED && !rc_http_response_error(h))) {
        abort();
    }
    rc_sse_finish(f.sse);
    *body = f.body;
    return rv;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int initialized;
    apr_pool_t *p;
    rc_buf *whole, *cut;
    size_t a = size ? data[0] % (size + 1) : 0;
    size_t b = size > 1 ? a + data[1] % (size - a + 1) : a;
    int rv1, rv3;

    if (!initialized) {
        apr_initialize();
        initialized = 1;
    }
    apr_pool_create(&p, NULL);
    rv1 = run(p, (const char *)data, size, size, size, &whole);
    rv3 = run(p, (const char *)data, size, a, b, &cut);
    if (rv1 != rv3 || whole->len != cut->len || memcmp(whole->data, cut->data, whole->len)) {
        abort();
    }
    apr_pool_destroy(p);
    return 0;
}
