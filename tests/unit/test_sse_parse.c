/* The SSE parser: framing at every split, limits, stopping. */
#include "unit.h"
#include "sse_parse.h"

#include <apr_general.h>
#include <apr_strings.h>
#include <stdlib.h>

typedef struct {
    apr_pool_t *p;
    char *log;          /* "event=data|" per dispatched event */
    int count;
    int stop_at;        /* return non-zero on this event number (1-based) */
} collector;

static int collect(void *ctx, const char *event, const char *data, size_t len)
{
    collector *c = ctx;

    c->count++;
    CHECK(strlen(data) == len);
    c->log = apr_pstrcat(c->p, c->log, event, "=", data, "|", NULL);
    return c->count == c->stop_at ? 7 : 0;
}

/* Feeds text split at every pair of positions and checks the events are the same. */
static void check_all_splits(apr_pool_t *p, const char *text, const char *want)
{
    size_t n = strlen(text), a, b;
    int bad = 0;

    for (a = 0; a <= n; a++) {
        for (b = a; b <= n; b++) {
            collector c = { p, "", 0, 0 };
            rc_sse_parser *sp = rc_sse_create(p, 1 << 16, collect, &c);
            rc_sse_feed(sp, text, a);
            rc_sse_feed(sp, text + a, b - a);
            rc_sse_feed(sp, text + b, n - b);
            rc_sse_finish(sp);
            if (strcmp(c.log, want) != 0) {
                if (!bad) {
                    fprintf(stderr, "split %zu/%zu: got [%s] want [%s]\n", a, b, c.log, want);
                }
                bad++;
            }
        }
    }
    CHECK(bad == 0);
}

static void test_framing(apr_pool_t *p)
{
    check_all_splits(p, "data: a\n\ndata: b\n\n", "message=a|message=b|");
    check_all_splits(p, "data: a\r\n\r\ndata: b\r\n\r\n", "message=a|message=b|");
    check_all_splits(p, "data: a\r\rdata: b\r\r", "message=a|message=b|");
    check_all_splits(p, ": ping\n\ndata: x\n: c\n\n", "message=x|");
    check_all_splits(p, "data: l1\ndata: l2\ndata:l3\n\n", "message=l1\nl2\nl3|");
    check_all_splits(p, "event: token\ndata: {\"t\":1}\n\nevent: x\n\n", "token={\"t\":1}|");
    check_all_splits(p, "id: 4\nretry: 10\nfoo: bar\ndata\n\n", "message=|");
    /* No final blank line: still dispatched at the end (lenient). */
    check_all_splits(p, "data: tail\n", "message=tail|");
    check_all_splits(p, "data: tail", "message=tail|");
    check_all_splits(p, "data: [DONE]\n\n", "message=[DONE]|");
}

static void test_limits_and_stop(apr_pool_t *p)
{
    collector c = { p, "", 0, 0 };
    rc_sse_parser *sp = rc_sse_create(p, 16, collect, &c);
    char big[64];

    memset(big, 'x', sizeof(big));
    CHECK(rc_sse_feed(sp, "data: ", 6) == RC_SSE_OK);
    CHECK(rc_sse_feed(sp, big, sizeof(big)) == RC_SSE_TOO_LARGE);
    CHECK(rc_sse_feed(sp, "\n\n", 2) == RC_SSE_TOO_LARGE);
    CHECK(c.count == 0);

    c = (collector){ p, "", 0, 0 };
    sp = rc_sse_create(p, 16, collect, &c);
    CHECK(rc_sse_feed(sp, "data: 0123456789\ndata: 0123456789\n\n", 36) == RC_SSE_TOO_LARGE);

    c = (collector){ p, "", 0, 2 };
    sp = rc_sse_create(p, 1024, collect, &c);
    CHECK(rc_sse_feed(sp, "data: 1\n\ndata: 2\n\ndata: 3\n\n", 27) == 7);
    CHECK(c.count == 2);
    CHECK(rc_sse_feed(sp, "data: 4\n\n", 9) == 7);
    CHECK(c.count == 2);
}

int main(void)
{
    apr_pool_t *p;

    apr_initialize();
    apr_pool_create(&p, NULL);
    test_framing(p);
    test_limits_and_stop(p);
    apr_pool_destroy(p);
    apr_terminate();
    return UNIT_REPORT("sse_parse");
}
