/* Names shown as file names: invisible format characters are dropped. */
#include "unit.h"
#include "filename.h"

#include <apr_general.h>

int main(void)
{
    apr_pool_t *p;

    apr_initialize();
    apr_pool_create(&p, NULL);
    /* "report" RLO "fdp.exe": shows as "reportexe.pdf" */
    CHECK_STR(rc_strip_format_chars(p, "report\xe2\x80\xae" "fdp.exe"), "reportfdp.exe");
    CHECK_STR(rc_strip_format_chars(p, "\xe2\x80\x8f" "a\xe2\x81\xa6" "b\xe2\x81\xa9" "c"), "abc");
    CHECK_STR(rc_strip_format_chars(p, "\xef\xbb\xbf" "z\xe2\x80\x8b" "w\xc2\xad" "j"), "zwj");
    CHECK_STR(rc_strip_format_chars(p, "tag\xf3\xa0\x80\x81\xf3\xa0\x81\xa1"), "tag");
    /* letters of every script stay, and so do visible marks */
    CHECK_STR(rc_strip_format_chars(p, "\xd8\xaa\xd9\x82\xd8\xb1\xd9\x8a\xd8\xb1 \xe5\xa0\xb1\xe5\x91\x8a \xf0\x9f\x93\x84"),
              "\xd8\xaa\xd9\x82\xd8\xb1\xd9\x8a\xd8\xb1 \xe5\xa0\xb1\xe5\x91\x8a \xf0\x9f\x93\x84");
    CHECK_STR(rc_strip_format_chars(p, ""), "");
    CHECK(rc_is_format_char(0x202E) && rc_is_format_char(0x2066) && rc_is_format_char(0x061C));
    CHECK(!rc_is_format_char('a') && !rc_is_format_char(0x05D0) && !rc_is_format_char(0x0301));
    apr_pool_destroy(p);
    apr_terminate();
    return UNIT_REPORT("filename");
}
