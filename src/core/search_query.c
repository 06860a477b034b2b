/* The thread search's query: terms from what was typed, and their FTS5,
 * regular-expression and marked-text forms. */
#include "search_query.h"
#include "utf8.h"

#include <apr_strings.h>
#include <string.h>

static int is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

/* Characters (not bytes) of a UTF-8 string. */
static size_t chars(const char *s)
{
    size_t n = 0;

    for (; *s; s++) {
        n += ((unsigned char)*s & 0xC0) != 0x80;
    }
    return n;
}

/* The next term from *s (a word or a quoted phrase), NULL at the end. */
static char *next_term(apr_pool_t *p, const char **s)
{
    const char *a = *s, *b;

    while (is_space(*a)) {
        a++;
    }
    if (!*a) {
        return NULL;
    }
    if (*a == '"') {
        a++;
        b = strchr(a, '"');
        b = b ? b : a + strlen(a);
        *s = *b ? b + 1 : b;
    }
    else {
        for (b = a; *b && !is_space(*b) && *b != '"'; b++) {
        }
        *s = b;
    }
    return apr_pstrmemdup(p, a, (apr_size_t)(b - a));
}

/* s with its white space runs folded to one space, trimmed; quotes dropped. */
static char *fold(apr_pool_t *p, const char *s)
{
    char *out = apr_palloc(p, strlen(s) + 1);
    size_t o = 0;
    int space = 0;

    for (; *s; s++) {
        if (is_space(*s) || *s == '"') {
            space = o > 0;
            continue;
        }
        if (space) {
            out[o++] = ' ';
            space = 0;
        }
        out[o++] = *s;
    }
    out[o] = '\0';
    return out;
}

rc_search_terms *rc_search_parse(apr_pool_t *p, const char *q)
{
    rc_search_terms *st;
    const char *s = q ? q : "";
    char *t, *whole;
    int had_short = 0;

    st = apr_pcalloc(p, sizeof(*st));
    st->terms = apr_array_make(p, RC_SEARCH_TERMS_MAX, sizeof(const char *));
    while ((t = next_term(p, &s)) != NULL) {
        char *ft = fold(p, t);
        if (chars(ft) < RC_SEARCH_TERM_MIN) {
            had_short |= *ft != '\0';
        }
        else if (st->terms->nelts < RC_SEARCH_TERMS_MAX) {
            APR_ARRAY_PUSH(st->terms, const char *) = ft;
        }
    }
    if (!had_short) {
        return st->terms->nelts ? st : NULL;
    }
    /* "chat 4", "a cat": the query as written, one phrase */
    whole = fold(p, q);
    apr_array_clear(st->terms);
    st->short_only = chars(whole) < RC_SEARCH_TERM_MIN;
    APR_ARRAY_PUSH(st->terms, const char *) = whole;
    return st;
}

char *rc_search_fts5(apr_pool_t *p, const rc_search_terms *st)
{
    size_t n = 1;
    char *out, *o;
    int i;

    for (i = 0; i < st->terms->nelts; i++) {
        n += strlen(APR_ARRAY_IDX(st->terms, i, const char *)) * 2 + 3;
    }
    out = o = apr_palloc(p, n);
    for (i = 0; i < st->terms->nelts; i++) {
        const char *t = APR_ARRAY_IDX(st->terms, i, const char *);
        if (i) {
            *o++ = ' ';
        }
        *o++ = '"';
        for (; *t; t++) {
            if (*t == '"') {
                *o++ = '"';
            }
            *o++ = *t;
        }
        *o++ = '"';
    }
    *o = '\0';
    return out;
}

char *rc_search_regex(apr_pool_t *p, const rc_search_terms *st)
{
    size_t n = 3;
    char *out, *o;
    int i;

    for (i = 0; i < st->terms->nelts; i++) {
        n += strlen(APR_ARRAY_IDX(st->terms, i, const char *)) * 2 + 1;
    }
    out = o = apr_palloc(p, n);
    *o++ = '(';
    for (i = 0; i < st->terms->nelts; i++) {
        const char *t = APR_ARRAY_IDX(st->terms, i, const char *);
        if (i) {
            *o++ = '|';
        }
        for (; *t; t++) {
            unsigned char c = (unsigned char)*t;
            /* ASCII punctuation is escaped; letters, digits and all of
             * UTF-8's bytes are themselves. */
            if (c < 0x80 && !(c >= '0' && c <= '9') && !((c | 0x20) >= 'a' && (c | 0x20) <= 'z')
                && c != ' ') {
                *o++ = '\\';
            }
            *o++ = (char)c;
        }
    }
    *o++ = ')';
    *o = '\0';
    return out;
}

/* c without case, as the trigram index compares: simple folding of the
 * Latin, Greek and Cyrillic capitals (others are themselves). */
static apr_uint32_t fold_case(apr_uint32_t c)
{
    if ((c >= 'A' && c <= 'Z') || (c >= 0xC0 && c <= 0xDE && c != 0xD7)
        || (c >= 0x391 && c <= 0x3AB && c != 0x3A2) || (c >= 0x410 && c <= 0x42F)) {
        return c + 0x20;
    }
    if (c >= 0x400 && c <= 0x40F) {
        return c + 0x50;
    }
    if (((c >= 0x100 && c <= 0x137) || (c >= 0x14A && c <= 0x177)
         || (c >= 0x460 && c <= 0x481) || (c >= 0x48A && c <= 0x4BF)
         || (c >= 0x4D0 && c <= 0x52F)) && !(c & 1)) {
        return c + 1;
    }
    if (((c >= 0x139 && c <= 0x148) || (c >= 0x179 && c <= 0x17E)) && (c & 1)) {
        return c + 1;
    }
    return c;
}

/* Bytes of text at s that match term without case, 0 when it does not. */
static size_t match_at(const char *s, const char *term)
{
    const unsigned char *a = (const unsigned char *)s, *b = (const unsigned char *)term;
    size_t na = strlen(s), nb = strlen(term);

    while (nb) {
        apr_size_t ua, ub;
        apr_uint32_t ca, cb;
        if (!na) {
            return 0;
        }
        ca = rc_utf8_next(a, na, &ua);
        cb = rc_utf8_next(b, nb, &ub);
        if (fold_case(ca) != fold_case(cb)) {
            return 0;
        }
        a += ua;
        na -= ua;
        b += ub;
        nb -= ub;
    }
    return (size_t)(a - (const unsigned char *)s);
}

char *rc_search_mark_terms(apr_pool_t *p, const char *text, const rc_search_terms *st,
                           int *marked)
{
    size_t len = strlen(text), o = 0;
    char *out = apr_palloc(p, 3 * len + 1);     /* at worst each byte marked */
    const char *s;
    int i;

    *marked = 0;
    for (s = text; *s;) {
        size_t best = 0, n;
        for (i = 0; i < st->terms->nelts; i++) {
            const char *t = APR_ARRAY_IDX(st->terms, i, const char *);
            n = *t ? match_at(s, t) : 0;
            best = n > best ? n : best;
        }
        if (best) {
            out[o++] = RC_SEARCH_MARK_ON;
            memcpy(out + o, s, best);
            o += best;
            out[o++] = RC_SEARCH_MARK_OFF;
            s += best;
            *marked = 1;
        }
        else {
            /* a whole character: a match starts on one */
            out[o++] = *s++;
            while (((unsigned char)*s & 0xC0) == 0x80) {
                out[o++] = *s++;
            }
        }
    }
    out[o] = '\0';
    return out;
}

char *rc_search_mark(apr_pool_t *p, const char *text, const char *term)
{
    size_t n = strlen(term), len = strlen(text), o = 0;
    char *out;
    const char *s;

    if (!n) {
        return apr_pstrdup(p, text);
    }
    out = apr_palloc(p, len + 2 * (len / n + 1) + 1);
    for (s = text; *s;) {
        if (strncasecmp(s, term, n) == 0) {
            out[o++] = RC_SEARCH_MARK_ON;
            memcpy(out + o, s, n);
            o += n;
            out[o++] = RC_SEARCH_MARK_OFF;
            s += n;
        }
        else {
            out[o++] = *s++;
        }
    }
    out[o] = '\0';
    return out;
}
