/* Text extraction, chunking, the FTS5 query and markdown quoting of the
 * built-in retrieval backend. */
#include "unit.h"
#include "retrieval_text.h"

#include <apr_general.h>
#include <apr_strings.h>

static const char *norm(apr_pool_t *p, const char *s)
{
    return rc_text_normalize(p, s, strlen(s), NULL);
}

static const char *html(apr_pool_t *p, const char *s)
{
    return rc_text_from_html(p, s, strlen(s), NULL);
}

static void test_normalize(apr_pool_t *p)
{
    size_t n = 0;
    const char *t;

    CHECK_STR(norm(p, ""), "");
    CHECK_STR(norm(p, "  \n\t "), "");
    CHECK_STR(norm(p, "\xEF\xBB\xBFHello"), "Hello");
    CHECK_STR(norm(p, "a\r\nb\rc\n"), "a\nb\nc");
    CHECK_STR(norm(p, "a  \t b   \n   c"), "a b\nc");
    CHECK_STR(norm(p, "one\n\n\n\n  \n two"), "one\n\ntwo");
    CHECK_STR(norm(p, "x\x01y\x7fz"), "xyz");
    CHECK_STR(norm(p, "no\xC2\xA0" "break"), "no break");
    CHECK_STR(norm(p, "caf\xC3\xA9"), "caf\xC3\xA9");
    /* Invalid UTF-8 becomes U+FFFD, also a lone byte at the end. */
    CHECK_STR(norm(p, "a\xFF" "b\xC3"), "a\xEF\xBF\xBD" "b\xEF\xBF\xBD");
    t = rc_text_normalize(p, "a\0b", 3, &n);
    CHECK(n == 2 && memcmp(t, "ab", 2) == 0);
}

static void test_html(apr_pool_t *p)
{
    CHECK_STR(html(p, "<p>Hello <b>world</b></p><p>Second</p>"), "Hello world\n\nSecond");
    CHECK_STR(html(p, "<html><head><title>T</title><style>p { color: red }</style>"
                      "<script>var a = '<p>x</p>'; if (a < b) {}</script></head>"
                      "<body><h1>Title</h1>Text</body></html>"),
              "T\n\nTitle\n\nText");
    /* Case, attributes with '>' in quotes, comments, self-closing tags. */
    CHECK_STR(html(p, "<DIV class=\"a>b\" data-x='1>2'>In</DIV><!-- <p>gone</p> -->"
                      "<br/>after <SCRIPT type=x>alert(1)</Script >end<style/>x"),
              "In\n\nafter endx");
    CHECK_STR(html(p, "a &amp; b &lt;c&gt; &quot;q&quot; &#39;s&#x27; &eacute;&nbsp;x &unknown; &"),
              "a & b <c> \"q\" 's' \xC3\xA9 x &unknown; &");
    CHECK_STR(html(p, "&#128512;&#x1F600;&#0;&#xD800;&#99999999999;"),
              "\xF0\x9F\x98\x80\xF0\x9F\x98\x80\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");
    CHECK_STR(html(p, "<ul><li>one</li><li>two</li></ul><table><tr><td>a</td><td>b</td></tr></table>"),
              "one\ntwo\n\na b");
    CHECK_STR(html(p, "<pre>x  = 1\ny = 2</pre>"), "x = 1\ny = 2");
    CHECK_STR(html(p, "1 < 2 and 3 <4"), "1 < 2 and 3 <4");
    CHECK_STR(html(p, "<![CDATA[raw <b>]]>ok"), "raw <b>ok");
    CHECK_STR(html(p, "<!DOCTYPE html><?xml x?>body"), "body");
    /* Unterminated constructs end the text, never read past it. */
    CHECK_STR(html(p, "keep<script>never"), "keep");
    CHECK_STR(html(p, "keep<!-- never"), "keep");
    CHECK_STR(html(p, "keep<a href=\"never"), "keep");
    CHECK_STR(html(p, "keep<![CDATA[tail"), "keeptail");
    CHECK_STR(html(p, "&#"), "&#");
    CHECK_STR(html(p, "&#x"), "&#x");
    CHECK_STR(html(p, "<"), "<");
}

static void test_json(apr_pool_t *p)
{
    const char *j = "{\"title\": \"Guide\", \"n\": 3, \"tags\": [\"a b\", {\"k\": \"deep\"}],"
                    " \"ok\": true, \"none\": null, \"text\": \"line1\\nline2\"}";

    CHECK_STR(rc_text_from_json(p, j, strlen(j), NULL), "Guide\na b\ndeep\nline1\nline2");
    CHECK_STR(rc_text_from_json(p, "\"just a string\"", 15, NULL), "just a string");
    CHECK_STR(rc_text_from_json(p, "[1, 2]", 6, NULL), "");
    CHECK(rc_text_from_json(p, "{not json", 9, NULL) == NULL);
    CHECK(rc_text_from_json(p, "", 0, NULL) == NULL);
}

/* Every passage is non-empty, trimmed, at most target bytes (plus a long
 * word's character), in order, and together they cover every word. */
static void check_chunks(apr_pool_t *p, const char *t, size_t target, size_t overlap)
{
    size_t len = strlen(t), covered = 0;
    apr_array_header_t *a = rc_text_chunks(p, t, len, target, overlap);
    int i, ok = 1;

    for (i = 0; i < a->nelts; i++) {
        rc_text_chunk *c = &APR_ARRAY_IDX(a, i, rc_text_chunk);
        if (c->len == 0 || c->len > target + 3 || c->off + c->len > len
            || t[c->off] == ' ' || t[c->off] == '\n'
            || t[c->off + c->len - 1] == ' ' || t[c->off + c->len - 1] == '\n'
            || c->off > covered + 2) {
            ok = 0;
            fprintf(stderr, "bad chunk %d: off %zu len %zu covered %zu\n", i, c->off,
                    c->len, covered);
        }
        if (c->off + c->len > covered) {
            covered = c->off + c->len;
        }
    }
    CHECK(ok);
    while (len > 0 && (t[len - 1] == ' ' || t[len - 1] == '\n')) {
        len--;
    }
    CHECK(len == 0 || covered == len);
    if (len && covered != len) {
        fprintf(stderr, "covered %zu of %zu (target %zu) in [%s]\n", covered, len, target, t);
    }
}

static void test_chunks(apr_pool_t *p)
{
    char *doc = "";
    apr_array_header_t *a;
    rc_text_chunk *c;
    int i;

    a = rc_text_chunks(p, "", 0, 800, 150);
    CHECK(a->nelts == 0);
    a = rc_text_chunks(p, "  \n ", 4, 800, 150);
    CHECK(a->nelts == 0);
    a = rc_text_chunks(p, "Short text.", 11, 800, 150);
    CHECK(a->nelts == 1);
    c = &APR_ARRAY_IDX(a, 0, rc_text_chunk);
    CHECK(c->off == 0 && c->len == 11);

    /* Paragraphs of ~300 bytes: passages end at paragraph breaks. */
    for (i = 0; i < 12; i++) {
        doc = apr_psprintf(p, "%s%sParagraph %d. %s", doc, i ? "\n\n" : "", i,
                           "The quick brown fox jumps over the lazy dog again and again. "
                           "It never tires of it, they say, not even in the rain. "
                           "Foxes are like that, and dogs are lazy, as everybody knows well. "
                           "This sentence pads the paragraph to about three hundred bytes.");
    }
    a = rc_text_chunks(p, doc, strlen(doc), 800, 150);
    CHECK(a->nelts >= 4 && a->nelts <= 8);
    for (i = 0; i + 1 < a->nelts; i++) {
        c = &APR_ARRAY_IDX(a, i, rc_text_chunk);
        /* ends on a paragraph: the next bytes are the blank line */
        CHECK(doc[c->off + c->len] == '\n' && doc[c->off + c->len + 1] == '\n');
        /* the next one overlaps it and starts on a sentence */
        {
            rc_text_chunk *d = &APR_ARRAY_IDX(a, i + 1, rc_text_chunk);
            CHECK(d->off < c->off + c->len && d->off + 200 > c->off + c->len);
            CHECK(doc[d->off - 1] == ' ' && (doc[d->off - 2] == '.' || doc[d->off - 2] == ','
                                             || doc[d->off - 2] == '\n'));
        }
    }
    check_chunks(p, doc, 800, 150);

    /* One long paragraph: sentence boundaries. */
    doc = "";
    for (i = 0; i < 40; i++) {
        doc = apr_psprintf(p, "%sSentence number %d is here to fill the space. ", doc, i);
    }
    a = rc_text_chunks(p, doc, strlen(doc), 800, 150);
    for (i = 0; i < a->nelts; i++) {
        c = &APR_ARRAY_IDX(a, i, rc_text_chunk);
        CHECK(doc[c->off + c->len - 1] == '.');
        CHECK(strncmp(doc + c->off, "Sentence", 8) == 0);
    }
    check_chunks(p, doc, 800, 150);

    /* No spaces at all: cut on UTF-8 boundaries. */
    doc = "";
    for (i = 0; i < 500; i++) {
        doc = apr_pstrcat(p, doc, "\xC3\xA9", NULL);
    }
    a = rc_text_chunks(p, doc, strlen(doc), 101, 20);
    for (i = 0; i < a->nelts; i++) {
        c = &APR_ARRAY_IDX(a, i, rc_text_chunk);
        CHECK(((unsigned char)doc[c->off] & 0xC0) != 0x80);
        CHECK(c->off + c->len == strlen(doc)
              || ((unsigned char)doc[c->off + c->len] & 0xC0) != 0x80);
    }
    check_chunks(p, doc, 101, 20);
    check_chunks(p, "a b c d e f g h i j k l m n o p", 3, 1);
    check_chunks(p, "a b c d e f g h i j k l m n o p", 2, 5);
    check_chunks(p, "word. word. word.\n\nword word\nword", 7, 3);
}

static void test_query(apr_pool_t *p)
{
    CHECK(rc_text_fts_query(p, "", NULL, 32) == NULL);
    CHECK(rc_text_fts_query(p, "?! \" * ( ) :", NULL, 32) == NULL);
    CHECK_STR(rc_text_fts_query(p, "What is the refund policy?", NULL, 32),
              "\"refund\" OR \"policy\"");
    /* FTS syntax is never passed through: quotes, operators, columns, prefixes. */
    CHECK_STR(rc_text_fts_query(p, "title:\"x\" AND NOT y* OR NEAR(a b) ^c -d +e",
                                NULL, 32),
              "\"title\" OR \"near\"");
    CHECK_STR(rc_text_fts_query(p, "what is it", NULL, 32),
              "\"what\" OR \"is\" OR \"it\"");
    CHECK_STR(rc_text_fts_query(p, "Refund REFUND refund", NULL, 32), "\"refund\"");
    CHECK_STR(rc_text_fts_query(p, "caf\xC3\xA9 na\xC3\xAFve 2024", NULL, 32),
              "\"caf\xC3\xA9\" OR \"na\xC3\xAFve\" OR \"2024\"");
    /* An invalid byte separates terms and never reaches the query. */
    CHECK(rc_text_fts_query(p, "a\xFF" "b", NULL, 32) == NULL);
    CHECK_STR(rc_text_fts_query(p, "ab\xFF" "cd", NULL, 32), "\"ab\" OR \"cd\"");
    CHECK_STR(rc_text_fts_query(p, "one two three four", NULL, 2), "\"one\" OR \"two\"");
    CHECK_STR(rc_text_fts_query(p, "and the price?", "Tell me about the Falcon 9 rocket", 32),
              "(\"price\") AND (\"price\" OR \"falcon\" OR \"9\" OR \"rocket\")");
    CHECK_STR(rc_text_fts_query(p, "rocket price", "the rocket", 32), "\"rocket\" OR \"price\"");
}

static void test_md_inline(apr_pool_t *p)
{
    const char *s;

    s = "  # Title\n\n* item *bold* _x_ [link](u) <b> a|b `c` ~d~ &amp; \\ !  ";
    CHECK_STR(rc_text_md_inline(p, s, strlen(s)),
              "\\# Title \\* item \\*bold\\* \\_x\\_ \\[link\\](u) \\<b\\> a\\|b \\`c\\` "
              "\\~d\\~ \\&amp; \\\\ \\!");
    CHECK_STR(rc_text_md_inline(p, "- list", 6), "\\- list");
    CHECK_STR(rc_text_md_inline(p, "12. numbered", 12), "12\\. numbered");
    CHECK_STR(rc_text_md_inline(p, "3) x", 4), "3\\) x");
    CHECK_STR(rc_text_md_inline(p, "2024 was", 8), "2024 was");
    CHECK_STR(rc_text_md_inline(p, "", 0), "");
}

int main(void)
{
    apr_pool_t *p;

    apr_initialize();
    apr_pool_create(&p, NULL);
    test_normalize(p);
    test_html(p);
    test_json(p);
    test_chunks(p);
    test_query(p);
    test_md_inline(p);
    apr_pool_destroy(p);
    apr_terminate();
    return UNIT_REPORT("retrieval_text");
}
