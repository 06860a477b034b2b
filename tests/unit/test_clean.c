/* The reference's cleaning rules, and the small pure helpers. */
#include "unit.h"
#include "buf.h"
#include "clean.h"
#include "crypto.h"
#include "encode.h"
#include "ids.h"
#include "json.h"

#include <apr_general.h>
#include <apr_strings.h>

static void test_display(apr_pool_t *p)
{
    const char *pre = "```json\n{\"sources\": [1, 2], \"x\": {\"y\": 1}}\n```\n\n# Answer\nText";
    int pending;

    CHECK_STR(rc_clean_display(p, pre, strlen(pre)), "# Answer\nText");
    CHECK_STR(rc_clean_display(p, "  \n```json{}```Hi", 17), "Hi");
    /* Not at the start: kept. */
    CHECK_STR(rc_clean_display(p, "Hi\n```json\n{}\n```", 17), "Hi\n```json\n{}\n```");
    /* Not ending in a brace before the fence: kept (only lstrip applies). */
    CHECK_STR(rc_clean_display(p, "  ```json\n[1]\n```\nA", 19), "```json\n[1]\n```\nA");
    /* A backtick inside the JSON stops the match, as [^`] does. */
    CHECK_STR(rc_clean_display(p, "```json\n{\"a\":\"`\"}\n```\nB", 23), "```json\n{\"a\":\"`\"}\n```\nB");
    CHECK_STR(rc_clean_display(p, "", 0), "");
    CHECK_STR(rc_clean_display(p, "\n\t plain", 8), "plain");

    /* While streaming, a possible preamble is reported as pending. */
    rc_clean_display_offset("```js", 5, &pending);
    CHECK(pending == 1);
    rc_clean_display_offset("```json\n{\"a\":1}", 15, &pending);
    CHECK(pending == 1);
    rc_clean_display_offset("Hello", 5, &pending);
    CHECK(pending == 0);
    rc_clean_display_offset("```python\nx", 11, &pending);
    CHECK(pending == 0);
}

static void test_export(apr_pool_t *p)
{
    const char *t = "Intro\n`[search working...]`\nBody `[tool  working...]` x\r\nEnd\n\n";
    const char *keep = "`[working...]` and `[a working...]x` and `[a working..]`";

    CHECK(rc_clean_is_status_line("`[search working...]`", 21));
    CHECK(rc_clean_is_status_line("`[  working...]`", 16));
    CHECK(!rc_clean_is_status_line("`[working...]`", 14));
    CHECK(!rc_clean_is_status_line("[search working...]", 19));
    CHECK_STR(rc_clean_export(p, t, strlen(t)), "Intro\nEnd");
    CHECK_STR(rc_clean_export(p, keep, strlen(keep)), keep);
    CHECK_STR(rc_clean_export(p, "```json\n{}\n```\n`[x working...]`\nA", 33), "A");
}

static void test_util(apr_pool_t *p)
{
    unsigned char h[32];
    char *u = rc_uuid4(p), *ts;
    rc_buf *b = rc_buf_make(p, 4);
    int i;

    CHECK(rc_is_uuid(u));
    CHECK(u[14] == '4');
    CHECK(strchr("89ab", u[19]) != NULL);
    CHECK(strcmp(u, rc_uuid4(p)) != 0);
    CHECK(!rc_is_uuid("not-a-uuid"));
    CHECK(!rc_is_uuid("123e4567-e89b-12d3-a456-4266141740000"));

    ts = rc_timestamp(p, apr_time_from_sec(1764180574) + 42);
    CHECK_STR(ts, "2025-11-26T18:09:34.000042Z");

    rc_sha256("abc", 3, h);
    CHECK_STR(rc_b64url(p, h, 32), "ungWv48Bz-pBQUDeXa4iI7ADYaOWF3qctBD_YfIAFa0");
    /* RFC 4231 test case 2 */
    rc_hmac_sha256("Jefe", 4, "what do ya want for nothing?", 28, h);
    CHECK(h[0] == 0x5b && h[1] == 0xdc && h[31] == 0x43);
    CHECK(rc_ct_streq("abc", "abc") && !rc_ct_streq("abc", "abd") && !rc_ct_streq("ab", "abc"));

    for (i = 0; i < 1000; i++) {
        CHECK(rc_buf_appends(b, "xy") == 0);
    }
    CHECK(b->len == 2000);

    b = rc_buf_make(p, 8);
    rc_json_append_string(b, "a\"b\\\n\x01\xe2\x80\xa8\xff\xc3\xa9", 12);
    CHECK_STR(b->data, "\"a\\\"b\\\\\\n\\u0001\\u2028\xef\xbf\xbd\xc3\xa9\"");
}

int main(void)
{
    apr_pool_t *p;

    apr_initialize();
    apr_pool_create(&p, NULL);
    test_display(p);
    test_export(p);
    test_util(p);
    apr_pool_destroy(p);
    apr_terminate();
    return UNIT_REPORT("clean");
}
