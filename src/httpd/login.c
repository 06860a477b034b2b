/* RagChatAuth form: the login page and logout.
 *
 * The login form is protected by a double-submit token: a random nonce in a
 * cookie scoped to B/login, and its HMAC in the form's hidden `csrf` field.
 * Failed logins are counted by throttle.c; passwords are checked by authn.c;
 * a good one starts a session (session.c). */
#include "login.h"
#include "authn.h"
#include "cookie.h"
#include "csrf.h"
#include "login_rules.h"
#include "secret.h"
#include "encode.h"
#include "session.h"
#include "static.h"
#include "throttle.h"
#include "crypto.h"
#include "ids.h"

#include "http_log.h"
#include "http_protocol.h"
#include "apr_strings.h"

APLOG_USE_MODULE(ragchat);

#define LOGIN_COOKIE     "ragchat_login"
#define NONCE_BYTES      16
#define LOGIN_BODY_MAX   16384
#define PASSWORD_MAX     1024
#define MSG_WRONG        "Wrong user name or password"

/* The login nonce of the request's cookie, or a new one (and its cookie). */
static const char *login_nonce(rc_req *q, int create)
{
    apr_array_header_t *vals = rc_cookie_values(q->r, LOGIN_COOKIE);
    const char *n;
    int i;

    for (i = 0; i < vals->nelts; i++) {
        n = APR_ARRAY_IDX(vals, i, const char *);
        if (strlen(n) == 2 * NONCE_BYTES && rc_is_hex(n, 2 * NONCE_BYTES)) {
            return n;
        }
    }
    if (!create) {
        return NULL;
    }
    n = rc_random_hex(q->r->pool, NONCE_BYTES);
    rc_cookie_set(q, LOGIN_COOKIE, n, rc_cookie_path(q, "/login"), -1);
    return n;
}

static int login_page(rc_req *q, int status, const char *error, const char *user,
                      const char *next)
{
    const char *vars[11];

    vars[0] = "TITLE";
    vars[1] = rc_conf_title(q->conf);
    vars[2] = "CSRF";
    vars[3] = rc_secret_mac(q, "login", login_nonce(q, 1));
    vars[4] = "NEXT";
    vars[5] = rc_login_safe_next(q->r->pool, q->base, next);
    vars[6] = "ERROR";
    vars[7] = error ? error : "";
    vars[8] = "USER";
    vars[9] = user ? user : "";
    vars[10] = NULL;
    return rc_send_template(q, status, "login.html", vars);
}

/* 1 after answering 429 with Retry-After (or 500, in *rv) when this login
 * must wait (throttle.c); 0 when it may go on. */
static int throttled(rc_req *q, rc_db *db, const rc_throttle_keys *k, const char *shown,
                     const char *next, apr_int64_t now, int *rv)
{
    request_rec *r = q->r;
    const char *why;
    int wait;

    switch (rc_throttle_check(q, db, k, now, &wait, &why)) {
    case 0:
        return 0;
    case 1:
        break;
    default:
        *rv = HTTP_INTERNAL_SERVER_ERROR;
        return 1;
    }
    ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r,
                  "RC0332: login of '%s' refused: too many failures for this %s",
                  ap_escape_logitem(r->pool, shown), why);
    apr_table_setn(r->err_headers_out, "Retry-After", apr_itoa(r->pool, wait));
    *rv = login_page(q, HTTP_TOO_MANY_REQUESTS,
                     apr_psprintf(r->pool, "Too many failed logins. Try again in %d "
                                  "second%s.", wait, wait == 1 ? "" : "s"),
                     shown, next);
    return 1;
}

/* Asks the providers unless the input is not worth it; *why says why not. */
static int check_credentials(rc_req *q, const char *user, const char *password,
                             authn_status *st, const char **which, const char **why)
{
    apr_time_t started = apr_time_now();

    *st = AUTH_USER_NOT_FOUND;
    *which = NULL;
    *why = "";
    if (!rc_login_plausible_user(user)) {
        *why = " (empty, oversized or with control characters: not checked)";
    }
    else if (!password || !*password || strlen(password) > PASSWORD_MAX) {
        *why = " (empty or oversized password: not checked)";
    }
    else if (rc_authn_check(q, user, password, st, which) < 0) {
        return -1;
    }
    else if (*st == AUTH_USER_NOT_FOUND) {
        *why = " (unknown user)";
    }
    if (*st == AUTH_USER_NOT_FOUND) {
        rc_authn_equalize(q, started);
    }
    return 0;
}

static int login_granted(rc_req *q, rc_db *db, const char *user, const char *which,
                         const rc_throttle_keys *k, const char *next, apr_int64_t now)
{
    request_rec *r = q->r;
    int rv = rc_session_start(q, db, user, which, now);

    if (rv != OK) {
        return rv;
    }
    if (rc_throttle_forget(db, k)) {
        ap_log_rerror(APLOG_MARK, APLOG_WARNING, 0, r,
                      "RC0336: the failed logins of %s could not be cleared",
                      ap_escape_logitem(r->pool, user));
    }
    rc_cookie_set(q, LOGIN_COOKIE, "", rc_cookie_path(q, "/login"), 0);
    ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, "RC0330: %s logged in (provider %s)",
                  ap_escape_logitem(r->pool, user), which);
    r->user = (char *)user;
    return rc_see_other(r, rc_login_safe_next(r->pool, q->base, next));
}

static int login_post(rc_req *q)
{
    request_rec *r = q->r;
    apr_table_t *form = NULL;
    const char *user, *password, *next, *token, *nonce, *which, *shown, *why;
    rc_throttle_keys keys;
    apr_int64_t now = (apr_int64_t)apr_time_sec(apr_time_now());
    authn_status st;
    rc_db *db;
    int rv;

    if (rc_csrf_cross_site(r)) {
        return rc_send_error(r, HTTP_FORBIDDEN, "cross_site",
                             "cross-site requests are refused");
    }
    if ((rv = rc_read_form(q, LOGIN_BODY_MAX, &form)) != OK) {
        return rv == DONE ? OK : rv;
    }
    user = apr_table_get(form, "username");
    password = apr_table_get(form, "password");
    next = apr_table_get(form, "next");
    token = apr_table_get(form, "csrf");
    shown = rc_login_plausible_user(user) ? user : "";
    nonce = login_nonce(q, 0);
    if (!nonce || !token || !rc_ct_streq(token, rc_secret_mac(q, "login", nonce))) {
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r,
                      "RC0331: login form without a valid form token (cookies off, or "
                      "a stale or forged form)");
        return login_page(q, HTTP_FORBIDDEN,
                          "The login form expired. Please try again.", shown, next);
    }
    if (!(db = rc_db_acquire(r))) {
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    rc_throttle_keys_for(q, user, &keys);
    if (throttled(q, db, &keys, shown, next, now, &rv)) {
        return rv;
    }
    if (check_credentials(q, user, password, &st, &which, &why) < 0) {
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    if (st == AUTH_GRANTED) {
        return login_granted(q, db, user, which, &keys, next, now);
    }
    if (st == AUTH_GENERAL_ERROR) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r,
                      "RC0333: authn provider %s failed while checking '%s'", which,
                      ap_escape_logitem(r->pool, shown));
        return login_page(q, HTTP_INTERNAL_SERVER_ERROR,
                          "Logging in is not possible right now. Please try later.",
                          shown, next);
    }
    if (rc_throttle_record(q, db, &keys, now)) {
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
    if (!rc_secret_ok(q)) {
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
    int rv, everywhere;

    if (rc_conf_auth(q->conf) != RC_AUTH_FORM) {
        return rc_send_error(r, HTTP_NOT_FOUND, "not_found",
                             "form login is not enabled here (RagChatAuth apache)");
    }
    if (r->method_number != M_POST) {
        return rc_send_method_not_allowed(r, "POST");
    }
    if (ct && strncasecmp(ct, "application/x-www-form-urlencoded", 33) == 0
        && (rv = rc_read_form(q, LOGIN_BODY_MAX, &form)) != OK) {
        return rv == DONE ? OK : rv;
    }
    if ((rv = rc_csrf_check(q, form ? apr_table_get(form, "csrf") : NULL)) != OK) {
        return rv == DONE ? OK : rv;
    }
    everywhere = (form && apr_table_get(form, "everywhere"))
                 || (r->args && strcmp(r->args, "everywhere=1") == 0);
    if ((rv = rc_session_end(q, everywhere)) != OK) {
        return rv;
    }
    if (!everywhere) {
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, "RC0335: %s logged out",
                      ap_escape_logitem(r->pool, q->user));
    }
    apr_table_setn(r->headers_out, "Cache-Control", "no-store");
    if (wants_json(r)) {
        r->status = HTTP_NO_CONTENT;
        return OK;
    }
    return rc_see_other(r, apr_pstrcat(r->pool, q->base, "/login", NULL));
}
