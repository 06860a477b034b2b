/* Login throttling without a lockout for attackers to hand out.
 *
 * Failures are counted in the database (so limits hold across processes and
 * servers) under three keys, HMACs with RagChatSecret: the address, the user
 * at that address, and the user. An address over the limit is refused for
 * every user; a user over the limit at one address is refused there only.
 * When a user's failures from all addresses together pass the limit (a
 * distributed attack), addresses that have failed for that user are refused
 * until their failures leave the window, while a correct password from an
 * address that has not failed still works: an attacker needs a fresh address
 * for every guess, the user is never locked out (OWASP ASVS 2.2.1). */
#ifndef RC_THROTTLE_H
#define RC_THROTTLE_H

#include "http.h"

typedef struct {
    const char *user;    /* the user name, case-folded ("Alice" is "alice") */
    const char *addr;    /* the client's address */
    const char *pair;    /* the user at this address */
} rc_throttle_keys;

void rc_throttle_keys_for(rc_req *q, const char *user, rc_throttle_keys *k);
/* 0 when a login may be tried now; 1 when not, with *wait (seconds) and *why
 * ("address", "user at this address", "user under attack"); -1 on error. */
int rc_throttle_check(rc_req *q, rc_db *db, const rc_throttle_keys *k, apr_int64_t now,
                      int *wait, const char **why);
/* Counts one failure under the three keys, in one transaction that also
 * keeps the table bounded (per key, in time, and in all). 0 or -1. */
int rc_throttle_record(rc_req *q, rc_db *db, const rc_throttle_keys *k, apr_int64_t now);
/* After a good login: the user's failures are forgotten. 0 or -1. */
int rc_throttle_forget(rc_db *db, const rc_throttle_keys *k);

#endif
