/* Incremental Server-Sent Events parser (WHATWG event-stream rules). No
 * Apache types. */
#ifndef RC_SSE_PARSE_H
#define RC_SSE_PARSE_H

#include <apr_pools.h>
#include <stddef.h>

/* Called once per dispatched event; data is NUL-terminated (multi-line data
 * joined with "\n"); event is "message" when the stream named none. A non-zero
 * return stops the parser and is returned by rc_sse_feed. */
typedef int (*rc_sse_event_fn)(void *ctx, const char *event, const char *data,
                               size_t len);

typedef struct rc_sse_parser rc_sse_parser;

#define RC_SSE_OK        0
#define RC_SSE_TOO_LARGE (-2)   /* one event or line over max_event bytes */
#define RC_SSE_NOMEM     (-3)

/* The parser's buffers are freed with p. max_event bounds one event's size. */
rc_sse_parser *rc_sse_create(apr_pool_t *p, size_t max_event, rc_sse_event_fn fn,
                             void *ctx);
/* Feeds bytes split anywhere (lines and CRLF pairs may straddle calls). */
int rc_sse_feed(rc_sse_parser *sp, const char *buf, size_t len);
/* End of input: an event whose data lines were complete but which lacked the
 * final blank line is still dispatched (lenient, as backends often close early). */
int rc_sse_finish(rc_sse_parser *sp);

#endif
