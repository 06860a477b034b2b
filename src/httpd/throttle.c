/* Login throttling (see throttle.h). */
#include "throttle.h"
#include "secret.h"

#include "apr_strings.h"

/* Failures are kept a day at least: other locations may count with longer
 * windows than this one. */
#define FAILURES_KEEP (24 * 3600)

void rc_throttle_keys_for(rc_req *q, const char *user, rc_throttle_keys *k)
{
    char *u = apr_pstrdup(q->r->pool, user ? user : "");
    const char *ip = q->r->useragent_ip ? q->r->useragent_ip : "";

    ap_str_tolower(u);
    k->user = rc_secret_mac(q, "login-user", u);
    k->addr = rc_secret_mac(q, "login-addr", ip);
    k->pair = rc_secret_mac(q, "login-pair", apr_pstrcat(q->r->pool, u, "\n", ip, NULL));
}

/* Seconds until fewer than limit failures of key are in the window: 0 when
 * they already are, -1 on error. The limit-th newest failure in the window
 * is the one that must leave it. */
static int wait_for_key(rc_db *db, const char *key, int limit, int window, apr_int64_t now)
{
    apr_int64_t oldest, wait;
    int n = rc_store_failures_count(db, key, now - window, limit, &oldest);

    if (n < 0) {
        return -1;
    }
    if (n < limit) {
        return 0;
    }
    wait = oldest + window - now;
    return wait < 1 ? 1 : (int)wait;
}

int rc_throttle_check(rc_req *q, rc_db *db, const rc_throttle_keys *k, apr_int64_t now,
                      int *wait, const char **why)
{
    int limit = rc_conf_login_limit(q->conf), window = rc_conf_login_window(q->conf);
    int w_addr = wait_for_key(db, k->addr, limit, window, now);
    int w_pair = wait_for_key(db, k->pair, limit, window, now);
    int w_user = wait_for_key(db, k->user, limit, window, now);
    int w_tainted = w_user > 0 ? wait_for_key(db, k->pair, 1, window, now) : 0;

    if (w_addr < 0 || w_pair < 0 || w_user < 0 || w_tainted < 0) {
        return -1;
    }
    *wait = 0;
    *why = NULL;
    if (w_addr > *wait) {
        *wait = w_addr;
        *why = "address";
    }
    if (w_pair > *wait) {
        *wait = w_pair;
        *why = "user at this address";
    }
    if (w_tainted > *wait) {
        *wait = w_tainted;
        *why = "user under attack from several addresses";
    }
    return *wait > 0;
}

static int record_key(rc_db *db, const char *key, int limit, apr_int64_t now)
{
    return rc_store_failure_add(db, key, now) || rc_store_failures_trim_key(db, key, limit);
}

int rc_throttle_record(rc_req *q, rc_db *db, const rc_throttle_keys *k, apr_int64_t now)
{
    int limit = rc_conf_login_limit(q->conf);
    apr_int64_t keep = rc_conf_login_window(q->conf);
    apr_dbd_transaction_t *tx;
    int rv;

    if (keep < FAILURES_KEEP) {
        keep = FAILURES_KEEP;
    }
    if (rc_db_begin(db, &tx)) {
        return -1;
    }
    rv = record_key(db, k->addr, limit, now) || record_key(db, k->pair, limit, now)
        || record_key(db, k->user, limit, now) || rc_store_failures_prune(db, now - keep)
        || rc_store_failures_cap(db, rc_conf_login_rows(q->conf));
    if (rc_db_end(db, tx, rv) || rv) {
        return -1;
    }
    return 0;
}

int rc_throttle_forget(rc_db *db, const rc_throttle_keys *k)
{
    return rc_store_failures_clear(db, k->pair) || rc_store_failures_clear(db, k->user)
        ? -1 : 0;
}
