/* Markdown rendering with cmark-gfm: GFM extensions, raw HTML suppressed. */
#include "markdown.h"

#include <apr_strings.h>
#include <cmark-gfm-core-extensions.h>
#include <stdlib.h>

#define RC_CMARK_OPTS (CMARK_OPT_VALIDATE_UTF8 | CMARK_OPT_FOOTNOTES)

static const char *const extension_names[] = {
    "table", "strikethrough", "autolink", "tagfilter", "tasklist", NULL
};

void rc_markdown_init(void)
{
    cmark_gfm_core_extensions_ensure_registered();
}

static apr_status_t node_cleanup(void *data)
{
    cmark_node_free((cmark_node *)data);
    return APR_SUCCESS;
}

static cmark_node *parse(const char *md, apr_size_t len, cmark_llist **exts)
{
    cmark_parser *parser = cmark_parser_new(RC_CMARK_OPTS);
    cmark_node *doc;
    int i;

    rc_markdown_init();
    for (i = 0; extension_names[i]; i++) {
        cmark_syntax_extension *e = cmark_find_syntax_extension(extension_names[i]);
        if (e) {
            cmark_parser_attach_syntax_extension(parser, e);
        }
    }
    cmark_parser_feed(parser, md, len);
    doc = cmark_parser_finish(parser);
    if (exts) {
        /* The list belongs to the parser: copy it for the renderer. */
        cmark_llist *l = cmark_parser_get_syntax_extensions(parser), *copy = NULL;
        cmark_mem *mem = cmark_get_default_mem_allocator();
        for (; l; l = l->next) {
            copy = cmark_llist_append(mem, copy, l->data);
        }
        *exts = copy;
    }
    cmark_parser_free(parser);
    return doc;
}

char *rc_markdown_to_html(apr_pool_t *p, const char *md, apr_size_t len)
{
    cmark_llist *exts = NULL;
    cmark_node *doc = parse(md, len, &exts);
    char *html, *out;

    html = cmark_render_html(doc, RC_CMARK_OPTS, exts);
    out = apr_pstrdup(p, html ? html : "");
    free(html);
    cmark_llist_free(cmark_get_default_mem_allocator(), exts);
    cmark_node_free(doc);
    return out;
}

cmark_node *rc_markdown_parse(apr_pool_t *p, const char *md, apr_size_t len)
{
    cmark_node *doc = parse(md, len, NULL);

    apr_pool_cleanup_register(p, doc, node_cleanup, apr_pool_cleanup_null);
    return doc;
}
