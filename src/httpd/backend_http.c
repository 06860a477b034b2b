/* The chat relay's own HTTP/1.1 client (see backend_http.h). */
#include "backend_http.h"

#include "apr_strings.h"
#include "apr_network_io.h"

#define RC_HTTP_READ 1024

int rc_http_can_post(apr_pool_t *p, const char *url, apr_uri_t *u)
{
    return apr_uri_parse(p, url, u) == APR_SUCCESS && u->scheme && u->hostname
        && strcasecmp(u->scheme, "http") == 0 && !u->user && !u->password;
}

/* Tries each address of the name in turn. */
static rc_http_end connect_to(request_rec *r, const apr_uri_t *u, apr_interval_time_t timeout,
                              apr_socket_t **s, const char **why)
{
    apr_sockaddr_t *sa = NULL;
    apr_port_t port = u->port ? u->port : 80;
    apr_status_t rv = apr_sockaddr_info_get(&sa, u->hostname, APR_UNSPEC, port, 0, r->pool);
    rc_http_end end = RC_HTTP_UNREACHABLE;

    if (rv != APR_SUCCESS) {
        *why = apr_psprintf(r->pool, "cannot resolve %s", u->hostname);
        return RC_HTTP_UNREACHABLE;
    }
    for (; sa; sa = sa->next) {
        if (apr_socket_create(s, sa->family, SOCK_STREAM, APR_PROTO_TCP, r->pool)
            != APR_SUCCESS) {
            continue;
        }
        apr_socket_opt_set(*s, APR_TCP_NODELAY, 1);
        apr_socket_timeout_set(*s, timeout);
        if ((rv = apr_socket_connect(*s, sa)) == APR_SUCCESS) {
            return RC_HTTP_OK;
        }
        end = APR_STATUS_IS_TIMEUP(rv) ? RC_HTTP_CONNECT_TIMEOUT : RC_HTTP_UNREACHABLE;
        *why = apr_psprintf(r->pool, "connect to %s:%u: %pm", u->hostname, port, &rv);
        apr_socket_close(*s);
    }
    *s = NULL;
    return end;
}

/* "POST path HTTP/1.1" and the headers. */
static const char *request_head(request_rec *r, const apr_uri_t *u, const char *const *headers,
                                apr_size_t len)
{
    const char *host = strchr(u->hostname, ':') ? apr_pstrcat(r->pool, "[", u->hostname, "]",
                                                                NULL)
                                                 : u->hostname;
    const char *target = apr_pstrcat(r->pool, u->path && *u->path ? u->path : "/",
                                     u->query ? "?" : "", u->query ? u->query : "", NULL);
    const char *head = apr_psprintf(r->pool, "POST %s HTTP/1.1\r\nHost: %s%s%s\r\n", target,
                                    host, u->port_str ? ":" : "",
                                    u->port_str ? u->port_str : "");

    for (; headers && *headers; headers++) {
        head = apr_pstrcat(r->pool, head, *headers, "\r\n", NULL);
    }
    return apr_psprintf(r->pool, "%sUser-Agent: mod_ragchat/1.0\r\nAccept-Encoding: identity\r\n"
                        "Content-Length: %" APR_SIZE_T_FMT "\r\nConnection: close\r\n\r\n",
                        head, len);
}

static rc_http_end send_all(apr_socket_t *s, const char *head, const char *body, apr_size_t len,
                            const char **why, apr_pool_t *p)
{
    struct iovec v[2];
    int nv = 2, i = 0;

    v[0].iov_base = (void *)head;
    v[0].iov_len = strlen(head);
    v[1].iov_base = (void *)body;
    v[1].iov_len = len;
    while (i < nv) {
        apr_size_t sent = 0;
        apr_status_t rv = apr_socket_sendv(s, v + i, nv - i, &sent);

        if (rv != APR_SUCCESS && !sent) {
            *why = apr_psprintf(p, "sending the request: %pm", &rv);
            return RC_HTTP_SEND_FAILED;
        }
        while (i < nv && sent >= v[i].iov_len) {
            sent -= v[i].iov_len;
            i++;
        }
        if (i < nv) {
            v[i].iov_base = (char *)v[i].iov_base + sent;
            v[i].iov_len -= sent;
        }
    }
    return RC_HTTP_OK;
}

/* Reads whatever is waiting, at most one wait of RC_HTTP_TICK first.
 * Returns the parser's word, or RC_HTTP_MORE; *rv: the last receive's. */
static int read_batch(apr_socket_t *s, rc_http_response *h, char *buf, apr_status_t *rv)
{
    int fr = RC_HTTP_MORE, waited = 0;

    for (;;) {
        apr_size_t n = RC_HTTP_READ;

        *rv = apr_socket_recv(s, buf, &n);
        if (n) {
            fr = rc_http_response_feed(h, buf, n);
        }
        if (*rv != APR_SUCCESS || fr != RC_HTTP_MORE) {
            break;
        }
        if (!waited) {
            apr_socket_timeout_set(s, 0);   /* then only what is there already */
            waited = 1;
        }
    }
    if (waited) {
        apr_socket_timeout_set(s, RC_HTTP_TICK);
    }
    return fr;
}

static rc_http_end read_response(apr_socket_t *s, rc_http_response *h, char *buf,
                                 const rc_http_hooks *hooks, void *ctx, const char **why,
                                 apr_pool_t *p)
{
    apr_socket_timeout_set(s, RC_HTTP_TICK);
    for (;;) {
        apr_status_t rv;
        int fr;

        hooks->batch(ctx);
        fr = read_batch(s, h, buf, &rv);
        if (fr == RC_HTTP_MORE && APR_STATUS_IS_EOF(rv)) {
            fr = rc_http_response_eof(h);
        }
        else if (fr == RC_HTTP_MORE && rv != APR_SUCCESS && !APR_STATUS_IS_TIMEUP(rv)
                 && !APR_STATUS_IS_EAGAIN(rv)) {
            hooks->tick(ctx, 0);
            *why = apr_psprintf(p, "reading the answer: %pm", &rv);
            return RC_HTTP_BROKEN;
        }
        if (fr == RC_HTTP_COMPLETE) {
            hooks->tick(ctx, 0);
            return RC_HTTP_OK;
        }
        if (fr == RC_HTTP_MALFORMED) {
            hooks->tick(ctx, 0);
            *why = rc_http_response_error(h);
            return APR_STATUS_IS_EOF(rv) ? RC_HTTP_BROKEN : RC_HTTP_BAD_RESPONSE;
        }
        if (fr == RC_HTTP_ABORT) {
            hooks->tick(ctx, 0);
            return RC_HTTP_ABORTED;
        }
        if (hooks->tick(ctx, 1)) {
            return RC_HTTP_STOPPED;
        }
    }
}

rc_http_end rc_http_post(request_rec *r, const apr_uri_t *u, const char *const *headers,
                         const char *body, apr_size_t len,
                         apr_interval_time_t connect_timeout, apr_interval_time_t send_timeout,
                         const rc_http_hooks *hooks, void *ctx, const char **why)
{
    apr_socket_t *s = NULL;
    rc_http_end end;
    rc_http_response *h;

    *why = NULL;
    if ((end = connect_to(r, u, connect_timeout, &s, why)) != RC_HTTP_OK) {
        return end;
    }
    apr_socket_timeout_set(s, send_timeout);
    end = send_all(s, request_head(r, u, headers, len), body, len, why, r->pool);
    if (end == RC_HTTP_OK) {
        h = rc_http_response_create(r->pool, hooks->head, hooks->body, ctx);
        end = read_response(s, h, apr_palloc(r->pool, RC_HTTP_READ), hooks, ctx, why, r->pool);
    }
    apr_socket_close(s);
    return end;
}
