/* The thread search's terms, their FTS5 and regular-expression forms, marks,
 * and the snippet pieces of marked text. */
#include "unit.h"
#include "search_query.h"
#include "snippet.h"

#include <apr_general.h>
#include <apr_strings.h>

static const char *join(apr_pool_t *p, apr_array_header_t *a)
{
    const char *out = "";
    int i;

    for (i = 0; a && i < a->nelts; i++) {
        out = apr_pstrcat(p, out, i ? "|" : "", APR_ARRAY_IDX(a, i, const char *), NULL);
    }
    return out;
}

int main(void)
{
    apr_pool_t *p;
    rc_search_terms *st;
    apr_array_header_t *parts;

    apr_initialize();
    apr_pool_create(&p, NULL);

    st = rc_search_parse(p, "  red   \"sly  fox\" jumps ");
    CHECK(st != NULL);
    if (!st) {
        return 1;
    }
    CHECK(!st->short_only);
    CHECK_STR(join(p, st->terms), "red|sly fox|jumps");
    CHECK_STR(rc_search_fts5(p, st), "\"red\" \"sly fox\" \"jumps\"");
    CHECK_STR(rc_search_regex(p, st), "(red|sly fox|jumps)");
    /* a short word: the whole query is one phrase */
    st = rc_search_parse(p, "chat 4");
    CHECK(st != NULL);
    if (!st) {
        return 1;
    }
    CHECK(!st->short_only);
    CHECK_STR(join(p, st->terms), "chat 4");
    st = rc_search_parse(p, "\xE6\x9D\xB1\xE4\xBA\xAC");      /* two CJK characters */
    CHECK(st != NULL && st->short_only == 1);
    CHECK(rc_search_parse(p, "  \" \" ") == NULL);
    CHECK(rc_search_parse(p, NULL) == NULL);
    /* quotes and punctuation stay text */
    st = rc_search_parse(p, "say\"hey\" a.b*c(d)");
    CHECK_STR(rc_search_fts5(p, st), "\"say\" \"hey\" \"a.b*c(d)\"");
    CHECK_STR(rc_search_regex(p, st), "(say|hey|a\\.b\\*c\\(d\\))");
    st = rc_search_parse(p, "one two three four five");
    CHECK(st->terms->nelts == RC_SEARCH_TERMS_MAX);

    CHECK_STR(rc_search_mark(p, "Abc xabcx", "ABC"), "\x02" "Abc\x03 x\x02" "abc\x03x");
    {
        int marked = 0;
        st = rc_search_parse(p, "with the");
        CHECK_STR(rc_search_mark_terms(p, "The cat, WITHOUT them", st, &marked),
                  "\x02" "The\x03 cat, \x02" "WITH\x03OUT \x02the\x03m");
        CHECK(marked);
        st = rc_search_parse(p, "москв \xc3\xa9t\xc3\xa9");   /* été */
        CHECK_STR(rc_search_mark_terms(p, "В МОСКВЕ \xc3\x89T\xc3\x89", st, &marked),
                  "В \x02МОСКВ\x03Е \x02\xc3\x89T\xc3\x89\x03");
        CHECK(marked);
        st = rc_search_parse(p, "dog");
        CHECK_STR(rc_search_mark_terms(p, "no match", st, &marked), "no match");
        CHECK(!marked);
    }

    parts = rc_snippet_parts(p, "a short \x02text\x03 with \x02two\x03\x02 marks\x03.", 80);
    CHECK_STR(join(p, parts), "a short |text| with |two marks|.");
    CHECK(rc_snippet_parts(p, "nothing marked", 80) == NULL);
    CHECK(rc_snippet_parts(p, NULL, 80) == NULL);
    parts = rc_snippet_parts(p, "first words here and many more words follow before the"
                             " \x02match\x03 and then a long tail of words that goes on"
                             " and on until the end", 40);
    CHECK(parts && parts->nelts == 3);
    CHECK_STR(APR_ARRAY_IDX(parts, 1, const char *), "match");
    CHECK(strncmp(APR_ARRAY_IDX(parts, 0, const char *), "\xE2\x80\xA6", 3) == 0);
    CHECK(strstr(APR_ARRAY_IDX(parts, 2, const char *), "\xE2\x80\xA6") != NULL);
    /* a mark cut by the end of the window is closed */
    parts = rc_snippet_parts(p, "\x02open", 80);
    CHECK_STR(join(p, parts), "|open|");

    apr_pool_destroy(p);
    apr_terminate();
    return UNIT_REPORT("search_query");
}
