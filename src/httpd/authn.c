/* Password checks through mod_authn providers (see authn.h). */
#include "authn.h"
#include "ids.h"

#include "ap_provider.h"
#include "http_log.h"
#include "apr_atomic.h"
#include "apr_md5.h"
#include "apr_shm.h"
#include "apr_strings.h"

APLOG_USE_MODULE(ragchat);

/* A bcrypt hash (cost 5, htpasswd's default) of a random password: checked
 * for an unknown user until a wrong password has been timed. */
static const char dummy_hash[] =
    "$2y$05$2nXy8L.wCTlRwv8oYF8tAe/kkcTQhf6w2lYnJGSkYaxIitanZlGA.";

/* A provider missing at request time is logged once per process. */
static volatile int warned_provider;

/* How long a checked password takes (microseconds, a moving average), per
 * app and provider list, hashed into a few slots. In anonymous shared memory
 * made before the children fork, so every child pads unknown users to what
 * any of them measured; a process-local table if that fails. */
#define COST_SLOTS 64
#define COST_MAX   apr_time_from_sec(5)
static apr_uint32_t local_costs[COST_SLOTS];
static apr_uint32_t *costs = local_costs;

void rc_authn_post_config(apr_pool_t *pconf, server_rec *s)
{
    apr_shm_t *shm;
    apr_status_t rv = apr_shm_create(&shm, sizeof(local_costs), NULL, pconf);

    if (rv != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_WARNING, rv, s,
                     "RC0312: no shared memory for login timings: each child measures "
                     "its own");
        costs = local_costs;
        return;
    }
    costs = apr_shm_baseaddr_get(shm);
    memset(costs, 0, sizeof(local_costs));
}

static apr_uint32_t *cost_slot(rc_req *q)
{
    const rc_dir_conf *c = q->conf;
    apr_uint32_t h = 2166136261u;          /* FNV-1a over base and providers */
    const char *s;
    int i;

    for (s = q->base; *s; s++) {
        h = (h ^ (unsigned char)*s) * 16777619u;
    }
    for (i = 0; c->providers && i < c->providers->nelts; i++) {
        for (s = APR_ARRAY_IDX(c->providers, i, const char *); *s; s++) {
            h = (h ^ (unsigned char)*s) * 16777619u;
        }
        h = (h ^ '\n') * 16777619u;
    }
    return &costs[h % COST_SLOTS];
}

static void learn_cost(rc_req *q, apr_time_t took)
{
    apr_uint32_t *slot = cost_slot(q);
    apr_uint32_t old = apr_atomic_read32(slot);
    apr_uint32_t us = (apr_uint32_t)(took > COST_MAX ? COST_MAX : took);

    /* A lost update between two children only delays the average. */
    apr_atomic_set32(slot, old ? (apr_uint32_t)(((apr_uint64_t)old * 7 + us) / 8) : us);
}

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
    apr_time_t started = apr_time_now();
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
        if (*st == AUTH_GRANTED || *st == AUTH_DENIED) {
            learn_cost(q, apr_time_now() - started);
        }
        if (*st != AUTH_USER_NOT_FOUND) {
            break;
        }
    }
    return 0;
}

void rc_authn_equalize(rc_req *q, apr_time_t started)
{
    apr_time_t target = apr_atomic_read32(cost_slot(q)), spent;

    if (!target) {
        apr_password_validate(rc_random_hex(q->r->pool, 8), dummy_hash);
        return;
    }
    spent = apr_time_now() - started;
    if (spent < target) {
        apr_sleep(target - spent);
    }
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
