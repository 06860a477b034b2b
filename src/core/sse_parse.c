/* Incremental Server-Sent Events parser (see sse_parse.h). */
#include "sse_parse.h"
#include "buf.h"

#include <string.h>

struct rc_sse_parser {
    rc_buf *line;        /* the current, incomplete line */
    rc_buf *data;        /* data lines of the current event */
    rc_buf *event;       /* the event name, empty for "message" */
    int have_data;       /* a data field was seen in this event */
    int after_cr;        /* last byte was CR: a following LF belongs to it */
    int stopped;         /* a callback returned non-zero; ignore further input */
    size_t max_event;
    rc_sse_event_fn fn;
    void *ctx;
};

rc_sse_parser *rc_sse_create(apr_pool_t *p, size_t max_event, rc_sse_event_fn fn,
                             void *ctx)
{
    rc_sse_parser *sp = apr_pcalloc(p, sizeof(*sp));

    sp->line = rc_buf_make(p, 128);
    sp->data = rc_buf_make(p, 128);
    sp->event = rc_buf_make(p, 32);
    sp->max_event = max_event;
    sp->fn = fn;
    sp->ctx = ctx;
    return sp;
}

static int dispatch(rc_sse_parser *sp)
{
    int rv = RC_SSE_OK;

    if (sp->have_data) {
        rv = sp->fn(sp->ctx, sp->event->len ? sp->event->data : "message",
                    sp->data->data, sp->data->len);
    }
    rc_buf_clear(sp->data);
    rc_buf_clear(sp->event);
    sp->have_data = 0;
    return rv;
}

/* One complete line (without its terminator). */
static int process_line(rc_sse_parser *sp, const char *l, size_t n)
{
    const char *colon;
    size_t flen;
    const char *val;
    size_t vlen;

    if (n == 0) {
        return dispatch(sp);
    }
    if (l[0] == ':') {
        return RC_SSE_OK;                      /* comment, e.g. ": ping" */
    }
    colon = memchr(l, ':', n);
    flen = colon ? (size_t)(colon - l) : n;
    val = colon ? colon + 1 : l + n;
    vlen = colon ? n - flen - 1 : 0;
    if (vlen && *val == ' ') {
        val++;
        vlen--;
    }
    if (flen == 4 && memcmp(l, "data", 4) == 0) {
        if (sp->data->len + vlen + 1 > sp->max_event) {
            return RC_SSE_TOO_LARGE;
        }
        if ((sp->have_data && rc_buf_append(sp->data, "\n", 1))
            || rc_buf_append(sp->data, val, vlen)) {
            return RC_SSE_NOMEM;
        }
        sp->have_data = 1;
    }
    else if (flen == 5 && memcmp(l, "event", 5) == 0) {
        rc_buf_clear(sp->event);
        if (vlen > 64) {
            vlen = 64;    /* event names we care about are short */
        }
        if (rc_buf_append(sp->event, val, vlen)) {
            return RC_SSE_NOMEM;
        }
    }
    /* id, retry and unknown fields are ignored: we never reconnect. */
    return RC_SSE_OK;
}

int rc_sse_feed(rc_sse_parser *sp, const char *buf, size_t len)
{
    size_t i = 0;
    int rv;

    if (sp->stopped) {
        return sp->stopped;
    }
    while (i < len) {
        size_t start = i;
        const char *l;
        size_t n;

        if (sp->after_cr) {
            sp->after_cr = 0;
            if (buf[i] == '\n') {
                i++;
                continue;
            }
        }
        while (i < len && buf[i] != '\n' && buf[i] != '\r') {
            i++;
        }
        if (i == len) {
            /* Incomplete line: keep it for the next read. */
            if (sp->line->len + (i - start) > sp->max_event) {
                return sp->stopped = RC_SSE_TOO_LARGE;
            }
            if (rc_buf_append(sp->line, buf + start, i - start)) {
                return sp->stopped = RC_SSE_NOMEM;
            }
            break;
        }
        if (sp->line->len) {
            if (rc_buf_append(sp->line, buf + start, i - start)) {
                return sp->stopped = RC_SSE_NOMEM;
            }
            l = sp->line->data;
            n = sp->line->len;
        }
        else {
            l = buf + start;     /* the common case: no copy */
            n = i - start;
        }
        sp->after_cr = buf[i] == '\r';
        i++;
        rv = process_line(sp, l, n);
        rc_buf_clear(sp->line);
        if (rv) {
            return sp->stopped = rv;
        }
    }
    return RC_SSE_OK;
}

int rc_sse_finish(rc_sse_parser *sp)
{
    int rv;

    if (sp->stopped) {
        return sp->stopped;
    }
    if (sp->line->len) {
        rv = process_line(sp, sp->line->data, sp->line->len);
        rc_buf_clear(sp->line);
        if (rv) {
            return sp->stopped = rv;
        }
    }
    return dispatch(sp);
}
