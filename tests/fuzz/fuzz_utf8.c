/* libFuzzer target: the UTF-8 decoder, encoder, sanitizer and floor over any
 * bytes.  Each valid sequence re-encodes to the same bytes, the replacing
 * decoder and the invalid-byte count agree with it, the sanitizer's output is
 * valid and as long as promised, and the floor never splits a character of
 * valid text (a violation aborts). */
#include "utf8.h"

#include <apr_general.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static apr_pool_t *root;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *p;
    const char *s = (const char *)data;
    size_t i = 0, bad = 0, k;
    char *clean;

    if (!root) {
        apr_initialize();
        apr_pool_create(&root, NULL);
    }
    while (i < size) {
        apr_uint32_t cp, next;
        apr_size_t used;
        char enc[4];
        size_t l = rc_utf8_decode(data + i, size - i, &cp);

        next = rc_utf8_next(data + i, size - i, &used);
        if (l == 0) {
            if (next != 0xFFFD || used != 1) {
                abort();
            }
            bad++;
            i++;
            continue;
        }
        if (next != cp || used != l || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)
            || (size_t)rc_utf8_put(cp, enc) != l || memcmp(enc, data + i, l) != 0) {
            abort();
        }
        i += l;
    }
    if (rc_utf8_invalid_bytes(s, size) != bad) {
        abort();
    }

    apr_pool_create(&p, root);
    clean = rc_utf8_sanitize(p, s, size);
    if (rc_utf8_invalid_bytes(clean, size + 2 * bad) != 0 || clean[size + 2 * bad] != '\0') {
        abort();
    }
    for (k = 0; k <= size + 2 * bad && k <= 64; k++) {
        size_t f = rc_utf8_floor(clean, k);
        if (f > k || f + 3 < k || rc_utf8_invalid_bytes(clean, f) != 0) {
            abort();
        }
    }
    apr_pool_destroy(p);
    return 0;
}
