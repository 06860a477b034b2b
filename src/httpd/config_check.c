/* Startup checks of every section of every virtual host (see config_check.h).
 *
 * They run in the check_config hook, which `apachectl configtest` (and the
 * configtest that `apachectl graceful` does first) runs too: a mistake stops
 * the test with a message naming the directive and the section, instead of
 * passing the test and bringing every virtual host down on the restart. */
#include "config_check.h"
#include "config.h"
#include "db.h"
#include "provider_env.h"

#include "ap_provider.h"
#include "http_config.h"
#include "http_core.h"
#include "http_log.h"
#include "mod_auth.h"
#include "util_cfgtree.h"
#include "apr_strings.h"

APLOG_USE_MODULE(ragchat);

/* http_core.c's, not in a header: unset, and the default since 2.4.54. */
#define LIMIT_REQ_BODY_UNSET   ((apr_off_t)-1)
#define LIMIT_REQ_BODY_DEFAULT ((apr_off_t)1 << 30)

typedef struct {
    apr_pool_t *p;
    server_rec *s;
    int has_dbd;                 /* DBDriver applies to this server */
    const char *form_at;         /* the first section with RagChatAuth form */
    int secret;
    int htdocs;
    const char *app_at;          /* the first section mounting an app */
    const char *err;
} scan_state;

extern module AP_MODULE_DECLARE_DATA ragchat_module;

static int env_provider_used;

static const char *where(const rc_dir_conf *c, int directory)
{
    return c->base ? c->base : directory ? "(a Directory)" : "(the server)";
}

static void check_providers(scan_state *st, const rc_dir_conf *c)
{
    int i;

    for (i = 0; c->providers && i < c->providers->nelts && !st->err; i++) {
        const char *name = APR_ARRAY_IDX(c->providers, i, const char *);
        const authn_provider *prov = ap_lookup_provider(AUTHN_PROVIDER_GROUP, name,
                                                        AUTHN_PROVIDER_VERSION);
        if (!prov || !prov->check_password) {
            st->err = apr_psprintf(st->p, "RagChatAuthProvider in <Location %s>: no authn "
                                   "provider named '%s' (load its module, e.g. "
                                   "mod_authn_%s, or define it with <AuthnProviderAlias>)",
                                   where(c, 0), name, name);
        }
        env_provider_used |= strcmp(name, RC_PROVIDER_ENV) == 0;
    }
}

/* An app: mounted with <Location>, with a database, with room for uploads. */
static void check_app(scan_state *st, const rc_dir_conf *c, ap_conf_vector_t *v,
                      int directory)
{
    core_dir_config *core = ap_get_core_module_config(v);
    apr_off_t limit = core && core->limit_req_body != LIMIT_REQ_BODY_UNSET
                      ? core->limit_req_body : LIMIT_REQ_BODY_DEFAULT;

    if (directory && !st->err) {
        st->err = apr_psprintf(st->p, "RagChatBackend inside <Directory %s> or <Files>: mount "
                               "the app with <Location> (its routes are URL paths, not "
                               "files)", c->base ? c->base : "");
    }
    if (!st->has_dbd && !st->err) {
        st->err = apr_psprintf(st->p, "<Location %s> serves mod_ragchat but no DBDriver "
                               "applies to the server %s:%u: add DBDriver and DBDParams "
                               "(server-wide or in its <VirtualHost>)", where(c, 0),
                               st->s->server_hostname ? st->s->server_hostname : "(default)",
                               st->s->port);
    }
    if (limit > 0 && rc_conf_upload_max_size(c) > limit) {
        ap_log_error(APLOG_MARK, APLOG_STARTUP | APLOG_WARNING, 0, st->s,
                     "RC0008: RagChatUploadMaxSize in <Location %s> (%" APR_OFF_T_FMT
                     " bytes) is above the LimitRequestBody in force there (%" APR_OFF_T_FMT
                     " bytes): larger uploads get 413 from httpd", where(c, 0),
                     rc_conf_upload_max_size(c), limit);
    }
}

static void scan_section(scan_state *st, ap_conf_vector_t *v, int directory)
{
    rc_dir_conf *c = v ? ap_get_module_config(v, &ragchat_module) : NULL;

    if (!c) {
        return;
    }
    if (c->auth == RC_AUTH_FORM && !st->form_at) {
        st->form_at = where(c, directory);
    }
    st->secret |= c->secret != NULL;
    st->htdocs |= c->htdocs != NULL;
    check_providers(st, c);
    if (c->backend) {
        st->app_at = st->app_at ? st->app_at : where(c, directory);
        check_app(st, c, v, directory);
    }
}

static void scan_sections(scan_state *st, apr_array_header_t *a, int directory)
{
    int i;

    for (i = 0; a && i < a->nelts; i++) {
        scan_section(st, APR_ARRAY_IDX(a, i, ap_conf_vector_t *), directory);
    }
}

/* 1 when a DBDriver directive stands among these nodes (not in a vhost). */
static int dbd_among(const ap_directive_t *d)
{
    for (; d; d = d->next) {
        if (strcasecmp(d->directive, "DBDriver") == 0) {
            return 1;
        }
        if (strcasecmp(d->directive, "<VirtualHost") != 0 && dbd_among(d->first_child)) {
            return 1;
        }
    }
    return 0;
}

/* Whether mod_dbd has a driver for server s: its own <VirtualHost> or the
 * main server's (mod_dbd's settings are inherited). */
static int server_has_dbd(server_rec *s, int main_has)
{
    const ap_directive_t *d;

    if (main_has || s->is_virtual == 0) {
        return main_has;
    }
    for (d = ap_conftree; d; d = d->next) {
        if (strcasecmp(d->directive, "<VirtualHost") == 0 && d->line_num == (int)s->defn_line_number
            && s->defn_name && d->filename && strcmp(d->filename, s->defn_name) == 0) {
            return dbd_among(d->first_child);
        }
    }
    return 0;
}

static const char *check_server(apr_pool_t *ptemp, server_rec *sv, int main_has_dbd)
{
    core_server_config *core = ap_get_core_module_config(sv->module_config);
    const char *missing;
    scan_state st;

    memset(&st, 0, sizeof(st));
    st.p = ptemp;
    st.s = sv;
    st.has_dbd = server_has_dbd(sv, main_has_dbd);
    scan_section(&st, sv->lookup_defaults, 0);
    scan_sections(&st, core->sec_dir, 1);
    scan_sections(&st, core->sec_url, 0);
    if (!st.err && st.form_at && !st.secret) {
        st.err = apr_psprintf(ptemp, "RagChatAuth form in <Location %s> needs RagChatSecret "
                              "(at least 32 bytes, e.g. file:/etc/apache2/ragchat.secret) "
                              "in that section or one around it", st.form_at);
    }
    if (!st.err && st.app_at && !st.htdocs
        && (missing = rc_conf_htdocs_missing(ptemp, RC_DEFAULT_HTDOCS)) != NULL) {
        st.err = apr_psprintf(ptemp, "<Location %s> has no RagChatHtdocs and the default %s "
                              "lacks %s: install the app's files there (make install, or the "
                              "package) or set RagChatHtdocs", st.app_at, RC_DEFAULT_HTDOCS,
                              missing);
    }
    return st.err;
}

int rc_config_check(apr_pool_t *pconf, apr_pool_t *plog, apr_pool_t *ptemp, server_rec *s)
{
    int main_has_dbd = dbd_among(ap_conftree);
    server_rec *sv;

    const char *err;

    (void)pconf;
    (void)plog;
    env_provider_used = 0;
    if ((err = rc_db_post_config()) != NULL) {
        ap_log_error(APLOG_MARK, APLOG_STARTUP | APLOG_CRIT, 0, NULL, "RC0003: %s", err);
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    for (sv = s; sv; sv = sv->next) {
        if ((err = check_server(ptemp, sv, main_has_dbd)) != NULL) {
            ap_log_error(APLOG_MARK, APLOG_STARTUP | APLOG_CRIT, 0, NULL, "RC0005: %s", err);
            return HTTP_INTERNAL_SERVER_ERROR;
        }
    }
    return OK;
}

int rc_config_env_provider_used(void)
{
    return env_provider_used;
}
