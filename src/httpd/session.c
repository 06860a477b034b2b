/* Signed server-side sessions of RagChatAuth form (see session.h). The row
 * holds the user, the CSRF token, the provider that let the user in, and
 * epoch-second times: created, last seen (written at most once a minute),
 * absolute expiry, last provider check. */
#include "session.h"
#include "authn.h"
#include "cookie.h"
#include "secret.h"
#include "crypto.h"
#include "encode.h"
#include "ids.h"

#include "http_log.h"
#include "apr_strings.h"

APLOG_USE_MODULE(ragchat);

#define SESSION_COOKIE   "ragchat_session"
#define SESSION_ID_BYTES 32
#define LAST_SEEN_EVERY  60

static const char *sha256_b64(apr_pool_t *p, const char *s)
{
    unsigned char d[32];

    rc_sha256(s, strlen(s), d);
    return rc_b64url(p, d, sizeof(d));
}

/* The row id of the first validly signed session cookie, or NULL. */
static const char *signed_session(rc_req *q)
{
    apr_array_header_t *vals = rc_cookie_values(q->r, SESSION_COOKIE);
    int i;

    for (i = 0; i < vals->nelts; i++) {
        const char *v = APR_ARRAY_IDX(vals, i, const char *);
        const char *dot = strchr(v, '.');
        const char *id;

        if (!dot || dot - v != 2 * SESSION_ID_BYTES || !rc_is_hex(v, 2 * SESSION_ID_BYTES)) {
            continue;
        }
        id = apr_pstrmemdup(q->r->pool, v, 2 * SESSION_ID_BYTES);
        if (rc_ct_streq(dot + 1, rc_secret_mac(q, "session", id))) {
            return sha256_b64(q->r->pool, id);
        }
    }
    return NULL;
}

/* Deletes or touches the row on a short-lived connection. */
static int session_write(rc_req *q, const char *row_id, int drop, apr_int64_t now,
                         apr_int64_t checked)
{
    rc_db *db = rc_db_open(q->r, q->r->pool);
    int rv;

    if (!db) {
        return -1;
    }
    rv = drop ? rc_store_session_delete(db, row_id)
              : rc_store_session_touch(db, row_id, now, checked);
    rc_db_release(db);
    return rv;
}

/* 1 with *s, 0 when the row is gone (logged out, expired, revoked), -1. */
static int load_session(rc_req *q, const char *row_id, rc_session_row *s)
{
    /* A short-lived connection: a chat stream must not hold a pooled one. */
    rc_db *db = rc_db_open(q->r, q->r->pool);
    int found;

    if (!db) {
        return -1;
    }
    memset(s, 0, sizeof(*s));
    found = rc_store_session_get(db, row_id, s);
    rc_db_release(db);
    return found;
}

/* Why the session must end now, or NULL; *checked is the new time of the
 * provider check. */
static const char *session_over(rc_req *q, const rc_session_row *s, apr_int64_t now,
                                apr_int64_t *checked)
{
    apr_int64_t idle = rc_conf_session_timeout(q->conf);
    apr_int64_t recheck = rc_conf_session_recheck(q->conf);
    int known;

    *checked = s->checked;
    if (now >= s->expires || now >= s->created + rc_conf_session_max_age(q->conf)) {
        return "reached its maximum age";
    }
    if (now - s->last_seen >= idle) {
        return "was idle too long";
    }
    if (recheck <= 0 || now - s->checked < recheck) {
        return NULL;
    }
    known = rc_authn_still_known(q, s->provider, s->user);
    if (known == 0) {
        return "ended: the user is no longer known to its authn provider";
    }
    if (known > 0) {
        *checked = now;
    }
    else {
        ap_log_rerror(APLOG_MARK, APLOG_WARNING, 0, q->r,
                      "RC0322: authn provider %s could not confirm user %s; "
                      "the session is kept", s->provider,
                      ap_escape_logitem(q->r->pool, s->user));
    }
    return NULL;
}

int rc_session_identify(rc_req *q)
{
    request_rec *r = q->r;
    const char *row_id, *why;
    rc_session_row s;
    apr_int64_t now = (apr_int64_t)apr_time_sec(apr_time_now());
    apr_int64_t idle = rc_conf_session_timeout(q->conf);
    apr_int64_t touch_every = idle / 4 < LAST_SEEN_EVERY ? idle / 4 : LAST_SEEN_EVERY;
    apr_int64_t checked;
    int found;

    if (!rc_secret_ok(q)) {
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    if (!(row_id = signed_session(q))) {
        return HTTP_UNAUTHORIZED;
    }
    if ((found = load_session(q, row_id, &s)) <= 0) {
        return found < 0 ? HTTP_INTERNAL_SERVER_ERROR : HTTP_UNAUTHORIZED;
    }
    if ((why = session_over(q, &s, now, &checked)) != NULL) {
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, "RC0320: the session of %s %s",
                      ap_escape_logitem(r->pool, s.user), why);
        session_write(q, row_id, 1, now, now);
        return HTTP_UNAUTHORIZED;
    }
    if (checked != s.checked || now - s.last_seen >= touch_every) {
        /* A failed touch (logged) only makes the next request touch again. */
        session_write(q, row_id, 0, now, checked);
    }
    q->user = s.user;
    q->csrf = s.csrf;
    q->session_id = row_id;
    r->user = (char *)s.user;             /* for the access log */
    return OK;
}

int rc_session_start(rc_req *q, rc_db *db, const char *user, const char *provider,
                     apr_int64_t now)
{
    apr_pool_t *p = q->r->pool;
    apr_int64_t max_age = rc_conf_session_max_age(q->conf);
    const char *id = rc_random_hex(p, SESSION_ID_BYTES);
    const char *old = signed_session(q);
    apr_dbd_transaction_t *tx;
    rc_session_row s;
    int rv;

    if (!rc_store_user_id(db, user) || rc_db_begin(db, &tx)) {
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    s.user = user;
    s.csrf = rc_random_hex(p, 24);
    s.provider = provider;
    s.created = s.last_seen = s.checked = now;
    s.expires = now + max_age;
    /* A new id at every login; the session the browser had is ended. */
    rv = (old && rc_store_session_delete(db, old))
        || rc_store_session_insert(db, sha256_b64(p, id), &s, q->r->useragent_ip)
        || rc_store_sessions_prune(db, now);
    if (rc_db_end(db, tx, rv) || rv) {
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    rc_cookie_set(q, SESSION_COOKIE, apr_pstrcat(p, id, ".", rc_secret_mac(q, "session", id),
                                                 NULL),
                  rc_cookie_path(q, NULL), (long)max_age);
    return OK;
}

int rc_session_end(rc_req *q, int everywhere)
{
    rc_db *db = rc_db_open(q->r, q->r->pool);
    int rv, n = 0;

    if (!db) {
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    rv = everywhere ? rc_store_sessions_delete_user(db, q->user, &n)
                    : rc_store_session_delete(db, q->session_id);
    rc_db_release(db);
    if (!rv && everywhere) {
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, q->r,
                      "RC0337: %s logged out everywhere (%d session%s ended)",
                      ap_escape_logitem(q->r->pool, q->user), n, n == 1 ? "" : "s");
    }
    if (rv) {
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    rc_cookie_set(q, SESSION_COOKIE, "", rc_cookie_path(q, NULL), 0);
    return OK;
}
