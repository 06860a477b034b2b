/* Password checks through mod_authn providers (RagChatAuthProvider, in
 * order, as AuthBasicProvider does), for the login form and the session's
 * periodic recheck. */
#ifndef RC_AUTHN_H
#define RC_AUTHN_H

#include "http.h"
#include "mod_auth.h"

/* The providers in order: the first that knows the user decides. *st is its
 * answer and *which its name. Returns 0, or -1 when a provider named in the
 * configuration does not exist (logged once). */
int rc_authn_check(rc_req *q, const char *user, const char *password, authn_status *st,
                   const char **which);
/* Spends the time of one password check, for a login no provider checked,
 * so timing does not tell unknown users from wrong passwords. */
void rc_authn_spend_check_time(const char *password);
/* 1: provider `name` still knows the user, 0: it does not (or is no longer
 * configured here), -1: it cannot tell now. */
int rc_authn_still_known(rc_req *q, const char *name, const char *user);

#endif
