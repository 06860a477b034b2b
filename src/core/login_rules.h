/* The pure rules of form login: which `next=` targets are safe, which user
 * names are worth checking, and reading cookies out of a Cookie header. */
#ifndef RC_LOGIN_RULES_H
#define RC_LOGIN_RULES_H

#include <apr_pools.h>
#include <apr_tables.h>
#include <stddef.h>

#define RC_LOGIN_USER_MAX 256

/* next when it is a path of the app at base (base + "/…"), else base + "/".
 * The value ends up in a Location header and an HTML attribute: only plain
 * printable ASCII, no scheme, no "//" (protocol-relative), no backslash, no
 * quote or angle bracket, no "." or ".." segment. */
const char *rc_login_safe_next(apr_pool_t *p, const char *base, const char *next);

/* 1 when u is a user name worth asking a provider about: non-empty, at most
 * RC_LOGIN_USER_MAX bytes, no control characters (header and log injection). */
int rc_login_plausible_user(const char *u);

/* Appends to out (an array of const char *, allocated in p) every value of the
 * cookie `name` in one Cookie header ("a=1; b=2"), trimmed. */
void rc_cookie_parse(apr_pool_t *p, const char *header, const char *name,
                     apr_array_header_t *out);

#endif
