/* Startup checks of every section of every virtual host, in the check_config
 * hook, so that mistakes fail `apachectl configtest` with a message naming the
 * directive and the section, instead of failing requests or a restart. */
#ifndef RC_CONFIG_CHECK_H
#define RC_CONFIG_CHECK_H

#include "httpd.h"

/* The check_config hook: OK, or an error (logged to the console). */
int rc_config_check(apr_pool_t *pconf, apr_pool_t *plog, apr_pool_t *ptemp, server_rec *s);
/* Whether a section names the env provider (known after rc_config_check). */
int rc_config_env_provider_used(void);

#endif
