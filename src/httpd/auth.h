/* Who is asking: r->user (RagChatAuth apache) or the session cookie
 * (RagChatAuth form, in session.c), and the CSRF defence of both. */
#ifndef RC_AUTH_H
#define RC_AUTH_H

#include "http.h"

/* Sets q->user and q->csrf (and q->session_id in form mode). Returns OK, or
 * HTTP_UNAUTHORIZED for the router to answer (JSON 401, or the login page). */
int rc_auth_identify(rc_req *q);
/* State-changing requests: the X-CSRF-Token header (or a `csrf` form field the
 * caller passes) must match, and a cross-site Origin is refused. Returns OK,
 * or DONE after sending 403. */
int rc_auth_check_csrf(rc_req *q, const char *form_token);
/* 1 when the request's Origin / Sec-Fetch-Site say it comes from another site. */
int rc_auth_cross_site(request_rec *r);
/* The CSRF token bound to this user (apache mode) or session (form mode). */
const char *rc_auth_csrf_for(rc_req *q, const char *subject);
/* Startup: a random key for CSRF tokens when RagChatSecret is unset, the same
 * for every child and across graceful restarts. */
void rc_auth_post_config(server_rec *s);

#endif
