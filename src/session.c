/* RagChatAuth form: sessions and login (placeholder until the login issue
 * lands: form mode refuses every request). */
#include "session.h"

#include "http_log.h"
#include "http_protocol.h"

APLOG_USE_MODULE(ragchat);

int rc_session_identify(rc_req *q)
{
    (void)q;
    return HTTP_UNAUTHORIZED;
}

int rc_handle_login(rc_req *q)
{
    return rc_send_error(q->r, HTTP_NOT_FOUND, "not_found", "form login is not available");
}

int rc_handle_logout(rc_req *q)
{
    return rc_send_error(q->r, HTTP_NOT_FOUND, "not_found", "form login is not available");
}

const char *rc_session_post_config(apr_pool_t *pconf, apr_pool_t *ptemp, server_rec *s)
{
    (void)pconf;
    (void)ptemp;
    (void)s;
    return NULL;
}

void rc_session_register_hooks(apr_pool_t *p)
{
    (void)p;
}
