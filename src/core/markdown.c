/* Markdown rendering with cmark-gfm: GFM extensions, raw HTML suppressed.
 *
 * For the screen, two things more: LaTeX math ($…$, $$…$$, \(…\), \[…\])
 * is kept away from markdown (whose emphasis and escapes would mangle it) and
 * comes out as <span class="math math-inline|math-display">TeX</span> for the
 * browser to typeset; images from other sites, which the page's CSP blocks,
 * become links with their alt text. */
#include "markdown.h"
#include "json.h"
#include "buf.h"
#include "utf8.h"

#include <apr_strings.h>
#include <apr_tables.h>
#include <cmark-gfm-core-extensions.h>
#include <stdlib.h>
#include <string.h>

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

/* ---- math ------------------------------------------------------------------ */

/* A math span of the source: its whole text (with delimiters) and its TeX. */
typedef struct {
    const char *src, *tex;
    size_t srclen, texlen;
    int display;
} math_span;

/* Math spans are replaced by this, a number and "Z" in the markdown, which
 * passes through cmark unchanged: letters and digits only. */
#define MATH_MARK     "XMATHX"
#define MATH_MARK_LEN 6

static int blank_line_at(const char *s, size_t i, size_t len)
{
    /* s[i] is '\n': is the next line blank? */
    for (i++; i < len && (s[i] == ' ' || s[i] == '\t' || s[i] == '\r'); i++) {
    }
    return i >= len || s[i] == '\n';
}

/* The end (index after the closer) of the math opened at s[start] whose
 * content starts at from, closed by close (clen bytes), or 0. Math does not
 * cross a blank line; a backslash escapes the next character. inline_dollar:
 * the closer follows pandoc's rule for a single $. */
static size_t math_close(const char *s, size_t from, size_t len, const char *close,
                         size_t clen, int inline_dollar)
{
    size_t i;

    for (i = from; i < len; i++) {
        if (s[i] == '\n' && blank_line_at(s, i, len)) {
            return 0;
        }
        if (i + clen <= len && memcmp(s + i, close, clen) == 0) {
            /* pandoc's rule for $: no space before the closer, no digit after it */
            if (inline_dollar && (s[i - 1] == ' ' || s[i - 1] == '\t' || s[i - 1] == '\n'
                                  || (i + 1 < len && s[i + 1] >= '0' && s[i + 1] <= '9'))) {
                continue;
            }
            return i > from ? i + clen : 0;
        }
        if (s[i] == '\\') {
            i++;
        }
    }
    return 0;
}

/* A fenced code block's fence at s[i] (a line start): its length, or 0. */
static size_t fence_at(const char *s, size_t i, size_t len, char *fc)
{
    size_t k = i, ind = 0, run = 0;

    while (k < len && s[k] == ' ' && ind < 4) {
        k++;
        ind++;
    }
    if (ind >= 4 || k >= len || (s[k] != '`' && s[k] != '~')) {
        return 0;
    }
    while (k + run < len && s[k + run] == s[k]) {
        run++;
    }
    if (run < 3) {
        return 0;
    }
    *fc = s[k];
    return run;
}

static size_t line_end(const char *s, size_t i, size_t len)
{
    const char *nl = memchr(s + i, '\n', len - i);
    return nl ? (size_t)(nl - s) + 1 : len;
}

/* The source with its math replaced by marks; the spans in *spans. NULL when
 * there is no math (or the mark itself occurs in the text). */
static char *extract_math(apr_pool_t *p, const char *s, size_t len, size_t *outlen,
                          apr_array_header_t **spans)
{
    rc_buf *b = NULL;
    size_t i = 0, copied = 0;
    int line_start = 1;

    *spans = NULL;
    if (!memchr(s, '$', len) && !memchr(s, '\\', len)) {
        return NULL;
    }
    {
        size_t k;
        for (k = 0; k + MATH_MARK_LEN <= len; k++) {
            if (s[k] == 'X' && memcmp(s + k, MATH_MARK, MATH_MARK_LEN) == 0) {
                return NULL;
            }
        }
    }
    while (i < len) {
        char c = s[i], fc;
        size_t start = i, end = 0, tex = 0, texend = 0, run;
        int display = 0;

        if (line_start && (run = fence_at(s, i, len, &fc)) > 0) {
            /* a fenced code block: up to its closing fence */
            i = line_end(s, i, len);
            while (i < len) {
                size_t r2;
                char c2;
                size_t next = line_end(s, i, len);
                if ((r2 = fence_at(s, i, len, &c2)) >= run && c2 == fc) {
                    i = next;
                    break;
                }
                i = next;
            }
            line_start = 1;
            continue;
        }
        line_start = 0;
        if (c == '`') {
            /* a code span: up to a run of as many backticks */
            size_t n = 0, k;
            while (i + n < len && s[i + n] == '`') {
                n++;
            }
            for (k = i + n; k < len; k++) {
                if (s[k] == '`') {
                    size_t m = 0;
                    while (k + m < len && s[k + m] == '`') {
                        m++;
                    }
                    if (m == n) {
                        break;
                    }
                    k += m - 1;
                }
            }
            i = k < len ? k + n : i + n;
            continue;
        }
        if (c == '\\' && i + 1 < len && (s[i + 1] == '(' || s[i + 1] == '[')) {
            display = s[i + 1] == '[';
            tex = i + 2;
            end = math_close(s, tex, len, display ? "\\]" : "\\)", 2, 0);
            texend = end ? end - 2 : 0;
        }
        else if (c == '\\') {
            i += i + 1 < len ? 2 : 1;    /* an escape, \$ among them */
            line_start = s[i - 1] == '\n';
            continue;
        }
        else if (c == '$' && i + 1 < len && s[i + 1] == '$') {
            display = 1;
            tex = i + 2;
            end = math_close(s, tex, len, "$$", 2, 0);
            texend = end ? end - 2 : 0;
        }
        else if (c == '$' && i + 1 < len && s[i + 1] != ' ' && s[i + 1] != '\t'
                 && s[i + 1] != '\n' && s[i + 1] != '$') {
            tex = i + 1;
            end = math_close(s, tex, len, "$", 1, 1);
            texend = end ? end - 1 : 0;
        }
        if (!end) {
            line_start = c == '\n';
            i += c == '$' && i + 1 < len && s[i + 1] == '$' ? 2 : 1;
            continue;
        }
        while (tex < texend && (s[tex] == ' ' || s[tex] == '\n' || s[tex] == '\r')) {
            tex++;
        }
        while (texend > tex && (s[texend - 1] == ' ' || s[texend - 1] == '\n'
                                || s[texend - 1] == '\r')) {
            texend--;
        }
        if (texend == tex) {
            i = end;
            continue;
        }
        if (!b) {
            b = rc_buf_make(p, len + 64);
            *spans = apr_array_make(p, 8, sizeof(math_span));
        }
        {
            math_span *m = apr_array_push(*spans);
            m->src = s + start;
            m->srclen = end - start;
            m->tex = s + tex;
            m->texlen = texend - tex;
            m->display = display;
        }
        rc_buf_append(b, s + copied, start - copied);
        rc_buf_appends(b, apr_psprintf(p, MATH_MARK "%dZ", (*spans)->nelts - 1));
        copied = i = end;
    }
    if (!b) {
        return NULL;
    }
    rc_buf_append(b, s + copied, len - copied);
    *outlen = b->len;
    return rc_buf_pstrdup(p, b);
}

/* s[0..n) escaped for HTML, as valid UTF-8 without NUL (U+FFFD instead, as
 * cmark does for the rest of the document). */
static void append_escaped(apr_pool_t *p, rc_buf *b, const char *raw, size_t n)
{
    rc_buf *nul = rc_buf_make(p, n + 16);
    const char *s;
    size_t i, from = 0;

    for (i = 0; i < n; i++) {
        if (raw[i] == '\0') {
            rc_buf_append(nul, raw + from, i - from);
            rc_buf_appends(nul, "\xEF\xBF\xBD");
            from = i + 1;
        }
    }
    rc_buf_append(nul, raw + from, n - from);
    s = rc_utf8_sanitize(p, nul->data, nul->len);
    n = strlen(s);
    from = 0;
    for (i = 0; i < n; i++) {
        const char *e = s[i] == '<' ? "&lt;" : s[i] == '>' ? "&gt;" : s[i] == '&' ? "&amp;"
                      : s[i] == '"' ? "&quot;" : NULL;
        if (e) {
            rc_buf_append(b, s + from, i - from);
            rc_buf_appends(b, e);
            from = i + 1;
        }
    }
    rc_buf_append(b, s + from, n - from);
}

/* The rendered HTML with the marks replaced: by a math span in text, by the
 * original source (escaped) inside a tag or in code. */
static char *restore_math(apr_pool_t *p, const char *html, apr_array_header_t *spans)
{
    rc_buf *b = rc_buf_make(p, strlen(html) + 256);
    const char *s = html, *from = html;
    int in_tag = 0, code = 0;

    for (; *s; s++) {
        if (*s == '<') {
            in_tag = 1;
            if (strncmp(s, "<code", 5) == 0 || strncmp(s, "<pre", 4) == 0) {
                code++;
            }
            else if ((strncmp(s, "</code", 6) == 0 || strncmp(s, "</pre", 5) == 0) && code) {
                code--;
            }
        }
        else if (*s == '>') {
            in_tag = 0;
        }
        else if (*s == 'X' && strncmp(s, MATH_MARK, MATH_MARK_LEN) == 0) {
            char *end;
            long k = strtol(s + MATH_MARK_LEN, &end, 10);
            const math_span *m;
            if (end == s + MATH_MARK_LEN || *end != 'Z' || k < 0 || k >= spans->nelts) {
                continue;
            }
            m = &APR_ARRAY_IDX(spans, k, math_span);
            rc_buf_append(b, from, (size_t)(s - from));
            if (in_tag || code) {
                append_escaped(p, b, m->src, m->srclen);
            }
            else {
                rc_buf_appends(b, m->display ? "<span class=\"math math-display\">"
                                             : "<span class=\"math math-inline\">");
                append_escaped(p, b, m->tex, m->texlen);
                rc_buf_appends(b, "</span>");
            }
            s = end;
            from = end + 1;
        }
    }
    rc_buf_append(b, from, (size_t)(s - from));
    return rc_buf_pstrdup(p, b);
}

/* ---- images of other sites ---------------------------------------------------- */

/* A URL with a scheme (other than data:) or network-path: not this site's. */
static int external_url(const char *u)
{
    const char *c = u;

    if (!u || !*u) {
        return 0;
    }
    if (u[0] == '/' && u[1] == '/') {
        return 1;
    }
    while ((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9')
           || *c == '+' || *c == '.' || *c == '-') {
        c++;
    }
    return *c == ':' && c > u && strncasecmp(u, "data:", 5) != 0;
}

/* Images the page's CSP would block become links to them, with their alt text. */
static void images_to_links(cmark_node *doc)
{
    cmark_iter *it = cmark_iter_new(doc);
    cmark_event_type ev;
    cmark_node *found[64], *img;
    int n = 0, i;

    while ((ev = cmark_iter_next(it)) != CMARK_EVENT_DONE && n < 64) {
        img = cmark_iter_get_node(it);
        if (ev == CMARK_EVENT_ENTER && cmark_node_get_type(img) == CMARK_NODE_IMAGE
            && external_url(cmark_node_get_url(img))) {
            found[n++] = img;
        }
    }
    cmark_iter_free(it);
    for (i = 0; i < n; i++) {
        cmark_node *link = cmark_node_new(CMARK_NODE_LINK), *ch;
        img = found[i];
        cmark_node_set_url(link, cmark_node_get_url(img));
        cmark_node_set_title(link, cmark_node_get_title(img));
        while ((ch = cmark_node_first_child(img))) {
            cmark_node_unlink(ch);
            cmark_node_append_child(link, ch);
        }
        if (!cmark_node_first_child(link)) {
            ch = cmark_node_new(CMARK_NODE_TEXT);
            cmark_node_set_literal(ch, cmark_node_get_url(img));
            cmark_node_append_child(link, ch);
        }
        cmark_node_insert_before(img, link);
        cmark_node_free(img);
    }
}

char *rc_markdown_to_html(apr_pool_t *p, const char *md, apr_size_t len)
{
    cmark_llist *exts = NULL;
    apr_array_header_t *spans = NULL;
    size_t mlen = 0;
    char *marked = extract_math(p, md, len, &mlen, &spans);
    cmark_node *doc = marked ? parse(marked, mlen, &exts) : parse(md, len, &exts);
    char *html, *out;

    images_to_links(doc);
    html = cmark_render_html(doc, RC_CMARK_OPTS, exts);
    out = spans ? restore_math(p, html ? html : "", spans) : apr_pstrdup(p, html ? html : "");
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
