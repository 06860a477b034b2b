/* What every call to the RAG backend shares. */
#include "backend.h"
#include "json.h"
#include "util.h"

#include "apr_strings.h"
#include "apr_thread_proc.h"

#include <stdlib.h>

static apr_status_t curl_cleanup(void *data)
{
    curl_easy_cleanup((CURL *)data);
    return APR_SUCCESS;
}

static apr_status_t slist_cleanup(void *data)
{
    curl_slist_free_all((struct curl_slist *)data);
    return APR_SUCCESS;
}

/* The settings every backend request shares; the header list is freed with
 * the request (a reused handle is reset before its next use). */
static void setup_handle(request_rec *r, const rc_dir_conf *conf, CURL *h, const char *path,
                         const char *const *headers)
{
    struct curl_slist *hdrs = NULL;

    for (; headers && *headers; headers++) {
        hdrs = curl_slist_append(hdrs, *headers);
    }
    hdrs = curl_slist_append(hdrs, "Expect:");
    if (conf->backend_key) {
        hdrs = curl_slist_append(hdrs, apr_pstrcat(r->pool, "Authorization: Bearer ",
                                                   conf->backend_key, NULL));
    }
    apr_pool_cleanup_register(r->pool, hdrs, slist_cleanup, apr_pool_cleanup_null);
    curl_easy_setopt(h, CURLOPT_URL, apr_pstrcat(r->pool, conf->backend, path, NULL));
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
    /* Threaded MPMs: no SIGALRM for DNS timeouts. */
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, (long)rc_conf_connect_timeout(conf));
    curl_easy_setopt(h, CURLOPT_TCP_NODELAY, 1L);
    curl_easy_setopt(h, CURLOPT_ACCEPT_ENCODING, "identity");
    curl_easy_setopt(h, CURLOPT_USERAGENT, "mod_ragchat/1.0");
}

CURL *rc_backend_curl(request_rec *r, const rc_dir_conf *conf, const char *path,
                      const char *const *headers)
{
    CURL *h = curl_easy_init();

    if (!h) {
        return NULL;
    }
    apr_pool_cleanup_register(r->pool, h, curl_cleanup, apr_pool_cleanup_null);
    setup_handle(r, conf, h, path, headers);
    return h;
}

/* ---- per-thread handles of the chat relay ------------------------------------ */

typedef struct {
    CURLM *multi;
    CURL *easy;
} thread_handles;

static apr_threadkey_t *handles_key;

static void free_thread_handles(void *data)
{
    thread_handles *t = data;

    if (t) {
        curl_easy_cleanup(t->easy);
        curl_multi_cleanup(t->multi);
        free(t);
    }
}

void rc_backend_child_init(apr_pool_t *p)
{
    apr_threadkey_private_create(&handles_key, free_thread_handles, p);
}

CURL *rc_backend_thread_curl(request_rec *r, const rc_dir_conf *conf, const char *path,
                             const char *const *headers, CURLM **multi)
{
    thread_handles *t = NULL;

    if (!handles_key) {
        return NULL;
    }
    apr_threadkey_private_get((void **)&t, handles_key);
    if (!t) {
        t = calloc(1, sizeof(*t));
        if (!t || !(t->multi = curl_multi_init()) || !(t->easy = curl_easy_init())) {
            if (t) {
                curl_multi_cleanup(t->multi);
                free(t);
            }
            return NULL;
        }
        /* One idle connection to the backend is what one thread can reuse. */
        curl_multi_setopt(t->multi, CURLMOPT_MAXCONNECTS, 1L);
        apr_threadkey_private_set(t, handles_key);
    }
    else {
        curl_easy_reset(t->easy);
    }
    setup_handle(r, conf, t->easy, path, headers);
    *multi = t->multi;
    return t->easy;
}

const char *rc_backend_json_message(apr_pool_t *p, const char *body, size_t len)
{
    json_t *j = len ? rc_json_parse(p, body, len, NULL) : NULL;
    json_t *e;
    const char *m;

    if (!json_is_object(j)) {
        return NULL;
    }
    e = json_object_get(j, "error");
    m = json_is_string(e) ? json_string_value(e) : rc_json_get_str(e, "message");
    if (!m) {
        m = rc_json_get_str(j, "message");
    }
    if (!m) {
        m = rc_json_get_str(j, "detail");
    }
    return m ? apr_pstrdup(p, m) : NULL;
}

const char *rc_backend_error_message(apr_pool_t *p, const char *body, size_t len)
{
    const char *m;
    json_t *j;
    size_t n;

    if (!len) {
        return NULL;
    }
    if ((m = rc_backend_json_message(p, body, len)) != NULL) {
        return m;
    }
    j = rc_json_parse(p, body, len, NULL);
    if (json_is_object(j)) {
        return NULL;    /* JSON without a message: say nothing rather than dump it */
    }
    n = rc_utf8_floor(body, len < 300 ? len : 300);
    return rc_utf8_sanitize(p, body, n);
}
