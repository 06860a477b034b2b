/* mod_ragchat: a chat application for a RAG backend, served by Apache httpd.
 *
 * This file holds the module record, the hooks and the routing of requests
 * below the location the app is mounted at (see README.md for the routes). */
#include "httpd.h"
#include "http_config.h"
#include "http_core.h"
#include "http_log.h"
#include "http_protocol.h"
#include "http_request.h"
#include "apr_strings.h"

#include "api.h"
#include "auth.h"
#include "authn.h"
#include "backend.h"
#include "capacity.h"
#include "chat.h"
#include "config.h"
#include "config_check.h"
#include "csrf.h"
#include "export.h"
#include "http.h"
#include "markdown.h"
#include "login.h"
#include "provider_env.h"
#include "search_build.h"
#include "static.h"
#include "store.h"
#include "stream_watch.h"
#include "upload.h"
#include "version.h"
#include "writer.h"

module AP_MODULE_DECLARE_DATA ragchat_module;

#define RC_ID_MAX 128

static int is_state_changing(request_rec *r)
{
    return r->method_number == M_POST || r->method_number == M_PUT
        || r->method_number == M_PATCH || r->method_number == M_DELETE;
}

static int valid_id(const char *id)
{
    size_t n = id ? strlen(id) : 0;
    return n > 0 && n <= RC_ID_MAX;
}

/* The base path without a trailing slash ("" when mounted at "/"). */
static const char *base_path(request_rec *r, const rc_dir_conf *conf)
{
    const char *b = conf->mount ? conf->mount : conf->base ? conf->base : "";
    size_t n = strlen(b);

    while (n > 0 && b[n - 1] == '/') {
        n--;
    }
    return apr_pstrmemdup(r->pool, b, n);
}

static int answer_unauthorized(rc_req *q)
{
    request_rec *r = q->r;

    if (rc_conf_auth(q->conf) == RC_AUTH_FORM && strcmp(q->rel, "/") == 0) {
        apr_table_setn(r->headers_out, "Location", apr_pstrcat(r->pool, q->base, "/login", NULL));
        return HTTP_SEE_OTHER;
    }
    return rc_send_error(r, HTTP_UNAUTHORIZED, "unauthorized",
                         rc_conf_auth(q->conf) == RC_AUTH_FORM
                             ? "log in first" : "no authenticated user");
}

/* B/api/…, after identification and the CSRF check. */
static int route_api(rc_req *q, apr_array_header_t *seg)
{
    request_rec *r = q->r;
    const char *what = RC_SEG(seg, 1), *id = RC_SEG(seg, 2), *sub = RC_SEG(seg, 3);
    int n = seg->nelts;

    if (!what) {
        return rc_send_error(r, HTTP_NOT_FOUND, "not_found", "no such route");
    }
    if (id && !valid_id(id)) {
        return rc_send_error(r, HTTP_NOT_FOUND, "not_found", "no such object");
    }
    if (n == 2 && strcmp(what, "me") == 0) {
        return rc_handle_me(q);
    }
    if (n == 2 && strcmp(what, "threads") == 0) {
        return rc_handle_threads(q);
    }
    if (n == 3 && strcmp(what, "threads") == 0) {
        return rc_handle_thread(q, id);
    }
    if (n == 2 && strcmp(what, "chat") == 0) {
        return r->method_number == M_POST ? rc_handle_chat(q)
                                          : rc_send_method_not_allowed(r, "POST");
    }
    if (n == 4 && strcmp(what, "chat") == 0 && strcmp(sub, "stop") == 0) {
        return r->method_number == M_POST ? rc_handle_chat_stop(q, id)
                                          : rc_send_method_not_allowed(r, "POST");
    }
    if (n == 2 && strcmp(what, "upload") == 0) {
        return r->method_number == M_POST ? rc_handle_upload(q)
                                          : rc_send_method_not_allowed(r, "POST");
    }
    if (n == 4 && strcmp(what, "steps") == 0 && strcmp(sub, "feedback") == 0) {
        return rc_handle_feedback(q, id);
    }
    if (n == 4 && strcmp(what, "steps") == 0 && strcmp(sub, "show") == 0) {
        return rc_handle_step_show(q, id);
    }
    if (n == 4 && (strcmp(what, "steps") == 0 || strcmp(what, "threads") == 0)
        && (strcmp(sub, "export.pdf") == 0 || strcmp(sub, "export.md") == 0)) {
        return r->method_number == M_GET
            ? rc_handle_export(q, what, id, strchr(sub, '.') + 1)
            : rc_send_method_not_allowed(r, "GET");
    }
    return rc_send_error(r, HTTP_NOT_FOUND, "not_found", "no such route");
}

static int route(rc_req *q)
{
    request_rec *r = q->r;
    apr_array_header_t *seg = rc_path_segments(r->pool, q->rel);
    const char *first = RC_SEG(seg, 0);
    int rv;

    /* Routes open to anyone: assets and the login form. */
    if (first && strcmp(first, "static") == 0 && seg->nelts > 1) {
        return rc_handle_static(q, q->rel + sizeof("/static/") - 1);
    }
    if (seg->nelts == 1 && strcmp(first, "login") == 0) {
        return rc_handle_login(q);
    }
    if ((rv = rc_auth_identify(q)) != OK) {
        return rv == HTTP_UNAUTHORIZED ? answer_unauthorized(q) : rv;
    }
    if (seg->nelts == 1 && strcmp(first, "logout") == 0) {
        return rc_handle_logout(q);      /* checks its own form token */
    }
    if (is_state_changing(r) && (rv = rc_csrf_check(q, NULL)) != OK) {
        return rv == DONE ? OK : rv;
    }
    if (seg->nelts == 0) {
        return rc_handle_index(q);
    }
    if (strcmp(first, "api") == 0) {
        return route_api(q, seg);
    }
    return rc_send_error(r, HTTP_NOT_FOUND, "not_found", "no such page");
}

static int ragchat_handler(request_rec *r)
{
    rc_dir_conf *conf;
    rc_req *q;
    size_t blen;

    if (!r->handler || strcmp(r->handler, "ragchat") != 0) {
        return DECLINED;
    }
    conf = ap_get_module_config(r->per_dir_config, &ragchat_module);
    q = apr_pcalloc(r->pool, sizeof(*q));
    q->r = r;
    q->conf = conf;
    q->base = base_path(r, conf);
    blen = strlen(q->base);
    if (strncmp(r->uri, q->base, blen) != 0) {
        return DECLINED;
    }
    q->rel = r->uri + blen;
    if (*q->rel && *q->rel != '/') {
        return DECLINED;
    }
    rc_set_security_headers(r);
    if (!*q->rel) {
        /* B without its slash: relative links of the app need B/. */
        apr_table_setn(r->headers_out, "Location",
                       apr_pstrcat(r->pool, q->base, "/", r->args ? "?" : "", r->args, NULL));
        return HTTP_MOVED_PERMANENTLY;
    }
    if (!conf->backend) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r,
                      "RC0002: RagChatBackend is not set for %s", q->base);
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    return route(q);
}

/* mod_dir would turn a request for a directory of the DocumentRoot (B/ when
 * the app is mounted at "/") into its DirectoryIndex, which the app does not
 * have: the app's URLs are routes, not files. Runs before mod_dir's fixup. */
static int ragchat_fixups(request_rec *r)
{
    if (r->handler && strcmp(r->handler, "ragchat") == 0 && r->finfo.filetype == APR_DIR) {
        r->finfo.filetype = APR_NOFILE;
    }
    return DECLINED;
}

static int ragchat_post_config(apr_pool_t *pconf, apr_pool_t *plog, apr_pool_t *ptemp,
                               server_rec *s)
{
    const char *err;

    (void)plog;
    (void)ptemp;
    if (ap_state_query(AP_SQ_MAIN_STATE) == AP_SQ_MS_CREATE_PRE_CONFIG) {
        return OK;
    }
    if ((err = rc_db_post_config()) != NULL
        || (err = rc_db_lock_create(pconf, s)) != NULL) {
        ap_log_error(APLOG_MARK, APLOG_CRIT, 0, s, "RC0003: %s", err);
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    if (rc_backend_global_init() != 0) {
        ap_log_error(APLOG_MARK, APLOG_CRIT, 0, s, "RC0004: libcurl failed to initialise");
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    rc_markdown_init();
    rc_csrf_post_config(s);
    rc_authn_post_config(pconf, s);
    rc_stream_watch_post_config(pconf, s);
    rc_provider_env_post_config(pconf, s, rc_config_env_provider_used());
    rc_capacity_check(s);
    ap_log_error(APLOG_MARK, APLOG_NOTICE, 0, s, "RC0007: mod_ragchat/%s ready", RAGCHAT_VERSION);
    return OK;
}

static int ragchat_pre_config(apr_pool_t *pconf, apr_pool_t *plog, apr_pool_t *ptemp)
{
    (void)plog;
    (void)ptemp;
    rc_db_pre_config(pconf);
    rc_capacity_pre_config();
    return OK;
}

static void ragchat_child_init(apr_pool_t *p, server_rec *s)
{
    rc_db_child_init(p);
    rc_writer_child_init(p);
    rc_stream_watch_child_init(p);
    rc_backend_child_init(p);
    rc_export_child_init(p, s);
    rc_search_build_child_init(p, s);
}

static void ragchat_register_hooks(apr_pool_t *p)
{
    static const char *const after_dbd[] = { "mod_dbd.c", NULL };
    static const char *const before_dir[] = { "mod_dir.c", NULL };

    ap_hook_pre_config(ragchat_pre_config, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_check_config(rc_config_check, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_post_config(ragchat_post_config, after_dbd, NULL, APR_HOOK_MIDDLE);
    /* After mod_dbd's: the stop watcher's pool goes before its connections. */
    ap_hook_child_init(ragchat_child_init, after_dbd, NULL, APR_HOOK_MIDDLE);
    ap_hook_fixups(ragchat_fixups, NULL, before_dir, APR_HOOK_MIDDLE);
    ap_hook_handler(ragchat_handler, NULL, NULL, APR_HOOK_MIDDLE);
    rc_provider_env_register(p);
}

AP_DECLARE_MODULE(ragchat) = {
    STANDARD20_MODULE_STUFF,
    rc_create_dir_conf,
    rc_merge_dir_conf,
    NULL,
    NULL,
    rc_directives,
    ragchat_register_hooks,
    AP_MODULE_FLAG_NONE
};
