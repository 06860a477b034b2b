/* cmark-gfm rendering: the GFM extensions on, raw HTML never passed through. */
#include "unit.h"
#include "markdown.h"

#include <apr_general.h>
#include <apr_strings.h>

static const char *html(apr_pool_t *p, const char *md)
{
    return rc_markdown_to_html(p, md, strlen(md));
}

static void test_extensions(apr_pool_t *p)
{
    const char *h;

    h = html(p, "| a | b |\n|---|--:|\n| 1 | 2 |\n");
    CHECK(strstr(h, "<table>") != NULL);
    CHECK(strstr(h, "<th>a</th>") != NULL);
    CHECK(strstr(h, "<td align=\"right\">2</td>") != NULL);

    h = html(p, "- [ ] open\n- [x] done\n");
    CHECK(strstr(h, "type=\"checkbox\"") != NULL);
    CHECK(strstr(h, "checked=\"\"") != NULL);
    CHECK(strstr(h, "open") != NULL);

    CHECK_STR(html(p, "~~gone~~"), "<p><del>gone</del></p>\n");

    h = html(p, "see https://example.com/x?y=1 and www.example.org");
    CHECK(strstr(h, "<a href=\"https://example.com/x?y=1\">") != NULL);
    CHECK(strstr(h, "<a href=\"http://www.example.org\">") != NULL);

    h = html(p, "```python\nprint('hi')\n```\n");
    CHECK(strstr(h, "<pre><code class=\"language-python\">") != NULL);
    CHECK(strstr(h, "print(") != NULL);

    CHECK_STR(html(p, "# Title"), "<h1>Title</h1>\n");
    CHECK_STR(html(p, "**b** *i* `c`"),
              "<p><strong>b</strong> <em>i</em> <code>c</code></p>\n");
}

static void test_raw_html(apr_pool_t *p)
{
    const char *h;

    h = html(p, "<script>alert(1)</script>\n\ntext");
    CHECK(strstr(h, "<script") == NULL);
    CHECK(strstr(h, "raw HTML omitted") != NULL);
    CHECK(strstr(h, "<p>text</p>") != NULL);

    h = html(p, "inline <img src=x onerror=alert(1)> here");
    CHECK(strstr(h, "<img") == NULL);
    CHECK(strstr(h, "onerror") == NULL);

    h = html(p, "<div onclick=\"x()\">hi</div>");
    CHECK(strstr(h, "<div") == NULL);

    /* unsafe link schemes are dropped by cmark's safe mode */
    h = html(p, "[x](javascript:alert(1)) [y](vbscript:z) [d](data:text/html,1)");
    CHECK(strstr(h, "javascript:") == NULL);
    CHECK(strstr(h, "vbscript:") == NULL);
    CHECK(strstr(h, "data:text") == NULL);

    h = html(p, "[ok](https://example.com/\"onmouseover=\"x)");
    CHECK(strstr(h, "\"onmouseover") == NULL);
}

static void test_edges(apr_pool_t *p)
{
    const char bad[] = "a\xff\xfe b \xc3";
    const char *h;
    cmark_node *doc;

    CHECK_STR(html(p, ""), "");
    h = rc_markdown_to_html(p, bad, sizeof(bad) - 1);
    CHECK(strstr(h, "\xEF\xBF\xBD") != NULL);   /* replaced, never passed on */
    CHECK(strstr(h, "\xff") == NULL);

    /* NUL bytes inside the input */
    h = rc_markdown_to_html(p, "a\0b", 3);
    CHECK(h != NULL && h[0] == '<');

    /* unterminated fence runs to the end */
    h = html(p, "```\ncode without end\n");
    CHECK(strstr(h, "code without end") != NULL);

    doc = rc_markdown_parse(p, "# H\n\npara\n", 10);
    CHECK(doc != NULL);
    CHECK(doc && cmark_node_get_type(doc) == CMARK_NODE_DOCUMENT);
    CHECK(doc && cmark_node_get_type(cmark_node_first_child(doc)) == CMARK_NODE_HEADING);
    doc = rc_markdown_parse(p, "| a |\n|---|\n| b |\n", 18);
    CHECK(doc && strcmp(cmark_node_get_type_string(cmark_node_first_child(doc)), "table") == 0);

    /* deep nesting stays bounded */
    {
        char *deep = apr_palloc(p, 20001);
        memset(deep, '>', 10000);
        memset(deep + 10000, '*', 10000);
        deep[20000] = '\0';
        h = rc_markdown_to_html(p, deep, 20000);
        CHECK(h != NULL);
    }
}

int main(void)
{
    apr_pool_t *p;

    apr_initialize();
    rc_markdown_init();
    apr_pool_create(&p, NULL);
    test_extensions(p);
    test_raw_html(p);
    test_edges(p);
    apr_pool_destroy(p);
    apr_terminate();
    return UNIT_REPORT("markdown");
}
