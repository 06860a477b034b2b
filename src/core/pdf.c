/* PDF export: a small layout engine over the cmark-gfm tree, drawn with libharu.
 *
 * Text that fits WinAnsi (plus the math and arrow glyphs of the Symbol font)
 * is set in the standard Helvetica/Courier fonts, which keeps a short answer's
 * PDF to a few kilobytes: that path neither shapes nor embeds.  Anything else
 * switches the document to TrueType fonts (DejaVu, then a fallback chain by
 * coverage), every run shaped by HarfBuzz and drawn by glyph id through CID
 * fonts of our own, embedded as subsets; right-to-left text is laid out with
 * FriBidi.  libharu's own wrapping (TextRect) is ASCII-only, so lines are
 * broken here: words, then characters for words wider than the line.  No
 * global state: everything hangs off one doc.
 *
 * This file: the document (set-up, metadata, footers, output) and the public
 * entry points.  The parts, sharing pdf_internal.h: pdf_font.c (faces, widths),
 * pdf_chain.c (fallback fonts), pdf_shape.c (HarfBuzz), pdf_cid.c (CID fonts,
 * ToUnicode, subsets), pdf_show.c (drawing text), pdf_bidi.c (FriBidi),
 * pdf_line.c (boxes, line breaking), pdf_inline.c (inline content),
 * pdf_draw.c (drawing a line, list markers), pdf_flow.c (pages, vertical flow,
 * blocks), pdf_table.c (tables), pdf_text.c (encodings, TrueType coverage). */
#include "pdf_internal.h"
#include "markdown.h"

#include <apr_strings.h>
#include <string.h>

/* ---- libharu plumbing ------------------------------------------------------------------ */

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

static void set_creation_date(doc *d, apr_time_t created)
{
    apr_time_exp_t tm;
    HPDF_Date dt;

    apr_time_exp_gmt(&tm, created);
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

static void set_meta(doc *d, const rc_pdf_meta *meta)
{
    HPDF_UseUTFEncodings(d->pdf);
    set_info(d, HPDF_INFO_TITLE, meta->title);
    set_info(d, HPDF_INFO_AUTHOR, meta->author);
    if (meta->created > 0) {
        set_creation_date(d, meta->created);
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
        set_meta(d, meta);
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
        d->page = pg;
        HPDF_Page_BeginText(pg);
        HPDF_Page_SetFontAndSize(pg, rc_pdf_face_font(d, F_REG), SZ_FOOT);
        HPDF_Page_SetRGBFill(pg, 0.45f, 0.45f, 0.48f);
        rc_pdf_show(d, F_REG, SZ_FOOT, (PAGE_W - w) / 2, FOOTER_Y, buf, (int)strlen(buf), 0);
        HPDF_Page_EndText(pg);
    }
}

static const char *error_text(apr_pool_t *p, const doc *d)
{
    return apr_psprintf(p, "libharu error 0x%04X (detail %u)", (unsigned)d->err,
                        (unsigned)d->detail);
}

/* After doc_open failed: the reason in *err, the libharu document freed. */
static int open_failed(apr_pool_t *p, doc *d, const char **err)
{
    *err = d->pdf ? error_text(p, d) : "libharu could not start a document";
    if (d->pdf) {
        apr_pool_cleanup_run(p, d, free_pdf);
    }
    return -1;
}

static int doc_finish(doc *d, const char **out, apr_size_t *outlen, const char **err)
{
    HPDF_UINT32 size, got;
    char *buf;

    draw_footers(d);
    if (rc_pdf_cid_finish(d) != 0 && !d->err) {
        *err = "the fonts could not be subset";
        goto fail;
    }
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
        return open_failed(p, &d, err);
    }
    rc_pdf_render_blocks(&d, root);
    return doc_finish(&d, out, outlen, err);
}

/* ---- transcripts ------------------------------------------------------------------------- */

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
    lines = rc_pdf_bb_lines(&b, rc_pdf_content_width(d) - 16, SZ_BODY);
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

/* Does any text of the transcript need more than WinAnsi + Symbol? */
static int transcript_unicode(const char *title, const rc_pdf_turn *turns, int nturns)
{
    int i, uni = rc_pdf_needs_unicode(title, strlen(title));

    for (i = 0; i < nturns && !uni; i++) {
        const rc_pdf_turn *t = &turns[i];
        uni = (t->name && rc_pdf_needs_unicode(t->name, strlen(t->name)))
           || (t->timestamp && rc_pdf_needs_unicode(t->timestamp, strlen(t->timestamp)))
           || (t->markdown && rc_pdf_needs_unicode(t->markdown, strlen(t->markdown)));
    }
    return uni;
}

/* One string in one style, broken across the text column. */
static void flow_string(doc *d, const char *s, int style, float size, float base)
{
    builder b;

    rc_pdf_bb_init(&b, d, 0);
    rc_pdf_bb_text(&b, s, strlen(s), style, size, NULL);
    rc_pdf_flow_text(d, rc_pdf_bb_lines(&b, rc_pdf_content_width(d), base));
}

/* "author  ·  date  ·  n messages" under the title; NULL with neither author
 * nor date. */
static const char *byline(apr_pool_t *p, const rc_pdf_meta *meta, int nturns)
{
    char date[APR_RFC822_DATE_LEN + 8] = "";

    if (!meta || !((meta->author && *meta->author) || meta->created > 0)) {
        return NULL;
    }
    if (meta->created > 0) {
        apr_time_exp_t tm;
        apr_time_exp_gmt(&tm, meta->created);
        apr_snprintf(date, sizeof(date), "%04d-%02d-%02d %02d:%02d UTC",
                     tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min);
    }
    return apr_psprintf(p, "%s%s%s%d message%s", meta->author ? meta->author : "",
                        meta->author && *meta->author ? "  \xC2\xB7  " : "",
                        *date ? apr_pstrcat(p, date, "  \xC2\xB7  ", NULL) : "",
                        nturns, nturns == 1 ? "" : "s");
}

/* The title, the byline and a rule above the first turn. */
static void transcript_heading(doc *d, const char *title, const char *by)
{
    d->lead = LEAD_HEAD;
    flow_string(d, title, S_BOLD, SZ_TITLE, SZ_TITLE);
    d->lead = LEAD_BODY;
    if (by) {
        flow_string(d, by, S_GREY, SZ_BODY * 0.9f, SZ_BODY);
    }
    rc_pdf_hline(d, 3, 0.8f, 0.8f, 4);
    rc_pdf_after(d, 6);
}

/* One turn: its band, then its markdown, whose tree and layout scratch live
 * in a subpool of p. */
static void transcript_turn(doc *d, apr_pool_t *p, const rc_pdf_turn *t)
{
    apr_pool_t *tp, *dp = d->p;
    cmark_node *root;

    turn_band(d, t);
    if (apr_pool_create(&tp, p) != APR_SUCCESS) {
        return;
    }
    d->p = tp;
    d->tmp = NULL;
    d->tmpn = 0;
    root = parse_md(tp, t->markdown, t->markdown ? strlen(t->markdown) : 0);
    if (root) {
        rc_pdf_render_blocks(d, root);
    }
    rc_pdf_close_blocks(d);
    d->p = dp;
    d->tmp = NULL;
    d->tmpn = 0;
    apr_pool_destroy(tp);
}

int rc_pdf_transcript(apr_pool_t *p, const rc_pdf_turn *turns, int nturns,
                      const rc_pdf_fonts *fonts, const rc_pdf_meta *meta,
                      const char **out, apr_size_t *outlen, const char **err)
{
    doc d;
    int i;
    const char *title = meta && meta->title && *meta->title ? meta->title : "Conversation";

    *out = NULL;
    *outlen = 0;
    *err = NULL;
    if (doc_open(p, &d, transcript_unicode(title, turns, nturns), fonts, meta) != 0) {
        return open_failed(p, &d, err);
    }
    transcript_heading(&d, title, byline(p, meta, nturns));
    for (i = 0; i < nturns; i++) {
        transcript_turn(&d, p, &turns[i]);
    }
    return doc_finish(&d, out, outlen, err);
}
