/* Incremental Server-Sent Events parser and OpenAI chunk decoding. */
#include "sse.h"
#include "json.h"
#include "util.h"

#include <apr_strings.h>
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

    sp->line = rc_buf_make(p, 512);
    sp->data = rc_buf_make(p, 512);
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

static int is_done_marker(const char *d, size_t n)
{
    while (n && (d[n - 1] == ' ' || d[n - 1] == '\t')) {
        n--;
    }
    while (n && (*d == ' ' || *d == '\t')) {
        d++;
        n--;
    }
    return n == 6 && memcmp(d, "[DONE]", 6) == 0;
}

rc_delta_kind rc_openai_delta(apr_pool_t *p, const char *data, size_t len,
                              const char **text, size_t *text_len)
{
    json_error_t e;
    json_t *j, *choices, *choice, *delta, *content, *err;
    rc_delta_kind kind;

    *text = NULL;
    *text_len = 0;
    if (is_done_marker(data, len)) {
        return RC_DELTA_DONE;
    }
    j = json_loadb(data, len, 0, &e);
    if (!j) {
        *text = apr_psprintf(p, "backend sent a chunk that is not JSON (%s)", e.text);
        *text_len = strlen(*text);
        return RC_DELTA_INVALID;
    }
    err = json_is_object(j) ? json_object_get(j, "error") : NULL;
    choices = json_is_object(j) ? json_object_get(j, "choices") : NULL;
    choice = json_is_array(choices) ? json_array_get(choices, 0) : NULL;
    delta = json_is_object(choice) ? json_object_get(choice, "delta") : NULL;
    if (err && !delta) {
        const char *m = json_is_string(err) ? json_string_value(err)
                      : rc_json_get_str(err, "message");
        *text = apr_pstrdup(p, m ? m : "backend reported an error");
        *text_len = strlen(*text);
        kind = RC_DELTA_ERROR;
    }
    else if (!json_is_object(delta)) {
        /* An empty choices list is legal (usage-only chunks); say so quietly. */
        if (json_is_array(choices) && json_array_size(choices) == 0) {
            kind = RC_DELTA_EMPTY;
        }
        else {
            *text = "backend sent a chunk without choices[0].delta";
            *text_len = strlen(*text);
            kind = RC_DELTA_INVALID;
        }
    }
    else {
        content = json_object_get(delta, "content");
        if (json_is_string(content) && json_string_length(content) > 0) {
            *text_len = json_string_length(content);
            *text = apr_pstrmemdup(p, json_string_value(content), *text_len);
            kind = RC_DELTA_TOKEN;
        }
        else {
            kind = RC_DELTA_EMPTY;   /* role-only, finish_reason, or null content */
        }
    }
    json_decref(j);
    return kind;
}
