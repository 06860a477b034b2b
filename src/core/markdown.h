/* Markdown rendering with cmark-gfm: GFM extensions, raw HTML suppressed. */
#ifndef RC_MARKDOWN_H
#define RC_MARKDOWN_H

#include <apr_pools.h>
#include <cmark-gfm.h>

/* Registers the GFM extensions; once, before threads start (post_config). */
void rc_markdown_init(void);
/* Safe HTML for the markdown, in p. */
char *rc_markdown_to_html(apr_pool_t *p, const char *md, apr_size_t len);
/* The document tree (same options and extensions), freed with p. */
cmark_node *rc_markdown_parse(apr_pool_t *p, const char *md, apr_size_t len);

#endif
