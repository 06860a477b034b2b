/* The app's cookies: reading every value of one, and setting one with the
 * attributes every cookie of the app carries. */
#ifndef RC_COOKIE_H
#define RC_COOKIE_H

#include "http.h"

/* Every value of the cookie `name` the request carries (a parent domain may
 * have planted one more under the same name), as const char *. */
apr_array_header_t *rc_cookie_values(request_rec *r, const char *name);
/* The path a cookie of the app is scoped to: B, or B + sub ("/login"). */
const char *rc_cookie_path(rc_req *q, const char *sub);
/* Sets a cookie (HttpOnly, SameSite=Lax, Secure as RagChatCookieSecure says). max_age < 0: a
 * browser-session cookie; 0: deletes it. In err_headers_out, so it goes out
 * with every status. */
void rc_cookie_set(rc_req *q, const char *name, const char *value, const char *path,
                   long max_age);

#endif
