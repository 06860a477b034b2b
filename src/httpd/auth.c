/* Who is asking: in apache mode the site's own authentication ran before
 * us and the user is r->user; in form mode the session cookie says
 * (session.c). */
#include "auth.h"
#include "csrf.h"
#include "session.h"

int rc_auth_identify(rc_req *q)
{
    if (rc_conf_auth(q->conf) == RC_AUTH_FORM) {
        return rc_session_identify(q);
    }
    if (!q->r->user || !*q->r->user) {
        return HTTP_UNAUTHORIZED;
    }
    q->user = q->r->user;
    q->csrf = rc_csrf_token_for(q, q->user);
    return OK;
}
