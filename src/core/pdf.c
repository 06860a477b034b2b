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
    rc_pdf_new_page(d);
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
    rc_pdf_render_blocks(&d, root);
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
    lines = rc_pdf_break_lines(d, (box *)b.boxes->elts, b.boxes->nelts,
                               rc_pdf_content_width(d) - 16, SZ_BODY);
    l = &APR_ARRAY_IDX(lines, 0, line);
    h = l->h + 6;
    rc_pdf_gap(d, 14);
    rc_pdf_need(d, h + 2 * SZ_BODY * LEAD_BODY);
    if (user) {
        HPDF_Page_SetRGBFill(d->page, 0.89f, 0.93f, 0.99f);
    }
    else {
        HPDF_Page_SetRGBFill(d->page, 0.93f, 0.95f, 0.93f);
    }
    HPDF_Page_Rectangle(d->page, d->left, d->y - h, rc_pdf_content_width(d), h);
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
    rc_pdf_strip(d, h);
    rc_pdf_after(d, 6);
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
        rc_pdf_bb_text(&b, title, strlen(title), S_BOLD, SZ_TITLE, NULL);
        rc_pdf_bb_close(&b);
        d.lead = LEAD_HEAD;
        rc_pdf_flow_lines(&d, rc_pdf_break_lines(&d, (box *)b.boxes->elts, b.boxes->nelts,
                                                 rc_pdf_content_width(&d), SZ_TITLE),
                          d.left, rc_pdf_content_width(&d), 0);
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
            rc_pdf_flow_lines(&d, rc_pdf_break_lines(&d, (box *)b.boxes->elts, b.boxes->nelts,
                                                     rc_pdf_content_width(&d), SZ_BODY),
                              d.left, rc_pdf_content_width(&d), 0);
        }
        HPDF_Page_SetRGBStroke(d.page, 0.8f, 0.8f, 0.82f);
        HPDF_Page_SetLineWidth(d.page, 0.8f);
        HPDF_Page_MoveTo(d.page, d.left, d.y - 3);
        HPDF_Page_LineTo(d.page, d.right, d.y - 3);
        HPDF_Page_Stroke(d.page);
        rc_pdf_strip(&d, 4);
        rc_pdf_after(&d, 6);
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
            rc_pdf_render_blocks(&d, root);
        }
        while (d.levels->nelts) {
            rc_pdf_pop_level(&d);
        }
        d.mk_kind = 0;
        d.p = dp;
        d.tmp = NULL;
        d.tmpn = 0;
        apr_pool_destroy(tp);
    }
    return doc_finish(&d, out, outlen, err);
}
