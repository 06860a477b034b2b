/* Inline content of one block (emphasis, code, links, images, footnote
 * references, line breaks) as boxes.  Only http(s) and mailto links become
 * annotations; images are never fetched; raw HTML is never interpreted. */
#include "pdf_internal.h"

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
    static const char hex[] = "0123456789ABCDEF";
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
            r[o++] = hex[c >> 4];
            r[o++] = hex[c & 15];
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

/* Adds the inline content under block to b, walking iteratively (deep nesting
 * of emphasis must not recurse). */
void rc_pdf_collect_inlines(builder *b, cmark_node *block, int base_style, float size)
{
    cmark_iter *it = cmark_iter_new(block);
    cmark_event_type ev;
    int strong = 0, emph = 0, strike = 0, image = 0;
    const char *url = NULL;
    cmark_node *link = NULL;

    while ((ev = cmark_iter_next(it)) != CMARK_EVENT_DONE) {
        cmark_node *n = cmark_iter_get_node(it);
        cmark_node_type t = cmark_node_get_type(n);
        int enter = ev == CMARK_EVENT_ENTER;
        int st = base_style | (strong ? S_BOLD : 0) | (emph ? S_ITAL : 0)
                 | (strike ? S_STRIKE : 0) | (url ? S_LINK : 0) | (image ? S_ITAL | S_GREY : 0);
        const char *lit;

        if (n == block) {
            continue;
        }
        switch (t) {
        case CMARK_NODE_TEXT:
            lit = cmark_node_get_literal(n);
            if (lit) {
                rc_pdf_bb_text(b, lit, strlen(lit), st, size, url);
            }
            break;
        case CMARK_NODE_CODE:
            lit = cmark_node_get_literal(n);
            if (lit) {
                rc_pdf_bb_close(b);
                rc_pdf_bb_text(b, lit, strlen(lit), (st & ~(S_BOLD | S_ITAL)) | S_CODE,
                               size * 0.9f, url);
                rc_pdf_bb_close(b);
            }
            break;
        case CMARK_NODE_SOFTBREAK:
            rc_pdf_bb_text(b, " ", 1, st, size, url);
            break;
        case CMARK_NODE_LINEBREAK:
            rc_pdf_bb_break(b);
            break;
        case CMARK_NODE_HTML_INLINE:
            if (html_is_br(cmark_node_get_literal(n))) {
                rc_pdf_bb_break(b);
            }
            break;
        case CMARK_NODE_STRONG:
            strong += enter ? 1 : -1;
            break;
        case CMARK_NODE_EMPH:
            emph += enter ? 1 : -1;
            break;
        case CMARK_NODE_LINK:
            if (enter && !link) {
                const char *u = cmark_node_get_url(n);
                if (url_allowed(u)) {
                    link = n;
                    url = uri_for_pdf(b->d->p, u);
                }
            }
            else if (!enter && n == link) {
                link = NULL;
                url = NULL;
            }
            break;
        case CMARK_NODE_IMAGE:
            /* never fetched: the alt text stands in for it */
            if (enter) {
                image++;
                st |= S_ITAL | S_GREY;
                rc_pdf_bb_text(b, cmark_node_first_child(n) ? "[image: " : "[image",
                               cmark_node_first_child(n) ? 8 : 6, st, size, url);
            }
            else {
                rc_pdf_bb_text(b, "]", 1, st, size, url);
                image--;
            }
            break;
        case CMARK_NODE_FOOTNOTE_REFERENCE:
            if (enter) {
                /* numbered by first reference, as cmark-gfm orders the definitions */
                const char *label = cmark_node_get_literal(n), *num;
                doc *d = b->d;
                label = label ? label : "";
                if (!(num = apr_hash_get(d->notes, label, APR_HASH_KEY_STRING))) {
                    num = apr_psprintf(d->keep, "[%d]", apr_hash_count(d->notes) + 1);
                    apr_hash_set(d->notes, apr_pstrdup(d->keep, label), APR_HASH_KEY_STRING, num);
                }
                rc_pdf_bb_text(b, num, strlen(num), st | S_GREY, size * 0.85f, NULL);
            }
            break;
        default:
            if (rc_pdf_is_type(n, "strikethrough")) {
                strike += enter ? 1 : -1;
            }
            break;
        }
    }
    cmark_iter_free(it);
    rc_pdf_bb_close(b);
}
