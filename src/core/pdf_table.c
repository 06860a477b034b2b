/* GFM tables in the PDF engine: column widths from the cells' content, rows
 * flowed across pages (a row taller than a page is sliced, and the header row
 * is repeated on each new page). */
#include "pdf_internal.h"

#include <cmark-gfm-core-extensions.h>
#include <string.h>

/* One cell: its boxes, then its lines once the column width is known. */
typedef struct {
    box *bx;
    int nb, rtl;
    apr_array_header_t *lines;
    float h;
} cell;

typedef struct {
    cell *c;
    int header;
    float h;
} row;

/* A table being laid out: its rows, then the columns' geometry. */
typedef struct {
    int ncols, nrows;
    const unsigned char *align;  /* per column: 'l', 'c', 'r' or 0; may be NULL */
    apr_array_header_t *rows;    /* of row */
    row *hdr;                    /* the first header row, repeated on new pages */
    float *natw, *minw;          /* natural width and longest word, padded */
    float *cw, *cx;              /* column widths and left edges */
} table;

static float lines_height(apr_array_header_t *ls, int from, int to)
{
    float h = 0;
    int i;
    for (i = from; i < to; i++) {
        h += APR_ARRAY_IDX(ls, i, line).h;
    }
    return h;
}

/* Where the slice of each cell of r from pos[c] that fits in avail ends
 * (one line at least at the top of a page); returns the tallest slice. */
static float slice_ends(doc *d, const table *t, const row *r, const int *pos, int *end,
                        float avail)
{
    float sh = 0;
    int c;

    for (c = 0; c < t->ncols; c++) {
        apr_array_header_t *ls = r->c[c].lines;
        float h = 0;
        int i = pos[c];
        while (i < ls->nelts && (h + APR_ARRAY_IDX(ls, i, line).h <= avail
                                 || (i == pos[c] && rc_pdf_at_top(d)))) {
            h += APR_ARRAY_IDX(ls, i, line).h;
            i++;
        }
        end[c] = i;
        if (h > sh) {
            sh = h;
        }
    }
    return sh;
}

/* Lines [from, to) of cell c, aligned in their column, from top down. */
static void draw_cell_lines(doc *d, const table *t, const cell *cl, int c, int from, int to,
                            float top)
{
    float y = top - CELL_PAD;
    int i;

    for (i = from; i < to; i++) {
        const line *l = &APR_ARRAY_IDX(cl->lines, i, line);
        float inner = t->cw[c] - 2 * CELL_PAD, x = t->cx[c] + CELL_PAD;
        int al = t->align && t->align[c] ? t->align[c] : l->rtl ? 'r' : 'l';
        if (al == 'r') {
            x += inner - l->w;
        }
        else if (al == 'c') {
            x += (inner - l->w) / 2;
        }
        rc_pdf_draw_items(d, l, x, rc_pdf_baseline_in(l, y));
        y -= l->h;
    }
}

/* Draws the lines of every cell of r from pos[c] that fit in avail, with the
 * cell borders, and moves pos past them. */
static void draw_row_slice(doc *d, const table *t, row *r, int *pos, float avail)
{
    int ncols = t->ncols, c, *end = apr_palloc(d->p, sizeof(int) * (size_t)ncols);
    float top = d->y, sh = slice_ends(d, t, r, pos, end, avail) + 2 * CELL_PAD;

    if (r->header) {
        HPDF_Page_SetRGBFill(d->page, 0.94f, 0.94f, 0.94f);
        HPDF_Page_Rectangle(d->page, t->cx[0], top - sh,
                            t->cx[ncols - 1] + t->cw[ncols - 1] - t->cx[0], sh);
        HPDF_Page_Fill(d->page);
    }
    for (c = 0; c < ncols; c++) {
        draw_cell_lines(d, t, &r->c[c], c, pos[c], end[c], top);
        pos[c] = end[c];
    }
    HPDF_Page_SetRGBStroke(d->page, 0.8f, 0.8f, 0.8f);
    HPDF_Page_SetLineWidth(d->page, 0.6f);
    for (c = 0; c < ncols; c++) {
        HPDF_Page_Rectangle(d->page, t->cx[c], top - sh, t->cw[c], sh);
    }
    HPDF_Page_Stroke(d->page);
    rc_pdf_strip(d, sh);
}

/* The header row again, whole, at the top of a new page. */
static void repeat_header(doc *d, const table *t)
{
    int *pos = apr_pcalloc(d->p, sizeof(int) * (size_t)t->ncols);
    draw_row_slice(d, t, t->hdr, pos, PAGE_H);
}

static int row_done(const table *t, const row *r, const int *pos)
{
    int c;
    for (c = 0; c < t->ncols; c++) {
        if (pos[c] < r->c[c].lines->nelts) {
            return 0;
        }
    }
    return 1;
}

/* Fills cell cl from cmark cell node cn (NULL for a missing cell) and
 * widens its column's natural and smallest widths to fit it. */
static void measure_cell(doc *d, table *t, cell *cl, int c, cmark_node *cn, int header)
{
    builder b;
    float nat = 0, word = 0, minword = 0;
    int i;

    rc_pdf_bb_init(&b, d, 0);
    if (cn) {
        rc_pdf_collect_inlines(&b, cn, header ? S_BOLD : 0, SZ_TABLE);
    }
    rc_pdf_bb_finish(&b);
    cl->rtl = b.rtl;
    cl->bx = (box *)b.boxes->elts;
    cl->nb = b.boxes->nelts;
    for (i = 0; i < cl->nb; i++) {
        const box *x = &cl->bx[i];
        if (x->brk || x->nl) {
            word = 0;
        }
        nat += (i ? x->sp : 0) + x->w;
        word += x->w;
        if (word > minword) {
            minword = word;
        }
    }
    if (nat + 2 * CELL_PAD > t->natw[c]) {
        t->natw[c] = nat + 2 * CELL_PAD;
    }
    if (minword + 2 * CELL_PAD > t->minw[c]) {
        t->minw[c] = minword + 2 * CELL_PAD;
    }
}

/* The rows of the table node as cells of boxes. */
static void collect_rows(doc *d, table *t, cmark_node *node)
{
    cmark_node *rn, *cn;
    int c;

    for (rn = cmark_node_first_child(node); rn; rn = cmark_node_next(rn)) {
        row *rw = &APR_ARRAY_PUSH(t->rows, row);
        rw->header = rc_pdf_is_type(rn, "table_header");
        rw->c = apr_pcalloc(d->p, sizeof(cell) * (size_t)t->ncols);
        for (c = 0, cn = cmark_node_first_child(rn); c < t->ncols; c++) {
            measure_cell(d, t, &rw->c[c], c, cn, rw->header);
            if (cn) {
                cn = cmark_node_next(cn);
            }
        }
        t->nrows++;
    }
}

/* Column widths from content: natural widths when they fit, else every
 * column gets its longest word (capped) and the rest is shared by need. */
static void column_widths(table *t, float avail, float left)
{
    float *natw = t->natw, *minw = t->minw, total_nat = 0, total_min = 0;
    int ncols = t->ncols, c;

    for (c = 0; c < ncols; c++) {
        if (minw[c] > avail / 3 && ncols > 1) {
            minw[c] = avail / 3;
        }
        if (minw[c] < 2 * CELL_PAD + 6) {
            minw[c] = 2 * CELL_PAD + 6;
        }
        if (natw[c] < minw[c]) {
            natw[c] = minw[c];
        }
        total_nat += natw[c];
        total_min += minw[c];
    }
    for (c = 0; c < ncols; c++) {
        if (total_nat <= avail) {
            t->cw[c] = natw[c] + (avail - total_nat) * natw[c] / total_nat;
        }
        else if (total_min <= avail) {
            float extra = total_nat - total_min;
            t->cw[c] = minw[c] + (extra > 0 ? (avail - total_min) * (natw[c] - minw[c]) / extra
                                             : 0);
        }
        else {
            t->cw[c] = avail * minw[c] / total_min;
        }
        t->cx[c] = c ? t->cx[c - 1] + t->cw[c - 1] : left;
    }
}

/* Every cell's boxes as lines in its column; row heights; the header row. */
static void break_cells(doc *d, table *t)
{
    int r, c;

    for (r = 0; r < t->nrows; r++) {
        row *rw = &APR_ARRAY_IDX(t->rows, r, row);
        rw->h = 0;
        for (c = 0; c < t->ncols; c++) {
            cell *cl = &rw->c[c];
            cl->lines = rc_pdf_break_lines(d, cl->bx, cl->nb, t->cw[c] - 2 * CELL_PAD, SZ_TABLE,
                                           cl->rtl);
            cl->h = lines_height(cl->lines, 0, cl->lines->nelts);
            if (cl->h > rw->h) {
                rw->h = cl->h;
            }
        }
        rw->h += 2 * CELL_PAD;
        if (rw->header && !t->hdr) {
            t->hdr = rw;
        }
    }
}

/* Row r, sliced across pages when taller than the room left; the header row
 * is repeated above it on each new page. */
static void flow_row(doc *d, const table *t, int r, int *pos)
{
    row *rw = &APR_ARRAY_IDX(t->rows, r, row), *hdr = t->hdr;
    float room = PAGE_H - MARGIN_TOP - MARGIN_BOT - (hdr && rw != hdr ? hdr->h : 0);
    float next = rw == hdr && r + 1 < t->nrows ? APR_ARRAY_IDX(t->rows, r + 1, row).h : 0;
    int first = 1;

    memset(pos, 0, sizeof(int) * (size_t)t->ncols);
    /* Keep the header with the first row, and a row whole when a page can hold it. */
    if (d->y - rw->h - next < MARGIN_BOT && !rc_pdf_at_top(d) && rw->h <= room) {
        rc_pdf_new_page(d);
        if (hdr && rw != hdr && hdr->h < room) {
            repeat_header(d, t);
        }
    }
    while (first || !row_done(t, rw, pos)) {
        if (!first) {
            rc_pdf_new_page(d);
            if (hdr && rw != hdr && hdr->h < room / 2) {
                repeat_header(d, t);
            }
        }
        first = 0;
        draw_row_slice(d, t, rw, pos, d->y - MARGIN_BOT - 2 * CELL_PAD);
    }
}

void rc_pdf_render_table(doc *d, cmark_node *node)
{
    table t;
    size_t n;
    int r, *pos;

    memset(&t, 0, sizeof(t));
    t.ncols = cmark_gfm_extensions_get_table_columns(node);
    if (t.ncols <= 0) {
        return;
    }
    n = (size_t)t.ncols;
    t.align = cmark_gfm_extensions_get_table_alignments(node);
    t.rows = apr_array_make(d->p, 16, sizeof(row));
    t.natw = apr_pcalloc(d->p, sizeof(float) * n);
    t.minw = apr_pcalloc(d->p, sizeof(float) * n);
    t.cw = apr_pcalloc(d->p, sizeof(float) * n);
    t.cx = apr_pcalloc(d->p, sizeof(float) * n);
    pos = apr_pcalloc(d->p, sizeof(int) * n);
    collect_rows(d, &t, node);
    column_widths(&t, rc_pdf_content_width(d), d->left);
    break_cells(d, &t);
    rc_pdf_gap(d, 6);
    for (r = 0; r < t.nrows; r++) {
        flow_row(d, &t, r, pos);
    }
    rc_pdf_after(d, 8);
}
