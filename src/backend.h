/* What every call to the RAG backend shares: the libcurl handle's common
 * settings, and reading the message out of a backend's answer. */
#ifndef RC_BACKEND_H
#define RC_BACKEND_H

#include "httpd.h"
#include "config.h"
#include <curl/curl.h>

/* A handle for BACKEND + path with the Bearer key, the connect timeout, no
 * signals, TCP_NODELAY, no compression and our user agent; headers (a
 * NULL-terminated list, may be NULL) are added. Handle and header list are
 * freed with r->pool. NULL when libcurl cannot make one. */
CURL *rc_backend_curl(request_rec *r, const rc_dir_conf *conf, const char *path,
                      const char *const *headers);

/* The message of a backend's JSON answer: "error" (a string, or its
 * "message"), else "message", else FastAPI's "detail". NULL when the body is
 * not a JSON object or holds none of them. */
const char *rc_backend_json_message(apr_pool_t *p, const char *body, size_t len);
/* The same, falling back to the first 300 bytes of a non-JSON body (as
 * valid UTF-8), for error reports. NULL for an empty body. */
const char *rc_backend_error_message(apr_pool_t *p, const char *body, size_t len);

#endif
