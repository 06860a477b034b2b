/* Bidirectional text with FriBidi: the embedding level of each box from the
 * Unicode bidi algorithm over its whole paragraph (boxes whose characters
 * differ in level are split), the paragraph's direction, and each line's
 * runs put in visual order (rule L2).  Paragraphs without a right-to-left
 * character skip all of it. */
#include "pdf_internal.h"

#include <apr_strings.h>
#include <fribidi.h>
#include <string.h>

static int has_rtl(const box *bx, int nb)
{
    int i, k;

    for (i = 0; i < nb; i++) {
        const unsigned char *u = (const unsigned char *)bx[i].s;
        for (k = 0; k < bx[i].n;) {
            apr_size_t used = 1;
            if (u[k] >= 0xD6) {
                FriBidiCharType t = fribidi_get_bidi_type(
                    rc_utf8_next(u + k, (apr_size_t)(bx[i].n - k), &used));
                if (t == FRIBIDI_TYPE_RTL || t == FRIBIDI_TYPE_AL) {
                    return 1;
                }
            }
            k += (int)used;
        }
    }
    return 0;
}

/* The paragraph's characters, with a space (or a line separator) between
 * boxes; owner and at: the box and byte offset of each (-1: a separator). */
typedef struct {
    FriBidiChar *u;
    int *owner, *at, n;
    FriBidiLevel *lev;
} para;

static void collect(doc *d, const box *bx, int nb, para *pa)
{
    int i, k, total = nb;

    for (i = 0; i < nb; i++) {
        total += bx[i].n;
    }
    pa->u = apr_palloc(d->p, sizeof(FriBidiChar) * (apr_size_t)total);
    pa->owner = apr_palloc(d->p, sizeof(int) * (apr_size_t)total);
    pa->at = apr_palloc(d->p, sizeof(int) * (apr_size_t)total);
    pa->lev = apr_palloc(d->p, sizeof(FriBidiLevel) * (apr_size_t)total);
    pa->n = 0;
    for (i = 0; i < nb; i++) {
        const unsigned char *u = (const unsigned char *)bx[i].s;
        if (i > 0 && (bx[i].brk || bx[i].nl)) {
            pa->u[pa->n] = bx[i].nl ? 0x2028 : ' ';
            pa->owner[pa->n++] = -1;
        }
        for (k = 0; k < bx[i].n;) {
            apr_size_t used;
            pa->u[pa->n] = rc_utf8_next(u + k, (apr_size_t)(bx[i].n - k), &used);
            pa->owner[pa->n] = i;
            pa->at[pa->n++] = k;
            k += (int)used;
        }
    }
}

/* Runs FriBidi; 1 for a right-to-left paragraph. */
static int levels(doc *d, para *pa, int ltr)
{
    FriBidiCharType *types = apr_palloc(d->p, sizeof(FriBidiCharType) * (apr_size_t)pa->n);
    FriBidiBracketType *br = apr_palloc(d->p, sizeof(FriBidiBracketType) * (apr_size_t)pa->n);
    FriBidiParType base = ltr ? FRIBIDI_PAR_LTR : FRIBIDI_PAR_ON;

    fribidi_get_bidi_types(pa->u, pa->n, types);
    fribidi_get_bracket_types(pa->u, pa->n, types, br);
    if (!fribidi_get_par_embedding_levels_ex(types, br, pa->n, &base, pa->lev)) {
        memset(pa->lev, 0, sizeof(FriBidiLevel) * (apr_size_t)pa->n);
        return 0;
    }
    return FRIBIDI_IS_RTL(base) ? 1 : 0;
}

/* Box b's bytes [from, to) at one level, as a box of its own; splevel: the
 * level of the space before it. */
static void push_piece(doc *d, apr_array_header_t *out, const box *b, int from, int to,
                       int level, int splevel)
{
    box *x = &APR_ARRAY_PUSH(out, box);

    *x = *b;
    x->s = b->s + from;
    x->n = to - from;
    x->level = (unsigned char)level;
    x->splevel = (unsigned char)splevel;
    if (from > 0) {
        x->sp = 0;
        x->brk = 0;
        x->nl = 0;
    }
    if (from > 0 || to < b->n) {
        x->w = rc_pdf_text_units(d, b->face, x->s, x->n) * b->size / 1000.0f;
    }
}

int rc_pdf_bidi_boxes(doc *d, apr_array_header_t *boxes, int ltr)
{
    int nb = boxes->nelts, rtl, k, start;
    box *orig;
    para pa;

    if (!d->unicode || !nb || !has_rtl((const box *)boxes->elts, nb)) {
        return 0;
    }
    orig = apr_pmemdup(d->p, boxes->elts, sizeof(box) * (apr_size_t)nb);
    collect(d, orig, nb, &pa);
    rtl = levels(d, &pa, ltr);
    boxes->nelts = 0;
    for (k = 0, start = 0; k < pa.n; k++) {
        int o = pa.owner[k];
        int last = k + 1 == pa.n || pa.owner[k + 1] != o;
        if (o < 0) {
            start = k + 1;
            continue;
        }
        if (last || pa.lev[k + 1] != pa.lev[start]) {
            int sp = start > 0 && pa.owner[start - 1] < 0 ? pa.lev[start - 1] : pa.lev[start];
            push_piece(d, boxes, &orig[o], pa.at[start],
                       last ? orig[o].n : pa.at[k + 1], pa.lev[start], sp);
            start = k + 1;
        }
    }
    return rtl;
}

/* ---- one line in visual order ------------------------------------------------ */

/* A line's runs and the spaces between them, each at its level. */
typedef struct {
    int item;          /* -1: a space */
    float w;
    int level;
} unit;

static void reverse(unit *u, int from, int to)
{
    while (from < --to) {
        unit t = u[from];
        u[from++] = u[to];
        u[to] = t;
    }
}

/* Rule L2: from the highest level to the lowest odd one, reverse every
 * sequence at that level or above. */
static void visual_order(unit *u, int n)
{
    int i, j, lev, hi = 0, lo = 255;

    for (i = 0; i < n; i++) {
        hi = u[i].level > hi ? u[i].level : hi;
        lo = u[i].level < lo ? u[i].level : lo;
    }
    for (lev = hi; lev >= (lo | 1); lev--) {
        for (i = 0; i < n; i = j + 1) {
            while (i < n && u[i].level < lev) {
                i++;
            }
            for (j = i; j < n && u[j].level >= lev; j++) {
            }
            reverse(u, i, j);
        }
    }
}

void rc_pdf_bidi_line(doc *d, line *l)
{
    int i, k, n = 0;
    float x = 0;
    unit *u;
    item *v;

    for (i = 0; i < l->n && !l->it[i].level; i++) {
    }
    if (i == l->n) {
        return;
    }
    u = apr_palloc(d->p, sizeof(unit) * (apr_size_t)l->n * 2);
    v = apr_palloc(d->p, sizeof(item) * (apr_size_t)l->n);
    for (i = 0; i < l->n; i++) {
        float sp = i ? l->it[i].x - (l->it[i - 1].x + l->it[i - 1].w) : 0;
        if (sp > 0.001f) {
            u[n].item = -1;
            u[n].w = sp;
            u[n++].level = l->it[i].splevel;
        }
        u[n].item = i;
        u[n].w = l->it[i].w;
        u[n++].level = l->it[i].level;
    }
    visual_order(u, n);
    for (i = 0, k = 0; i < n; i++) {
        if (u[i].item >= 0) {
            v[k] = l->it[u[i].item];
            v[k++].x = x;
        }
        x += u[i].w;
    }
    memcpy(l->it, v, sizeof(item) * (apr_size_t)l->n);
}
