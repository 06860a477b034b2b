/* The "env" authn provider (see provider_env.h).
 *
 * The reference reads APP_USER (default "admin") and APP_PASSWORD (default
 * "admin"). A default password is a door left open, so here an unset
 * APP_PASSWORD accepts nobody, and "admin" is accepted with a warning at
 * every start. The password is compared through SHA-256 digests in constant
 * time and never logged. */
#include "provider_env.h"
#include "crypto.h"

#include "http_log.h"
#include "http_request.h"
#include "mod_auth.h"
#include "apr_strings.h"

#include <stdlib.h>

APLOG_USE_MODULE(ragchat);

static const char *env_user;             /* NULL: the provider knows nobody */
static unsigned char env_pw_digest[32];

static authn_status env_check_password(request_rec *r, const char *user,
                                       const char *password)
{
    unsigned char d[32];
    unsigned char diff = 0;
    size_t i;

    (void)r;
    if (!env_user || !user || !password || !rc_ct_streq(user, env_user)) {
        return AUTH_USER_NOT_FOUND;
    }
    rc_sha256(password, strlen(password), d);
    for (i = 0; i < sizeof(d); i++) {
        diff |= (unsigned char)(d[i] ^ env_pw_digest[i]);
    }
    return diff == 0 ? AUTH_GRANTED : AUTH_DENIED;
}

static const authn_provider env_provider = {
    &env_check_password,
    NULL,
};

void rc_provider_env_register(apr_pool_t *p)
{
    ap_register_auth_provider(p, AUTHN_PROVIDER_GROUP, RC_PROVIDER_ENV,
                              AUTHN_PROVIDER_VERSION, &env_provider,
                              AP_AUTH_INTERNAL_PER_CONF);
}

void rc_provider_env_post_config(apr_pool_t *pconf, server_rec *s, int used)
{
    const char *user = getenv("APP_USER");
    const char *pw = getenv("APP_PASSWORD");

    if (!user || !*user) {
        user = "admin";
    }
    if (!pw || !*pw) {
        env_user = NULL;
        memset(env_pw_digest, 0, sizeof(env_pw_digest));
        if (used) {
            ap_log_error(APLOG_MARK, APLOG_WARNING, 0, s,
                         "RC0301: the authn provider 'env' is configured but APP_PASSWORD "
                         "is not set in httpd's environment: it accepts nobody");
        }
        return;
    }
    env_user = apr_pstrdup(pconf, user);
    rc_sha256(pw, strlen(pw), env_pw_digest);
    if (used && strcmp(pw, "admin") == 0) {
        ap_log_error(APLOG_MARK, APLOG_WARNING, 0, s,
                     "RC0302: the authn provider 'env' uses the reference app's default "
                     "password: set APP_PASSWORD to another one");
    }
}
