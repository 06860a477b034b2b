/* The CSRF defence of both auth modes. */
#ifndef RC_CSRF_H
#define RC_CSRF_H

#include "http.h"

/* State-changing requests: the X-CSRF-Token header (or a `csrf` form field the
 * caller passes) must match, and a cross-site Origin is refused. Returns OK,
 * or DONE after sending 403. */
int rc_csrf_check(rc_req *q, const char *form_token);
/* 1 when the request's Origin / Sec-Fetch-Site say it comes from another site. */
int rc_csrf_cross_site(request_rec *r);
/* The CSRF token bound to this user (apache mode), for the current window of
 * RagChatCSRFLifetime seconds; the previous window's is accepted too. */
const char *rc_csrf_token_for(rc_req *q, const char *subject);
/* Startup: a random key for CSRF tokens when RagChatSecret is unset, the same
 * for every child and across graceful restarts. */
void rc_csrf_post_config(server_rec *s);

#endif
