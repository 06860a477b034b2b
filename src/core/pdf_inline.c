/* Inline content of one block (emphasis, code, links, images, footnote
 * references, line breaks) as boxes.  Only http(s) and mailto links become
 * annotations; images are never fetched; raw HTML is never interpreted. */
#include "pdf_internal.h"
#include "encode.h"

#include <apr_strings.h>
#include <string.h>
#include <strings.h>

static int url_allowed(const char *u)
{
    return u && (strncasecmp(u, "http://", 7) == 0 || strncasecmp(u, "https://", 8) == 0
                 || strncasecmp(u, "mailto:", 7) == 0);
}

/* An ASCII-only URI for the annotation: other bytes percent-encoded. */
static const char *uri_for_pdf(apr_pool_t *p, const char *u)
{
    size_t n = strlen(u), i, o = 0;
    char *r;

    if (n > 4096) {
        n = 4096;
    }
    r = apr_palloc(p, n * 3 + 1);
    for (i = 0; i < n; i++) {
        unsigned char c = (unsigned char)u[i];
        if (c > 0x20 && c < 0x7F && c != '\\') {
            r[o++] = (char)c;
        }
        else {
            r[o++] = '%';
            rc_hex_encode_upper(r + o, &c, 1);
            o += 2;
        }
    }
    r[o] = '\0';
    return r;
}

int rc_pdf_is_type(cmark_node *n, const char *name)
{
    const char *t = cmark_node_get_type_string(n);
    return t && strcmp(t, name) == 0;
}

/* <br>, <br/>, <br /> in raw HTML: a line break; any other tag is dropped. */
static int html_is_br(const char *s)
{
    if (!s || strncasecmp(s, "<br", 3) != 0) {
        return 0;
    }
    s += 3;
    while (*s == ' ' || *s == '/') {
        s++;
    }
    return *s == '>';
}

/* Where the walk over one block's inlines is: the open emphasis,
 * strike-through, link and image around the current node. */
typedef struct {
    builder *b;
    int base, strong, emph, strike, image;
    float size;
    const char *url;         /* of the open link, when it may be followed */
    cmark_node *link;
} inlines;

static int style_of(const inlines *in)
{
    return in->base | (in->strong ? S_BOLD : 0) | (in->emph ? S_ITAL : 0)
           | (in->strike ? S_STRIKE : 0) | (in->url ? S_LINK : 0)
           | (in->image ? S_ITAL | S_GREY : 0);
}

/* Inline code: boxes of its own, never bold or italic, a little smaller. */
static void add_code(inlines *in, const char *lit, int st)
{
    if (lit) {
        rc_pdf_bb_close(in->b);
        rc_pdf_bb_text(in->b, lit, strlen(lit), (st & ~(S_BOLD | S_ITAL)) | S_CODE,
                       in->size * 0.9f, in->url);
        rc_pdf_bb_close(in->b);
    }
}

/* Only the outermost allowed link counts: a link inside it is just text. */
static void toggle_link(inlines *in, cmark_node *n, int enter)
{
    if (enter && !in->link) {
        const char *u = cmark_node_get_url(n);
        if (url_allowed(u)) {
            in->link = n;
            in->url = uri_for_pdf(in->b->d->p, u);
        }
    }
    else if (!enter && n == in->link) {
        in->link = NULL;
        in->url = NULL;
    }
}

/* Images are never fetched: the alt text stands in for them, bracketed. */
static void image_mark(inlines *in, cmark_node *n, int enter, int st)
{
    if (enter) {
        in->image++;
        st |= S_ITAL | S_GREY;
        rc_pdf_bb_text(in->b, cmark_node_first_child(n) ? "[image: " : "[image",
                       cmark_node_first_child(n) ? 8 : 6, st, in->size, in->url);
    }
    else {
        rc_pdf_bb_text(in->b, "]", 1, st, in->size, in->url);
        in->image--;
    }
}

/* "[n]", numbered by first reference, as cmark-gfm orders the definitions. */
static void add_footnote_ref(inlines *in, cmark_node *n, int st)
{
    const char *label = cmark_node_get_literal(n), *num;
    doc *d = in->b->d;

    label = label ? label : "";
    if (!(num = apr_hash_get(d->notes, label, APR_HASH_KEY_STRING))) {
        num = apr_psprintf(d->keep, "[%d]", apr_hash_count(d->notes) + 1);
        apr_hash_set(d->notes, apr_pstrdup(d->keep, label), APR_HASH_KEY_STRING, num);
    }
    rc_pdf_bb_text(in->b, num, strlen(num), st | S_GREY, in->size * 0.85f, NULL);
}

/* One step of the walk: entering or leaving node n. */
static void inline_event(inlines *in, cmark_node *n, int enter)
{
    int st = style_of(in);
    const char *lit;

    switch (cmark_node_get_type(n)) {
    case CMARK_NODE_TEXT:
        lit = cmark_node_get_literal(n);
        if (lit) {
            rc_pdf_bb_text(in->b, lit, strlen(lit), st, in->size, in->url);
        }
        break;
    case CMARK_NODE_CODE:
        add_code(in, cmark_node_get_literal(n), st);
        break;
    case CMARK_NODE_SOFTBREAK:
        rc_pdf_bb_text(in->b, " ", 1, st, in->size, in->url);
        break;
    case CMARK_NODE_LINEBREAK:
        rc_pdf_bb_break(in->b);
        break;
    case CMARK_NODE_HTML_INLINE:
        if (html_is_br(cmark_node_get_literal(n))) {
            rc_pdf_bb_break(in->b);
        }
        break;
    case CMARK_NODE_STRONG:
        in->strong += enter ? 1 : -1;
        break;
    case CMARK_NODE_EMPH:
        in->emph += enter ? 1 : -1;
        break;
    case CMARK_NODE_LINK:
        toggle_link(in, n, enter);
        break;
    case CMARK_NODE_IMAGE:
        image_mark(in, n, enter, st);
        break;
    case CMARK_NODE_FOOTNOTE_REFERENCE:
        if (enter) {
            add_footnote_ref(in, n, st);
        }
        break;
    default:
        if (rc_pdf_is_type(n, "strikethrough")) {
            in->strike += enter ? 1 : -1;
        }
        break;
    }
}

/* Adds the inline content under block to b, walking iteratively (deep nesting
 * of emphasis must not recurse). */
void rc_pdf_collect_inlines(builder *b, cmark_node *block, int base_style, float size)
{
    cmark_iter *it = cmark_iter_new(block);
    cmark_event_type ev;
    inlines in;

    memset(&in, 0, sizeof(in));
    in.b = b;
    in.base = base_style;
    in.size = size;
    while ((ev = cmark_iter_next(it)) != CMARK_EVENT_DONE) {
        cmark_node *n = cmark_iter_get_node(it);
        if (n != block) {
            inline_event(&in, n, ev == CMARK_EVENT_ENTER);
        }
    }
    cmark_iter_free(it);
    rc_pdf_bb_close(b);
}
