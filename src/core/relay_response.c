/* An HTTP/1.1 response read in pieces (see relay_response.h). */
#include "relay_response.h"

#include <apr_strings.h>
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

typedef enum {
    S_STATUS, S_HEADERS, S_CHUNK_SIZE, S_CHUNK_DATA, S_CHUNK_END, S_TRAILERS,
    S_LENGTH, S_TO_CLOSE, S_DONE, S_FAILED
} state;

struct rc_http_response {
    state st;
    int status;
    int chunked, has_length, head_sent;
    apr_off_t left;              /* of the Content-Length or of the chunk */
    rc_buf *line;                /* a head line being read */
    char content_type[128];
    const char *error;
    rc_http_head_fn head;
    rc_http_body_fn body;
    void *ctx;
};

rc_http_response *rc_http_response_create(apr_pool_t *p, rc_http_head_fn head,
                                          rc_http_body_fn body, void *ctx)
{
    rc_http_response *h = apr_pcalloc(p, sizeof(*h));

    h->line = rc_buf_make(p, 128);
    h->head = head;
    h->body = body;
    h->ctx = ctx;
    return h;
}

static int fail(rc_http_response *h, const char *why)
{
    h->st = S_FAILED;
    h->error = why;
    return RC_HTTP_MALFORMED;
}

/* "HTTP/1.x NNN reason" */
static int status_line(rc_http_response *h, const char *l)
{
    if (strncmp(l, "HTTP/1.", 7) != 0 || !isdigit((unsigned char)l[7]) || l[8] != ' '
        || !isdigit((unsigned char)l[9]) || !isdigit((unsigned char)l[10])
        || !isdigit((unsigned char)l[11]) || (l[12] != ' ' && l[12] != '\0')) {
        return fail(h, "the backend's answer does not start with an HTTP/1.x status line");
    }
    h->status = atoi(l + 9);
    if (h->status < 100) {
        return fail(h, "the backend's answer has a status below 100");
    }
    h->chunked = h->has_length = 0;
    h->content_type[0] = '\0';
    h->st = S_HEADERS;
    return RC_HTTP_MORE;
}

/* The header's value when l is "name: value" (case-insensitive), else NULL. */
static const char *header_value(const char *l, const char *name)
{
    size_t n = strlen(name);

    if (strncasecmp(l, name, n) != 0 || l[n] != ':') {
        return NULL;
    }
    l += n + 1;
    while (*l == ' ' || *l == '\t') {
        l++;
    }
    return l;
}

static int header_line(rc_http_response *h, const char *l)
{
    const char *v;
    char *end;

    if ((v = header_value(l, "Transfer-Encoding")) != NULL) {
        /* chunked is always last when present; anything else ends at the close */
        const char *c = strstr(v, "chunked");
        h->chunked = c && (c == v || c[-1] == ' ' || c[-1] == ',');
    }
    else if ((v = header_value(l, "Content-Length")) != NULL) {
        apr_int64_t n;
        if (!isdigit((unsigned char)*v)) {
            return fail(h, "the backend sent a bad Content-Length");
        }
        n = apr_strtoi64(v, &end, 10);
        if (n < 0 || (*end && *end != ' ' && *end != '\t')
            || (h->has_length && n != h->left)) {
            return fail(h, "the backend sent a bad Content-Length");
        }
        h->has_length = 1;
        h->left = n;
    }
    else if ((v = header_value(l, "Content-Type")) != NULL) {
        apr_cpystrn(h->content_type, v, sizeof(h->content_type));
    }
    else if (!strchr(l, ':')) {
        return fail(h, "the backend sent a header line without a colon");
    }
    return RC_HTTP_MORE;
}

/* The blank line after the headers: an interim response is skipped; the
 * final one says how its body is framed. */
static int end_of_head(rc_http_response *h)
{
    if (h->status >= 100 && h->status < 200) {
        h->st = S_STATUS;
        return RC_HTTP_MORE;
    }
    h->head_sent = 1;
    if (h->head && h->head(h->ctx, h->status, h->content_type)) {
        h->st = S_FAILED;
        return RC_HTTP_ABORT;
    }
    if (h->status == 204 || h->status == 304) {
        h->st = S_DONE;
    }
    else if (h->chunked) {
        h->st = S_CHUNK_SIZE;
    }
    else if (h->has_length) {
        h->st = h->left ? S_LENGTH : S_DONE;
    }
    else {
        h->st = S_TO_CLOSE;
    }
    return h->st == S_DONE ? RC_HTTP_COMPLETE : RC_HTTP_MORE;
}

/* "hex[;extensions]" */
static int chunk_size_line(rc_http_response *h, const char *l)
{
    char *end;
    apr_int64_t n;

    if (!isxdigit((unsigned char)*l)) {
        return fail(h, "the backend sent a bad chunk size");
    }
    n = apr_strtoi64(l, &end, 16);
    if (n < 0 || (*end && *end != ';' && *end != ' ' && *end != '\t')) {
        return fail(h, "the backend sent a bad chunk size");
    }
    h->left = n;
    h->st = n ? S_CHUNK_DATA : S_TRAILERS;
    return RC_HTTP_MORE;
}

/* One complete line (without its CRLF) in a state that reads lines. */
static int on_line(rc_http_response *h, const char *l, size_t len)
{
    switch (h->st) {
    case S_STATUS:
        if (!len) {
            return RC_HTTP_MORE;       /* stray CRLF before a response: tolerated */
        }
        return status_line(h, l);
    case S_HEADERS:
        return len ? header_line(h, l) : end_of_head(h);
    case S_CHUNK_SIZE:
        return chunk_size_line(h, l);
    case S_CHUNK_END:
        if (len) {
            return fail(h, "the backend's chunk is longer than its size");
        }
        h->st = S_CHUNK_SIZE;
        return RC_HTTP_MORE;
    case S_TRAILERS:
        if (!len) {
            h->st = S_DONE;
            return RC_HTTP_COMPLETE;
        }
        return RC_HTTP_MORE;
    default:
        return fail(h, "internal: a line where none was expected");
    }
}

/* Reads line bytes from data; returns what on_line said, and *used. */
static int take_line(rc_http_response *h, const char *data, size_t len, size_t *used)
{
    const char *nl = memchr(data, '\n', len);
    size_t n = nl ? (size_t)(nl - data) + 1 : len;
    rc_buf *b = h->line;

    *used = n;
    if (b->len + n > RC_HTTP_LINE_MAX) {
        return fail(h, "the backend sent a header line that is too long");
    }
    if (rc_buf_append(b, data, nl ? n - 1 : n)) {
        return fail(h, "out of memory");
    }
    if (!nl) {
        return RC_HTTP_MORE;
    }
    if (b->len && b->data[b->len - 1] == '\r') {
        b->data[--b->len] = '\0';
    }
    {
        int rv = on_line(h, b->data, b->len);
        rc_buf_clear(b);
        return rv;
    }
}

/* Body bytes from data, as far as the framing allows. */
static int take_body(rc_http_response *h, const char *data, size_t len, size_t *used)
{
    size_t n = len;

    if (h->st != S_TO_CLOSE && (apr_off_t)n > h->left) {
        n = (size_t)h->left;
    }
    *used = n;
    if (n && h->body && h->body(h->ctx, data, n)) {
        h->st = S_FAILED;
        return RC_HTTP_ABORT;
    }
    if (h->st == S_TO_CLOSE) {
        return RC_HTTP_MORE;
    }
    h->left -= n;
    if (h->left == 0) {
        if (h->st == S_LENGTH) {
            h->st = S_DONE;
            return RC_HTTP_COMPLETE;
        }
        h->st = S_CHUNK_END;
    }
    return RC_HTTP_MORE;
}

int rc_http_response_feed(rc_http_response *h, const char *data, size_t len)
{
    int rv = RC_HTTP_MORE;

    while (len && rv == RC_HTTP_MORE) {
        size_t used = 0;

        switch (h->st) {
        case S_CHUNK_DATA:
        case S_LENGTH:
        case S_TO_CLOSE:
            rv = take_body(h, data, len, &used);
            break;
        case S_DONE:
            return RC_HTTP_COMPLETE;   /* what follows a response is not ours */
        case S_FAILED:
            return RC_HTTP_MALFORMED;
        default:
            rv = take_line(h, data, len, &used);
            break;
        }
        data += used;
        len -= used;
    }
    return rv;
}

int rc_http_response_eof(rc_http_response *h)
{
    if (h->st == S_TO_CLOSE || h->st == S_DONE) {
        h->st = S_DONE;
        return RC_HTTP_COMPLETE;
    }
    if (h->st != S_FAILED) {
        fail(h, h->head_sent ? "the backend closed the connection before the end of its answer"
                             : "the backend closed the connection before answering");
    }
    return RC_HTTP_MALFORMED;
}

int rc_http_response_has_head(const rc_http_response *h)
{
    return h->head_sent;
}

const char *rc_http_response_error(const rc_http_response *h)
{
    return h->error;
}
