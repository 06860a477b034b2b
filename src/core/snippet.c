/* Search results: a short piece of a message around the match, as text. */
#include "snippet.h"

#include <apr_lib.h>
#include <apr_strings.h>
#include <string.h>

#define ELLIPSIS "\xE2\x80\xA6"

static int is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

/* text with white space runs folded to one space, trimmed. */
static char *fold(apr_pool_t *p, const char *text)
{
    char *out = apr_palloc(p, strlen(text) + 1);
    size_t o = 0;
    int space = 0;

    for (; *text; text++) {
        if (is_space(*text)) {
            space = o > 0;
            continue;
        }
        if (space) {
            out[o++] = ' ';
            space = 0;
        }
        out[o++] = *text;
    }
    out[o] = '\0';
    return out;
}

/* text without the markdown that would show as noise in a line of text:
 * emphasis and code marks, table pipes, heading and quote markers. */
static char *plain(apr_pool_t *p, const char *text)
{
    char *out = apr_palloc(p, strlen(text) + 1);
    size_t o = 0;
    int line_start = 1;

    for (; *text; text++) {
        char c = *text;
        if (line_start && (c == '#' || c == '>')) {
            continue;
        }
        line_start = c == '\n' || (line_start && (c == ' ' || c == '\t'));
        if (c == '`' || ((c == '*' || c == '_' || c == '~') && text[1] == c)) {
            while (text[1] == c) {
                text++;
            }
            continue;
        }
        out[o++] = c == '|' ? ' ' : c;
    }
    out[o] = '\0';
    return out;
}

static const char *find_nocase(const char *s, const char *q)
{
    size_t n = strlen(q);

    for (; *s; s++) {
        if (strncasecmp(s, q, n) == 0) {
            return s;
        }
    }
    return NULL;
}

/* The start of the UTF-8 character holding s[i]. */
static size_t char_start(const char *s, size_t i)
{
    while (i > 0 && ((unsigned char)s[i] & 0xC0) == 0x80) {
        i--;
    }
    return i;
}

/* The window [*from, *to) of about width bytes of t around the span
 * [at, at + n), cut on characters and words (about a third of the room before the
 * span; whole words where they fit). */
static void window(const char *t, size_t at, size_t n, size_t width, size_t *from, size_t *to)
{
    size_t len = strlen(t), lead, f, e;

    if (width < n + 20) {
        width = n + 20;
    }
    lead = (width - n) / 3;
    f = at > lead ? at - lead : 0;
    e = f + width < len ? f + width : len;
    if (e < at + n) {
        e = at + n;
    }
    if (e == len && len > width) {
        f = len - width < at ? len - width : at;
    }
    f = char_start(t, f);
    e = e < len ? char_start(t, e) : len;
    if (f > 0 && !is_space(t[f - 1])) {
        size_t k = f;
        while (k < at && t[k] != ' ') {
            k++;
        }
        f = k < at ? k + 1 : f;
    }
    if (e < len && t[e] != ' ') {
        size_t k = e;
        while (k > at + n && t[k - 1] != ' ') {
            k--;
        }
        e = k > at + n ? k - 1 : e;
    }
    while (e > f && t[e - 1] == ' ') {
        e--;
    }
    *from = f;
    *to = e;
}

char *rc_snippet(apr_pool_t *p, const char *text, const char *q, size_t width)
{
    const char *t, *hit;
    char *fq;
    size_t len, at, qn, from, to;

    if (!text || !q) {
        return NULL;
    }
    fq = fold(p, q);
    qn = strlen(fq);
    if (!qn) {
        return NULL;
    }
    /* the match in the text without markdown, else as written */
    t = fold(p, plain(p, text));
    if (!(hit = find_nocase(t, fq))) {
        t = fold(p, text);
        if (!(hit = find_nocase(t, fq))) {
            return NULL;
        }
    }
    len = strlen(t);
    at = (size_t)(hit - t);
    window(t, at, qn, width, &from, &to);
    return apr_pstrcat(p, from > 0 ? ELLIPSIS : "", apr_pstrmemdup(p, t + from, to - from),
                       to < len ? ELLIPSIS : "", NULL);
}

#define MARK_ON  '\x02'
#define MARK_OFF '\x03'

apr_array_header_t *rc_snippet_parts(apr_pool_t *p, const char *marked, size_t width)
{
    apr_array_header_t *parts;
    const char *t, *on, *off;
    size_t from, to, i, start;
    int in_mark = 0;

    if (!marked) {
        return NULL;
    }
    t = fold(p, plain(p, marked));
    if (!(on = strchr(t, MARK_ON))) {
        return NULL;
    }
    off = strchr(on, MARK_OFF);
    window(t, (size_t)(on - t), off ? (size_t)(off - on) : 1, width, &from, &to);
    parts = apr_array_make(p, 5, sizeof(const char *));
    APR_ARRAY_PUSH(parts, const char *) = from > 0 ? ELLIPSIS : "";
    for (i = start = from; i <= to; i++) {
        int end = i == to, flip = !end && (t[i] == (in_mark ? MARK_OFF : MARK_ON));
        if (!end && !flip && t[i] != MARK_ON && t[i] != MARK_OFF) {
            continue;
        }
        if (i > start || end || flip) {
            const char **last = &APR_ARRAY_IDX(parts, parts->nelts - 1, const char *);
            *last = apr_pstrcat(p, *last, apr_pstrmemdup(p, t + start, i - start), NULL);
        }
        start = i + 1;
        if (flip && in_mark && t[i + 1] == MARK_ON) {
            i++, start++;          /* two spans side by side: one */
            continue;
        }
        if (flip) {
            in_mark = !in_mark;
            APR_ARRAY_PUSH(parts, const char *) = "";
        }
    }
    if (in_mark) {
        APR_ARRAY_PUSH(parts, const char *) = "";
    }
    if (to < strlen(t)) {
        const char **last = &APR_ARRAY_IDX(parts, parts->nelts - 1, const char *);
        *last = apr_pstrcat(p, *last, ELLIPSIS, NULL);
    }
    return parts;
}

char *rc_like_contains(apr_pool_t *p, const char *q)
{
    char *out = apr_palloc(p, strlen(q) * 2 + 3), *o = out;

    *o++ = '%';
    for (; *q; q++) {
        if (*q == '%' || *q == '_' || *q == '\\') {
            *o++ = '\\';
        }
        *o++ = *q;
    }
    *o++ = '%';
    *o = '\0';
    return out;
}
