/* The relay's HTTP/1.1 response reader: framing at every split, interim
 * responses, lengths, chunks, the end of the connection, bad input. */
#include "unit.h"
#include "relay_response.h"

#include <apr_general.h>
#include <apr_strings.h>
#include <stdlib.h>

typedef struct {
    apr_pool_t *p;
    int status, heads;
    char ctype[128];
    char *body;
    int stop_head;
} seen;

static int on_head(void *ctx, int status, const char *ct)
{
    seen *s = ctx;

    s->status = status;
    s->heads++;
    apr_cpystrn(s->ctype, ct, sizeof(s->ctype));
    return s->stop_head;
}

static int on_body(void *ctx, const char *data, size_t len)
{
    seen *s = ctx;

    s->body = apr_pstrcat(s->p, s->body, apr_pstrndup(s->p, data, len), NULL);
    return 0;
}

/* Feeds text in pieces cut at a and b; returns the last word, after the
 * connection's end when eof. */
static int feed3(apr_pool_t *p, seen *s, const char *text, size_t a, size_t b, int eof)
{
    rc_http_response *h = rc_http_response_create(p, on_head, on_body, s);
    size_t n = strlen(text), cuts[4] = { 0, a, b, n };
    int i, rv = RC_HTTP_MORE;

    memset(s, 0, sizeof(*s));
    s->p = p;
    s->body = "";
    for (i = 0; i < 3 && rv == RC_HTTP_MORE; i++) {
        if (cuts[i + 1] > cuts[i]) {
            rv = rc_http_response_feed(h, text + cuts[i], cuts[i + 1] - cuts[i]);
        }
    }
    if (rv == RC_HTTP_MORE && eof) {
        rv = rc_http_response_eof(h);
    }
    return rv;
}

/* The same outcome, status and body for every way of cutting text in three. */
static void check_all_splits(apr_pool_t *p, const char *text, int eof, int want_rv,
                             int want_status, const char *want_body)
{
    size_t n = strlen(text), a, b;
    int bad = 0;
    seen s;

    for (a = 0; a <= n && !bad; a++) {
        for (b = a; b <= n && !bad; b++) {
            int rv = feed3(p, &s, text, a, b, eof);
            if (rv != want_rv || (want_status && (s.status != want_status || s.heads != 1))
                || (want_body && strcmp(s.body, want_body) != 0)) {
                fprintf(stderr, "split %zu/%zu of [%s]: rv %d status %d heads %d body [%s]\n",
                        a, b, text, rv, s.status, s.heads, s.body);
                bad = 1;
            }
        }
    }
    CHECK(!bad);
}

int main(void)
{
    apr_pool_t *p;
    seen s;

    apr_initialize();
    apr_pool_create(&p, NULL);

    /* chunked, with an extension and a trailer */
    check_all_splits(p, "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n"
                     "Transfer-Encoding: chunked\r\n\r\n5;x=y\r\nhello\r\n1\r\n \r\n"
                     "5\r\nworld\r\n0\r\nX-Trailer: 1\r\n\r\n", 0, RC_HTTP_COMPLETE, 200,
                     "hello world");
    feed3(p, &s, "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n\r\n", 0, 0, 0);
    CHECK_STR(s.ctype, "text/event-stream");
    /* Content-Length, header names in any case, bare LF line ends */
    check_all_splits(p, "HTTP/1.1 201 Created\ncontent-length: 4\n\nabcdEXTRA", 0,
                     RC_HTTP_COMPLETE, 201, "abcd");
    /* to the end of the connection */
    check_all_splits(p, "HTTP/1.0 200 OK\r\n\r\ndata: x\n\n", 1, RC_HTTP_COMPLETE, 200,
                     "data: x\n\n");
    /* interim responses are skipped: one head, the final one */
    check_all_splits(p, "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early\r\nLink: x\r\n\r\n"
                     "HTTP/1.1 503 Busy\r\nContent-Length: 2\r\n\r\nno", 0, RC_HTTP_COMPLETE,
                     503, "no");
    /* no body */
    CHECK(feed3(p, &s, "HTTP/1.1 204 No Content\r\n\r\n", 0, 0, 0) == RC_HTTP_COMPLETE);
    CHECK(feed3(p, &s, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", 0, 0, 0)
          == RC_HTTP_COMPLETE);
    /* cut short: by the connection's end, in the head, a chunk or a length */
    check_all_splits(p, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhel", 1,
                     RC_HTTP_MALFORMED, 200, "hel");
    check_all_splits(p, "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc", 1,
                     RC_HTTP_MALFORMED, 200, "abc");
    CHECK(feed3(p, &s, "HTTP/1.1 200 OK\r\nContent-", 0, 0, 1) == RC_HTTP_MALFORMED);
    CHECK(s.heads == 0);
    CHECK(feed3(p, &s, "", 0, 0, 1) == RC_HTTP_MALFORMED);
    /* not HTTP, bad numbers, bad framing */
    check_all_splits(p, "SSH-2.0-OpenSSH\r\n\r\n", 0, RC_HTTP_MALFORMED, 0, NULL);
    CHECK(feed3(p, &s, "HTTP/1.1 2000 OK\r\n\r\n", 0, 0, 0) == RC_HTTP_MALFORMED);
    CHECK(feed3(p, &s, "HTTP/1.1 099 Low\r\n\r\n", 0, 0, 0) == RC_HTTP_MALFORMED);
    CHECK(feed3(p, &s, "HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n", 0, 0, 0)
          == RC_HTTP_MALFORMED);
    CHECK(feed3(p, &s, "HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\n",
                0, 0, 0) == RC_HTTP_MALFORMED);
    CHECK(feed3(p, &s, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", 0, 0, 0)
          == RC_HTTP_MALFORMED);
    CHECK(feed3(p, &s, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabc\r\n",
                0, 0, 0) == RC_HTTP_MALFORMED);
    CHECK(feed3(p, &s, "HTTP/1.1 200 OK\r\nno colon here\r\n\r\n", 0, 0, 0)
          == RC_HTTP_MALFORMED);
    /* a head line over the limit */
    {
        char *big = malloc(RC_HTTP_LINE_MAX + 64);
        strcpy(big, "HTTP/1.1 200 OK\r\nX-Big: ");
        memset(big + strlen(big), 'a', RC_HTTP_LINE_MAX);
        big[RC_HTTP_LINE_MAX + 20] = '\0';
        CHECK(feed3(p, &s, big, 100, 200, 0) == RC_HTTP_MALFORMED);
        free(big);
    }
    /* the head callback stops it */
    {
        rc_http_response *h;
        memset(&s, 0, sizeof(s));
        s.p = p;
        s.body = "";
        s.stop_head = 1;
        h = rc_http_response_create(p, on_head, on_body, &s);
        CHECK(rc_http_response_feed(h, "HTTP/1.1 200 OK\r\n\r\nbody", 23) == RC_HTTP_ABORT);
        CHECK(strcmp(s.body, "") == 0);
    }
    apr_pool_destroy(p);
    apr_terminate();
    return UNIT_REPORT("relay_response");
}
