/* Request context and HTTP helpers shared by the route handlers. */
#include "http.h"
#include "json.h"

#include "http_log.h"
#include "http_protocol.h"
#include "http_request.h"
#include "util_script.h"
#include "apr_strings.h"

APLOG_USE_MODULE(ragchat);

int rc_send_json(request_rec *r, int status, json_t *j)
{
    char *body;
    apr_size_t n;

    rc_json_pool(r->pool, j);
    body = rc_json_dump(r->pool, j);
    n = strlen(body);
    r->status = status;
    ap_set_content_type(r, "application/json; charset=utf-8");
    apr_table_setn(r->headers_out, "Cache-Control", "no-store");
    ap_set_content_length(r, n);
    if (!r->header_only) {
        ap_rwrite(body, (int)n, r);
    }
    return OK;
}

int rc_send_error(request_rec *r, int status, const char *code, const char *fmt, ...)
{
    va_list ap;
    char *msg;

    va_start(ap, fmt);
    msg = apr_pvsprintf(r->pool, fmt, ap);
    va_end(ap);
    /* Client mistakes are routine: info level, so LogLevel warn stays quiet. */
    ap_log_rerror(APLOG_MARK, status >= 500 ? APLOG_ERR : APLOG_INFO, 0, r,
                  "RC0001: %d %s: %s", status, code, msg);
    return rc_send_json(r, status,
                        json_pack("{s:{s:s,s:o}}", "error", "code", code,
                                  "message", rc_json_string(msg)));
}

int rc_send_method_not_allowed(request_rec *r, const char *allow)
{
    apr_table_setn(r->headers_out, "Allow", allow);
    return rc_send_error(r, HTTP_METHOD_NOT_ALLOWED, "method_not_allowed",
                         "%s is not allowed here (allowed: %s)", r->method, allow);
}

int rc_content_length(request_rec *r, apr_off_t *n)
{
    const char *cl = apr_table_get(r->headers_in, "Content-Length");
    char *end;

    if (!cl) {
        return 0;
    }
    if (apr_strtoff(n, cl, &end, 10) != APR_SUCCESS || *end || *n < 0) {
        return -1;
    }
    return 1;
}

int rc_read_body(request_rec *r, apr_off_t limit, char **buf, apr_size_t *len)
{
    apr_bucket_brigade *bb;
    apr_size_t total = 0, cap;
    int seen_eos = 0;
    char *out;
    apr_off_t declared;

    switch (rc_content_length(r, &declared)) {
    case -1:
        return rc_send_error(r, HTTP_BAD_REQUEST, "bad_request", "invalid Content-Length"),
               DONE;
    case 1:
        if (declared > limit) {
            r->connection->keepalive = AP_CONN_CLOSE;
            rc_send_error(r, HTTP_REQUEST_ENTITY_TOO_LARGE, "too_large",
                          "the request body is larger than %" APR_OFF_T_FMT " bytes", limit);
            return DONE;
        }
        break;
    default:
        break;
    }
    cap = 1024;
    out = apr_palloc(r->pool, cap + 1);
    bb = apr_brigade_create(r->pool, r->connection->bucket_alloc);
    while (!seen_eos) {
        apr_bucket *e;
        apr_status_t rv = ap_get_brigade(r->input_filters, bb, AP_MODE_READBYTES,
                                         APR_BLOCK_READ, 65536);
        if (rv != APR_SUCCESS) {
            apr_brigade_destroy(bb);
            rc_send_error(r, ap_map_http_request_error(rv, HTTP_BAD_REQUEST), "bad_request",
                          "could not read the request body");
            return DONE;
        }
        for (e = APR_BRIGADE_FIRST(bb); e != APR_BRIGADE_SENTINEL(bb); e = APR_BUCKET_NEXT(e)) {
            const char *d;
            apr_size_t n;
            if (APR_BUCKET_IS_EOS(e)) {
                seen_eos = 1;
                break;
            }
            if (apr_bucket_read(e, &d, &n, APR_BLOCK_READ) != APR_SUCCESS) {
                continue;
            }
            if ((apr_off_t)(total + n) > limit) {
                apr_brigade_destroy(bb);
                r->connection->keepalive = AP_CONN_CLOSE;
                rc_send_error(r, HTTP_REQUEST_ENTITY_TOO_LARGE, "too_large",
                              "the request body is larger than %" APR_OFF_T_FMT " bytes",
                              limit);
                return DONE;
            }
            if (total + n > cap) {
                char *grown;
                while (total + n > cap) {
                    cap *= 2;
                }
                grown = apr_palloc(r->pool, cap + 1);
                memcpy(grown, out, total);
                out = grown;
            }
            memcpy(out + total, d, n);
            total += n;
        }
        apr_brigade_cleanup(bb);
    }
    apr_brigade_destroy(bb);
    out[total] = '\0';
    *buf = out;
    *len = total;
    return OK;
}

int rc_read_json(rc_req *q, json_t **out)
{
    request_rec *r = q->r;
    const char *ct = apr_table_get(r->headers_in, "Content-Type");
    const char *err = NULL;
    char *body;
    apr_size_t len;
    json_t *j;
    int rv;

    if (ct && strncasecmp(ct, "application/json", 16) != 0) {
        rc_send_error(r, HTTP_UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type",
                      "send the request body as application/json");
        return DONE;
    }
    if ((rv = rc_read_body(r, rc_conf_max_request(q->conf), &body, &len)) != OK) {
        return rv;
    }
    j = rc_json_parse(r->pool, body, len, &err);
    if (!j || !json_is_object(j)) {
        rc_send_error(r, HTTP_BAD_REQUEST, "invalid_json", "%s",
                      j ? "the request body must be a JSON object" : err);
        return DONE;
    }
    *out = j;
    return OK;
}

apr_array_header_t *rc_path_segments(apr_pool_t *p, const char *rel)
{
    apr_array_header_t *a = apr_array_make(p, 6, sizeof(const char *));
    char *copy = apr_pstrdup(p, rel), *tok, *state = NULL;

    for (tok = apr_strtok(copy, "/", &state); tok; tok = apr_strtok(NULL, "/", &state)) {
        APR_ARRAY_PUSH(a, const char *) = tok;
    }
    return a;
}

/* The query string read as a form sends it: '+' is a space (a '+' itself
 * comes as %2B), every %XX decoded (%2F too). The first value of name. */
const char *rc_query_param(request_rec *r, const char *name)
{
    char *pair, *state = NULL;

    if (!r->args) {
        return NULL;
    }
    for (pair = apr_strtok(apr_pstrdup(r->pool, r->args), "&", &state); pair;
         pair = apr_strtok(NULL, "&", &state)) {
        char *value = strchr(pair, '=');
        if (value) {
            *value++ = '\0';
        }
        if (ap_unescape_urlencoded(pair) == OK && strcmp(pair, name) == 0) {
            return !value ? "" : ap_unescape_urlencoded(value) == OK ? value : NULL;
        }
    }
    return NULL;
}

const char *rc_req_user_id(rc_req *q, rc_db *db)
{
    if (!q->user_id && q->user) {
        q->user_id = rc_store_user_id(db, q->user);
    }
    return q->user_id;
}

void rc_set_security_headers(request_rec *r)
{
    apr_table_t *t = r->err_headers_out;

    apr_table_setn(t, "Content-Security-Policy",
                   "default-src 'self'; script-src 'self'; style-src 'self'; "
                   "img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; "
                   "base-uri 'none'; form-action 'self'");
    apr_table_setn(t, "X-Frame-Options", "DENY");
    apr_table_setn(t, "X-Content-Type-Options", "nosniff");
    apr_table_setn(t, "Referrer-Policy", "same-origin");
}

int rc_see_other(request_rec *r, const char *location)
{
    apr_table_setn(r->headers_out, "Location", location);
    apr_table_setn(r->headers_out, "Cache-Control", "no-store");
    r->status = HTTP_SEE_OTHER;
    ap_set_content_length(r, 0);
    return OK;
}

/* name=value pairs; the first of a repeated name wins. */
static apr_table_t *parse_form(apr_pool_t *p, char *body)
{
    apr_table_t *t = apr_table_make(p, 8);
    char *pair, *state = NULL;

    for (pair = apr_strtok(body, "&", &state); pair; pair = apr_strtok(NULL, "&", &state)) {
        char *eq = strchr(pair, '='), *val = "";
        if (eq) {
            *eq = '\0';
            val = eq + 1;
        }
        /* A malformed escape or an encoded NUL drops the field. */
        if (ap_unescape_urlencoded(pair) != OK || ap_unescape_urlencoded(val) != OK) {
            continue;
        }
        if (!apr_table_get(t, pair)) {
            apr_table_setn(t, pair, val);
        }
    }
    return t;
}

int rc_read_form(rc_req *q, apr_off_t limit, apr_table_t **form)
{
    const char *ct = apr_table_get(q->r->headers_in, "Content-Type");
    char *body;
    apr_size_t len;
    int rv;

    if (!ct || strncasecmp(ct, "application/x-www-form-urlencoded", 33) != 0) {
        rc_send_error(q->r, HTTP_UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type",
                      "send the form as application/x-www-form-urlencoded");
        return DONE;
    }
    if ((rv = rc_read_body(q->r, limit, &body, &len)) != OK) {
        return rv;
    }
    if (memchr(body, '\0', len)) {
        body[0] = '\0';
    }
    *form = parse_form(q->r->pool, body);
    return OK;
}

const char *rc_req_app(const rc_req *q)
{
    if (q->conf->app_name) {
        return q->conf->app_name;
    }
    return *q->base ? q->base : "/";
}
