/* Request context and HTTP helpers shared by the route handlers: JSON
 * responses and errors, bounded body reading, path segments. */
#ifndef RC_HTTP_H
#define RC_HTTP_H

#include "httpd.h"
#include <jansson.h>
#include "config.h"
#include "store.h"

typedef struct {
    request_rec *r;
    rc_dir_conf *conf;
    const char *base;        /* e.g. "/chat" (no trailing slash) */
    const char *rel;         /* path below base, e.g. "/api/threads/…" */
    const char *user;        /* the user's identifier, once identified */
    const char *user_id;     /* users.id, once looked up (rc_req_user_id) */
    const char *csrf;        /* the token state-changing requests must carry */
    const char *session_id;  /* form mode: the session row */
} rc_req;

/* Sends j (reference taken over) with the status; returns OK for the handler. */
int rc_send_json(request_rec *r, int status, json_t *j);
/* {"error":{"code","message"}} with the status, logged once (info for client
 * errors, error for server errors). Returns OK: the response is complete. */
int rc_send_error(request_rec *r, int status, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* 405 with an Allow header. */
int rc_send_method_not_allowed(request_rec *r, const char *allow);

/* The request's Content-Length: 1 with *n, 0 when there is none, -1 when it
 * is not a non-negative decimal number. */
int rc_content_length(request_rec *r, apr_off_t *n);
/* Reads the whole request body up to limit bytes. Returns OK, or sends the
 * error (413, 400) and returns DONE. */
int rc_read_body(request_rec *r, apr_off_t limit, char **buf, apr_size_t *len);
/* Reads and parses a JSON object body (Content-Type must be JSON). Returns OK
 * with *out set (tied to r->pool), or DONE after sending the error. */
int rc_read_json(rc_req *q, json_t **out);

/* Reads a form-encoded body (at most limit bytes) into a table. Returns OK,
 * or DONE after sending the error (415, 413, 400). */
int rc_read_form(rc_req *q, apr_off_t limit, apr_table_t **form);
/* The security headers of every response of the app, errors included (in
 * err_headers_out): the CSP (no inline script, no framing), nosniff and the
 * Referrer-Policy. */
void rc_set_security_headers(request_rec *r);
/* 303 See Other to location, not cached. Returns OK. */
int rc_see_other(request_rec *r, const char *location);

/* Splits rel ("/api/threads/ID/export.pdf") into its segments. */
apr_array_header_t *rc_path_segments(apr_pool_t *p, const char *rel);
#define RC_SEG(a, i) ((i) < (a)->nelts ? APR_ARRAY_IDX((a), (i), const char *) : NULL)

/* Value of one query-string parameter, URL-decoded, or NULL. */
const char *rc_query_param(request_rec *r, const char *name);

/* The app's name (RagChatApp, else its path, "/" at the root): threads are
 * scoped to it. */
const char *rc_req_app(const rc_req *q);

/* Looks up (and creates on first sight) the users row of q->user. */
const char *rc_req_user_id(rc_req *q, rc_db *db);

#endif
