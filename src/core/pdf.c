/* PDF export: a small layout engine over the cmark-gfm tree, drawn with libharu.
 *
 * Text that fits WinAnsi (plus the math and arrow glyphs of the Symbol font)
 * is set in the standard Helvetica/Courier fonts, which keeps a short answer's
 * PDF to a few kilobytes.  Anything else switches the document to embedded
 * DejaVu TrueType fonts with libharu's UTF-8 encoder; glyph coverage is read
 * from each font's cmap, characters no font has go to the fallback font or
 * become a visible replacement mark.  libharu's own wrapping (TextRect) is
 * ASCII-only, so lines are broken here: words, then characters for words
 * wider than the line.  No global state: everything hangs off one doc. */
#include "pdf_internal.h"
#include "markdown.h"

#include <apr_strings.h>
#include <cmark-gfm-core-extensions.h>
#include <stdio.h>
#include <string.h>

/* ---- typography ---------------------------------------------------------- */

static const float heading_size[6] = { SZ_H1, 14.0f, 12.5f, 11.5f, 10.5f, 10.5f };

/* ---- libharu plumbing ------------------------------------------------------- */

static void on_error(HPDF_STATUS error_no, HPDF_STATUS detail_no, void *user_data)
{
    doc *d = user_data;
    if (!d->err) {
        d->err = error_no;
        d->detail = detail_no;
    }
}

static apr_status_t free_pdf(void *data)
{
    doc *d = data;
    if (d->pdf) {
        HPDF_Free(d->pdf);
        d->pdf = NULL;
    }
    return APR_SUCCESS;
}

/* ---- pages and vertical flow ---------------------------------------------------- */

static void new_page(doc *d)
{
    d->page = HPDF_AddPage(d->pdf);
    HPDF_Page_SetSize(d->page, HPDF_PAGE_SIZE_A4, HPDF_PAGE_PORTRAIT);
    APR_ARRAY_PUSH(d->pages, HPDF_Page) = d->page;
    d->y = TOP_Y;
}

static int at_top(const doc *d)
{
    return d->y >= TOP_Y - 0.01f;
}

/* Moves down h points, drawing the bars of the open block quotes beside the strip. */
static void strip(doc *d, float h)
{
    int i;
    if (d->bars->nelts) {
        HPDF_Page_SetRGBFill(d->page, 0.82f, 0.84f, 0.87f);
        for (i = 0; i < d->bars->nelts; i++) {
            HPDF_Page_Rectangle(d->page, APR_ARRAY_IDX(d->bars, i, float), d->y - h, 2.5f, h);
        }
        HPDF_Page_Fill(d->page);
    }
    d->y -= h;
}

/* Starts a new page unless h points fit below y. */
static void need(doc *d, float h)
{
    if (d->y - h < MARGIN_BOT && !at_top(d)) {
        new_page(d);
    }
}

/* Pays the collapsed space between blocks (never at the top of a page). */
static void gap(doc *d, float before)
{
    float h = d->pend > before ? d->pend : before;
    d->pend = 0;
    if (at_top(d) || h <= 0) {
        return;
    }
    if (d->y - h < MARGIN_BOT) {
        new_page(d);
        return;
    }
    strip(d, h);
}

static void after(doc *d, float h)
{
    if (h > d->pend) {
        d->pend = h;
    }
}

/* Flows lines at the current position: each line fits whole on its page.
 * bg: grey band behind the lines (code blocks). align: 0 left, 1 centre, 2 right. */
static void flow_lines(doc *d, apr_array_header_t *lines, float x0, float width, int bg)
{
    int i;
    for (i = 0; i < lines->nelts; i++) {
        const line *l = &APR_ARRAY_IDX(lines, i, line);
        float base;
        if (d->y - l->h < MARGIN_BOT && !at_top(d)) {
            new_page(d);
            if (bg) {
                HPDF_Page_SetRGBFill(d->page, 0.957f, 0.957f, 0.957f);
                HPDF_Page_Rectangle(d->page, x0 - PRE_PAD, d->y - PRE_PAD / 2, width + 2 * PRE_PAD,
                                    PRE_PAD / 2);
                HPDF_Page_Fill(d->page);
            }
        }
        if (bg) {
            HPDF_Page_SetRGBFill(d->page, 0.957f, 0.957f, 0.957f);
            HPDF_Page_Rectangle(d->page, x0 - PRE_PAD, d->y - l->h, width + 2 * PRE_PAD, l->h);
            HPDF_Page_Fill(d->page);
        }
        base = rc_pdf_baseline_in(l, d->y);
        if (d->mk_kind) {
            rc_pdf_draw_marker(d, base, l->size);
        }
        rc_pdf_draw_items(d, l, x0, base);
        strip(d, l->h);
    }
}

/* ---- blocks ------------------------------------------------------------------------- */

static float content_width(const doc *d)
{
    return d->right - d->left;
}

static void render_inline_block(doc *d, cmark_node *n, int style, float size, float lead)
{
    builder b;
    apr_array_header_t *lines;

    rc_pdf_bb_init(&b, d, 0);
    rc_pdf_collect_inlines(&b, n, style, size);
    d->lead = lead;
    lines = rc_pdf_break_lines(d, (box *)b.boxes->elts, b.boxes->nelts, content_width(d), size);
    d->lead = LEAD_BODY;
    flow_lines(d, lines, d->left, content_width(d), 0);
}

static int in_tight_list(cmark_node *n)
{
    cmark_node *item = cmark_node_parent(n), *list = item ? cmark_node_parent(item) : NULL;
    return item && list && cmark_node_get_type(item) == CMARK_NODE_ITEM
        && cmark_node_get_list_tight(list);
}

static void render_paragraph(doc *d, cmark_node *n)
{
    int tight = in_tight_list(n);
    gap(d, tight ? 1.5f : PARA_GAP);
    render_inline_block(d, n, 0, SZ_BODY, LEAD_BODY);
    after(d, tight ? 1.5f : PARA_GAP);
}

/* A grey line across the text column, `below` points under the current line
 * (headings h1/h2 and thematic breaks), then 2 points of room. */
static void hline(doc *d, float below, float grey, float width)
{
    HPDF_Page_SetRGBStroke(d->page, grey, grey, grey + 0.02f);
    HPDF_Page_SetLineWidth(d->page, width);
    HPDF_Page_MoveTo(d->page, d->left, d->y - below);
    HPDF_Page_LineTo(d->page, d->right, d->y - below);
    HPDF_Page_Stroke(d->page);
    strip(d, 2);
}

static void render_heading(doc *d, cmark_node *n)
{
    int lvl = cmark_node_get_heading_level(n);
    float size = heading_size[(lvl < 1 ? 1 : lvl > 6 ? 6 : lvl) - 1];

    gap(d, lvl <= 2 ? 12 : 9);
    need(d, size * LEAD_HEAD + 3 * SZ_BODY * LEAD_BODY);
    render_inline_block(d, n, S_BOLD | (lvl == 6 ? S_GREY : 0), size, LEAD_HEAD);
    if (lvl <= 2) {
        hline(d, 1.5f, 0.85f, 0.6f);
    }
    after(d, 4);
}

static void render_code_block(doc *d, const char *lit)
{
    builder b;
    const char *s = lit ? lit : "", *e;
    float width = content_width(d) - 2 * PRE_PAD, x0 = d->left + PRE_PAD;
    apr_array_header_t *all = apr_array_make(d->p, 16, sizeof(line));
    size_t len = strlen(s);
    int i;

    while (len && s[len - 1] == '\n') {
        len--;
    }
    d->lead = LEAD_CODE;
    for (e = s; e <= s + len;) {
        const char *nl = memchr(e, '\n', (size_t)(s + len - e));
        const char *end = nl ? nl : s + len;
        apr_array_header_t *ls;
        int col = 0;
        const char *q;

        rc_pdf_bb_init(&b, d, 1);
        /* tabs to spaces, 4 columns */
        for (q = e; q < end; q++) {
            if (*q == '\t') {
                int sp = 4 - col % 4;
                rc_pdf_bb_text(&b, "    ", (apr_size_t)sp, S_CODE, SZ_CODE, NULL);
                col += sp;
            }
            else if (*q != '\r') {
                const char *r = q;
                while (r < end && *r != '\t' && *r != '\r') {
                    if (((unsigned char)*r & 0xC0) != 0x80) {
                        col++;
                    }
                    r++;
                }
                rc_pdf_bb_text(&b, q, (apr_size_t)(r - q), S_CODE, SZ_CODE, NULL);
                q = r - 1;
            }
        }
        rc_pdf_bb_close(&b);
        ls = rc_pdf_break_lines(d, (box *)b.boxes->elts, b.boxes->nelts, width, SZ_CODE);
        for (i = 0; i < ls->nelts; i++) {
            APR_ARRAY_PUSH(all, line) = APR_ARRAY_IDX(ls, i, line);
        }
        e = end + 1;
    }
    d->lead = LEAD_BODY;
    gap(d, 6);
    need(d, SZ_CODE * LEAD_CODE + 2 * PRE_PAD);
    HPDF_Page_SetRGBFill(d->page, 0.957f, 0.957f, 0.957f);
    HPDF_Page_Rectangle(d->page, d->left, d->y - PRE_PAD, width + 2 * PRE_PAD, PRE_PAD);
    HPDF_Page_Fill(d->page);
    strip(d, PRE_PAD);
    flow_lines(d, all, x0, width, 1);
    if (d->y - PRE_PAD >= MARGIN_BOT - PRE_PAD) {
        HPDF_Page_SetRGBFill(d->page, 0.957f, 0.957f, 0.957f);
        HPDF_Page_Rectangle(d->page, d->left, d->y - PRE_PAD, width + 2 * PRE_PAD, PRE_PAD);
        HPDF_Page_Fill(d->page);
        strip(d, PRE_PAD);
    }
    after(d, 6);
}

/* Raw HTML is never interpreted: its text (tags stripped) is shown plainly. */
static void render_html_block(doc *d, const char *lit)
{
    builder b;
    apr_array_header_t *lines;
    const char *s = lit ? lit : "", *start;
    int intag = 0;

    rc_pdf_bb_init(&b, d, 0);
    for (start = s; *s; s++) {
        if (!intag && *s == '<') {
            if (s > start) {
                rc_pdf_bb_text(&b, start, (apr_size_t)(s - start), 0, SZ_BODY, NULL);
            }
            intag = 1;
        }
        else if (intag && *s == '>') {
            intag = 0;
            start = s + 1;
        }
    }
    if (!intag && s > start) {
        rc_pdf_bb_text(&b, start, (apr_size_t)(s - start), 0, SZ_BODY, NULL);
    }
    rc_pdf_bb_close(&b);
    if (!b.boxes->nelts) {
        return;
    }
    gap(d, PARA_GAP);
    lines = rc_pdf_break_lines(d, (box *)b.boxes->elts, b.boxes->nelts, content_width(d), SZ_BODY);
    flow_lines(d, lines, d->left, content_width(d), 0);
    after(d, PARA_GAP);
}

static void render_rule(doc *d)
{
    gap(d, 8);
    need(d, 2);
    hline(d, 1, 0.8f, 0.8f);
    after(d, 8);
}

/* ---- tables ------------------------------------------------------------------------------ */

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
                                 || (i == pos[c] && at_top(d)))) {
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
    strip(d, sh);
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

static void render_table(doc *d, cmark_node *table)
{
    int ncols = cmark_gfm_extensions_get_table_columns(table), nrows = 0, r, c, i;
    const unsigned char *align = cmark_gfm_extensions_get_table_alignments(table);
    apr_array_header_t *rows = apr_array_make(d->p, 16, sizeof(row));
    float *natw, *minw, *cw, *cx, avail = content_width(d), total_nat = 0, total_min = 0;
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
    gap(d, 6);
    for (r = 0; r < nrows; r++) {
        row *rw = &APR_ARRAY_IDX(rows, r, row);
        float room = PAGE_H - MARGIN_TOP - MARGIN_BOT - (hdr && rw != hdr ? hdr->h : 0);
        int first = 1;
        memset(pos, 0, sizeof(int) * (size_t)ncols);
        /* Keep the header with the first row, and a row whole when a page can hold it. */
        if (d->y - rw->h - (rw == hdr && r + 1 < nrows ? APR_ARRAY_IDX(rows, r + 1, row).h : 0)
            < MARGIN_BOT && !at_top(d) && rw->h <= room) {
            new_page(d);
            if (hdr && rw != hdr && hdr->h < room) {
                memset(pos, 0, sizeof(int) * (size_t)ncols);
                draw_row_slice(d, hdr, ncols, cw, cx, align, pos, PAGE_H);
                memset(pos, 0, sizeof(int) * (size_t)ncols);
            }
        }
        while (first || !row_done(rw, ncols, pos)) {
            if (!first) {
                new_page(d);
                if (hdr && rw != hdr && hdr->h < room / 2) {
                    int *hp = apr_pcalloc(d->p, sizeof(int) * (size_t)ncols);
                    draw_row_slice(d, hdr, ncols, cw, cx, align, hp, PAGE_H);
                }
            }
            first = 0;
            draw_row_slice(d, rw, ncols, cw, cx, align, pos, d->y - MARGIN_BOT - 2 * CELL_PAD);
        }
    }
    after(d, 8);
}

/* ---- the block walk --------------------------------------------------------------------- */

static level *top_level(doc *d)
{
    return d->levels->nelts ? &APR_ARRAY_IDX(d->levels, d->levels->nelts - 1, level) : NULL;
}

static void push_level(doc *d, int kind, float indent)
{
    level *l = &APR_ARRAY_PUSH(d->levels, level);
    memset(l, 0, sizeof(*l));
    l->kind = kind;
    if (d->indent_depth < MAX_INDENT_DEPTH && indent > 0) {
        l->indent = indent;
        d->indent_depth++;
    }
    d->left += l->indent;
}

static void pop_level(doc *d)
{
    level *l = top_level(d);
    if (!l) {
        return;
    }
    d->left -= l->indent;
    if (l->indent > 0) {
        d->indent_depth--;
    }
    if (l->kind == C_QUOTE && l->indent > 0) {
        d->bars->nelts--;
    }
    d->levels->nelts--;
}

static int list_depth(doc *d)
{
    int i, n = 0;
    for (i = 0; i < d->levels->nelts; i++) {
        n += APR_ARRAY_IDX(d->levels, i, level).kind == C_LIST;
    }
    return n;
}

static void render_blocks(doc *d, cmark_node *root)
{
    cmark_iter *it = cmark_iter_new(root);
    cmark_event_type ev;

    while ((ev = cmark_iter_next(it)) != CMARK_EVENT_DONE) {
        cmark_node *n = cmark_iter_get_node(it);
        cmark_node_type t = cmark_node_get_type(n);
        level *l;

        if (ev == CMARK_EVENT_EXIT) {
            switch (t) {
            case CMARK_NODE_BLOCK_QUOTE:
                pop_level(d);
                after(d, PARA_GAP);
                break;
            case CMARK_NODE_LIST:
                pop_level(d);
                after(d, top_level(d) && top_level(d)->kind == C_ITEM
                         && cmark_node_get_list_tight(n) ? 1.5f : PARA_GAP);
                break;
            case CMARK_NODE_ITEM:
                if (d->mk_kind) {
                    /* an empty item still shows its marker */
                    line empty;
                    apr_array_header_t *one = apr_array_make(d->p, 1, sizeof(line));
                    memset(&empty, 0, sizeof(empty));
                    empty.size = SZ_BODY;
                    empty.h = SZ_BODY * LEAD_BODY;
                    APR_ARRAY_PUSH(one, line) = empty;
                    gap(d, 1.5f);
                    flow_lines(d, one, d->left, content_width(d), 0);
                }
                pop_level(d);
                break;
            case CMARK_NODE_FOOTNOTE_DEFINITION:
                pop_level(d);
                break;
            default:
                break;
            }
            continue;
        }
        switch (t) {
        case CMARK_NODE_DOCUMENT:
            break;
        case CMARK_NODE_BLOCK_QUOTE:
            gap(d, PARA_GAP);
            push_level(d, C_QUOTE, QUOTE_INDENT);
            if (top_level(d)->indent > 0) {
                APR_ARRAY_PUSH(d->bars, float) = d->left - QUOTE_INDENT + 1;
            }
            break;
        case CMARK_NODE_LIST:
            if (!d->levels->nelts || top_level(d)->kind != C_ITEM) {
                gap(d, PARA_GAP);
            }
            push_level(d, C_LIST, 0);
            l = top_level(d);
            l->ordered = cmark_node_get_list_type(n) == CMARK_ORDERED_LIST;
            l->next = cmark_node_get_list_start(n);
            l->delim_paren = cmark_node_get_list_delim(n) == CMARK_PAREN_DELIM;
            break;
        case CMARK_NODE_ITEM: {
            level *lst = top_level(d);
            int depth = list_depth(d);
            push_level(d, C_ITEM, LIST_INDENT);
            l = top_level(d);
            d->mk_x = d->left - (l->indent > 0 ? LIST_INDENT : 0);
            if (l->indent == 0) {
                d->mk_x = d->left - LIST_INDENT;   /* beyond the cap: markers overlap text edge */
                if (d->mk_x < MARGIN_X) {
                    d->mk_x = MARGIN_X;
                }
            }
            d->mk_depth = depth > 0 ? depth - 1 : 0;
            if (rc_pdf_is_type(n, "tasklist")) {
                d->mk_kind = 3;
                d->mk_checked = cmark_gfm_extensions_get_tasklist_item_checked(n);
            }
            else if (lst && lst->kind == C_LIST && lst->ordered) {
                d->mk_kind = 2;
                apr_snprintf(d->mk_text, sizeof(d->mk_text), "%d%c", lst->next,
                             lst->delim_paren ? ')' : '.');
                lst->next++;
            }
            else {
                d->mk_kind = 1;
            }
            break;
        }
        case CMARK_NODE_PARAGRAPH:
            render_paragraph(d, n);
            cmark_iter_reset(it, n, CMARK_EVENT_EXIT);
            break;
        case CMARK_NODE_HEADING:
            render_heading(d, n);
            cmark_iter_reset(it, n, CMARK_EVENT_EXIT);
            break;
        case CMARK_NODE_CODE_BLOCK:
            render_code_block(d, cmark_node_get_literal(n));
            break;
        case CMARK_NODE_HTML_BLOCK:
            render_html_block(d, cmark_node_get_literal(n));
            break;
        case CMARK_NODE_THEMATIC_BREAK:
            render_rule(d);
            break;
        case CMARK_NODE_FOOTNOTE_DEFINITION:
            gap(d, PARA_GAP);
            push_level(d, C_ITEM, LIST_INDENT);
            d->mk_kind = 2;
            d->mk_x = d->left - top_level(d)->indent;
            apr_snprintf(d->mk_text, sizeof(d->mk_text), "[%d]", ++d->nnotes);
            break;
        default:
            if (rc_pdf_is_type(n, "table")) {
                render_table(d, n);
                cmark_iter_reset(it, n, CMARK_EVENT_EXIT);
            }
            else if (cmark_node_get_type(n) & CMARK_NODE_TYPE_INLINE) {
                /* inline content of an unknown block: skip */
            }
            break;
        }
    }
    cmark_iter_free(it);
}

/* ---- document set-up and output ------------------------------------------------------------ */

/* PDF text strings (Title, Author): libharu's UTF-8 encoder writes them as
 * UTF-16BE with a BOM.  It handles the BMP only, so the rest becomes U+FFFD;
 * invalid UTF-8 and control characters are cleaned first. */
static void set_info(doc *d, HPDF_InfoType type, const char *v)
{
    const unsigned char *u = (const unsigned char *)v;
    apr_size_t n, i = 0, used, o = 0;
    char *w;

    if (!v || !*v) {
        return;
    }
    n = strlen(v);
    if (n > 1000) {
        n = 1000;
    }
    w = apr_palloc(d->p, n * 3 + 1);
    while (i < n) {
        apr_uint32_t c = rc_utf8_next(u + i, n - i, &used);
        i += used;
        if (c < 0x20 || (c >= 0x7F && c < 0xA0)) {
            c = ' ';
        }
        o += (apr_size_t)rc_utf8_put(c > 0xFFFF ? 0xFFFD : c, w + o);
    }
    w[o] = '\0';
    HPDF_SetCurrentEncoder(d->pdf, "UTF-8");
    HPDF_SetInfoAttr(d->pdf, type, w);
    if (!d->unicode) {
        HPDF_SetCurrentEncoder(d->pdf, "WinAnsiEncoding");
    }
}

static int doc_open(apr_pool_t *p, doc *d, int unicode, const rc_pdf_fonts *fonts,
                    const rc_pdf_meta *meta)
{
    memset(d, 0, sizeof(*d));
    d->p = d->keep = p;
    d->pdf = HPDF_New(on_error, d);
    if (!d->pdf) {
        return -1;
    }
    apr_pool_cleanup_register(p, d, free_pdf, apr_pool_cleanup_null);
    HPDF_SetCompressionMode(d->pdf, HPDF_COMP_ALL);
    d->pages = apr_array_make(p, 8, sizeof(HPDF_Page));
    d->levels = apr_array_make(p, 8, sizeof(level));
    d->bars = apr_array_make(p, 4, sizeof(float));
    d->notes = apr_hash_make(p);
    d->lead = LEAD_BODY;
    d->left = MARGIN_X;
    d->right = PAGE_W - MARGIN_X;
    if (rc_pdf_fonts_open(d, unicode, fonts) != 0) {
        return -1;
    }
    if (meta) {
        if (!d->unicode) {
            HPDF_UseUTFEncodings(d->pdf);
        }
        set_info(d, HPDF_INFO_TITLE, meta->title);
        set_info(d, HPDF_INFO_AUTHOR, meta->author);
        if (meta->created > 0) {
            apr_time_exp_t tm;
            HPDF_Date dt;
            apr_time_exp_gmt(&tm, meta->created);
            memset(&dt, 0, sizeof(dt));
            dt.year = tm.tm_year + 1900;
            dt.month = tm.tm_mon + 1;
            dt.day = tm.tm_mday;
            dt.hour = tm.tm_hour;
            dt.minutes = tm.tm_min;
            dt.seconds = tm.tm_sec > 59 ? 59 : tm.tm_sec;
            dt.ind = 'Z';
            HPDF_SetInfoDateAttr(d->pdf, HPDF_INFO_CREATION_DATE, dt);
        }
    }
    HPDF_SetInfoAttr(d->pdf, HPDF_INFO_CREATOR, "mod_ragchat");
    new_page(d);
    return d->err ? -1 : 0;
}

static void draw_footers(doc *d)
{
    int i, n = d->pages->nelts;
    char buf[64];

    for (i = 0; i < n; i++) {
        HPDF_Page pg = APR_ARRAY_IDX(d->pages, i, HPDF_Page);
        float w;
        apr_snprintf(buf, sizeof(buf), "Page %d of %d", i + 1, n);
        w = rc_pdf_text_units(d, F_REG, buf, (int)strlen(buf)) * SZ_FOOT / 1000.0f;
        HPDF_Page_BeginText(pg);
        HPDF_Page_SetFontAndSize(pg, d->f[F_REG].font, SZ_FOOT);
        HPDF_Page_SetRGBFill(pg, 0.45f, 0.45f, 0.48f);
        HPDF_Page_TextOut(pg, (PAGE_W - w) / 2, FOOTER_Y, buf);
        HPDF_Page_EndText(pg);
    }
}

static const char *error_text(apr_pool_t *p, const doc *d)
{
    return apr_psprintf(p, "libharu error 0x%04X (detail %u)", (unsigned)d->err,
                        (unsigned)d->detail);
}

static int doc_finish(doc *d, const char **out, apr_size_t *outlen, const char **err)
{
    HPDF_UINT32 size, got;
    char *buf;

    draw_footers(d);
    if (d->err || HPDF_SaveToStream(d->pdf) != HPDF_OK || d->err) {
        *err = error_text(d->p, d);
        goto fail;
    }
    size = HPDF_GetStreamSize(d->pdf);
    buf = apr_palloc(d->p, size + 1);
    got = size;
    HPDF_ResetStream(d->pdf);
    if (HPDF_ReadFromStream(d->pdf, (HPDF_BYTE *)buf, &got) > HPDF_STREAM_EOF
        || got != size) {
        if (got != size) {
            *err = d->err ? error_text(d->p, d) : "PDF stream read short";
            goto fail;
        }
    }
    HPDF_ResetError(d->pdf);
    *out = buf;
    *outlen = size;
    apr_pool_cleanup_run(d->p, d, free_pdf);
    return 0;
fail:
    apr_pool_cleanup_run(d->p, d, free_pdf);
    return -1;
}

static cmark_node *parse_md(apr_pool_t *p, const char *md, apr_size_t len)
{
    return rc_markdown_parse(p, md ? md : "", md ? len : 0);
}

int rc_pdf_from_markdown(apr_pool_t *p, const char *md, apr_size_t len,
                         const rc_pdf_fonts *fonts, const rc_pdf_meta *meta,
                         const char **out, apr_size_t *outlen, const char **err)
{
    doc d;
    cmark_node *root;

    *out = NULL;
    *outlen = 0;
    *err = NULL;
    root = parse_md(p, md, len);
    if (!root) {
        *err = "markdown could not be parsed";
        return -1;
    }
    if (doc_open(p, &d, rc_pdf_needs_unicode(md, md ? len : 0), fonts, meta) != 0) {
        *err = d.pdf ? error_text(p, &d) : "libharu could not start a document";
        if (d.pdf) {
            apr_pool_cleanup_run(p, &d, free_pdf);
        }
        return -1;
    }
    render_blocks(&d, root);
    return doc_finish(&d, out, outlen, err);
}

/* The label band above one turn: speaker in bold, timestamp in grey. */
static void turn_band(doc *d, const rc_pdf_turn *t)
{
    int user = t->role && strcmp(t->role, "user") == 0;
    builder b;
    apr_array_header_t *lines;
    const line *l;
    float h;
    const char *name = t->name && *t->name ? t->name : user ? "User" : "Assistant";

    rc_pdf_bb_init(&b, d, 0);
    rc_pdf_bb_text(&b, name, strlen(name), S_BOLD, SZ_BODY, NULL);
    if (t->timestamp && *t->timestamp) {
        rc_pdf_bb_text(&b, "  ", 2, S_GREY, SZ_BODY * 0.85f, NULL);
        rc_pdf_bb_text(&b, t->timestamp, strlen(t->timestamp), S_GREY, SZ_BODY * 0.85f, NULL);
    }
    rc_pdf_bb_close(&b);
    lines = rc_pdf_break_lines(d, (box *)b.boxes->elts, b.boxes->nelts, content_width(d) - 16,
                               SZ_BODY);
    l = &APR_ARRAY_IDX(lines, 0, line);
    h = l->h + 6;
    gap(d, 14);
    need(d, h + 2 * SZ_BODY * LEAD_BODY);
    if (user) {
        HPDF_Page_SetRGBFill(d->page, 0.89f, 0.93f, 0.99f);
    }
    else {
        HPDF_Page_SetRGBFill(d->page, 0.93f, 0.95f, 0.93f);
    }
    HPDF_Page_Rectangle(d->page, d->left, d->y - h, content_width(d), h);
    HPDF_Page_Fill(d->page);
    if (user) {
        HPDF_Page_SetRGBFill(d->page, 0.16f, 0.42f, 0.85f);
    }
    else {
        HPDF_Page_SetRGBFill(d->page, 0.2f, 0.6f, 0.35f);
    }
    HPDF_Page_Rectangle(d->page, d->left, d->y - h, 3, h);
    HPDF_Page_Fill(d->page);
    rc_pdf_draw_items(d, l, d->left + 10, rc_pdf_baseline_in(l, d->y - 3));
    strip(d, h);
    after(d, 6);
}

int rc_pdf_transcript(apr_pool_t *p, const rc_pdf_turn *turns, int nturns,
                      const rc_pdf_fonts *fonts, const rc_pdf_meta *meta,
                      const char **out, apr_size_t *outlen, const char **err)
{
    doc d;
    int i, uni = 0;
    const char *title = meta && meta->title && *meta->title ? meta->title : "Conversation";

    *out = NULL;
    *outlen = 0;
    *err = NULL;
    uni = rc_pdf_needs_unicode(title, strlen(title));
    for (i = 0; i < nturns && !uni; i++) {
        const rc_pdf_turn *t = &turns[i];
        uni = (t->name && rc_pdf_needs_unicode(t->name, strlen(t->name)))
           || (t->timestamp && rc_pdf_needs_unicode(t->timestamp, strlen(t->timestamp)))
           || (t->markdown && rc_pdf_needs_unicode(t->markdown, strlen(t->markdown)));
    }
    if (doc_open(p, &d, uni, fonts, meta) != 0) {
        *err = d.pdf ? error_text(p, &d) : "libharu could not start a document";
        if (d.pdf) {
            apr_pool_cleanup_run(p, &d, free_pdf);
        }
        return -1;
    }
    {
        builder b;
        rc_pdf_bb_init(&b, &d, 0);
        rc_pdf_bb_text(&b, title, strlen(title), S_BOLD, heading_size[0] + 2, NULL);
        rc_pdf_bb_close(&b);
        d.lead = LEAD_HEAD;
        flow_lines(&d, rc_pdf_break_lines(&d, (box *)b.boxes->elts, b.boxes->nelts,
                                          content_width(&d), heading_size[0] + 2),
                   d.left, content_width(&d), 0);
        d.lead = LEAD_BODY;
        if (meta && ((meta->author && *meta->author) || meta->created > 0)) {
            char date[APR_RFC822_DATE_LEN + 8] = "";
            const char *sub;
            if (meta->created > 0) {
                apr_time_exp_t tm;
                apr_time_exp_gmt(&tm, meta->created);
                apr_snprintf(date, sizeof(date), "%04d-%02d-%02d %02d:%02d UTC",
                             tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min);
            }
            sub = apr_psprintf(p, "%s%s%s%d message%s", meta->author ? meta->author : "",
                               meta->author && *meta->author ? "  \xC2\xB7  " : "",
                               *date ? apr_pstrcat(p, date, "  \xC2\xB7  ", NULL) : "",
                               nturns, nturns == 1 ? "" : "s");
            rc_pdf_bb_init(&b, &d, 0);
            rc_pdf_bb_text(&b, sub, strlen(sub), S_GREY, SZ_BODY * 0.9f, NULL);
            rc_pdf_bb_close(&b);
            flow_lines(&d, rc_pdf_break_lines(&d, (box *)b.boxes->elts, b.boxes->nelts,
                                              content_width(&d), SZ_BODY),
                       d.left, content_width(&d), 0);
        }
        HPDF_Page_SetRGBStroke(d.page, 0.8f, 0.8f, 0.82f);
        HPDF_Page_SetLineWidth(d.page, 0.8f);
        HPDF_Page_MoveTo(d.page, d.left, d.y - 3);
        HPDF_Page_LineTo(d.page, d.right, d.y - 3);
        HPDF_Page_Stroke(d.page);
        strip(&d, 4);
        after(&d, 6);
    }
    for (i = 0; i < nturns; i++) {
        const rc_pdf_turn *t = &turns[i];
        apr_pool_t *tp;
        apr_pool_t *dp = d.p;
        cmark_node *root;

        turn_band(&d, t);
        /* One turn's tree and layout scratch live in a subpool. */
        if (apr_pool_create(&tp, p) != APR_SUCCESS) {
            continue;
        }
        d.p = tp;
        d.tmp = NULL;
        d.tmpn = 0;
        root = parse_md(tp, t->markdown, t->markdown ? strlen(t->markdown) : 0);
        if (root) {
            render_blocks(&d, root);
        }
        while (d.levels->nelts) {
            pop_level(&d);
        }
        d.mk_kind = 0;
        d.p = dp;
        d.tmp = NULL;
        d.tmpn = 0;
        apr_pool_destroy(tp);
    }
    return doc_finish(&d, out, outlen, err);
}
