/* UTF-8: the decoder, the encoder, the validator, the sanitizer and the floor. */
#include "unit.h"
#include "utf8.h"

#include <apr_general.h>
#include <apr_strings.h>

#define U(s) ((const unsigned char *)(s))

/* rc_utf8_decode on a string literal: the length, and *cp when valid. */
static size_t dec(const char *s, size_t n, apr_uint32_t *cp)
{
    *cp = 0xDEADBEEF;
    return rc_utf8_decode(U(s), n, cp);
}

static void test_decode_lengths(void)
{
    apr_uint32_t cp;

    /* Each length, at the low and high end of its range. */
    CHECK(dec("\0", 1, &cp) == 1 && cp == 0);
    CHECK(dec("A", 1, &cp) == 1 && cp == 0x41);
    CHECK(dec("\x7F", 1, &cp) == 1 && cp == 0x7F);
    CHECK(dec("\xC2\x80", 2, &cp) == 2 && cp == 0x80);
    CHECK(dec("\xC3\xA9", 2, &cp) == 2 && cp == 0xE9);
    CHECK(dec("\xDF\xBF", 2, &cp) == 2 && cp == 0x7FF);
    CHECK(dec("\xE0\xA0\x80", 3, &cp) == 3 && cp == 0x800);
    CHECK(dec("\xE2\x82\xAC", 3, &cp) == 3 && cp == 0x20AC);
    CHECK(dec("\xEF\xBF\xBF", 3, &cp) == 3 && cp == 0xFFFF);
    CHECK(dec("\xF0\x90\x80\x80", 4, &cp) == 4 && cp == 0x10000);
    CHECK(dec("\xF0\x9F\x98\x80", 4, &cp) == 4 && cp == 0x1F600);
    CHECK(dec("\xF4\x8F\xBF\xBF", 4, &cp) == 4 && cp == 0x10FFFF);
    /* Trailing bytes after the character are not looked at. */
    CHECK(dec("\xC3\xA9xyz", 5, &cp) == 2 && cp == 0xE9);
    /* cp may be NULL: the length alone. */
    CHECK(rc_utf8_decode(U("\xE2\x82\xAC"), 3, NULL) == 3);
    CHECK(rc_utf8_decode(U("\xE2\x82"), 2, NULL) == 0);
}

static void test_decode_invalid(void)
{
    apr_uint32_t cp;

    /* Overlong forms of every length. */
    CHECK(dec("\xC0\x80", 2, &cp) == 0 && cp == 0xDEADBEEF);
    CHECK(dec("\xC1\xBF", 2, &cp) == 0);
    CHECK(dec("\xE0\x80\x80", 3, &cp) == 0);
    CHECK(dec("\xE0\x9F\xBF", 3, &cp) == 0);
    CHECK(dec("\xF0\x80\x80\x80", 4, &cp) == 0);
    CHECK(dec("\xF0\x8F\xBF\xBF", 4, &cp) == 0);
    /* UTF-16 surrogates, and their neighbours, which are fine. */
    CHECK(dec("\xED\xA0\x80", 3, &cp) == 0);
    CHECK(dec("\xED\xB0\x80", 3, &cp) == 0);
    CHECK(dec("\xED\xBF\xBF", 3, &cp) == 0);
    CHECK(dec("\xED\x9F\xBF", 3, &cp) == 3 && cp == 0xD7FF);
    CHECK(dec("\xEE\x80\x80", 3, &cp) == 3 && cp == 0xE000);
    /* Above U+10FFFF, and lead bytes that never start a character. */
    CHECK(dec("\xF4\x90\x80\x80", 4, &cp) == 0);
    CHECK(dec("\xF5\x80\x80\x80", 4, &cp) == 0);
    CHECK(dec("\xF7\xBF\xBF\xBF", 4, &cp) == 0);
    CHECK(dec("\xF8\x88\x80\x80\x80", 5, &cp) == 0);
    CHECK(dec("\xFE", 1, &cp) == 0);
    CHECK(dec("\xFF", 1, &cp) == 0);
    /* A continuation byte where a character should start. */
    CHECK(dec("\x80", 1, &cp) == 0);
    CHECK(dec("\xBF\xBF", 2, &cp) == 0);
    /* A missing continuation byte. */
    CHECK(dec("\xC3\x41", 2, &cp) == 0);
    CHECK(dec("\xE2\x28\xA1", 3, &cp) == 0);
    CHECK(dec("\xE2\x82\x41", 3, &cp) == 0);
    CHECK(dec("\xF0\x9F\x98\x41", 4, &cp) == 0);
    CHECK(dec("\xF0\x9F\x41\x80", 4, &cp) == 0);
    /* Truncated by the end of the input (the bytes beyond n are not read). */
    CHECK(dec("", 0, &cp) == 0);
    CHECK(dec("\xC3\xA9", 1, &cp) == 0);
    CHECK(dec("\xE2\x82\xAC", 2, &cp) == 0);
    CHECK(dec("\xE2\x82\xAC", 1, &cp) == 0);
    CHECK(dec("\xF0\x9F\x98\x80", 3, &cp) == 0);
    CHECK(dec("\xF0\x9F\x98\x80", 2, &cp) == 0);
    CHECK(dec("\xF0\x9F\x98\x80", 1, &cp) == 0);
}

/* Every 2- and 3-byte input: exactly the code points of that length are valid. */
static void test_decode_exhaustive(void)
{
    unsigned char b[3];
    unsigned long valid2 = 0, valid3 = 0, wrong = 0;
    unsigned x, y, z;

    for (x = 0xC0; x < 0x100; x++) {
        for (y = 0; y < 0x100; y++) {
            apr_uint32_t cp;
            b[0] = (unsigned char)x;
            b[1] = (unsigned char)y;
            if (rc_utf8_decode(b, 2, &cp) == 2) {
                valid2++;
                wrong += cp < 0x80 || cp > 0x7FF;
            }
            for (z = 0; z < 0x100 && x >= 0xE0; z++) {
                b[2] = (unsigned char)z;
                if (rc_utf8_decode(b, 3, &cp) == 3) {
                    valid3++;
                    wrong += cp < 0x800 || cp > 0xFFFF || (cp >= 0xD800 && cp <= 0xDFFF);
                }
            }
        }
    }
    CHECK(valid2 == 0x800 - 0x80);
    CHECK(valid3 == 0x10000 - 0x800 - 0x800);
    CHECK(wrong == 0);
}

static void test_next(void)
{
    apr_size_t used;

    CHECK(rc_utf8_next(U("A"), 1, &used) == 0x41 && used == 1);
    CHECK(rc_utf8_next(U("\xF0\x9F\x98\x80"), 4, &used) == 0x1F600 && used == 4);
    /* Invalid or truncated: U+FFFD over one byte, so a loop advances. */
    CHECK(rc_utf8_next(U("\xF0\x9F\x98"), 3, &used) == 0xFFFD && used == 1);
    CHECK(rc_utf8_next(U("\xED\xA0\x80"), 3, &used) == 0xFFFD && used == 1);
    CHECK(rc_utf8_next(U("\xC0\xAF"), 2, &used) == 0xFFFD && used == 1);
    CHECK(rc_utf8_next(U("\x80"), 1, &used) == 0xFFFD && used == 1);
    /* A real U+FFFD is three bytes. */
    CHECK(rc_utf8_next(U("\xEF\xBF\xBD"), 3, &used) == 0xFFFD && used == 3);
}

static void test_put(void)
{
    char o[5];
    apr_uint32_t c, cp;
    unsigned long bad = 0;

#define PUT(c, want) do { \
    int n_ = rc_utf8_put((c), o); \
    CHECK(n_ == (int)sizeof(want) - 1 && memcmp(o, (want), (size_t)n_) == 0); \
} while (0)
    PUT(0x41, "A");
    PUT(0x7F, "\x7F");
    PUT(0x80, "\xC2\x80");
    PUT(0x7FF, "\xDF\xBF");
    PUT(0x800, "\xE0\xA0\x80");
    PUT(0x20AC, "\xE2\x82\xAC");
    PUT(0xFFFF, "\xEF\xBF\xBF");
    PUT(0x10000, "\xF0\x90\x80\x80");
    PUT(0x1F600, "\xF0\x9F\x98\x80");
    PUT(0x10FFFF, "\xF4\x8F\xBF\xBF");
    /* Nothing invalid is written: surrogates and > U+10FFFF become U+FFFD. */
    PUT(0xD800, "\xEF\xBF\xBD");
    PUT(0xDFFF, "\xEF\xBF\xBD");
    PUT(0x110000, "\xEF\xBF\xBD");
    PUT(0xFFFFFFFF, "\xEF\xBF\xBD");
#undef PUT

    /* Every scalar value survives the round trip through put and decode. */
    for (c = 0; c <= 0x10FFFF; c++) {
        int n;
        if (c >= 0xD800 && c <= 0xDFFF) {
            continue;
        }
        n = rc_utf8_put(c, o);
        if (rc_utf8_decode(U(o), (size_t)n, &cp) != (size_t)n || cp != c
            || n != (c < 0x80 ? 1 : c < 0x800 ? 2 : c < 0x10000 ? 3 : 4)) {
            bad++;
        }
    }
    CHECK(bad == 0);
}

static void test_invalid_bytes(void)
{
    CHECK(rc_utf8_invalid_bytes("", 0) == 0);
    CHECK(rc_utf8_invalid_bytes("plain \xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80", 15) == 0);
    CHECK(rc_utf8_invalid_bytes("ok\xC0\xAFz", 5) == 2);
    CHECK(rc_utf8_invalid_bytes("\xED\xA0\x80", 3) == 3);
    CHECK(rc_utf8_invalid_bytes("a\xF0\x9F\x98", 4) == 3);
    CHECK(rc_utf8_invalid_bytes("\xFF\xFE", 2) == 2);
}

static void test_sanitize(apr_pool_t *p)
{
    char *s;

    CHECK_STR(rc_utf8_sanitize(p, "", 0), "");
    CHECK_STR(rc_utf8_sanitize(p, "caf\xC3\xA9 \xF0\x9F\x98\x80", 10),
              "caf\xC3\xA9 \xF0\x9F\x98\x80");
    /* Each byte that starts no valid sequence becomes one U+FFFD. */
    CHECK_STR(rc_utf8_sanitize(p, "ok\xc0\xafz", 5), "ok\xef\xbf\xbd\xef\xbf\xbdz");
    CHECK_STR(rc_utf8_sanitize(p, "\xED\xA0\x80", 3), "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");
    CHECK_STR(rc_utf8_sanitize(p, "a\xE2\x82", 3), "a\xEF\xBF\xBD\xEF\xBF\xBD");
    CHECK_STR(rc_utf8_sanitize(p, "\xF4\x90\x80\x80!", 5),
              "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD!");
    /* Only n bytes are read; an embedded NUL is copied. */
    CHECK_STR(rc_utf8_sanitize(p, "abc", 2), "ab");
    s = rc_utf8_sanitize(p, "a\0\xFF", 3);
    CHECK(memcmp(s, "a\0\xEF\xBF\xBD", 6) == 0);
    /* The output is valid. */
    s = rc_utf8_sanitize(p, "\x80\xC3\xE2\x82\xF0\x9F\x98\xC3\xA9", 9);
    CHECK(rc_utf8_invalid_bytes(s, strlen(s)) == 0);
}

static void test_floor(void)
{
    CHECK(rc_utf8_floor("", 0) == 0);
    CHECK(rc_utf8_floor("ab", 2) == 2);
    CHECK(rc_utf8_floor("a\xc3\xa9", 2) == 1);
    CHECK(rc_utf8_floor("a\xc3\xa9", 3) == 3);
    CHECK(rc_utf8_floor("\xe2\x82\xac", 1) == 0);
    CHECK(rc_utf8_floor("\xe2\x82\xac", 2) == 0);
    CHECK(rc_utf8_floor("\xe2\x82\xac", 3) == 3);
    CHECK(rc_utf8_floor("x\xF0\x9F\x98\x80", 2) == 1);
    CHECK(rc_utf8_floor("x\xF0\x9F\x98\x80", 3) == 1);
    CHECK(rc_utf8_floor("x\xF0\x9F\x98\x80", 4) == 1);
    CHECK(rc_utf8_floor("x\xF0\x9F\x98\x80", 5) == 5);
    /* Stray continuation bytes are not a character to keep whole. */
    CHECK(rc_utf8_floor("ab\x80", 3) == 3);
}

int main(void)
{
    apr_pool_t *p;

    apr_initialize();
    apr_pool_create(&p, NULL);
    test_decode_lengths();
    test_decode_invalid();
    test_decode_exhaustive();
    test_next();
    test_put();
    test_invalid_bytes();
    test_sanitize(p);
    test_floor();
    apr_pool_destroy(p);
    apr_terminate();
    return UNIT_REPORT("utf8");
}
