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
/* For a login no provider checked (unknown user, or input not worth
 * checking) that began at started: waits until it has taken as long as a
 * wrong password takes with this app's providers, so timing does not tell
 * unknown users from wrong passwords, whatever the provider and hash cost. */
void rc_authn_equalize(rc_req *q, apr_time_t started);
/* Startup: the table of measured check times, shared by all children. */
void rc_authn_post_config(apr_pool_t *pconf, server_rec *s);
/* 1: provider `name` still knows the user, 0: it does not (or is no longer
 * configured here), -1: it cannot tell now. */
int rc_authn_still_known(rc_req *q, const char *name, const char *user);

#endif
