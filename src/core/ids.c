/* Identifiers: random hex, uuid4, timestamps (see ids.h). */
#include "ids.h"
#include "encode.h"

#include <apr_general.h>
#include <apr_strings.h>
#include <stdlib.h>

char *rc_random_hex(apr_pool_t *p, size_t n)
{
    unsigned char *raw = apr_palloc(p, n);
    char *out = apr_palloc(p, 2 * n + 1);

    if (apr_generate_random_bytes(raw, n) != APR_SUCCESS) {
        /* Never expected on Linux; fail loudly rather than hand out guessable ids. */
        abort();
    }
    *rc_hex_encode(out, raw, n) = '\0';
    return out;
}

char *rc_uuid4(apr_pool_t *p)
{
    static const size_t group[5] = { 4, 2, 2, 2, 6 };   /* bytes per dash-separated group */
    unsigned char b[16];
    char *out = apr_palloc(p, 37), *o = out;
    size_t g, at = 0;

    if (apr_generate_random_bytes(b, sizeof(b)) != APR_SUCCESS) {
        abort();
    }
    b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);   /* version 4 */
    b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);   /* RFC 4122 variant */
    for (g = 0; g < 5; g++) {
        if (g) {
            *o++ = '-';
        }
        o = rc_hex_encode(o, b + at, group[g]);
        at += group[g];
    }
    *o = '\0';
    return out;
}

int rc_is_uuid(const char *s)
{
    int i;

    if (!s) {
        return 0;
    }
    for (i = 0; i < 36; i++) {
        char c = s[i];
        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (c != '-') {
                return 0;
            }
        }
        else if (rc_hex_value(c) < 0) {
            return 0;
        }
    }
    return s[36] == '\0';
}

char *rc_timestamp(apr_pool_t *p, apr_time_t t)
{
    apr_time_exp_t x;

    apr_time_exp_gmt(&x, t);
    return apr_psprintf(p, "%04d-%02d-%02dT%02d:%02d:%02d.%06dZ",
                        x.tm_year + 1900, x.tm_mon + 1, x.tm_mday,
                        x.tm_hour, x.tm_min, x.tm_sec, x.tm_usec);
}
