/* The event-stream response: SSE framing of our events, one flush per event,
 * through the output filter chain (so mod_deflate, mod_http2 and friends see a
 * FLUSH after every token and never sit on one). */
#ifndef RC_SSE_OUT_H
#define RC_SSE_OUT_H

#include "httpd.h"
#include "buf.h"

typedef struct {
    request_rec *r;
    apr_bucket_brigade *bb;
    rc_buf *frame;          /* events framed and not yet passed on */
    int gone;               /* the client went away: further events are dropped */
    int started;
    int batch;              /* hold events until rc_sse_out_flush */
    unsigned long tokens;   /* token events, for the answer's log line */
    apr_time_t first_token; /* when the first one was queued (0: none yet) */
} rc_sse_out;

rc_sse_out *rc_sse_out_create(request_rec *r);
/* Sets the response headers of an event stream (text/event-stream, no-cache,
 * no-gzip, no proxy buffering). Call before the first event. */
void rc_sse_out_start(rc_sse_out *o);
/* Sends "event: NAME\ndata: JSON\n\n" and flushes. Returns 0, or -1 once the
 * client is gone (the caller goes on without it). */
int rc_sse_out_event(rc_sse_out *o, const char *event, const char *json, size_t len);
/* A token event {"t": …} built without an intermediate JSON value. */
int rc_sse_out_token(rc_sse_out *o, const char *text, size_t len);
/* Between rc_sse_out_batch and rc_sse_out_flush, events are gathered and go
 * out together with one FLUSH: the relay gathers the tokens of one pass over
 * the backend's socket, which arrived together, and so costs one write, not
 * one per token. */
void rc_sse_out_batch(rc_sse_out *o);
int rc_sse_out_flush(rc_sse_out *o);
/* Ends the response (EOS). */
void rc_sse_out_finish(rc_sse_out *o);

#endif
