/* Startup checks of every section of every virtual host, so that mistakes
 * stop the server (and `apachectl configtest`) with a clear message instead
 * of failing requests. */
#ifndef RC_CONFIG_CHECK_H
#define RC_CONFIG_CHECK_H

#include "httpd.h"

/* NULL, or the error that stops the server (in pconf). */
const char *rc_config_check(apr_pool_t *pconf, apr_pool_t *ptemp, server_rec *s);

#endif
