/* The CSRF defence of both modes: the token of a user (apache mode: an HMAC
 * of the user name and the time window, so every child process derives the
 * same token without shared state and it rotates; form mode keeps a random
 * token in the session row, new at every login), its
 * check on state-changing requests, and the refusal of cross-site ones. Basic
 * credentials are sent by browsers on cross-site requests too, hence the
 * token. */
#include "csrf.h"
#include "crypto.h"
#include "encode.h"

#include "http_log.h"
#include "http_protocol.h"
#include "apr_strings.h"

APLOG_USE_MODULE(ragchat);

#define RC_KEY_LEN 32
static const unsigned char *process_key;

void rc_csrf_post_config(server_rec *s)
{
    static const char note[] = "ragchat-csrf-key";
    void *key = NULL;

    /* Made once in the parent, before the children fork, so all share it; kept
     * in the process pool, which outlives graceful restarts, so a restart does
     * not invalidate the tokens of open pages. */
    apr_pool_userdata_get(&key, note, s->process->pool);
    if (!key) {
        key = apr_pcalloc(s->process->pool, RC_KEY_LEN);
        if (apr_generate_random_bytes(key, RC_KEY_LEN) != APR_SUCCESS) {
            ap_log_error(APLOG_MARK, APLOG_CRIT, 0, s,
                         "RC0006: no random bytes for the CSRF key");
        }
        apr_pool_userdata_set(key, note, apr_pool_cleanup_null, s->process->pool);
    }
    process_key = key;
}

/* The token of subject for one time window: windows of RagChatCSRFLifetime
 * seconds, so tokens rotate without shared state. */
static const char *token_in_window(rc_req *q, const char *subject, apr_int64_t window)
{
    unsigned char mac[32];
    const char *msg = apr_psprintf(q->r->pool, "ragchat-csrf\n%s\n%" APR_INT64_T_FMT,
                                   subject, window);

    if (q->conf->secret) {
        rc_hmac_sha256(q->conf->secret, strlen(q->conf->secret), msg, strlen(msg), mac);
    }
    else {
        rc_hmac_sha256(process_key, RC_KEY_LEN, msg, strlen(msg), mac);
    }
    return rc_b64url(q->r->pool, mac, sizeof(mac));
}

static apr_int64_t current_window(rc_req *q)
{
    return (apr_int64_t)apr_time_sec(apr_time_now()) / rc_conf_csrf_lifetime(q->conf);
}

const char *rc_csrf_token_for(rc_req *q, const char *subject)
{
    return token_in_window(q, subject, current_window(q));
}

/* A token of the previous window is still good: a page loaded just before the
 * change keeps working for a whole window more. */
static int token_matches(rc_req *q, const char *token)
{
    if (q->csrf && rc_ct_streq(token, q->csrf)) {
        return 1;
    }
    return rc_conf_auth(q->conf) != RC_AUTH_FORM && q->user
        && rc_ct_streq(token, token_in_window(q, q->user, current_window(q) - 1));
}

int rc_csrf_cross_site(request_rec *r)
{
    const char *origin = apr_table_get(r->headers_in, "Origin");
    const char *site = apr_table_get(r->headers_in, "Sec-Fetch-Site");
    const char *host = apr_table_get(r->headers_in, "Host");
    const char *o;

    if (site && strcasecmp(site, "cross-site") == 0) {
        return 1;
    }
    if (!origin) {
        return 0;
    }
    if (!host || strcmp(origin, "null") == 0) {
        return 1;
    }
    /* "scheme://host[:port]": the host part must be the Host we were asked as. */
    o = ap_strstr_c(origin, "://");
    return !o || strcasecmp(o + 3, host) != 0;
}

int rc_csrf_check(rc_req *q, const char *form_token)
{
    const char *token = apr_table_get(q->r->headers_in, "X-CSRF-Token");

    if (!token) {
        token = form_token;
    }
    if (rc_csrf_cross_site(q->r)) {
        rc_send_error(q->r, HTTP_FORBIDDEN, "cross_site", "cross-site requests are refused");
        return DONE;
    }
    if (!token || !token_matches(q, token)) {
        rc_send_error(q->r, HTTP_FORBIDDEN, "csrf",
                      "missing or wrong CSRF token (send X-CSRF-Token from api/me)");
        return DONE;
    }
    return OK;
}
