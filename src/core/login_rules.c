/* The pure rules of form login (see login_rules.h). */
#include "login_rules.h"

#include <apr_strings.h>
#include <string.h>

const char *rc_login_safe_next(apr_pool_t *p, const char *base, const char *next)
{
    const char *home = apr_pstrcat(p, base, "/", NULL);
    size_t blen = strlen(base), nlen;
    const char *s;

    if (!next || strncmp(next, base, blen) != 0 || next[blen] != '/') {
        return home;
    }
    for (s = next; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c <= 0x20 || c >= 0x7f || c == '\\' || c == '"' || c == '<' || c == '>') {
            return home;
        }
    }
    nlen = strlen(next);
    if (strstr(next, "//") || strstr(next, "/../") || strstr(next, "/./")
        || (nlen >= 3 && strcmp(next + nlen - 3, "/..") == 0)) {
        return home;
    }
    return next;
}

int rc_login_plausible_user(const char *u)
{
    const unsigned char *s;

    if (!u || !*u || strlen(u) > RC_LOGIN_USER_MAX) {
        return 0;
    }
    for (s = (const unsigned char *)u; *s; s++) {
        if (*s < 0x20 || *s == 0x7f) {
            return 0;
        }
    }
    return 1;
}

void rc_cookie_parse(apr_pool_t *p, const char *header, const char *name,
                     apr_array_header_t *out)
{
    char *copy = apr_pstrdup(p, header), *tok, *state = NULL;
    size_t n = strlen(name);

    for (tok = apr_strtok(copy, ";", &state); tok; tok = apr_strtok(NULL, ";", &state)) {
        char *end;
        while (*tok == ' ' || *tok == '\t') {
            tok++;
        }
        if (strncmp(tok, name, n) != 0 || tok[n] != '=') {
            continue;
        }
        tok += n + 1;
        end = tok + strlen(tok);
        while (end > tok && (end[-1] == ' ' || end[-1] == '\t')) {
            *--end = '\0';
        }
        APR_ARRAY_PUSH(out, const char *) = tok;
    }
}
