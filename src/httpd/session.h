/* Signed server-side sessions of RagChatAuth form.
 *
 * The session cookie is "<id>.<mac>": id is 32 random bytes in hex, mac an
 * HMAC-SHA256 of it (and of the base path) with RagChatSecret. The row of
 * ragchat_sessions is keyed by a SHA-256 of id, so neither the table nor the
 * secret alone lets anybody in, and deleting the row (logout, expiry,
 * revocation) ends the session on every child and server sharing the
 * database. */
#ifndef RC_SESSION_H
#define RC_SESSION_H

#include "http.h"

/* OK with q->user, q->csrf and q->session_id set from a valid session cookie,
 * HTTP_UNAUTHORIZED, or 500. Uses a short-lived database connection. */
int rc_session_identify(rc_req *q);
/* After a good password: a new session row (ending the one the browser had)
 * in one transaction, and its cookie. OK or 500. */
int rc_session_start(rc_req *q, rc_db *db, const char *user, const char *provider,
                     apr_int64_t now);
/* Logout: deletes q's session row (or, everywhere, every session of q's
 * user, on every server sharing the database) and its cookie. OK or 500. */
int rc_session_end(rc_req *q, int everywhere);

#endif
