/* Rules for names shown as file names (see filename.h). */
#include "filename.h"
#include "utf8.h"

#include <string.h>

int rc_is_format_char(apr_uint32_t c)
{
    return c == 0x00AD || (c >= 0x0600 && c <= 0x0605) || c == 0x061C || c == 0x06DD
        || c == 0x070F || c == 0x180E || (c >= 0x200B && c <= 0x200F)
        || (c >= 0x202A && c <= 0x202E) || (c >= 0x2060 && c <= 0x2064)
        || (c >= 0x2066 && c <= 0x206F) || c == 0xFEFF || (c >= 0xFFF9 && c <= 0xFFFB)
        || c == 0x110BD || c == 0x110CD || (c >= 0x13430 && c <= 0x1343F)
        || (c >= 0x1BCA0 && c <= 0x1BCA3) || (c >= 0x1D173 && c <= 0x1D17A)
        || c == 0xE0001 || (c >= 0xE0020 && c <= 0xE007F);
}

char *rc_strip_format_chars(apr_pool_t *p, const char *s)
{
    size_t n = strlen(s), i = 0, w = 0;
    char *o = apr_palloc(p, n + 1);

    while (i < n) {
        apr_size_t used;
        apr_uint32_t c = rc_utf8_next((const unsigned char *)s + i, n - i, &used);
        if (!rc_is_format_char(c)) {
            memcpy(o + w, s + i, used);
            w += used;
        }
        i += used;
    }
    o[w] = '\0';
    return o;
}
