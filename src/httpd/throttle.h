/* Login throttling: failed logins are counted per user name and per address
 * in the database, so the limit holds across processes and servers. */
#ifndef RC_THROTTLE_H
#define RC_THROTTLE_H

#include "http.h"

/* Throttling keys: HMACs of the user name (case-folded, so "Alice" and
 * "alice" count together) and of the client's address. */
const char *rc_throttle_user_key(rc_req *q, const char *user);
const char *rc_throttle_addr_key(rc_req *q);
/* Seconds until a login for this key is allowed again, 0 when it is, -1 on
 * error. */
int rc_throttle_wait(rc_req *q, rc_db *db, const char *key, apr_int64_t now);
/* Counts one failure for both keys and forgets failures older than any
 * window needs. 0, or non-zero on a database error. */
int rc_throttle_record(rc_req *q, rc_db *db, const char *ukey, const char *akey,
                       apr_int64_t now);

#endif
