/* SSE parser and OpenAI chunk decoding. */
#include "unit.h"
#include "sse.h"

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

static rc_delta_kind delta(apr_pool_t *p, const char *d, const char **t)
{
    size_t n;
    return rc_openai_delta(p, d, strlen(d), t, &n);
}

static void test_openai(apr_pool_t *p)
{
    const char *t;

    CHECK(delta(p, "[DONE]", &t) == RC_DELTA_DONE);
    CHECK(delta(p, " [DONE] ", &t) == RC_DELTA_DONE);
    CHECK(delta(p, "{\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Hi \\u00e9\"}}]}", &t)
          == RC_DELTA_TOKEN);
    CHECK_STR(t, "Hi \xc3\xa9");
    CHECK(delta(p, "{\"choices\":[{\"delta\":{\"role\":\"assistant\"}}]}", &t) == RC_DELTA_EMPTY);
    CHECK(delta(p, "{\"choices\":[{\"delta\":{\"content\":null}}]}", &t) == RC_DELTA_EMPTY);
    CHECK(delta(p, "{\"choices\":[{\"delta\":{\"content\":\"\"},\"finish_reason\":\"stop\"}]}", &t)
          == RC_DELTA_EMPTY);
    CHECK(delta(p, "{\"choices\":[],\"usage\":{}}", &t) == RC_DELTA_EMPTY);
    CHECK(delta(p, "not json", &t) == RC_DELTA_INVALID);
    CHECK(t && strstr(t, "not JSON"));
    CHECK(delta(p, "{\"choices\":[{\"text\":\"x\"}]}", &t) == RC_DELTA_INVALID);
    CHECK(delta(p, "[1,2]", &t) == RC_DELTA_INVALID);
    CHECK(delta(p, "{\"error\":{\"message\":\"quota exceeded\"}}", &t) == RC_DELTA_ERROR);
    CHECK_STR(t, "quota exceeded");
    CHECK(delta(p, "{\"choices\":[{\"delta\":{\"content\":\"a\\nb\"}}]}", &t) == RC_DELTA_TOKEN);
    CHECK_STR(t, "a\nb");
}

/* The fast path and jansson agree on tricky but valid and invalid chunks. */
static void test_fast_path_agrees(apr_pool_t *p)
{
    static const char *const cases[] = {
        "{\"choices\":[{\"delta\":{\"content\":\"a\\u00e9\\ud83d\\ude00\\n\\\"\"}}]}",
        "{\"id\":\"x\",\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\","
        "\"content\":\"hi\"},\"finish_reason\":null,\"logprobs\":{\"a\":[1,2.5e-3,true]}}]}",
        "{\"choices\":[{\"delta\":{\"content\":\"x\"}}]} trailing",
        "{\"choices\":[{\"delta\":{\"content\":\"\\ud800\"}}]}",
        "{\"choices\":[{\"delta\":{\"content\":\"\\u0000\"}}]}",
        "{\"choices\":[{\"delta\":{\"content\":\"a\",\"content\":\"b\"}}]}",
        "{\"choices\":[{\"delta\":{\"content\":\"\xff\"}}]}",
        "{\"choices\":[{\"delta\":{\"content\":12}}]}",
        "{\"choices\":[5,{\"delta\":{\"content\":\"x\"}}]}",
        "{\"choices\":[{\"delta\":{\"content\":\"x\"}},{\"delta\":{\"content\":\"y\"}}]}",
        "{\"choices\":[{\"delta\":{\"content\":\"x\"}}],\"error\":null}",
        "{\"choices\":[{\"delta\":{\"content\":\"x\"}}],\"n\":-0.5E+2,\"m\":01}",
        "  {\"choices\" : [ { \"delta\" : { \"content\" : \"sp\" } } ] }  ",
        "{\"choices\":[{\"delta\":{\"content\":\"tab\there\"}}]}",
        NULL
    };
    int i;

    for (i = 0; cases[i]; i++) {
        const char *a, *b;
        size_t na, nb;
        size_t len = strlen(cases[i]);
        rc_delta_kind ka = rc_openai_delta(p, cases[i], len, &a, &na);
        rc_delta_kind kb = rc_openai_delta_slow(p, cases[i], len, &b, &nb);
        CHECK(ka == kb);
        if (ka == kb && ka == RC_DELTA_TOKEN) {
            CHECK(na == nb && memcmp(a, b, na) == 0);
        }
    }
}

int main(void)
{
    apr_pool_t *p;

    apr_initialize();
    apr_pool_create(&p, NULL);
    test_framing(p);
    test_limits_and_stop(p);
    test_openai(p);
    test_fast_path_agrees(p);
    apr_pool_destroy(p);
    apr_terminate();
    return UNIT_REPORT("sse");
}
