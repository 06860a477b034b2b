/* The reference app's cleaning rules for backend answers.
 *
 *   _STATUS_LINE  = re.compile(r"`\[[^\]]+\s+working\.\.\.\]`")
 *   _JSON_PREAMBLE = re.compile(r"^\s*```json\s*\{[^`]*?\}\s*```\s*", re.DOTALL)
 *
 * Both are implemented by hand: the preamble's lazy [^`]*? cannot cross a
 * backtick, so the closing ``` is the first backtick after "{", and the "}" is
 * the last non-space character before it. */
#include "clean.h"

#include <apr_strings.h>
#include <string.h>

static int is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

static size_t skip_space(const char *t, size_t i, size_t len)
{
    while (i < len && is_space(t[i])) {
        i++;
    }
    return i;
}

size_t rc_clean_display_offset(const char *t, size_t len, int *pending)
{
    size_t i, tick, j;
    const char *bt;

    if (pending) {
        *pending = 0;
    }
    i = skip_space(t, 0, len);
    /* "```json" (or a prefix of it while streaming) */
    if (len - i < 7) {
        if (pending && strncmp(t + i, "```json", len - i) == 0) {
            *pending = 1;
        }
        return skip_space(t, 0, len);
    }
    if (memcmp(t + i, "```json", 7) != 0) {
        return skip_space(t, 0, len);
    }
    i = skip_space(t, i + 7, len);
    if (i >= len || t[i] != '{') {
        if (pending && i >= len) {
            *pending = 1;
        }
        return skip_space(t, 0, len);
    }
    bt = memchr(t + i + 1, '`', len - i - 1);
    if (!bt) {
        if (pending) {
            *pending = 1;
        }
        return skip_space(t, 0, len);
    }
    tick = (size_t)(bt - t);
    if (len - tick < 3 || memcmp(t + tick, "```", 3) != 0) {
        if (pending && len - tick < 3 && strncmp(t + tick, "```", len - tick) == 0) {
            *pending = 1;
        }
        return skip_space(t, 0, len);
    }
    j = tick;
    while (j > i + 1 && is_space(t[j - 1])) {
        j--;
    }
    if (t[j - 1] != '}') {
        return skip_space(t, 0, len);
    }
    return skip_space(t, tick + 3, len);
}

char *rc_clean_display(apr_pool_t *p, const char *text, size_t len)
{
    size_t off = rc_clean_display_offset(text, len, NULL);

    return apr_pstrmemdup(p, text + off, len - off);
}

int rc_clean_is_status_line(const char *l, size_t n)
{
    size_t i;

    for (i = 0; i + 1 < n; i++) {
        const char *close;
        size_t inner, pre;

        if (l[i] != '`' || l[i + 1] != '[') {
            continue;
        }
        close = memchr(l + i + 2, ']', n - i - 2);
        if (!close) {
            return 0;
        }
        /* [^\]]+\s+working\.\.\.  then  \]` */
        inner = (size_t)(close - (l + i + 2));
        if ((size_t)(close - l) + 1 >= n || close[1] != '`' || inner < 12) {
            continue;
        }
        if (memcmp(close - 10, "working...", 10) != 0) {
            continue;
        }
        pre = inner - 10;
        if (pre >= 2 && is_space(close[-11])) {
            return 1;
        }
    }
    return 0;
}

char *rc_clean_export(apr_pool_t *p, const char *text, size_t len)
{
    size_t off = rc_clean_display_offset(text, len, NULL), i, start, a, b;
    char *out = apr_palloc(p, len - off + 1);
    size_t o = 0;
    int first = 1;

    /* splitlines() + join("\n"): \n, \r\n and \r all end a line. */
    for (i = start = off; i <= len; i++) {
        if (i < len && text[i] != '\n' && text[i] != '\r') {
            continue;
        }
        if (!rc_clean_is_status_line(text + start, i - start)) {
            if (!first) {
                out[o++] = '\n';
            }
            memcpy(out + o, text + start, i - start);
            o += i - start;
            first = 0;
        }
        if (i < len && text[i] == '\r' && i + 1 < len && text[i + 1] == '\n') {
            i++;
        }
        start = i + 1;
    }
    /* splitlines() yields no empty last line for a trailing newline; the
     * strip() below makes that difference invisible anyway. */
    a = 0;
    b = o;
    while (a < b && is_space(out[a])) {
        a++;
    }
    while (b > a && is_space(out[b - 1])) {
        b--;
    }
    return apr_pstrmemdup(p, out + a, b - a);
}
