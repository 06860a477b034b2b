/* Startup checks of every section of every virtual host (see config_check.h). */
#include "config_check.h"
#include "config.h"
#include "provider_env.h"

#include "ap_provider.h"
#include "http_config.h"
#include "http_core.h"
#include "mod_auth.h"
#include "apr_strings.h"

typedef struct {
    int form, secret, env_used;
    const char *err;
} scan_state;

extern module AP_MODULE_DECLARE_DATA ragchat_module;

static void scan_section(apr_pool_t *p, ap_conf_vector_t *v, scan_state *st)
{
    rc_dir_conf *c = v ? ap_get_module_config(v, &ragchat_module) : NULL;
    int i;

    if (!c) {
        return;
    }
    st->form |= c->auth == RC_AUTH_FORM;
    st->secret |= c->secret != NULL;
    for (i = 0; c->providers && i < c->providers->nelts; i++) {
        const char *name = APR_ARRAY_IDX(c->providers, i, const char *);
        const authn_provider *prov = ap_lookup_provider(AUTHN_PROVIDER_GROUP, name,
                                                        AUTHN_PROVIDER_VERSION);
        if ((!prov || !prov->check_password) && !st->err) {
            st->err = apr_psprintf(p, "RagChatAuthProvider: no authn provider named '%s' "
                                   "(load its module, e.g. mod_authn_%s, or define it "
                                   "with <AuthnProviderAlias>)", name, name);
        }
        st->env_used |= strcmp(name, RC_PROVIDER_ENV) == 0;
    }
}

static void scan_sections(apr_pool_t *p, apr_array_header_t *a, scan_state *st)
{
    int i;

    for (i = 0; a && i < a->nelts; i++) {
        scan_section(p, APR_ARRAY_IDX(a, i, ap_conf_vector_t *), st);
    }
}

/* Provider names must exist, and a host that uses form login must have
 * RagChatSecret somewhere (a section that inherits it from another one is
 * checked at its first request: per-directory merging is only known then). */
const char *rc_config_check(apr_pool_t *pconf, apr_pool_t *ptemp, server_rec *s)
{
    scan_state all;
    server_rec *sv;

    memset(&all, 0, sizeof(all));
    for (sv = s; sv; sv = sv->next) {
        core_server_config *core = ap_get_core_module_config(sv->module_config);
        scan_state st;

        memset(&st, 0, sizeof(st));
        scan_section(ptemp, sv->lookup_defaults, &st);
        scan_sections(ptemp, core->sec_dir, &st);
        scan_sections(ptemp, core->sec_url, &st);
        if (st.err) {
            return apr_pstrdup(pconf, st.err);
        }
        if (st.form && !st.secret) {
            return apr_psprintf(pconf, "RagChatAuth form needs RagChatSecret (at least 32 "
                                "bytes, e.g. env:CHAINLIT_AUTH_SECRET) in the server %s:%u",
                                sv->server_hostname ? sv->server_hostname : "(default)",
                                sv->port);
        }
        all.env_used |= st.env_used;
    }
    rc_provider_env_post_config(pconf, s, all.env_used);
    return NULL;
}
