/* The remote backend's libcurl plumbing, shared by its chat relay
 * (backend_remote.c) and its upload (backend_remote_upload.c). */
#ifndef RC_BACKEND_REMOTE_H
#define RC_BACKEND_REMOTE_H

#include "backend.h"
#include "config.h"
#include <curl/curl.h>

/* A handle for BACKEND + path with the Bearer key, the connect timeout, no
 * signals, TCP_NODELAY, no compression and our user agent; headers (a
 * NULL-terminated list, may be NULL) are added. Handle and header list are
 * freed with r->pool. NULL when libcurl cannot make one. */
CURL *rc_backend_curl(request_rec *r, const rc_dir_conf *conf, const char *path,
                      const char *const *headers);

/* The chat relay's handles, one pair per thread, kept from one request to the
 * next: a keep-alive backend is not reconnected for every answer, and no
 * handle is built per request. The easy handle comes set up like
 * rc_backend_curl's; *multi is the thread's multi handle. NULL on failure. */
CURL *rc_backend_thread_curl(request_rec *r, const rc_dir_conf *conf, const char *path,
                             const char *const *headers, CURLM **multi);

/* The message of a backend's JSON answer: "error" (a string, or its
 * "message"), else "message", else FastAPI's "detail". NULL when the body is
 * not a JSON object or holds none of them. */
const char *rc_backend_json_message(apr_pool_t *p, const char *body, size_t len);
/* What the user reads when the backend answered an HTTP error: the status
 * and what to do, never the backend's own text (it may be a traceback). */
const char *rc_backend_status_message(apr_pool_t *p, long status);
/* The backend's message (or the start of its body) as valid UTF-8, at most
 * RC_LOG_DETAIL_MAX bytes, for the error log (which escapes control
 * characters). NULL for an empty body. */
#define RC_LOG_DETAIL_MAX 1000
const char *rc_backend_log_detail(apr_pool_t *p, const char *body, size_t len);
/* The user's words when the backend cannot be reached. */
#define RC_MSG_UNREACHABLE "The assistant is not reachable right now. Try again in a minute."

/* The upload half of rc_backend_remote (backend_remote_upload.c): the body,
 * re-encoded, streams to BACKEND/upload as it arrives. */
int rc_remote_upload_start(rc_upload *u);
int rc_remote_file_begin(rc_upload *u, rc_upload_file *f);
int rc_remote_file_write(rc_upload *u, rc_upload_file *f, const char *data, size_t len);
int rc_remote_body_end(rc_upload *u);
int rc_remote_send(rc_upload *u);
const char *rc_remote_finish(rc_upload *u);

#endif
