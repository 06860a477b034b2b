/* Who is asking: r->user (RagChatAuth apache) or the session cookie
 * (RagChatAuth form, in session.c). */
#ifndef RC_AUTH_H
#define RC_AUTH_H

#include "http.h"

/* Sets q->user and q->csrf (and q->session_id in form mode). Returns OK, or
 * HTTP_UNAUTHORIZED for the router to answer (JSON 401, or the login page). */
int rc_auth_identify(rc_req *q);

#endif
