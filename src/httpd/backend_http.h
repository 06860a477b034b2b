/* The chat relay's own HTTP/1.1 client for a plain http:// backend: one POST
 * on an APR socket, its response read as it arrives (relay_response.h). Per
 * open stream it holds a socket and a 1 KiB read buffer, where libcurl's
 * handles, connection and caches held about 20 KiB (issue #12: memory per
 * open stream); https:// backends and uploads still go through libcurl. */
#ifndef RC_BACKEND_HTTP_H
#define RC_BACKEND_HTTP_H

#include "httpd.h"
#include "relay_response.h"
#include "apr_uri.h"

typedef struct {
    rc_http_head_fn head;
    rc_http_body_fn body;
    /* Before each batch of reads. */
    void (*batch)(void *ctx);
    /* After each batch of reads, and every RC_HTTP_TICK while nothing comes
     * (more: 1 while the response goes on, 0 at its end). Non-zero stops. */
    int (*tick)(void *ctx, int more);
} rc_http_hooks;

#define RC_HTTP_TICK apr_time_from_msec(100)

typedef enum {
    RC_HTTP_OK = 0,              /* the whole response arrived */
    RC_HTTP_UNREACHABLE,         /* no address, or every connect refused */
    RC_HTTP_CONNECT_TIMEOUT,
    RC_HTTP_SEND_FAILED,
    RC_HTTP_BROKEN,              /* the connection failed or ended early */
    RC_HTTP_BAD_RESPONSE,        /* not HTTP/1.x, or broken framing */
    RC_HTTP_ABORTED,             /* head or body said stop */
    RC_HTTP_STOPPED              /* tick said stop */
} rc_http_end;

/* 1 when url (the backend + a path) is for this client: http://, no user
 * name or password in it; *u is then the URL, parsed. */
int rc_http_can_post(apr_pool_t *p, const char *url, apr_uri_t *u);

/* POSTs body to u (rc_http_can_post's) with headers ("Name: value", NULL-terminated, besides
 * Host, Content-Length, Connection: close and our User-Agent), connecting
 * within connect_timeout and sending within send_timeout. *why says what
 * failed, for the log. */
rc_http_end rc_http_post(request_rec *r, const apr_uri_t *u, const char *const *headers,
                         const char *body, apr_size_t len,
                         apr_interval_time_t connect_timeout, apr_interval_time_t send_timeout,
                         const rc_http_hooks *hooks, void *ctx, const char **why);

#endif
