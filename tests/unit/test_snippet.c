/* Search snippets: the text around the first match, cut on words. */
#include "unit.h"
#include "snippet.h"

#include <apr_general.h>
#include <apr_strings.h>

int main(void)
{
    apr_pool_t *p;
    const char *long_text = "The first paragraph talks about nothing in particular and goes on "
                            "for a while.\n\nThen the LEASE agreement says that the tenant "
                            "pays on the first day of each month, and more words follow here "
                            "until the end of the text.";
    char *s;

    apr_initialize();
    apr_pool_create(&p, NULL);

    CHECK_STR(rc_snippet(p, "A short   text\nabout leases.", "LEASES", 80),
              "A short text about leases.");
    CHECK(rc_snippet(p, "nothing here", "lease", 80) == NULL);
    CHECK(rc_snippet(p, "text", "", 80) == NULL);
    CHECK(rc_snippet(p, NULL, "x", 80) == NULL);
    s = rc_snippet(p, long_text, "lease agreement", 60);
    CHECK(s && strstr(s, "LEASE agreement") != NULL);
    CHECK(s && strncmp(s, "\xE2\x80\xA6", 3) == 0);
    CHECK(s && strcmp(s + strlen(s) - 3, "\xE2\x80\xA6") == 0);
    CHECK(s && strlen(s) <= 60 + 6);
    /* words are not cut */
    CHECK_STR(s, "\xE2\x80\xA6" "Then the LEASE agreement says that the tenant pays on\xE2\x80\xA6");
    /* near the end: the room goes before the match */
    s = rc_snippet(p, long_text, "the text.", 40);
    CHECK(s && strstr(s, "the end of the text.") != NULL);
    CHECK(s && strcmp(s + strlen(s) - 9, "the text.") == 0);
    /* at the start */
    s = rc_snippet(p, long_text, "the first", 40);
    CHECK(s && strncmp(s, "The first paragraph", 19) == 0);
    /* multi-byte characters are never split */
    s = rc_snippet(p, "\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9"
                      "\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9 x \xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9"
                      "\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9", "x", 21);
    CHECK(s && strchr(s, 'x') != NULL);
    {
        size_t i, n = s ? strlen(s) : 0;
        int ok = 1;
        for (i = 0; i < n; i++) {
            unsigned char c = (unsigned char)s[i];
            if (c == 0xC3 && (i + 1 >= n || ((unsigned char)s[i + 1] & 0xC0) != 0x80)) {
                ok = 0;
            }
        }
        CHECK(ok);
    }
    /* markdown marks dropped, unless what was searched holds them */
    CHECK_STR(rc_snippet(p, "# Title\n\nHere is **code**:\n\n```python\nx = a_b\n```\n| a | b |\n> quoted",
                         "code", 200), "Title Here is code: python x = a_b a b quoted");
    CHECK_STR(rc_snippet(p, "a **bold** word", "**bold**", 80), "a **bold** word");
    CHECK_STR(rc_like_contains(p, "50% of a_b\\c"), "%50\\% of a\\_b\\\\c%");
    CHECK_STR(rc_like_contains(p, ""), "%%");
    apr_pool_destroy(p);
    apr_terminate();
    return UNIT_REPORT("snippet");
}
