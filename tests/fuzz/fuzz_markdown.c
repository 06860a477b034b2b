/* libFuzzer target: the screen's markdown rendering (math kept away from
 * markdown, other sites' images made links) and the sources of an answer's
 * JSON preamble, over any bytes. The rendering's invariants are checked (a
 * violation aborts): no raw HTML gets through, and a math span never lands
 * inside a tag. */
#include "markdown.h"
#include "sources.h"

#include <apr_general.h>
#include <apr_strings.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static apr_pool_t *root;

/* Every "<" of the output starts one of the tags cmark-gfm writes. */
static void check_html(const char *h)
{
    static const char *const tags[] = {
        "p>", "/p>", "span class=\"math", "/span>", "code", "/code>", "pre>", "/pre>",
        "a href=", "/a>", "img src=", "em>", "/em>", "strong>", "/strong>", "del>", "/del>",
        "h1>", "h2>", "h3>", "h4>", "h5>", "h6>", "/h", "ul>", "/ul>", "ol", "/ol>", "li>",
        "/li>", "blockquote>", "/blockquote>", "hr />", "br />", "table>", "/table>",
        "thead>", "/thead>", "tbody>", "/tbody>", "tr>", "/tr>", "th", "/th>", "td", "/td>",
        "input ", "!-- raw HTML omitted -->", "section class=\"footnotes\"", "/section>",
        "sup class=\"footnote-ref\"", "/sup>", NULL
    };
    const char *s;
    int i;

    for (s = strchr(h, '<'); s; s = strchr(s + 1, '<')) {
        for (i = 0; tags[i]; i++) {
            if (strncmp(s + 1, tags[i], strlen(tags[i])) == 0) {
                break;
            }
        }
        if (!tags[i]) {
            abort();
        }
        /* inside a tag up to its ">": no other "<" */
        {
            const char *gt = strchr(s, '>'), *lt = strchr(s + 1, '<');
            if (!gt || (lt && lt < gt)) {
                abort();
            }
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *p;
    json_t *pre, *src;

    if (!root) {
        apr_initialize();
        apr_pool_create(&root, NULL);
        rc_markdown_init();
    }
    apr_pool_create(&p, root);
    check_html(rc_markdown_to_html(p, (const char *)data, size));
    pre = rc_sources_preamble((const char *)data, size);
    src = rc_sources_from(pre);
    rc_sources_markdown(p, src);
    json_decref(src);
    json_decref(pre);
    apr_pool_destroy(p);
    return 0;
}
