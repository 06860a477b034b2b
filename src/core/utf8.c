/* UTF-8 decoding, encoding and repair (see utf8.h). */
#include "utf8.h"

#include <apr_strings.h>
#include <string.h>

#define IS_CONT(b) (((b) & 0xC0) == 0x80)

size_t rc_utf8_decode(const unsigned char *s, size_t n, apr_uint32_t *cp)
{
    unsigned char c;
    size_t len, i;
    apr_uint32_t v;

    if (n == 0) {
        return 0;
    }
    c = s[0];
    if (c < 0x80) {
        if (cp) {
            *cp = c;
        }
        return 1;
    }
    /* The lead byte gives the length; the second byte's range rules out the
     * overlong forms (E0, F0), the surrogates (ED) and > U+10FFFF (F4).
     * C0, C1 (always overlong) and F5..FF lead nothing. */
    if (c >= 0xC2 && c <= 0xDF) {
        if (n < 2 || !IS_CONT(s[1])) {
            return 0;
        }
        len = 2;
        v = c & 0x1F;
    }
    else if (c >= 0xE0 && c <= 0xEF) {
        if (n < 3 || !IS_CONT(s[1]) || !IS_CONT(s[2])
            || (c == 0xE0 && s[1] < 0xA0) || (c == 0xED && s[1] > 0x9F)) {
            return 0;
        }
        len = 3;
        v = c & 0x0F;
    }
    else if (c >= 0xF0 && c <= 0xF4) {
        if (n < 4 || !IS_CONT(s[1]) || !IS_CONT(s[2]) || !IS_CONT(s[3])
            || (c == 0xF0 && s[1] < 0x90) || (c == 0xF4 && s[1] > 0x8F)) {
            return 0;
        }
        len = 4;
        v = c & 0x07;
    }
    else {
        return 0;
    }
    if (cp) {
        for (i = 1; i < len; i++) {
            v = (v << 6) | (s[i] & 0x3F);
        }
        *cp = v;
    }
    return len;
}

apr_uint32_t rc_utf8_next(const unsigned char *s, apr_size_t n, apr_size_t *used)
{
    apr_uint32_t c;
    size_t l = rc_utf8_decode(s, n, &c);

    *used = l ? l : 1;
    return l ? c : 0xFFFD;
}

int rc_utf8_put(apr_uint32_t c, char *o)
{
    if (c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF)) {
        c = 0xFFFD;
    }
    if (c < 0x80) {
        o[0] = (char)c;
        return 1;
    }
    if (c < 0x800) {
        o[0] = (char)(0xC0 | (c >> 6));
        o[1] = (char)(0x80 | (c & 0x3F));
        return 2;
    }
    if (c < 0x10000) {
        o[0] = (char)(0xE0 | (c >> 12));
        o[1] = (char)(0x80 | ((c >> 6) & 0x3F));
        o[2] = (char)(0x80 | (c & 0x3F));
        return 3;
    }
    o[0] = (char)(0xF0 | (c >> 18));
    o[1] = (char)(0x80 | ((c >> 12) & 0x3F));
    o[2] = (char)(0x80 | ((c >> 6) & 0x3F));
    o[3] = (char)(0x80 | (c & 0x3F));
    return 4;
}

size_t rc_utf8_invalid_bytes(const char *s, size_t n)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t i = 0, bad = 0;

    while (i < n) {
        size_t l;
        if (u[i] < 0x80) {
            i++;                 /* ASCII, most of any text: no decoding */
            continue;
        }
        l = rc_utf8_decode(u + i, n - i, NULL);
        if (l == 0) {
            bad++;
            i++;
        }
        else {
            i += l;
        }
    }
    return bad;
}

char *rc_utf8_sanitize(apr_pool_t *p, const char *s, size_t n)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t i, o = 0, bad = rc_utf8_invalid_bytes(s, n);
    char *out;

    if (!bad) {
        return apr_pstrmemdup(p, s, n);     /* valid already: a copy */
    }
    out = apr_palloc(p, n + bad * 2 + 1);
    for (i = 0; i < n;) {
        size_t l = rc_utf8_decode(u + i, n - i, NULL);
        if (l == 0) {
            memcpy(out + o, "\xEF\xBF\xBD", 3);
            o += 3;
            i++;
        }
        else {
            memcpy(out + o, s + i, l);
            o += l;
            i += l;
        }
    }
    out[o] = '\0';
    return out;
}

size_t rc_utf8_floor(const char *s, size_t n)
{
    size_t i = n;

    /* Step back over continuation bytes to the start of the last character. */
    while (i > 0 && IS_CONT((unsigned char)s[i - 1]) && n - i < 3) {
        i--;
    }
    if (i > 0) {
        unsigned char lead = (unsigned char)s[i - 1];
        size_t need = lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : lead >= 0xC0 ? 2 : 1;
        if (lead >= 0x80 && n - (i - 1) < need) {
            return i - 1;
        }
    }
    return n;
}
