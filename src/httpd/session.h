/* RagChatAuth form: the login page, password checks through mod_authn
 * providers, signed server-side sessions, logout, and login throttling. */
#ifndef RC_SESSION_H
#define RC_SESSION_H

#include "http.h"

/* OK with q->user, q->csrf and q->session_id set from a valid session cookie,
 * or HTTP_UNAUTHORIZED. Uses a short-lived database connection. */
int rc_session_identify(rc_req *q);
int rc_handle_login(rc_req *q);     /* GET, POST B/login */
int rc_handle_logout(rc_req *q);    /* POST B/logout */
/* Startup checks and warnings for form mode; an error string stops the server. */
const char *rc_session_post_config(apr_pool_t *pconf, apr_pool_t *ptemp, server_rec *s);
/* Registers the "env" authn provider (APP_USER / APP_PASSWORD). */
void rc_session_register_hooks(apr_pool_t *p);

#endif
