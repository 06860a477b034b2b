/* libFuzzer target: the backend's event stream, split at a position taken from
 * the input, through the SSE parser, the OpenAI chunk decoder and the
 * cleaning rules (display and export), as the chat relay runs them. */
#include "buf.h"
#include "clean.h"
#include "json.h"
#include "openai_chunk.h"
#include "sse_parse.h"

#include <apr_general.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    apr_pool_t *p;
    rc_buf *answer;
} fuzz_ctx;

static int on_event(void *ctx, const char *event, const char *data, size_t len)
{
    fuzz_ctx *f = ctx;
    const char *text;
    size_t n;

    rc_delta_kind kind, slow;
    const char *stext;
    size_t sn;

    (void)event;
    kind = rc_openai_delta(f->p, data, len, &text, &n);
    /* The allocation-free fast path must agree with the jansson path. */
    slow = rc_openai_delta_slow(f->p, data, len, &stext, &sn);
    if (kind != slow || (kind == RC_DELTA_TOKEN && (n != sn || memcmp(text, stext, n)))) {
        abort();
    }
    if (kind == RC_DELTA_TOKEN) {
        rc_buf_append(f->answer, text, n);
        rc_json_append_string(f->answer, text, n);
    }
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int initialized;
    apr_pool_t *p;
    fuzz_ctx f;
    rc_sse_parser *sp;
    size_t split = size ? data[0] % (size + 1) : 0;
    int pending;

    if (!initialized) {
        apr_initialize();
        initialized = 1;
    }
    apr_pool_create(&p, NULL);
    f.p = p;
    f.answer = rc_buf_make(p, 64);
    sp = rc_sse_create(p, 1 << 16, on_event, &f);
    rc_sse_feed(sp, (const char *)data, split);
    rc_sse_feed(sp, (const char *)data + split, size - split);
    rc_sse_finish(sp);
    rc_clean_display_offset((const char *)data, size, &pending);
    rc_clean_display(p, (const char *)data, size);
    rc_clean_export(p, (const char *)data, size);
    rc_clean_export(p, f.answer->data, f.answer->len);
    apr_pool_destroy(p);
    return 0;
}
