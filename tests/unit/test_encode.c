/* Bytes as text: hex and base64url. */
#include "unit.h"
#include "encode.h"

#include <apr_general.h>

static void test_hex(void)
{
    const unsigned char bytes[] = { 0x00, 0x09, 0x0a, 0x7f, 0x80, 0xab, 0xff };
    char out[2 * sizeof(bytes) + 1], *end;
    int c, bad = 0;

    end = rc_hex_encode(out, bytes, sizeof(bytes));
    CHECK(end == out + 2 * sizeof(bytes));
    *end = '\0';
    CHECK_STR(out, "00090a7f80abff");
    *rc_hex_encode_upper(out, bytes, sizeof(bytes)) = '\0';
    CHECK_STR(out, "00090A7F80ABFF");
    CHECK(rc_hex_encode(out, bytes, 0) == out);

    CHECK(rc_hex_value('0') == 0 && rc_hex_value('9') == 9);
    CHECK(rc_hex_value('a') == 10 && rc_hex_value('f') == 15);
    CHECK(rc_hex_value('A') == 10 && rc_hex_value('F') == 15);
    /* Every other byte, signed char values included, is not a digit. */
    for (c = -128; c < 256; c++) {
        int want = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
        bad += (rc_hex_value(c) >= 0) != want;
    }
    CHECK(bad == 0);
    CHECK(rc_hex_value('g') == -1 && rc_hex_value('/') == -1 && rc_hex_value(':') == -1);
    CHECK(rc_hex_value('@') == -1 && rc_hex_value('G') == -1 && rc_hex_value('`') == -1);

    CHECK(rc_is_hex("", 0));
    CHECK(rc_is_hex("0123456789abcdef", 16));
    CHECK(!rc_is_hex("ABCDEF", 6));      /* what rc_hex_encode writes: lowercase */
    CHECK(rc_is_hex("abz", 2));          /* only n characters are read */
    CHECK(!rc_is_hex("abz", 3));
    CHECK(!rc_is_hex("a\0", 2));
    CHECK(!rc_is_hex("-1", 2));
}

/* RFC 4648 section 10 vectors, in the URL alphabet without padding. */
static void test_b64url(apr_pool_t *p)
{
    const unsigned char url[] = { 0xfb, 0xff, 0xbf };

    CHECK_STR(rc_b64url(p, (const unsigned char *)"", 0), "");
    CHECK_STR(rc_b64url(p, (const unsigned char *)"f", 1), "Zg");
    CHECK_STR(rc_b64url(p, (const unsigned char *)"fo", 2), "Zm8");
    CHECK_STR(rc_b64url(p, (const unsigned char *)"foo", 3), "Zm9v");
    CHECK_STR(rc_b64url(p, (const unsigned char *)"foob", 4), "Zm9vYg");
    CHECK_STR(rc_b64url(p, (const unsigned char *)"fooba", 5), "Zm9vYmE");
    CHECK_STR(rc_b64url(p, (const unsigned char *)"foobar", 6), "Zm9vYmFy");
    CHECK_STR(rc_b64url(p, url, 3), "-_-_");
    CHECK_STR(rc_b64url(p, url, 2), "-_8");
}

int main(void)
{
    apr_pool_t *p;

    apr_initialize();
    apr_pool_create(&p, NULL);
    test_hex();
    test_b64url(p);
    apr_pool_destroy(p);
    apr_terminate();
    return UNIT_REPORT("encode");
}
