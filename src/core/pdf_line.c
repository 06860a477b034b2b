/* Text of the PDF engine as boxes (runs of one face and style between break
 * opportunities) and boxes as lines.  libharu's own wrapping (TextRect) is
 * ASCII-only, so lines are broken here: between words, then between the
 * characters of a word wider than the line. */
#include "pdf_internal.h"

#include <apr_strings.h>
#include <string.h>

void rc_pdf_bb_init(builder *b, doc *d, int preserve)
{
    memset(b, 0, sizeof(*b));
    b->d = d;
    b->boxes = apr_array_make(d->p, 16, sizeof(box));
    b->preserve = preserve;
    b->cap = 256;
    b->buf = apr_palloc(d->p, (apr_size_t)b->cap);
}

void rc_pdf_bb_close(builder *b)
{
    box *x;

    if (!b->n) {
        return;
    }
    x = &APR_ARRAY_PUSH(b->boxes, box);
    x->s = apr_pstrmemdup(b->d->p, b->buf, (apr_size_t)b->n);
    x->n = b->n;
    x->size = b->size;
    x->w = rc_pdf_text_units(b->d, b->face, b->buf, b->n) * b->size / 1000.0f;
    x->sp = b->space ? b->space_w : 0;
    x->url = b->url;
    x->face = (unsigned char)b->face;
    x->style = (unsigned char)b->style;
    x->brk = (unsigned char)b->space;
    x->nl = (unsigned char)b->nl;
    x->level = x->splevel = 0;
    b->space = b->nl = 0;
    b->n = 0;
}

void rc_pdf_bb_break(builder *b)
{
    rc_pdf_bb_close(b);
    b->nl = 1;
    b->space = 0;
}

/* Starts a box in this face, style, size and link unless the open one has them. */
static void bb_switch(builder *b, int fi, int style, float size, const char *url)
{
    if (b->n && (fi != b->face || style != b->style || size != b->size || url != b->url)) {
        rc_pdf_bb_close(b);
    }
    if (!b->n) {
        b->face = fi;
        b->style = style;
        b->size = size;
        b->url = url;
    }
}

static void bb_append(builder *b, const char *s, int n)
{
    if (b->n + n > b->cap) {
        char *nb = apr_palloc(b->d->p, (apr_size_t)(b->cap + n) * 2);
        memcpy(nb, b->buf, (size_t)b->n);
        b->buf = nb;
        b->cap = (b->cap + n) * 2;
    }
    memcpy(b->buf + b->n, s, (size_t)n);
    b->n += n;
}

/* White space between words: the box ends, a space is owed before the next. */
static void bb_space(builder *b, int style, float size)
{
    char enc[4];
    int n;

    rc_pdf_bb_close(b);
    if (b->boxes->nelts || b->nl) {
        if (!b->space) {
            int sf = rc_pdf_resolve(b->d, style, ' ', enc, &n);
            b->space_w = rc_pdf_text_units(b->d, sf, " ", 1) * size / 1000.0f;
        }
        b->space = 1;
    }
}

/* Characters that draw nothing: dropped, except (unicode) the joiners and
 * selectors shaping needs. */
static int dropped(const doc *d, apr_uint32_t c)
{
    if (d->unicode && (c == 0x200C || c == 0x200D || (c >= 0xFE00 && c <= 0xFE0F))) {
        return 0;
    }
    return rc_pdf_invisible(c);
}

/* Does c belong with the character before it, in the open box's face? */
static int continues(const builder *b, int style, apr_uint32_t c)
{
    const doc *d = b->d;
    return d->unicode && b->n && style == b->style && rc_pdf_continues_cluster(c)
        && (rc_pdf_invisible(c) || rc_pdf_has_glyph(&d->f[b->face], c));
}

void rc_pdf_bb_text(builder *b, const char *s, apr_size_t len, int style, float size,
                    const char *url)
{
    const unsigned char *u = (const unsigned char *)s;
    apr_size_t i = 0, used;
    char enc[4];
    int n, fi;

    while (i < len) {
        apr_uint32_t c = rc_utf8_next(u + i, len - i, &used);
        i += used;
        if (!b->preserve && (c == ' ' || c == '\t' || c == '\n' || c == '\r')) {
            bb_space(b, style, size);
            continue;
        }
        if (dropped(b->d, c)) {
            continue;
        }
        if (continues(b, style, c)) {
            fi = b->face;           /* a mark or joiner stays with its base */
            n = 0;
        }
        else if (rc_pdf_invisible(c)) {
            continue;               /* a joiner with nothing to join */
        }
        else {
            fi = rc_pdf_resolve(b->d, style, c, enc, &n);
        }
        bb_switch(b, fi, style, size, url);
        if (b->d->unicode && !n) {
            bb_append(b, s + i - used, (int)used);   /* drawn as it is */
        }
        else {
            bb_append(b, enc, n);
        }
    }
}

void rc_pdf_bb_finish(builder *b)
{
    rc_pdf_bb_close(b);
    if (!b->bidi_done) {
        b->rtl = rc_pdf_bidi_boxes(b->d, b->boxes, b->preserve);
        b->bidi_done = 1;
    }
}

apr_array_header_t *rc_pdf_bb_lines(builder *b, float maxw, float base)
{
    rc_pdf_bb_finish(b);
    return rc_pdf_break_lines(b->d, (box *)b->boxes->elts, b->boxes->nelts, maxw, base, b->rtl);
}

/* The line being filled and the lines done. */
typedef struct {
    apr_array_header_t *lines;
    apr_array_header_t *cur;     /* of item */
    float x, base;
    int rtl;
    doc *d;
} breaker;

static void emit_line(breaker *k)
{
    line *l = &APR_ARRAY_PUSH(k->lines, line);
    int i;

    l->it = (item *)k->cur->elts;
    l->n = k->cur->nelts;
    l->w = k->x;
    l->size = k->base;
    for (i = 0; i < l->n; i++) {
        if (l->it[i].size > l->size) {
            l->size = l->it[i].size;
        }
    }
    l->h = l->size * k->d->lead;
    l->rtl = k->rtl;
    if (k->d->unicode) {
        rc_pdf_bidi_line(k->d, l);
    }
    k->cur = apr_array_make(k->d->p, 8, sizeof(item));
    k->x = 0;
}

static void place(breaker *k, const box *b, const char *s, int n, float x, float w)
{
    item *it = &APR_ARRAY_PUSH(k->cur, item);
    it->s = s;
    it->n = n;
    it->x = x;
    it->w = w;
    it->size = b->size;
    it->url = b->url;
    it->face = b->face;
    it->style = b->style;
    it->level = b->level;
    it->splevel = b->splevel;
}

/* Places boxes [from, to), one word, from x on the current line; returns
 * where the word ends. */
static float place_word(breaker *k, const box *bx, int from, int to, float x)
{
    int m;
    for (m = from; m < to; m++) {
        place(k, &bx[m], bx[m].s, bx[m].n, x, bx[m].w);
        x += bx[m].w;
    }
    return x;
}

/* Bytes of the character at s (always one in WinAnsi), with the marks and
 * joiners that belong to it. */
static int char_len(const doc *d, const char *s, int left)
{
    const unsigned char *u = (const unsigned char *)s;
    apr_size_t used, more;
    if (!d->unicode) {
        return 1;
    }
    rc_utf8_next(u, (apr_size_t)left, &used);
    while ((int)used < left
           && rc_pdf_continues_cluster(rc_utf8_next(u + used, (apr_size_t)left - used, &more))) {
        used += more;
    }
    return (int)used;
}

/* Where the characters of b from off stop fitting on the current line (at
 * least one goes on an empty line); their width in *w. */
static int fit_chars(breaker *k, const box *b, int off, float maxw, float *w)
{
    int pos = off;
    *w = 0;
    while (pos < b->n) {
        int cl = char_len(k->d, b->s + pos, b->n - pos);
        float cw = rc_pdf_text_units(k->d, b->face, b->s + pos, cl) * b->size / 1000.0f;
        if (k->x + *w + cw > maxw + 0.01f && (pos > off || k->cur->nelts)) {
            break;
        }
        *w += cw;
        pos += cl;
    }
    return pos;
}

/* Places boxes [from, to), a word wider than the line, breaking it between
 * characters. */
static void break_word(breaker *k, const box *bx, int from, int to, float maxw)
{
    int m;
    for (m = from; m < to; m++) {
        const box *b = &bx[m];
        int off = 0;
        while (off < b->n) {
            float w;
            int end = fit_chars(k, b, off, maxw, &w);
            if (end > off) {
                place(k, b, b->s + off, end - off, k->x, w);
                k->x += w;
                off = end;
            }
            if (off < b->n) {
                emit_line(k);
            }
        }
    }
}

/* Breaks boxes into lines of at most maxw points; base is the font size of
 * an empty line. */
apr_array_header_t *rc_pdf_break_lines(doc *d, const box *bx, int nb, float maxw, float base,
                                       int rtl)
{
    breaker k;
    int i = 0, j;

    k.d = d;
    k.rtl = rtl;
    k.lines = apr_array_make(d->p, 8, sizeof(line));
    k.cur = apr_array_make(d->p, 8, sizeof(item));
    k.x = 0;
    k.base = base;
    if (maxw < 20) {
        maxw = 20;
    }
    while (i < nb) {
        float wordw = 0, sp;
        if (bx[i].nl && (k.cur->nelts || i > 0)) {
            emit_line(&k);
        }
        for (j = i; j < nb && (j == i || (!bx[j].brk && !bx[j].nl)); j++) {
            wordw += bx[j].w;
        }
        sp = k.cur->nelts ? bx[i].sp : 0;
        if (k.x + sp + wordw <= maxw + 0.01f) {
            k.x = place_word(&k, bx, i, j, k.x + sp);
        }
        else if (k.cur->nelts) {
            emit_line(&k);
            continue;
        }
        else {
            break_word(&k, bx, i, j, maxw);
        }
        i = j;
    }
    if (k.cur->nelts || !k.lines->nelts) {
        emit_line(&k);
    }
    return k.lines;
}
