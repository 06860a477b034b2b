/* An HTTP/1.1 response read as it arrives, in pieces of any size: the status
 * line, the headers (interim 1xx responses skipped), then the body with its
 * chunked framing removed (or as long as Content-Length says, or to the end
 * of the connection). For the chat relay's own client (backend_http.c): it
 * holds a line being read and a few fields, nothing per byte of body. */
#ifndef RC_RELAY_RESPONSE_H
#define RC_RELAY_RESPONSE_H

#include <apr_pools.h>
#include "buf.h"

/* The response's head: its final status and Content-Type ("" without one).
 * Non-zero stops the reading (rc_http_response_feed returns RC_HTTP_ABORT). */
typedef int (*rc_http_head_fn)(void *ctx, int status, const char *content_type);
/* A piece of the body. Non-zero stops the reading. */
typedef int (*rc_http_body_fn)(void *ctx, const char *data, size_t len);

typedef struct rc_http_response rc_http_response;

/* A head line (status or header) may be at most this long. */
#define RC_HTTP_LINE_MAX 16384

rc_http_response *rc_http_response_create(apr_pool_t *p, rc_http_head_fn head,
                                          rc_http_body_fn body, void *ctx);

enum {
    RC_HTTP_MORE = 0,            /* fed; the response goes on */
    RC_HTTP_COMPLETE = 1,        /* the whole response has arrived */
    RC_HTTP_MALFORMED = -1,      /* not HTTP/1.x, or broken framing */
    RC_HTTP_ABORT = -2           /* a callback said stop */
};
/* Feeds what was read. After COMPLETE, MALFORMED or ABORT it must not be fed
 * again. */
int rc_http_response_feed(rc_http_response *h, const char *data, size_t len);
/* The connection ended: COMPLETE when that ends the response (a body that
 * runs to the end of the connection), else MALFORMED. */
int rc_http_response_eof(rc_http_response *h);
/* 1 once the head has been read. */
int rc_http_response_has_head(const rc_http_response *h);
/* What was wrong, for the log (after MALFORMED). */
const char *rc_http_response_error(const rc_http_response *h);

#endif
