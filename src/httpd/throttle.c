/* Login throttling (see throttle.h). */
#include "throttle.h"
#include "secret.h"

#include "apr_strings.h"

/* Failures are kept a day at least: other locations may count with longer
 * windows than this one. */
#define FAILURES_KEEP (24 * 3600)

const char *rc_throttle_user_key(rc_req *q, const char *user)
{
    char *u = apr_pstrdup(q->r->pool, user);

    ap_str_tolower(u);
    return rc_secret_mac(q, "login-user", u);
}

const char *rc_throttle_addr_key(rc_req *q)
{
    return rc_secret_mac(q, "login-addr", q->r->useragent_ip ? q->r->useragent_ip : "");
}

int rc_throttle_wait(rc_req *q, rc_db *db, const char *key, apr_int64_t now)
{
    apr_int64_t limit = rc_conf_login_limit(q->conf), window = rc_conf_login_window(q->conf);
    apr_int64_t oldest, wait;
    int n = rc_store_failures_count(db, key, now - window, (int)limit, &oldest);

    if (n < 0) {
        return -1;
    }
    if (n < limit) {
        return 0;
    }
    /* The limit-th newest failure in the window is the one that must leave it. */
    wait = oldest + window - now;
    return wait < 1 ? 1 : (int)wait;
}

int rc_throttle_record(rc_req *q, rc_db *db, const char *ukey, const char *akey,
                       apr_int64_t now)
{
    apr_int64_t keep = rc_conf_login_window(q->conf);

    if (keep < FAILURES_KEEP) {
        keep = FAILURES_KEEP;
    }
    return rc_store_failure_add(db, ukey, now) || rc_store_failure_add(db, akey, now)
        || rc_store_failures_prune(db, now - keep);
}
