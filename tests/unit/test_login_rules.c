/* The pure rules of form login: safe next= targets, plausible user names,
 * and cookie values out of a Cookie header. */
#include "unit.h"
#include "login_rules.h"

#include <apr_general.h>
#include <apr_strings.h>

static void test_safe_next(apr_pool_t *p)
{
    CHECK_STR(rc_login_safe_next(p, "/chat", "/chat/"), "/chat/");
    CHECK_STR(rc_login_safe_next(p, "/chat", "/chat/api/threads?x=1"), "/chat/api/threads?x=1");
    CHECK_STR(rc_login_safe_next(p, "/chat", NULL), "/chat/");
    CHECK_STR(rc_login_safe_next(p, "/chat", "/chatter/"), "/chat/");
    CHECK_STR(rc_login_safe_next(p, "/chat", "/other/"), "/chat/");
    CHECK_STR(rc_login_safe_next(p, "/chat", "https://evil.example/chat/"), "/chat/");
    CHECK_STR(rc_login_safe_next(p, "/chat", "/chat//evil.example"), "/chat/");
    CHECK_STR(rc_login_safe_next(p, "/chat", "/chat/../admin"), "/chat/");
    CHECK_STR(rc_login_safe_next(p, "/chat", "/chat/.."), "/chat/");
    CHECK_STR(rc_login_safe_next(p, "/chat", "/chat/./x"), "/chat/");
    CHECK_STR(rc_login_safe_next(p, "/chat", "/chat/\\evil"), "/chat/");
    CHECK_STR(rc_login_safe_next(p, "/chat", "/chat/\"><script>"), "/chat/");
    CHECK_STR(rc_login_safe_next(p, "/chat", "/chat/a b"), "/chat/");
    CHECK_STR(rc_login_safe_next(p, "/chat", "/chat/\r\nSet-Cookie: x"), "/chat/");
    CHECK_STR(rc_login_safe_next(p, "/chat", "/chat/\xc3\xa9"), "/chat/");
    /* The app at the server's root: base is "". */
    CHECK_STR(rc_login_safe_next(p, "", "/threads"), "/threads");
    CHECK_STR(rc_login_safe_next(p, "", "//evil.example"), "/");
}

static void test_plausible_user(void)
{
    char big[RC_LOGIN_USER_MAX + 2];

    CHECK(rc_login_plausible_user("alice"));
    CHECK(rc_login_plausible_user("Zoë Ünal"));
    CHECK(!rc_login_plausible_user(NULL));
    CHECK(!rc_login_plausible_user(""));
    CHECK(!rc_login_plausible_user("al\nice"));
    CHECK(!rc_login_plausible_user("al\x7f" "ice"));
    memset(big, 'a', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    CHECK(!rc_login_plausible_user(big));
    big[RC_LOGIN_USER_MAX] = '\0';
    CHECK(rc_login_plausible_user(big));
}

static void test_cookies(apr_pool_t *p)
{
    apr_array_header_t *a = apr_array_make(p, 2, sizeof(const char *));

    rc_cookie_parse(p, "a=1; ragchat_session=abc.def ;other=2;ragchat_session=x", "ragchat_session", a);
    CHECK(a->nelts == 2);
    CHECK_STR(APR_ARRAY_IDX(a, 0, const char *), "abc.def");
    CHECK_STR(APR_ARRAY_IDX(a, 1, const char *), "x");
    a->nelts = 0;
    rc_cookie_parse(p, "ragchat_sessionx=1; xragchat_session=2; ragchat_session", "ragchat_session", a);
    CHECK(a->nelts == 0);
    rc_cookie_parse(p, "", "ragchat_session", a);
    CHECK(a->nelts == 0);
    rc_cookie_parse(p, "\tragchat_login=n \t", "ragchat_login", a);
    CHECK(a->nelts == 1);
    CHECK_STR(APR_ARRAY_IDX(a, 0, const char *), "n");
}

int main(void)
{
    apr_pool_t *p;

    apr_initialize();
    apr_pool_create(&p, NULL);
    test_safe_next(p);
    test_plausible_user();
    test_cookies(p);
    apr_pool_destroy(p);
    apr_terminate();
    return UNIT_REPORT("login_rules");
}
