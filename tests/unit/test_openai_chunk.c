/* OpenAI chunk decoding: the kinds, and the fast path against jansson. */
#include "unit.h"
#include "openai_chunk.h"

#include <apr_general.h>
#include <apr_strings.h>

static rc_delta_kind delta(apr_pool_t *p, const char *d, const char **t)
{
    size_t n;
    return rc_openai_delta(p, d, strlen(d), t, &n);
}

static void test_openai(apr_pool_t *p)
{
    const char *t;

    CHECK(delta(p, "[DONE]", &t) == RC_DELTA_DONE);
    CHECK(delta(p, " [DONE] ", &t) == RC_DELTA_DONE);
    CHECK(delta(p, "{\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Hi \\u00e9\"}}]}", &t)
          == RC_DELTA_TOKEN);
    CHECK_STR(t, "Hi \xc3\xa9");
    CHECK(delta(p, "{\"choices\":[{\"delta\":{\"role\":\"assistant\"}}]}", &t) == RC_DELTA_EMPTY);
    CHECK(delta(p, "{\"choices\":[{\"delta\":{\"content\":null}}]}", &t) == RC_DELTA_EMPTY);
    CHECK(delta(p, "{\"choices\":[{\"delta\":{\"content\":\"\"},\"finish_reason\":\"stop\"}]}", &t)
          == RC_DELTA_EMPTY);
    CHECK(delta(p, "{\"choices\":[],\"usage\":{}}", &t) == RC_DELTA_EMPTY);
    CHECK(delta(p, "not json", &t) == RC_DELTA_INVALID);
    CHECK(t && strstr(t, "not JSON"));
    CHECK(delta(p, "{\"choices\":[{\"text\":\"x\"}]}", &t) == RC_DELTA_INVALID);
    CHECK(delta(p, "[1,2]", &t) == RC_DELTA_INVALID);
    CHECK(delta(p, "{\"error\":{\"message\":\"quota exceeded\"}}", &t) == RC_DELTA_ERROR);
    CHECK_STR(t, "quota exceeded");
    CHECK(delta(p, "{\"choices\":[{\"delta\":{\"content\":\"a\\nb\"}}]}", &t) == RC_DELTA_TOKEN);
    CHECK_STR(t, "a\nb");
}

/* The fast path and jansson agree on tricky but valid and invalid chunks. */
static void test_fast_path_agrees(apr_pool_t *p)
{
    static const char *const cases[] = {
        "{\"choices\":[{\"delta\":{\"content\":\"a\\u00e9\\ud83d\\ude00\\n\\\"\"}}]}",
        "{\"id\":\"x\",\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\","
        "\"content\":\"hi\"},\"finish_reason\":null,\"logprobs\":{\"a\":[1,2.5e-3,true]}}]}",
        "{\"choices\":[{\"delta\":{\"content\":\"x\"}}]} trailing",
        "{\"choices\":[{\"delta\":{\"content\":\"\\ud800\"}}]}",
        "{\"choices\":[{\"delta\":{\"content\":\"\\u0000\"}}]}",
        "{\"choices\":[{\"delta\":{\"content\":\"a\",\"content\":\"b\"}}]}",
        "{\"choices\":[{\"delta\":{\"content\":\"\xff\"}}]}",
        "{\"choices\":[{\"delta\":{\"content\":12}}]}",
        "{\"choices\":[5,{\"delta\":{\"content\":\"x\"}}]}",
        "{\"choices\":[{\"delta\":{\"content\":\"x\"}},{\"delta\":{\"content\":\"y\"}}]}",
        "{\"choices\":[{\"delta\":{\"content\":\"x\"}}],\"error\":null}",
        "{\"choices\":[{\"delta\":{\"content\":\"x\"}}],\"n\":-0.5E+2,\"m\":01}",
        "  {\"choices\" : [ { \"delta\" : { \"content\" : \"sp\" } } ] }  ",
        "{\"choices\":[{\"delta\":{\"content\":\"tab\there\"}}]}",
        NULL
    };
    int i;

    for (i = 0; cases[i]; i++) {
        const char *a, *b;
        size_t na, nb;
        size_t len = strlen(cases[i]);
        rc_delta_kind ka = rc_openai_delta(p, cases[i], len, &a, &na);
        rc_delta_kind kb = rc_openai_delta_slow(p, cases[i], len, &b, &nb);
        CHECK(ka == kb);
        if (ka == kb && ka == RC_DELTA_TOKEN) {
            CHECK(na == nb && memcmp(a, b, na) == 0);
        }
    }
}

int main(void)
{
    apr_pool_t *p;

    apr_initialize();
    apr_pool_create(&p, NULL);
    test_openai(p);
    test_fast_path_agrees(p);
    apr_pool_destroy(p);
    apr_terminate();
    return UNIT_REPORT("openai_chunk");
}
