/* Drawing text.  The standard fonts take their WinAnsi bytes through
 * libharu's TextOut.  Shaped text is written into the page's content stream
 * here: libharu's ShowText stops at a NUL byte, and a two-byte CID often has
 * one.  Each glyph is a CID (pdf_cid.c) in a TJ array whose numbers carry the
 * shaper's kerning and offsets; a mark raised or lowered changes the text
 * rise; a cluster of several glyphs (an Indic syllable, an emoji sequence
 * drawn in pieces) is wrapped in an ActualText span with its characters, so
 * text extraction gets them back whole and in logical order. */
#include "pdf_internal.h"
#include "encode.h"

#include <apr_strings.h>
#include <math.h>
#include <string.h>

static const char *nul_copy(doc *d, const char *s, int n)
{
    if (d->tmpn < (apr_size_t)n + 1) {
        d->tmpn = (apr_size_t)n * 2 + 64;
        d->tmp = apr_palloc(d->p, d->tmpn);
    }
    memcpy(d->tmp, s, (size_t)n);
    d->tmp[n] = '\0';
    return d->tmp;
}

/* The operators of one run, collected before they go to the page. */
typedef struct {
    doc *d;
    float size;
    char *buf;
    int n, cap;
    int open;          /* 0: none, 1: inside "[", 2: inside "[<" */
    float pend;        /* TJ adjustment owed, 1/1000 em */
    float rise;        /* the current text rise, points */
} tj;

static void put(tj *t, const char *s, int n)
{
    if (t->n + n > t->cap) {
        int cap = (t->n + n) * 2 + 256;
        char *nb = apr_palloc(t->d->p, (apr_size_t)cap);
        if (t->n) {
            memcpy(nb, t->buf, (size_t)t->n);
        }
        t->buf = nb;
        t->cap = cap;
    }
    memcpy(t->buf + t->n, s, (size_t)n);
    t->n += n;
}

static void puts_(tj *t, const char *s)
{
    put(t, s, (int)strlen(s));
}

static void put_num(tj *t, float v, const char *after)
{
    char b[48];
    int k = apr_snprintf(b, sizeof(b), "%.2f", (double)v);
    while (k > 1 && b[k - 1] == '0') {
        k--;
    }
    if (b[k - 1] == '.') {
        k--;
    }
    put(t, b, k);
    puts_(t, after);
}

static void end_array(tj *t)
{
    if (t->open == 2) {
        puts_(t, ">");
    }
    if (t->open) {
        puts_(t, "] TJ\n");
    }
    t->open = 0;
    t->pend = 0;
}

static void put_glyph(tj *t, unsigned cid)
{
    unsigned char be[2];
    char h[4];

    if (!t->open) {
        puts_(t, "[");
        t->open = 1;
    }
    if (fabsf(t->pend) >= 0.05f) {
        if (t->open == 2) {
            puts_(t, ">");
        }
        put_num(t, t->pend, "");
        t->open = 1;
    }
    t->pend = 0;
    if (t->open == 1) {
        puts_(t, "<");
        t->open = 2;
    }
    be[0] = (unsigned char)(cid >> 8);
    be[1] = (unsigned char)cid;
    rc_hex_encode_upper(h, be, 2);
    put(t, h, 4);
}

static void set_rise(tj *t, float rise)
{
    if (fabsf(rise - t->rise) >= 0.01f) {
        float pend = t->pend;
        end_array(t);
        t->pend = pend;
        put_num(t, rise, " Ts\n");
        t->rise = rise;
    }
}

static void actual_text(tj *t, const char *s, int n)
{
    char *h = apr_palloc(t->d->p, (apr_size_t)n * 8 + 1);
    float pend = t->pend;

    end_array(t);
    t->pend = pend;
    puts_(t, "/Span <</ActualText <FEFF");
    put(t, h, rc_pdf_utf16_hex(s, n, h));
    puts_(t, ">>> BDC\n");
}

static void end_actual_text(tj *t)
{
    float pend = t->pend;
    end_array(t);
    t->pend = pend;
    puts_(t, "EMC\n");
}

/* The characters of a right-to-left cluster, last first: text extraction
 * (poppler's) spreads a glyph's characters left to right across it, then
 * reverses right-to-left runs, which gives them back in logical order. */
static const char *visual_text(doc *d, const char *s, int n)
{
    char *r = apr_palloc(d->p, (apr_size_t)n);
    apr_size_t i = 0, used;

    while (i < (apr_size_t)n) {
        rc_utf8_next((const unsigned char *)s + i, (apr_size_t)n - i, &used);
        memcpy(r + (apr_size_t)n - i - used, s + i, used);
        i += used;
    }
    return r;
}

/* A glyph of a cluster: x from the cluster's start, 1/1000 em. */
typedef struct {
    unsigned cid;
    float x, w, dy;
} placed;

/* By right edge: the last glyph of an ActualText span is the one that ends
 * it (poppler takes the span's width from the last glyph drawn), so a mark
 * moved back over its base does not leave a gap that reads as a space. */
static void sort_by_end(placed *pl, int n)
{
    int a, b;
    for (a = 1; a < n; a++) {
        placed v = pl[a];
        for (b = a; b > 0 && pl[b - 1].x + pl[b - 1].w > v.x + v.w; b--) {
            pl[b] = pl[b - 1];
        }
        pl[b] = v;
    }
}

/* Glyphs [i, j) of one cluster, whose characters are text (tn bytes). */
static void put_cluster(tj *t, int fi, int i, int j, const char *text, int tn)
{
    doc *d = t->d;
    int k, n = j - i, span = n > 1 && tn > 0;
    placed *pl = apr_palloc(d->p, sizeof(placed) * (apr_size_t)n);
    float pen = 0, cur = 0;

    if (d->glrtl && tn > 1) {
        text = visual_text(d, text, tn);
    }
    for (k = 0; k < n; k++) {
        const glyph *g = &d->gl[i + k];
        pl[k].cid = rc_pdf_cid_of(d, fi, g->gid, text, span ? 0 : tn, &pl[k].w);
        pl[k].x = pen + g->dx;
        pl[k].dy = g->dy;
        pen += g->ax;
    }
    if (span) {
        sort_by_end(pl, n);
        actual_text(t, text, tn);
    }
    for (k = 0; k < n; k++) {
        set_rise(t, pl[k].dy * t->size / 1000.0f);
        t->pend += cur - pl[k].x;
        put_glyph(t, pl[k].cid);
        cur = pl[k].x + pl[k].w;
    }
    t->pend += cur - pen;
    if (span) {
        end_actual_text(t);
    }
}

/* Shaped glyphs as CIDs from the text position; clusters run forwards in
 * the buffer's order, backwards for right-to-left text. */
static void show_shaped(doc *d, int fi, float size, const char *s, int n, int rtl)
{
    HPDF_PageAttr attr = (HPDF_PageAttr)d->page->attr;
    tj t;
    int i, j;

    memset(&t, 0, sizeof(t));
    t.d = d;
    t.size = size;
    rc_pdf_shape(d, fi, s, n, rtl);
    for (i = 0; i < d->ngl; i = j) {
        int c = d->gl[i].cluster, end;
        for (j = i + 1; j < d->ngl && d->gl[j].cluster == c; j++) {
        }
        if (d->glrtl) {
            end = i > 0 ? d->gl[i - 1].cluster : n;
        }
        else {
            end = j < d->ngl ? d->gl[j].cluster : n;
        }
        put_cluster(&t, fi, i, j, s + c, end > c ? end - c : 0);
    }
    end_array(&t);
    set_rise(&t, 0);
    if (t.n) {
        HPDF_Stream_Write(attr->stream, (const HPDF_BYTE *)t.buf, (HPDF_UINT)t.n);
    }
}

void rc_pdf_show(doc *d, int fi, float size, float x, float y, const char *s, int n, int rtl)
{
    HPDF_PageAttr attr;

    if (!d->unicode) {
        HPDF_Page_TextOut(d->page, x, y, nul_copy(d, s, n));
        return;
    }
    attr = (HPDF_PageAttr)d->page->attr;
    HPDF_Page_MoveTextPos(d->page, x - attr->text_matrix.x, y - attr->text_matrix.y);
    show_shaped(d, fi, size, s, n, rtl);
}
