/* Password checks through mod_authn providers (see authn.h). */
#include "authn.h"
#include "util.h"

#include "ap_provider.h"
#include "http_log.h"
#include "apr_md5.h"
#include "apr_strings.h"

APLOG_USE_MODULE(ragchat);

/* A bcrypt hash (cost 5, htpasswd's default) of a random password: checked
 * when no provider knows the user, so an unknown name costs the time of a
 * wrong password. */
static const char dummy_hash[] =
    "$2y$05$2nXy8L.wCTlRwv8oYF8tAe/kkcTQhf6w2lYnJGSkYaxIitanZlGA.";

/* A provider missing at request time is logged once per process. */
static volatile int warned_provider;

static int provider_count(const rc_dir_conf *c)
{
    return c->providers ? c->providers->nelts : 1;
}

static const char *provider_name(const rc_dir_conf *c, int i)
{
    return c->providers ? APR_ARRAY_IDX(c->providers, i, const char *)
                        : AUTHN_DEFAULT_PROVIDER;
}

static const authn_provider *find_provider(rc_req *q, const char *name)
{
    const authn_provider *p = ap_lookup_provider(AUTHN_PROVIDER_GROUP, name,
                                                 AUTHN_PROVIDER_VERSION);

    if ((!p || !p->check_password) && !warned_provider) {
        warned_provider = 1;
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, q->r,
                      "RC0311: RagChatAuthProvider: no authn provider named '%s' (load "
                      "its module or define it with <AuthnProviderAlias>)", name);
    }
    return p && p->check_password ? p : NULL;
}

static authn_status call_provider(rc_req *q, const authn_provider *p, const char *name,
                                  const char *user, const char *password)
{
    authn_status st;

    /* <AuthnProviderAlias> finds its own configuration through this note. */
    apr_table_setn(q->r->notes, AUTHN_PROVIDER_NAME_NOTE, name);
    st = p->check_password(q->r, user, password);
    apr_table_unset(q->r->notes, AUTHN_PROVIDER_NAME_NOTE);
    return st;
}

int rc_authn_check(rc_req *q, const char *user, const char *password, authn_status *st,
                   const char **which)
{
    int i;

    *st = AUTH_USER_NOT_FOUND;
    *which = NULL;
    for (i = 0; i < provider_count(q->conf); i++) {
        const char *name = provider_name(q->conf, i);
        const authn_provider *p = find_provider(q, name);

        if (!p) {
            return -1;
        }
        *st = call_provider(q, p, name, user, password);
        *which = name;
        if (*st != AUTH_USER_NOT_FOUND) {
            break;
        }
    }
    return 0;
}

void rc_authn_spend_check_time(const char *password)
{
    apr_password_validate(password ? password : "", dummy_hash);
}

int rc_authn_still_known(rc_req *q, const char *name, const char *user)
{
    const authn_provider *p;
    int i, listed = 0;

    for (i = 0; i < provider_count(q->conf); i++) {
        listed |= strcmp(provider_name(q->conf, i), name) == 0;
    }
    if (!listed || !(p = find_provider(q, name))) {
        return 0;
    }
    /* A random password is checked: AUTH_DENIED means the user exists. */
    switch (call_provider(q, p, name, user, rc_random_hex(q->r->pool, 24))) {
    case AUTH_USER_NOT_FOUND:
        return 0;
    case AUTH_GENERAL_ERROR:
        return -1;
    default:
        return 1;
    }
}
