/* The "env" authn provider: the reference app's single account, APP_USER and
 * APP_PASSWORD from httpd's environment. Usable by RagChatAuthProvider and by
 * httpd's own AuthBasicProvider alike. */
#ifndef RC_PROVIDER_ENV_H
#define RC_PROVIDER_ENV_H

#include "httpd.h"

#define RC_PROVIDER_ENV "env"

/* register_hooks: makes the provider known to mod_auth_* and to us. */
void rc_provider_env_register(apr_pool_t *p);
/* post_config: reads the environment (in the parent, before the children
 * fork) and warns about a default or missing password. `used` is 1 when some
 * section names the provider, so unused settings stay quiet. */
void rc_provider_env_post_config(apr_pool_t *pconf, server_rec *s, int used);

#endif
