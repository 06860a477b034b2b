/* Drawing a laid-out line on the page: inline code backgrounds, the text
 * runs, strike-through, link underlines and annotations; and the marker of
 * a list item (bullet, number, task box) beside its first line. */
#include "pdf_internal.h"

#include <string.h>

static void set_fill_for(doc *d, int style)
{
    if (style & S_LINK) {
        HPDF_Page_SetRGBFill(d->page, 0.02f, 0.33f, 0.72f);
    }
    else if (style & S_GREY) {
        HPDF_Page_SetRGBFill(d->page, 0.42f, 0.42f, 0.45f);
    }
    else if (style & S_CODE) {
        HPDF_Page_SetRGBFill(d->page, 0.16f, 0.16f, 0.18f);
    }
    else {
        HPDF_Page_SetRGBFill(d->page, 0.1f, 0.1f, 0.12f);
    }
}

/* Inline code backgrounds, consecutive code items merged. */
static void draw_code_backgrounds(HPDF_Page pg, const line *l, float x0, float baseline)
{
    int i, j;

    for (i = 0; i < l->n; i = j) {
        if (!(l->it[i].style & S_CODE)) {
            j = i + 1;
            continue;
        }
        for (j = i + 1; j < l->n && (l->it[j].style & S_CODE); j++) {
        }
        HPDF_Page_SetRGBFill(pg, 0.94f, 0.94f, 0.95f);
        /* the padding overhangs the neighbours: as layout width it would
         * read as a space to text extraction */
        HPDF_Page_Rectangle(pg, x0 + l->it[i].x - CODE_PAD, baseline - l->it[i].size * 0.28f,
                            l->it[j - 1].x + l->it[j - 1].w - l->it[i].x + 2 * CODE_PAD,
                            l->it[i].size * 1.18f);
        HPDF_Page_Fill(pg);
    }
}

/* The text of the items, in one text object; font and colour set only when
 * they change. */
static void draw_text(doc *d, const line *l, float x0, float baseline)
{
    HPDF_Page pg = d->page;
    int i, face = -1, style = -1;
    float size = 0;

    HPDF_Page_BeginText(pg);
    for (i = 0; i < l->n; i++) {
        const item *it = &l->it[i];
        if (!d->f[it->face].ok || !rc_pdf_face_font(d, it->face)) {
            continue;
        }
        if (it->face != face || it->size != size) {
            HPDF_Page_SetFontAndSize(pg, d->f[it->face].font, it->size);
            face = it->face;
            size = it->size;
        }
        if ((it->style & (S_LINK | S_GREY | S_CODE)) != style) {
            style = it->style & (S_LINK | S_GREY | S_CODE);
            set_fill_for(d, style);
        }
        rc_pdf_show(d, it->face, it->size, x0 + it->x, baseline, it->s, it->n, it->level & 1);
    }
    HPDF_Page_EndText(pg);
}

static void draw_strike(HPDF_Page pg, const item *it, float x0, float baseline)
{
    HPDF_Page_SetRGBStroke(pg, 0.2f, 0.2f, 0.2f);
    HPDF_Page_SetLineWidth(pg, it->size * 0.06f);
    HPDF_Page_MoveTo(pg, x0 + it->x, baseline + it->size * 0.3f);
    HPDF_Page_LineTo(pg, x0 + it->x + it->w, baseline + it->size * 0.3f);
    HPDF_Page_Stroke(pg);
}

/* Underlines the link starting at item i (it runs over the items with the
 * same url) and makes it clickable.  Returns the item after the link. */
static int draw_link(HPDF_Page pg, const line *l, int i, float x0, float baseline)
{
    const item *it = &l->it[i];
    int j;
    float x1;
    HPDF_Rect r;
    HPDF_Annotation a;

    for (j = i + 1; j < l->n && l->it[j].url == it->url; j++) {
    }
    x1 = x0 + l->it[j - 1].x + l->it[j - 1].w;
    HPDF_Page_SetRGBStroke(pg, 0.02f, 0.33f, 0.72f);
    HPDF_Page_SetLineWidth(pg, 0.5f);
    HPDF_Page_MoveTo(pg, x0 + it->x, baseline - 1.3f);
    HPDF_Page_LineTo(pg, x1, baseline - 1.3f);
    HPDF_Page_Stroke(pg);
    r.left = x0 + it->x;
    r.right = x1;
    r.bottom = baseline - it->size * 0.3f;
    r.top = baseline + it->size * 0.9f;
    a = HPDF_Page_CreateURILinkAnnot(pg, r, it->url);
    if (a) {
        HPDF_LinkAnnot_SetBorderStyle(a, 0, 0, 0);
    }
    return j;
}

/* Draws one line's items with the baseline at `baseline`, left edge x0. */
void rc_pdf_draw_items(doc *d, const line *l, float x0, float baseline)
{
    int i, j;

    draw_code_backgrounds(d->page, l, x0, baseline);
    if (l->n) {
        draw_text(d, l, x0, baseline);
    }
    for (i = 0; i < l->n; i = j) {
        const item *it = &l->it[i];
        j = i + 1;
        if (it->style & S_STRIKE) {
            draw_strike(d->page, it, x0, baseline);
        }
        if (it->url) {
            j = draw_link(d->page, l, i, x0, baseline);
        }
    }
}


float rc_pdf_baseline_in(const line *l, float top)
{
    return top - (l->h - l->size) / 2 - l->size * 0.8f;
}

/* Bullets change shape with depth: disc, circle, square. */
static void draw_bullet(HPDF_Page pg, float x, float cy, float size, int depth)
{
    float r = size * 0.16f;
    int shape = depth % 3;

    HPDF_Page_SetRGBFill(pg, 0.2f, 0.2f, 0.22f);
    HPDF_Page_SetRGBStroke(pg, 0.2f, 0.2f, 0.22f);
    HPDF_Page_SetLineWidth(pg, 0.7f);
    if (shape == 0) {
        HPDF_Page_Circle(pg, x + LIST_INDENT - 9, cy, r);
        HPDF_Page_Fill(pg);
    }
    else if (shape == 1) {
        HPDF_Page_Circle(pg, x + LIST_INDENT - 9, cy, r);
        HPDF_Page_Stroke(pg);
    }
    else {
        HPDF_Page_Rectangle(pg, x + LIST_INDENT - 9 - r, cy - r, 2 * r, 2 * r);
        HPDF_Page_Fill(pg);
    }
}

/* "3." or "[2]", right-aligned before the text (left-aligned after it,
 * beside a right-to-left line). */
static void draw_number(doc *d, float x, float baseline, float size, int rtl)
{
    HPDF_Page pg = d->page;
    int n = (int)strlen(d->mk_text);
    float w = rc_pdf_text_units(d, F_REG, d->mk_text, n) * size / 1000.0f;

    HPDF_Page_BeginText(pg);
    HPDF_Page_SetFontAndSize(pg, rc_pdf_face_font(d, F_REG), size);
    HPDF_Page_SetRGBFill(pg, 0.1f, 0.1f, 0.12f);
    rc_pdf_show(d, F_REG, size, rtl ? PAGE_W - x - LIST_INDENT + 4 : x + LIST_INDENT - 4 - w,
                baseline, d->mk_text, n, 0);
    HPDF_Page_EndText(pg);
}

/* A task list box, ticked when checked. */
static void draw_task(HPDF_Page pg, float x, float baseline, float size, int checked)
{
    float s = size * 0.72f, bx = x + LIST_INDENT - 4 - s, by = baseline - size * 0.06f;

    HPDF_Page_SetLineWidth(pg, 0.8f);
    HPDF_Page_SetRGBStroke(pg, 0.35f, 0.35f, 0.4f);
    if (checked) {
        HPDF_Page_SetRGBFill(pg, 0.16f, 0.45f, 0.85f);
        HPDF_Page_Rectangle(pg, bx, by, s, s);
        HPDF_Page_Fill(pg);
        HPDF_Page_SetRGBStroke(pg, 1, 1, 1);
        HPDF_Page_SetLineWidth(pg, 1.3f);
        HPDF_Page_MoveTo(pg, bx + s * 0.2f, by + s * 0.5f);
        HPDF_Page_LineTo(pg, bx + s * 0.42f, by + s * 0.25f);
        HPDF_Page_LineTo(pg, bx + s * 0.8f, by + s * 0.75f);
        HPDF_Page_Stroke(pg);
    }
    else {
        HPDF_Page_Rectangle(pg, bx, by, s, s);
        HPDF_Page_Stroke(pg);
    }
}

/* Beside a right-to-left line the marker is mirrored: on the right, as far
 * in from the right margin as it would be from the left. */
void rc_pdf_draw_marker(doc *d, float baseline, float size, int rtl)
{
    /* x of a marker whose box is [x, x + LIST_INDENT] on the left */
    float x = rtl ? PAGE_W - d->mk_x - LIST_INDENT : d->mk_x;

    if (d->mk_kind == MK_BULLET) {
        draw_bullet(d->page, rtl ? x + 2 * (9 - LIST_INDENT / 2) : x,
                    baseline + size * 0.33f, size, d->mk_depth);
    }
    else if (d->mk_kind == MK_NUMBER && d->f[F_REG].ok) {
        draw_number(d, d->mk_x, baseline, size, rtl);
    }
    else if (d->mk_kind == MK_TASK) {
        draw_task(d->page, rtl ? x + 2 * (4 - LIST_INDENT / 2) + size * 0.72f : x,
                  baseline, size, d->mk_checked);
    }
    d->mk_kind = MK_NONE;
}
