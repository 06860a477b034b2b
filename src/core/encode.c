/* Bytes as text (see encode.h). */
#include "encode.h"

static char *hex_encode(char *out, const unsigned char *d, size_t n, const char *digits)
{
    size_t i;

    for (i = 0; i < n; i++) {
        *out++ = digits[d[i] >> 4];
        *out++ = digits[d[i] & 15];
    }
    return out;
}

char *rc_hex_encode(char *out, const void *data, size_t n)
{
    return hex_encode(out, data, n, "0123456789abcdef");
}

char *rc_hex_encode_upper(char *out, const void *data, size_t n)
{
    return hex_encode(out, data, n, "0123456789ABCDEF");
}

int rc_hex_value(int c)
{
    return c >= '0' && c <= '9' ? c - '0'
         : c >= 'a' && c <= 'f' ? c - 'a' + 10
         : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

int rc_is_hex(const char *s, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++) {
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f'))) {
            return 0;
        }
    }
    return 1;
}

char *rc_b64url(apr_pool_t *p, const unsigned char *d, size_t n)
{
    static const char tbl[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    char *out = apr_palloc(p, (n + 2) / 3 * 4 + 1), *o = out;
    size_t i;

    for (i = 0; i + 2 < n; i += 3) {
        *o++ = tbl[d[i] >> 2];
        *o++ = tbl[((d[i] & 3) << 4) | (d[i + 1] >> 4)];
        *o++ = tbl[((d[i + 1] & 15) << 2) | (d[i + 2] >> 6)];
        *o++ = tbl[d[i + 2] & 63];
    }
    if (n - i == 1) {
        *o++ = tbl[d[i] >> 2];
        *o++ = tbl[(d[i] & 3) << 4];
    }
    else if (n - i == 2) {
        *o++ = tbl[d[i] >> 2];
        *o++ = tbl[((d[i] & 3) << 4) | (d[i + 1] >> 4)];
        *o++ = tbl[(d[i + 1] & 15) << 2];
    }
    *o = '\0';
    return out;
}
