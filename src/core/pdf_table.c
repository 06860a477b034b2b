/* GFM tables in the PDF engine: column widths from the cells' content, rows
 * flowed across pages (a row taller than a page is sliced, and the header row
 * is repeated on each new page). */
#include "pdf_internal.h"

#include <cmark-gfm-core-extensions.h>
#include <string.h>

/* One cell: its boxes, then its lines once the column width is known. */
typedef struct {
    box *bx;
    int nb;
    apr_array_header_t *lines;
    float h;
} cell;

typedef struct {
    cell *c;
    int header;
    float h;
} row;

static float lines_height(apr_array_header_t *ls, int from, int to)
{
    float h = 0;
    int i;
    for (i = from; i < to; i++) {
        h += APR_ARRAY_IDX(ls, i, line).h;
    }
    return h;
}

/* Draws lines [from, *to) of every cell of r that fit in avail; returns the slice height. */
static float draw_row_slice(doc *d, row *r, int ncols, const float *cw, const float *cx,
                            const unsigned char *align, int *pos, float avail)
{
    float top = d->y, sh = 0;
    int c, *end = apr_palloc(d->p, sizeof(int) * (size_t)ncols);

    for (c = 0; c < ncols; c++) {
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
    sh += 2 * CELL_PAD;
    if (r->header) {
        HPDF_Page_SetRGBFill(d->page, 0.94f, 0.94f, 0.94f);
        HPDF_Page_Rectangle(d->page, cx[0], top - sh, cx[ncols - 1] + cw[ncols - 1] - cx[0], sh);
        HPDF_Page_Fill(d->page);
    }
    for (c = 0; c < ncols; c++) {
        float y = top - CELL_PAD;
        int i;
        for (i = pos[c]; i < end[c]; i++) {
            const line *l = &APR_ARRAY_IDX(r->c[c].lines, i, line);
            float inner = cw[c] - 2 * CELL_PAD, x = cx[c] + CELL_PAD;
            if (align && align[c] == 'r') {
                x += inner - l->w;
            }
            else if (align && align[c] == 'c') {
                x += (inner - l->w) / 2;
            }
            rc_pdf_draw_items(d, l, x, rc_pdf_baseline_in(l, y));
            y -= l->h;
        }
        pos[c] = end[c];
    }
    HPDF_Page_SetRGBStroke(d->page, 0.8f, 0.8f, 0.8f);
    HPDF_Page_SetLineWidth(d->page, 0.6f);
    for (c = 0; c < ncols; c++) {
        HPDF_Page_Rectangle(d->page, cx[c], top - sh, cw[c], sh);
    }
    HPDF_Page_Stroke(d->page);
    rc_pdf_strip(d, sh);
    return sh;
}

static int row_done(row *r, int ncols, const int *pos)
{
    int c;
    for (c = 0; c < ncols; c++) {
        if (pos[c] < r->c[c].lines->nelts) {
            return 0;
        }
    }
    return 1;
}

void rc_pdf_render_table(doc *d, cmark_node *table)
{
    int ncols = cmark_gfm_extensions_get_table_columns(table), nrows = 0, r, c, i;
    const unsigned char *align = cmark_gfm_extensions_get_table_alignments(table);
    apr_array_header_t *rows = apr_array_make(d->p, 16, sizeof(row));
    float *natw, *minw, *cw, *cx, avail = rc_pdf_content_width(d), total_nat = 0, total_min = 0;
    cmark_node *rn, *cn;
    row *hdr = NULL;
    int *pos;

    if (ncols <= 0) {
        return;
    }
    natw = apr_pcalloc(d->p, sizeof(float) * (size_t)ncols);
    minw = apr_pcalloc(d->p, sizeof(float) * (size_t)ncols);
    cw = apr_pcalloc(d->p, sizeof(float) * (size_t)ncols);
    cx = apr_pcalloc(d->p, sizeof(float) * (size_t)ncols);
    pos = apr_pcalloc(d->p, sizeof(int) * (size_t)ncols);
    for (rn = cmark_node_first_child(table); rn; rn = cmark_node_next(rn)) {
        row *rw = &APR_ARRAY_PUSH(rows, row);
        rw->header = rc_pdf_is_type(rn, "table_header");
        rw->c = apr_pcalloc(d->p, sizeof(cell) * (size_t)ncols);
        for (c = 0, cn = cmark_node_first_child(rn); c < ncols; c++) {
            builder b;
            float nat = 0, word = 0, minword = 0;
            rc_pdf_bb_init(&b, d, 0);
            if (cn) {
                rc_pdf_collect_inlines(&b, cn, rw->header ? S_BOLD : 0, SZ_TABLE);
                cn = cmark_node_next(cn);
            }
            rw->c[c].bx = (box *)b.boxes->elts;
            rw->c[c].nb = b.boxes->nelts;
            for (i = 0; i < rw->c[c].nb; i++) {
                const box *x = &rw->c[c].bx[i];
                if (x->brk || x->nl) {
                    word = 0;
                }
                nat += (i ? x->sp : 0) + x->w;
                word += x->w;
                if (word > minword) {
                    minword = word;
                }
            }
            if (nat + 2 * CELL_PAD > natw[c]) {
                natw[c] = nat + 2 * CELL_PAD;
            }
            if (minword + 2 * CELL_PAD > minw[c]) {
                minw[c] = minword + 2 * CELL_PAD;
            }
        }
        nrows++;
    }
    /* Column widths from content: natural widths when they fit, else every
     * column gets its longest word (capped) and the rest is shared by need. */
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
            cw[c] = natw[c] + (avail - total_nat) * natw[c] / total_nat;
        }
        else if (total_min <= avail) {
            float extra = total_nat - total_min;
            cw[c] = minw[c] + (extra > 0 ? (avail - total_min) * (natw[c] - minw[c]) / extra : 0);
        }
        else {
            cw[c] = avail * minw[c] / total_min;
        }
        cx[c] = c ? cx[c - 1] + cw[c - 1] : d->left;
    }
    for (r = 0; r < nrows; r++) {
        row *rw = &APR_ARRAY_IDX(rows, r, row);
        rw->h = 0;
        for (c = 0; c < ncols; c++) {
            rw->c[c].lines = rc_pdf_break_lines(d, rw->c[c].bx, rw->c[c].nb, cw[c] - 2 * CELL_PAD,
                                                SZ_TABLE);
            rw->c[c].h = lines_height(rw->c[c].lines, 0, rw->c[c].lines->nelts);
            if (rw->c[c].h > rw->h) {
                rw->h = rw->c[c].h;
            }
        }
        rw->h += 2 * CELL_PAD;
        if (rw->header && !hdr) {
            hdr = rw;
        }
    }
    rc_pdf_gap(d, 6);
    for (r = 0; r < nrows; r++) {
        row *rw = &APR_ARRAY_IDX(rows, r, row);
        float room = PAGE_H - MARGIN_TOP - MARGIN_BOT - (hdr && rw != hdr ? hdr->h : 0);
        int first = 1;
        memset(pos, 0, sizeof(int) * (size_t)ncols);
        /* Keep the header with the first row, and a row whole when a page can hold it. */
        if (d->y - rw->h - (rw == hdr && r + 1 < nrows ? APR_ARRAY_IDX(rows, r + 1, row).h : 0)
            < MARGIN_BOT && !rc_pdf_at_top(d) && rw->h <= room) {
            rc_pdf_new_page(d);
            if (hdr && rw != hdr && hdr->h < room) {
                memset(pos, 0, sizeof(int) * (size_t)ncols);
                draw_row_slice(d, hdr, ncols, cw, cx, align, pos, PAGE_H);
                memset(pos, 0, sizeof(int) * (size_t)ncols);
            }
        }
        while (first || !row_done(rw, ncols, pos)) {
            if (!first) {
                rc_pdf_new_page(d);
                if (hdr && rw != hdr && hdr->h < room / 2) {
                    int *hp = apr_pcalloc(d->p, sizeof(int) * (size_t)ncols);
                    draw_row_slice(d, hdr, ncols, cw, cx, align, hp, PAGE_H);
                }
            }
            first = 0;
            draw_row_slice(d, rw, ncols, cw, cx, align, pos, d->y - MARGIN_BOT - 2 * CELL_PAD);
        }
    }
    rc_pdf_after(d, 8);
}
