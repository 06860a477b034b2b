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

static void test_math(apr_pool_t *p)
{
    const char *h;

    CHECK_STR(html(p, "Euler: $e^{i\\pi} + 1 = 0$ and $a_1 * b_2$."),
              "<p>Euler: <span class=\"math math-inline\">e^{i\\pi} + 1 = 0</span> and "
              "<span class=\"math math-inline\">a_1 * b_2</span>.</p>\n");
    CHECK_STR(html(p, "$$\n\\int_0^1 x\\,dx < 1\n$$"),
              "<p><span class=\"math math-display\">\\int_0^1 x\\,dx &lt; 1</span></p>\n");
    CHECK_STR(html(p, "\\(x^2\\) and \\[\\frac{a}{b}\\]"),
              "<p><span class=\"math math-inline\">x^2</span> and "
              "<span class=\"math math-display\">\\frac{a}{b}</span></p>\n");
    /* money is not math: a space after the opener, a digit after the closer */
    CHECK_STR(html(p, "It costs $5 and $10, or $ 3 $."),
              "<p>It costs $5 and $10, or $ 3 $.</p>\n");
    CHECK_STR(html(p, "Escaped \\$x$ stays"), "<p>Escaped $x$ stays</p>\n");
    /* not in code, fenced or inline */
    CHECK_STR(html(p, "`$HOME` and `echo $A $B`"),
              "<p><code>$HOME</code> and <code>echo $A $B</code></p>\n");
    h = html(p, "```sh\necho $HOME\nexport A=$B\n```\n\n$x$");
    CHECK(strstr(h, "echo $HOME\nexport A=$B") != NULL);
    CHECK(strstr(h, "<span class=\"math math-inline\">x</span>") != NULL);
    /* indented code: restored as written */
    h = html(p, "text\n\n    a $x$ b\n");
    CHECK(strstr(h, "<pre><code>a $x$ b") != NULL);
    /* a table cell keeps its pipe inside math */
    h = html(p, "| a | b |\n|---|---|\n| $|x|$ | 2 |\n");
    CHECK(strstr(h, "<td><span class=\"math math-inline\">|x|</span></td>") != NULL);
    /* in a link's address: the text as written, escaped, never markup */
    h = html(p, "[t](http://a.b/$x\"onmouseover=1$)");
    CHECK(strstr(h, "<span") == NULL);
    CHECK(strstr(h, "onmouseover") == NULL || strstr(h, "\"onmouseover") == NULL);
    /* TeX is escaped; no blank line inside; the mark in the text turns math off */
    CHECK_STR(html(p, "$<b>&$"), "<p><span class=\"math math-inline\">&lt;b&gt;&amp;</span></p>\n");
    CHECK_STR(html(p, "$a\n\nb$"), "<p>$a</p>\n<p>b$</p>\n");
    CHECK_STR(html(p, "XMATHX0Z $y$"), "<p>XMATHX0Z $y$</p>\n");
    CHECK_STR(html(p, "$$ $$ and $$"), "<p>$$ $$ and $$</p>\n");
}

static void test_images(apr_pool_t *p)
{
    CHECK_STR(html(p, "![A chart](https://example.com/c.png \"T\")"),
              "<p><a href=\"https://example.com/c.png\" title=\"T\">A chart</a></p>\n");
    CHECK_STR(html(p, "![](//cdn.example.com/x.png)"),
              "<p><a href=\"//cdn.example.com/x.png\">//cdn.example.com/x.png</a></p>\n");
    /* this site's images and data: images stay images */
    CHECK_STR(html(p, "![logo](static/favicon.svg)"),
              "<p><img src=\"static/favicon.svg\" alt=\"logo\" /></p>\n");
    CHECK(strstr(html(p, "![d](data:image/png;base64,AAAA)"), "<img") != NULL);
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
    test_math(p);
    test_images(p);
    apr_pool_destroy(p);
    apr_terminate();
    return UNIT_REPORT("markdown");
}
