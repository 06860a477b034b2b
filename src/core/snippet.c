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

char *rc_snippet(apr_pool_t *p, const char *text, const char *q, size_t width)
{
    const char *t, *hit;
    char *fq;
    size_t len, at, qn, from, to, lead;

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
    if (width < qn + 20) {
        width = qn + 20;
    }
    /* about a third of the room before the match */
    lead = (width - qn) / 3;
    from = at > lead ? at - lead : 0;
    to = from + width < len ? from + width : len;
    if (to < at + qn) {
        to = at + qn;
    }
    if (to == len && len > width) {
        from = len - width < at ? len - width : at;
    }
    from = char_start(t, from);
    to = to < len ? char_start(t, to) : len;
    /* whole words: forward to a word start, back to a word end */
    if (from > 0 && !is_space(t[from - 1])) {
        size_t k = from;
        while (k < at && t[k] != ' ') {
            k++;
        }
        from = k < at ? k + 1 : from;
    }
    if (to < len && t[to] != ' ') {
        size_t k = to;
        while (k > at + qn && t[k - 1] != ' ') {
            k--;
        }
        to = k > at + qn ? k - 1 : to;
    }
    while (to > from && t[to - 1] == ' ') {
        to--;
    }
    return apr_pstrcat(p, from > 0 ? ELLIPSIS : "", apr_pstrmemdup(p, t + from, to - from),
                       to < len ? ELLIPSIS : "", NULL);
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
