/* The event-stream response writer. */
#include "sse_out.h"
#include "json.h"

#include "http_log.h"
#include "http_protocol.h"
#include "http_request.h"
#include "util_filter.h"

APLOG_USE_MODULE(ragchat);

rc_sse_out *rc_sse_out_create(request_rec *r)
{
    rc_sse_out *o = apr_pcalloc(r->pool, sizeof(*o));

    o->r = r;
    o->bb = apr_brigade_create(r->pool, r->connection->bucket_alloc);
    o->frame = rc_buf_make(r->pool, 256);
    return o;
}

void rc_sse_out_start(rc_sse_out *o)
{
    request_rec *r = o->r;

    r->status = HTTP_OK;
    ap_set_content_type(r, "text/event-stream; charset=utf-8");
    apr_table_setn(r->headers_out, "Cache-Control", "no-cache, no-store");
    apr_table_setn(r->headers_out, "X-Accel-Buffering", "no");
    /* Compression would hold tokens back until a block fills. */
    apr_table_setn(r->subprocess_env, "no-gzip", "1");
    apr_table_setn(r->subprocess_env, "no-brotli", "1");
    apr_table_unset(r->headers_out, "Content-Length");
    o->started = 1;
}

/* Events are framed straight into o->frame; a flush hands the whole frame to
 * the filter chain as one transient bucket (core output copies it only if it
 * must set it aside), then a FLUSH. */
static int queue(rc_sse_out *o)
{
    if (o->gone) {
        return -1;
    }
    if (o->r->connection->aborted) {
        o->gone = 1;
        return -1;
    }
    return o->batch ? 0 : rc_sse_out_flush(o);
}

void rc_sse_out_batch(rc_sse_out *o)
{
    o->batch = 1;
}

int rc_sse_out_flush(rc_sse_out *o)
{
    request_rec *r = o->r;
    apr_bucket_alloc_t *ba = r->connection->bucket_alloc;
    apr_status_t rv;

    o->batch = 0;
    if (o->gone || o->frame->len == 0) {
        rc_buf_clear(o->frame);
        return o->gone ? -1 : 0;
    }
    APR_BRIGADE_INSERT_TAIL(o->bb, apr_bucket_transient_create(o->frame->data, o->frame->len, ba));
    APR_BRIGADE_INSERT_TAIL(o->bb, apr_bucket_flush_create(ba));
    rv = ap_pass_brigade(r->output_filters, o->bb);
    apr_brigade_cleanup(o->bb);
    rc_buf_clear(o->frame);
    if (rv != APR_SUCCESS || r->connection->aborted) {
        ap_log_rerror(APLOG_MARK, APLOG_DEBUG, rv, r,
                      "RC0201: the client went away; the answer is still read and saved");
        o->gone = 1;
        return -1;
    }
    return 0;
}

int rc_sse_out_event(rc_sse_out *o, const char *event, const char *json, size_t len)
{
    rc_buf *f = o->frame;

    if (o->gone) {
        return -1;
    }
    if (rc_buf_appends(f, "event: ") || rc_buf_appends(f, event)
        || rc_buf_appends(f, "\ndata: ") || rc_buf_append(f, json, len)
        || rc_buf_append(f, "\n\n", 2)) {
        return -1;
    }
    return queue(o);
}

int rc_sse_out_token(rc_sse_out *o, const char *text, size_t len)
{
    rc_buf *f = o->frame;

    if (!o->tokens++) {
        o->first_token = apr_time_now();
    }
    if (o->gone) {
        return -1;
    }
    if (rc_buf_appends(f, "event: token\ndata: {\"t\":")
        || rc_json_append_string(f, text, len) || rc_buf_append(f, "}\n\n", 3)) {
        return -1;
    }
    return queue(o);
}

void rc_sse_out_finish(rc_sse_out *o)
{
    request_rec *r = o->r;

    if (o->gone || r->connection->aborted) {
        return;
    }
    APR_BRIGADE_INSERT_TAIL(o->bb, apr_bucket_eos_create(r->connection->bucket_alloc));
    ap_pass_brigade(r->output_filters, o->bb);
    apr_brigade_cleanup(o->bb);
}
