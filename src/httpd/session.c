/* RagChatAuth form: the login page, password checks through mod_authn
 * providers, signed server-side sessions, logout, and login throttling.
 *
 * The session cookie is "<id>.<mac>": id is 32 random bytes in hex, mac an
 * HMAC-SHA256 of it (and of the base path) with RagChatSecret. The row of
 * ragchat_sessions is keyed by a SHA-256 of id, so neither the table nor the
 * secret alone lets anybody in, and deleting the row (logout, expiry,
 * revocation) ends the session on every child and server sharing the
 * database. The row holds the user, the CSRF token, the provider that let
 * the user in, and epoch-second times: created, last seen (written at most
 * once a minute), absolute expiry, last provider check.
 *
 * The login form is protected by a double-submit token: a random nonce in a
 * cookie scoped to B/login, and its HMAC in the form's hidden `csrf` field.
 * Failed logins are rows of ragchat_login_failures keyed by an HMAC of the
 * user name and of the address, so the limit holds across processes. */
#include "session.h"
#include "auth.h"
#include "provider_env.h"
#include "static.h"
#include "store.h"
#include "util.h"

#include "ap_provider.h"
#include "http_config.h"
#include "http_core.h"
#include "http_log.h"
#include "http_protocol.h"
#include "http_request.h"
#include "mod_auth.h"
#include "apr_lib.h"
#include "apr_md5.h"
#include "apr_strings.h"

APLOG_USE_MODULE(ragchat);

#define SESSION_COOKIE   "ragchat_session"
#define LOGIN_COOKIE     "ragchat_login"
#define SESSION_ID_BYTES 32
#define NONCE_BYTES      16
#define LOGIN_BODY_MAX   16384
#define USER_MAX         256
#define PASSWORD_MAX     1024
#define LAST_SEEN_EVERY  60
#define FAILURES_KEEP    (24 * 3600)
#define MSG_WRONG        "Wrong user name or password"

/* A bcrypt hash (cost 5, htpasswd's default) of a random password: checked
 * when no provider knows the user, so an unknown name costs the time of a
 * wrong password. */
static const char dummy_hash[] =
    "$2y$05$2nXy8L.wCTlRwv8oYF8tAe/kkcTQhf6w2lYnJGSkYaxIitanZlGA.";

/* Configuration mistakes found at request time are logged once per process. */
static volatile int warned_secret, warned_provider;

typedef struct {
    const char *user, *csrf, *provider;
    apr_int64_t created, last_seen, expires, checked;
} session_row;

static apr_int64_t now_sec(void)
{
    return (apr_int64_t)apr_time_sec(apr_time_now());
}

static const char *i64(apr_pool_t *p, apr_int64_t v)
{
    return apr_psprintf(p, "%" APR_INT64_T_FMT, v);
}

static int secret_ok(rc_req *q)
{
    if (q->conf->secret) {
        return 1;
    }
    if (!warned_secret) {
        warned_secret = 1;
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, q->r,
                      "RC0310: RagChatAuth form needs RagChatSecret (at least 32 bytes) "
                      "for %s: every request answers 500", *q->base ? q->base : "/");
    }
    return 0;
}

/* HMAC with RagChatSecret of purpose, base path and value, base64url. */
static const char *mac_of(rc_req *q, const char *purpose, const char *value)
{
    unsigned char mac[32];
    const char *msg = apr_pstrcat(q->r->pool, "ragchat-", purpose, "\n", q->base, "\n",
                                  value, NULL);

    rc_hmac_sha256(q->conf->secret, strlen(q->conf->secret), msg, strlen(msg), mac);
    return rc_b64url(q->r->pool, mac, sizeof(mac));
}

static const char *sha256_b64(apr_pool_t *p, const char *s)
{
    unsigned char d[32];

    rc_sha256(s, strlen(s), d);
    return rc_b64url(p, d, sizeof(d));
}

static int is_hex(const char *s, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++) {
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f'))) {
            return 0;
        }
    }
    return s[n] == '\0' || s[n] == '.';
}

/* ---- cookies ------------------------------------------------------------- */

typedef struct {
    apr_pool_t *p;
    const char *name;
    apr_array_header_t *out;
} cookie_ctx;

static int collect_cookie(void *data, const char *key, const char *val)
{
    cookie_ctx *c = data;
    char *copy = apr_pstrdup(c->p, val), *tok, *state = NULL;
    size_t n = strlen(c->name);

    (void)key;
    for (tok = apr_strtok(copy, ";", &state); tok; tok = apr_strtok(NULL, ";", &state)) {
        char *end;
        while (*tok == ' ' || *tok == '\t') {
            tok++;
        }
        if (strncmp(tok, c->name, n) != 0 || tok[n] != '=') {
            continue;
        }
        tok += n + 1;
        end = tok + strlen(tok);
        while (end > tok && (end[-1] == ' ' || end[-1] == '\t')) {
            *--end = '\0';
        }
        APR_ARRAY_PUSH(c->out, const char *) = tok;
    }
    return 1;
}

/* Every value of the cookie `name` the request carries (a parent domain may
 * have planted one more under the same name). */
static apr_array_header_t *cookie_values(request_rec *r, const char *name)
{
    cookie_ctx c;

    c.p = r->pool;
    c.name = name;
    c.out = apr_array_make(r->pool, 2, sizeof(const char *));
    apr_table_do(collect_cookie, &c, r->headers_in, "Cookie", NULL);
    return c.out;
}

static const char *cookie_path(rc_req *q, const char *sub)
{
    return apr_pstrcat(q->r->pool, q->base, sub ? sub : "", (*q->base || sub) ? "" : "/",
                       NULL);
}

/* max_age < 0: a browser-session cookie; 0: delete it. In err_headers_out so
 * it goes with every status. */
static void set_cookie(rc_req *q, const char *name, const char *value, const char *path,
                       long max_age)
{
    request_rec *r = q->r;
    int secure = strcasecmp(ap_http_scheme(r), "https") == 0;

    apr_table_addn(r->err_headers_out, "Set-Cookie",
                   apr_psprintf(r->pool, "%s=%s; Path=%s%s; HttpOnly; SameSite=Lax%s",
                                name, value, path,
                                max_age >= 0 ? apr_psprintf(r->pool, "; Max-Age=%ld", max_age)
                                             : "",
                                secure ? "; Secure" : ""));
}

/* The row id of the first validly signed session cookie, or NULL. */
static const char *signed_session(rc_req *q)
{
    apr_array_header_t *vals = cookie_values(q->r, SESSION_COOKIE);
    int i;

    for (i = 0; i < vals->nelts; i++) {
        const char *v = APR_ARRAY_IDX(vals, i, const char *);
        const char *dot = strchr(v, '.');
        const char *id;

        if (!dot || dot - v != 2 * SESSION_ID_BYTES || !is_hex(v, 2 * SESSION_ID_BYTES)) {
            continue;
        }
        id = apr_pstrmemdup(q->r->pool, v, 2 * SESSION_ID_BYTES);
        if (rc_ct_streq(dot + 1, mac_of(q, "session", id))) {
            return sha256_b64(q->r->pool, id);
        }
    }
    return NULL;
}

/* ---- providers ----------------------------------------------------------- */

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

/* The providers in order, as AuthBasicProvider does: the first that knows
 * the user decides. *which is the deciding provider. -1: misconfigured. */
static int check_password(rc_req *q, const char *user, const char *password,
                          authn_status *st, const char **which)
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

/* 1: the provider still knows the user, 0: it does not (or is no longer
 * configured here), -1: it cannot tell now. A random password is checked:
 * AUTH_DENIED means the user exists. */
static int user_still_known(rc_req *q, const char *name, const char *user)
{
    const authn_provider *p;
    int i, listed = 0;

    for (i = 0; i < provider_count(q->conf); i++) {
        listed |= strcmp(provider_name(q->conf, i), name) == 0;
    }
    if (!listed || !(p = find_provider(q, name))) {
        return 0;
    }
    switch (call_provider(q, p, name, user, rc_random_hex(q->r->pool, 24))) {
    case AUTH_USER_NOT_FOUND:
        return 0;
    case AUTH_GENERAL_ERROR:
        return -1;
    default:
        return 1;
    }
}

/* ---- sessions ------------------------------------------------------------ */

static int load_session(rc_req *q, rc_db *db, const char *row_id, session_row *s)
{
    apr_dbd_results_t *res;
    apr_dbd_row_t *row;
    int found = 0;

    if (rc_db_select(db, "session_get",
                     "SELECT \"userIdentifier\", csrf, provider, \"createdAt\", \"lastSeen\","
                     " \"expiresAt\", \"checkedAt\" FROM ragchat_sessions WHERE id = %s LIMIT 1",
                     &res, RC_DB_ARGS(row_id))) {
        return -1;
    }
    while (rc_db_next(db, res, &row) == 0) {
        const char *c[7];
        int i;
        if (found) {
            continue;
        }
        for (i = 0; i < 7; i++) {
            c[i] = rc_db_col(db, row, i);
        }
        if (!c[0] || !c[1] || !c[2]) {
            continue;
        }
        s->user = apr_pstrdup(q->r->pool, c[0]);
        s->csrf = apr_pstrdup(q->r->pool, c[1]);
        s->provider = apr_pstrdup(q->r->pool, c[2]);
        s->created = c[3] ? apr_atoi64(c[3]) : 0;
        s->last_seen = c[4] ? apr_atoi64(c[4]) : 0;
        s->expires = c[5] ? apr_atoi64(c[5]) : 0;
        s->checked = c[6] ? apr_atoi64(c[6]) : 0;
        found = 1;
    }
    return found;
}

static int delete_session(rc_db *db, const char *row_id)
{
    return rc_db_exec(db, "session_del", "DELETE FROM ragchat_sessions WHERE id = %s",
                      NULL, RC_DB_ARGS(row_id));
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
    rv = drop ? delete_session(db, row_id)
              : rc_db_exec(db, "session_touch",
                           "UPDATE ragchat_sessions SET \"lastSeen\" = %s, \"checkedAt\" = %s"
                           " WHERE id = %s", NULL,
                           RC_DB_ARGS(i64(q->r->pool, now), i64(q->r->pool, checked),
                                      row_id));
    rc_db_release(db);
    return rv;
}

int rc_session_identify(rc_req *q)
{
    request_rec *r = q->r;
    const char *row_id, *why = NULL;
    session_row s;
    apr_int64_t now = now_sec(), idle = rc_conf_session_timeout(q->conf);
    apr_int64_t recheck = rc_conf_session_recheck(q->conf);
    apr_int64_t touch_every = idle / 4 < LAST_SEEN_EVERY ? idle / 4 : LAST_SEEN_EVERY;
    apr_int64_t checked;
    rc_db *db;
    int found;

    if (!secret_ok(q)) {
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    if (!(row_id = signed_session(q))) {
        return HTTP_UNAUTHORIZED;
    }
    /* A short-lived connection: a chat stream must not hold a pooled one. */
    if (!(db = rc_db_open(r, r->pool))) {
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    memset(&s, 0, sizeof(s));
    found = load_session(q, db, row_id, &s);
    rc_db_release(db);
    if (found < 0) {
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    if (!found) {
        return HTTP_UNAUTHORIZED;         /* logged out, expired or revoked */
    }
    if (now >= s.expires || now >= s.created + rc_conf_session_max_age(q->conf)) {
        why = "reached its maximum age";
    }
    else if (now - s.last_seen >= idle) {
        why = "was idle too long";
    }
    checked = s.checked;
    if (!why && recheck > 0 && now - s.checked >= recheck) {
        int known = user_still_known(q, s.provider, s.user);
        if (known == 0) {
            why = "ended: the user is no longer known to its authn provider";
        }
        else if (known > 0) {
            checked = now;
        }
        else {
            ap_log_rerror(APLOG_MARK, APLOG_WARNING, 0, r,
                          "RC0322: authn provider %s could not confirm user %s; "
                          "the session is kept", s.provider, ap_escape_logitem(r->pool, s.user));
        }
    }
    if (why) {
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

/* ---- the login form ------------------------------------------------------- */

/* `next` when it is a path of this app (B/…), else B/. The value ends up in
 * a Location header and an HTML attribute: only plain printable ASCII, no
 * scheme, no "//" (protocol-relative), no backslash, no "..". */
static const char *safe_next(rc_req *q, const char *next)
{
    const char *home = apr_pstrcat(q->r->pool, q->base, "/", NULL);
    size_t blen = strlen(q->base);
    const char *s;

    if (!next || strncmp(next, q->base, blen) != 0 || next[blen] != '/') {
        return home;
    }
    for (s = next; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c <= 0x20 || c >= 0x7f || c == '\\' || c == '"' || c == '<' || c == '>') {
            return home;
        }
    }
    if (strstr(next, "//") || strstr(next, "/../") || strstr(next, "/./")
        || (strlen(next) >= 3 && strcmp(next + strlen(next) - 3, "/..") == 0)) {
        return home;
    }
    return next;
}

/* The login nonce of the request's cookie, or a new one (and its cookie). */
static const char *login_nonce(rc_req *q, int create)
{
    apr_array_header_t *vals = cookie_values(q->r, LOGIN_COOKIE);
    const char *n;
    int i;

    for (i = 0; i < vals->nelts; i++) {
        n = APR_ARRAY_IDX(vals, i, const char *);
        if (strlen(n) == 2 * NONCE_BYTES && is_hex(n, 2 * NONCE_BYTES)) {
            return n;
        }
    }
    if (!create) {
        return NULL;
    }
    n = rc_random_hex(q->r->pool, NONCE_BYTES);
    set_cookie(q, LOGIN_COOKIE, n, cookie_path(q, "/login"), -1);
    return n;
}

static int login_page(rc_req *q, int status, const char *error, const char *user,
                      const char *next)
{
    const char *vars[11];

    vars[0] = "TITLE";
    vars[1] = rc_conf_title(q->conf);
    vars[2] = "CSRF";
    vars[3] = mac_of(q, "login", login_nonce(q, 1));
    vars[4] = "NEXT";
    vars[5] = safe_next(q, next);
    vars[6] = "ERROR";
    vars[7] = error ? error : "";
    vars[8] = "USER";
    vars[9] = user ? user : "";
    vars[10] = NULL;
    return rc_send_template(q, status, "login.html", vars);
}

static int see_other(request_rec *r, const char *location)
{
    apr_table_setn(r->headers_out, "Location", location);
    apr_table_setn(r->headers_out, "Cache-Control", "no-store");
    r->status = HTTP_SEE_OTHER;
    ap_set_content_length(r, 0);
    return OK;
}

static apr_table_t *parse_form(apr_pool_t *p, char *body)
{
    apr_table_t *t = apr_table_make(p, 4);
    char *pair, *state = NULL;

    for (pair = apr_strtok(body, "&", &state); pair; pair = apr_strtok(NULL, "&", &state)) {
        char *eq = strchr(pair, '='), *val = "";
        if (eq) {
            *eq = '\0';
            val = eq + 1;
        }
        /* A malformed escape or an encoded NUL drops the field. */
        if (ap_unescape_urlencoded(pair) != OK || ap_unescape_urlencoded(val) != OK) {
            continue;
        }
        if (!apr_table_get(t, pair)) {
            apr_table_setn(t, pair, val);
        }
    }
    return t;
}

/* Reads a form-encoded body into a table; OK, or DONE after an error. */
static int read_form(rc_req *q, apr_table_t **form)
{
    const char *ct = apr_table_get(q->r->headers_in, "Content-Type");
    char *body;
    apr_size_t len;
    int rv;

    if (!ct || strncasecmp(ct, "application/x-www-form-urlencoded", 33) != 0) {
        rc_send_error(q->r, HTTP_UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type",
                      "send the form as application/x-www-form-urlencoded");
        return DONE;
    }
    if ((rv = rc_read_body(q->r, LOGIN_BODY_MAX, &body, &len)) != OK) {
        return rv;
    }
    if (memchr(body, '\0', len)) {
        body[0] = '\0';
    }
    *form = parse_form(q->r->pool, body);
    return OK;
}

static int plausible_user(const char *u)
{
    const unsigned char *s;

    if (!u || !*u || strlen(u) > USER_MAX) {
        return 0;
    }
    for (s = (const unsigned char *)u; *s; s++) {
        if (*s < 0x20 || *s == 0x7f) {
            return 0;          /* CR/LF and friends: header and log injection */
        }
    }
    return 1;
}

/* Throttling keys: HMACs of the user name (case-folded, so "Alice" and
 * "alice" count together) and of the address. */
static const char *user_key(rc_req *q, const char *user)
{
    char *u = apr_pstrdup(q->r->pool, user);

    ap_str_tolower(u);
    return mac_of(q, "login-user", u);
}

static const char *addr_key(rc_req *q)
{
    return mac_of(q, "login-addr", q->r->useragent_ip ? q->r->useragent_ip : "");
}

/* Seconds until a login for this key is allowed again, 0 when it is, -1 on
 * error. The limit-th newest failure in the window is the one that must
 * leave it. */
static int retry_after(rc_req *q, rc_db *db, const char *key, apr_int64_t now)
{
    apr_int64_t limit = rc_conf_login_limit(q->conf), window = rc_conf_login_window(q->conf);
    apr_dbd_results_t *res;
    apr_dbd_row_t *row;
    apr_int64_t n = 0, last = 0, wait;

    if (rc_db_select(db, "login_failures",
                     "SELECT \"createdAt\" FROM ragchat_login_failures WHERE \"key\" = %s"
                     " AND \"createdAt\" > %s ORDER BY \"createdAt\" DESC LIMIT %s", &res,
                     RC_DB_ARGS(key, i64(q->r->pool, now - window),
                                i64(q->r->pool, limit)))) {
        return -1;
    }
    while (rc_db_next(db, res, &row) == 0) {
        const char *v = rc_db_col(db, row, 0);
        n++;
        last = v ? apr_atoi64(v) : now;
    }
    if (n < limit) {
        return 0;
    }
    wait = last + window - now;
    return wait < 1 ? 1 : (int)wait;
}

static int record_failure(rc_req *q, rc_db *db, const char *ukey, const char *akey,
                          apr_int64_t now)
{
    apr_pool_t *p = q->r->pool;
    apr_int64_t keep = rc_conf_login_window(q->conf);
    const char *t = i64(p, now);

    if (keep < FAILURES_KEEP) {
        keep = FAILURES_KEEP;     /* other locations may count with longer windows */
    }
    return rc_db_exec(db, "login_fail_add",
                      "INSERT INTO ragchat_login_failures (id, \"key\", \"createdAt\")"
                      " VALUES (%s, %s, %s)", NULL, RC_DB_ARGS(rc_uuid4(p), ukey, t))
        || rc_db_exec(db, "login_fail_add",
                      "INSERT INTO ragchat_login_failures (id, \"key\", \"createdAt\")"
                      " VALUES (%s, %s, %s)", NULL, RC_DB_ARGS(rc_uuid4(p), akey, t))
        || rc_db_exec(db, "login_fail_prune",
                      "DELETE FROM ragchat_login_failures WHERE \"createdAt\" < %s", NULL,
                      RC_DB_ARGS(i64(p, now - keep)));
}

static int start_session(rc_req *q, rc_db *db, const char *user, const char *provider,
                         const char *ukey, const char *next, apr_int64_t now)
{
    request_rec *r = q->r;
    apr_pool_t *p = r->pool;
    apr_int64_t max_age = rc_conf_session_max_age(q->conf);
    const char *id = rc_random_hex(p, SESSION_ID_BYTES);
    const char *old = signed_session(q);
    apr_dbd_transaction_t *tx;
    int rv;

    if (!rc_store_user_id(db, user)) {
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    if (rc_db_begin(db, &tx)) {
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    /* A new id at every login; the session the browser had is ended. */
    rv = (old && delete_session(db, old))
        || rc_db_exec(db, "session_add",
                      "INSERT INTO ragchat_sessions (id, \"userIdentifier\", csrf, provider,"
                      " \"createdAt\", \"lastSeen\", \"expiresAt\", \"checkedAt\", address)"
                      " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)", NULL,
                      RC_DB_ARGS(sha256_b64(p, id), user, rc_random_hex(p, 24), provider,
                                 i64(p, now), i64(p, now), i64(p, now + max_age), i64(p, now),
                                 r->useragent_ip))
        || rc_db_exec(db, "session_prune",
                      "DELETE FROM ragchat_sessions WHERE \"expiresAt\" <= %s", NULL,
                      RC_DB_ARGS(i64(p, now)))
        || rc_db_exec(db, "login_fail_clear",
                      "DELETE FROM ragchat_login_failures WHERE \"key\" = %s", NULL,
                      RC_DB_ARGS(ukey));
    if (rc_db_end(db, tx, rv) || rv) {
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    set_cookie(q, SESSION_COOKIE, apr_pstrcat(p, id, ".", mac_of(q, "session", id), NULL),
               cookie_path(q, NULL), (long)max_age);
    set_cookie(q, LOGIN_COOKIE, "", cookie_path(q, "/login"), 0);
    ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, "RC0330: %s logged in (provider %s)",
                  ap_escape_logitem(p, user), provider);
    r->user = (char *)user;
    return see_other(r, safe_next(q, next));
}

static int login_post(rc_req *q)
{
    request_rec *r = q->r;
    apr_table_t *form = NULL;
    const char *user, *password, *next, *token, *nonce, *which, *ukey, *akey, *shown;
    const char *why = "";
    apr_int64_t now = now_sec();
    authn_status st;
    rc_db *db;
    int rv, wait_u, wait_a;

    if (rc_auth_cross_site(r)) {
        return rc_send_error(r, HTTP_FORBIDDEN, "cross_site",
                             "cross-site requests are refused");
    }
    if ((rv = read_form(q, &form)) != OK) {
        return rv == DONE ? OK : rv;
    }
    user = apr_table_get(form, "username");
    password = apr_table_get(form, "password");
    next = apr_table_get(form, "next");
    token = apr_table_get(form, "csrf");
    shown = plausible_user(user) ? user : "";
    nonce = login_nonce(q, 0);
    if (!nonce || !token || !rc_ct_streq(token, mac_of(q, "login", nonce))) {
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r,
                      "RC0331: login form without a valid form token (cookies off, or "
                      "a stale or forged form)");
        return login_page(q, HTTP_FORBIDDEN,
                          "The login form expired. Please try again.", shown, next);
    }
    if (!(db = rc_db_acquire(r))) {
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    ukey = user_key(q, user ? user : "");
    akey = addr_key(q);
    wait_u = retry_after(q, db, ukey, now);
    wait_a = retry_after(q, db, akey, now);
    if (wait_u < 0 || wait_a < 0) {
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    if (wait_u || wait_a) {
        int wait = wait_u > wait_a ? wait_u : wait_a;
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r,
                      "RC0332: login of '%s' refused: too many failures for this %s",
                      ap_escape_logitem(r->pool, shown), wait_u ? "user" : "address");
        apr_table_setn(r->err_headers_out, "Retry-After", apr_itoa(r->pool, wait));
        return login_page(q, HTTP_TOO_MANY_REQUESTS,
                          apr_psprintf(r->pool, "Too many failed logins. Try again in %d "
                                       "second%s.", wait, wait == 1 ? "" : "s"),
                          shown, next);
    }
    st = AUTH_USER_NOT_FOUND;
    which = NULL;
    if (!plausible_user(user)) {
        why = " (empty, oversized or with control characters: not checked)";
    }
    else if (!password || !*password || strlen(password) > PASSWORD_MAX) {
        why = " (empty or oversized password: not checked)";
    }
    else if (check_password(q, user, password, &st, &which) < 0) {
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    else if (st == AUTH_USER_NOT_FOUND) {
        why = " (unknown user)";
    }
    if (st == AUTH_GRANTED) {
        return start_session(q, db, user, which, ukey, next, now);
    }
    if (st == AUTH_GENERAL_ERROR) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r,
                      "RC0333: authn provider %s failed while checking '%s'", which,
                      ap_escape_logitem(r->pool, shown));
        return login_page(q, HTTP_INTERNAL_SERVER_ERROR,
                          "Logging in is not possible right now. Please try later.",
                          shown, next);
    }
    if (st == AUTH_USER_NOT_FOUND) {
        /* Spend the time of a password check, so timing does not tell. */
        apr_password_validate(password ? password : "", dummy_hash);
    }
    if (record_failure(q, db, ukey, akey, now)) {
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, "RC0334: failed login for '%s'%s",
                  ap_escape_logitem(r->pool, shown), why);
    return login_page(q, HTTP_UNAUTHORIZED, MSG_WRONG, shown, next);
}

int rc_handle_login(rc_req *q)
{
    request_rec *r = q->r;

    if (rc_conf_auth(q->conf) != RC_AUTH_FORM) {
        return rc_send_error(r, HTTP_NOT_FOUND, "not_found",
                             "form login is not enabled here (RagChatAuth apache)");
    }
    if (!secret_ok(q)) {
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    if (r->method_number == M_GET) {
        return login_page(q, HTTP_OK, NULL, NULL, rc_query_param(r, "next"));
    }
    if (r->method_number == M_POST) {
        return login_post(q);
    }
    return rc_send_method_not_allowed(r, "GET, HEAD, POST");
}

static int wants_json(request_rec *r)
{
    const char *accept = apr_table_get(r->headers_in, "Accept");

    return accept && ap_strcasestr(accept, "application/json") != NULL;
}

int rc_handle_logout(rc_req *q)
{
    request_rec *r = q->r;
    apr_table_t *form = NULL;
    const char *ct = apr_table_get(r->headers_in, "Content-Type");
    rc_db *db;
    int rv;

    if (rc_conf_auth(q->conf) != RC_AUTH_FORM) {
        return rc_send_error(r, HTTP_NOT_FOUND, "not_found",
                             "form login is not enabled here (RagChatAuth apache)");
    }
    if (r->method_number != M_POST) {
        return rc_send_method_not_allowed(r, "POST");
    }
    if (ct && strncasecmp(ct, "application/x-www-form-urlencoded", 33) == 0
        && (rv = read_form(q, &form)) != OK) {
        return rv == DONE ? OK : rv;
    }
    if ((rv = rc_auth_check_csrf(q, form ? apr_table_get(form, "csrf") : NULL)) != OK) {
        return rv == DONE ? OK : rv;
    }
    if (!(db = rc_db_open(r, r->pool))) {
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    rv = delete_session(db, q->session_id);
    rc_db_release(db);
    if (rv) {
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    set_cookie(q, SESSION_COOKIE, "", cookie_path(q, NULL), 0);
    ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, "RC0335: %s logged out",
                  ap_escape_logitem(r->pool, q->user));
    apr_table_setn(r->headers_out, "Cache-Control", "no-store");
    if (wants_json(r)) {
        r->status = HTTP_NO_CONTENT;
        return OK;
    }
    return see_other(r, apr_pstrcat(r->pool, q->base, "/login", NULL));
}

/* ---- startup ------------------------------------------------------------- */

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

/* Every section of every virtual host: provider names must exist, and a
 * host that uses form login must have RagChatSecret somewhere (a section
 * that inherits it from another one is checked at its first request:
 * per-directory merging is only known then). */
const char *rc_session_post_config(apr_pool_t *pconf, apr_pool_t *ptemp, server_rec *s)
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

void rc_session_register_hooks(apr_pool_t *p)
{
    rc_provider_env_register(p);
}
