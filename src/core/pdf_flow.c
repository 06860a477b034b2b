/* The vertical flow of the PDF engine: pages, the collapsed space between
 * blocks, lines flowed across pages; the blocks (headings, paragraphs, code,
 * raw HTML, rules) and the walk over the cmark-gfm tree with its open
 * quotes, lists and items. */
#include "pdf_internal.h"

#include <apr_strings.h>
#include <cmark-gfm-core-extensions.h>
#include <string.h>

static const float heading_size[6] = { SZ_H1, 14.0f, 12.5f, 11.5f, 10.5f, 10.5f };

/* ---- pages and vertical flow ---------------------------------------------------- */

void rc_pdf_new_page(doc *d)
{
    d->page = HPDF_AddPage(d->pdf);
    HPDF_Page_SetSize(d->page, HPDF_PAGE_SIZE_A4, HPDF_PAGE_PORTRAIT);
    APR_ARRAY_PUSH(d->pages, HPDF_Page) = d->page;
    d->y = TOP_Y;
}

int rc_pdf_at_top(const doc *d)
{
    return d->y >= TOP_Y - 0.01f;
}

float rc_pdf_content_width(const doc *d)
{
    return d->right - d->left;
}

/* Moves down h points, drawing the bars of the open block quotes beside the strip. */
void rc_pdf_strip(doc *d, float h)
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
void rc_pdf_need(doc *d, float h)
{
    if (d->y - h < MARGIN_BOT && !rc_pdf_at_top(d)) {
        rc_pdf_new_page(d);
    }
}

/* Pays the collapsed space between blocks (never at the top of a page). */
void rc_pdf_gap(doc *d, float before)
{
    float h = d->pend > before ? d->pend : before;
    d->pend = 0;
    if (rc_pdf_at_top(d) || h <= 0) {
        return;
    }
    if (d->y - h < MARGIN_BOT) {
        rc_pdf_new_page(d);
        return;
    }
    rc_pdf_strip(d, h);
}

void rc_pdf_after(doc *d, float h)
{
    if (h > d->pend) {
        d->pend = h;
    }
}

void rc_pdf_hline(doc *d, float below, float grey, float width, float room)
{
    HPDF_Page_SetRGBStroke(d->page, grey, grey, grey + 0.02f);
    HPDF_Page_SetLineWidth(d->page, width);
    HPDF_Page_MoveTo(d->page, d->left, d->y - below);
    HPDF_Page_LineTo(d->page, d->right, d->y - below);
    HPDF_Page_Stroke(d->page);
    rc_pdf_strip(d, room);
}

/* The grey background of code blocks. */
static void pre_band(doc *d, float x, float y, float w, float h)
{
    HPDF_Page_SetRGBFill(d->page, 0.957f, 0.957f, 0.957f);
    HPDF_Page_Rectangle(d->page, x, y, w, h);
    HPDF_Page_Fill(d->page);
}

/* Flows lines at the current position: each line fits whole on its page.
 * bg: grey band behind the lines (code blocks, always left-to-right). */
void rc_pdf_flow_lines(doc *d, apr_array_header_t *lines, float x0, float width, int bg)
{
    int i;
    for (i = 0; i < lines->nelts; i++) {
        const line *l = &APR_ARRAY_IDX(lines, i, line);
        float base;
        if (d->y - l->h < MARGIN_BOT && !rc_pdf_at_top(d)) {
            rc_pdf_new_page(d);
            if (bg) {
                pre_band(d, x0 - PRE_PAD, d->y - PRE_PAD / 2, width + 2 * PRE_PAD, PRE_PAD / 2);
            }
        }
        if (bg) {
            pre_band(d, x0 - PRE_PAD, d->y - l->h, width + 2 * PRE_PAD, l->h);
        }
        base = rc_pdf_baseline_in(l, d->y);
        if (d->mk_kind) {
            rc_pdf_draw_marker(d, base, l->size, l->rtl);
        }
        /* right-to-left: right-aligned, the indentation mirrored */
        rc_pdf_draw_items(d, l, l->rtl ? PAGE_W - x0 - l->w : x0, base);
        rc_pdf_strip(d, l->h);
    }
}

void rc_pdf_flow_text(doc *d, apr_array_header_t *lines)
{
    rc_pdf_flow_lines(d, lines, d->left, rc_pdf_content_width(d), 0);
}

/* ---- blocks ------------------------------------------------------------------------- */

static void render_inline_block(doc *d, cmark_node *n, int style, float size, float lead)
{
    builder b;
    apr_array_header_t *lines;

    rc_pdf_bb_init(&b, d, 0);
    rc_pdf_collect_inlines(&b, n, style, size);
    d->lead = lead;
    lines = rc_pdf_bb_lines(&b, rc_pdf_content_width(d), size);
    d->lead = LEAD_BODY;
    rc_pdf_flow_text(d, lines);
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
    rc_pdf_gap(d, tight ? 1.5f : PARA_GAP);
    render_inline_block(d, n, 0, SZ_BODY, LEAD_BODY);
    rc_pdf_after(d, tight ? 1.5f : PARA_GAP);
}

static void render_heading(doc *d, cmark_node *n)
{
    int lvl = cmark_node_get_heading_level(n);
    float size = heading_size[(lvl < 1 ? 1 : lvl > 6 ? 6 : lvl) - 1];

    rc_pdf_gap(d, lvl <= 2 ? 12 : 9);
    rc_pdf_need(d, size * LEAD_HEAD + 3 * SZ_BODY * LEAD_BODY);
    render_inline_block(d, n, S_BOLD | (lvl == 6 ? S_GREY : 0), size, LEAD_HEAD);
    if (lvl <= 2) {
        rc_pdf_hline(d, 1.5f, 0.85f, 0.6f, 2);
    }
    rc_pdf_after(d, 4);
}

/* One source line [s, end) of a code block as boxes, tabs expanded to the
 * next multiple of 4 columns. */
static void code_line_boxes(builder *b, const char *s, const char *end)
{
    int col = 0;
    const char *q;

    for (q = s; q < end; q++) {
        if (*q == '\t') {
            int sp = 4 - col % 4;
            rc_pdf_bb_text(b, "    ", (apr_size_t)sp, S_CODE, SZ_CODE, NULL);
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
            rc_pdf_bb_text(b, q, (apr_size_t)(r - q), S_CODE, SZ_CODE, NULL);
            q = r - 1;
        }
    }
}

/* The lines of a code block: each source line broken to width on its own. */
static apr_array_header_t *code_lines(doc *d, const char *s, float width)
{
    apr_array_header_t *all = apr_array_make(d->p, 16, sizeof(line));
    size_t len = strlen(s);
    const char *e;
    int i;

    while (len && s[len - 1] == '\n') {
        len--;
    }
    d->lead = LEAD_CODE;
    for (e = s; e <= s + len;) {
        const char *nl = memchr(e, '\n', (size_t)(s + len - e));
        const char *end = nl ? nl : s + len;
        apr_array_header_t *ls;
        builder b;

        rc_pdf_bb_init(&b, d, 1);
        code_line_boxes(&b, e, end);
        ls = rc_pdf_bb_lines(&b, width, SZ_CODE);
        for (i = 0; i < ls->nelts; i++) {
            APR_ARRAY_PUSH(all, line) = APR_ARRAY_IDX(ls, i, line);
        }
        e = end + 1;
    }
    d->lead = LEAD_BODY;
    return all;
}

/* The band's padding above or below a code block's lines. */
static void pre_pad(doc *d, float width)
{
    pre_band(d, d->left, d->y - PRE_PAD, width + 2 * PRE_PAD, PRE_PAD);
    rc_pdf_strip(d, PRE_PAD);
}

static void render_code_block(doc *d, const char *lit)
{
    float width = rc_pdf_content_width(d) - 2 * PRE_PAD;
    apr_array_header_t *lines = code_lines(d, lit ? lit : "", width);

    rc_pdf_gap(d, 6);
    rc_pdf_need(d, SZ_CODE * LEAD_CODE + 2 * PRE_PAD);
    pre_pad(d, width);
    rc_pdf_flow_lines(d, lines, d->left + PRE_PAD, width, 1);
    if (d->y - PRE_PAD >= MARGIN_BOT - PRE_PAD) {
        pre_pad(d, width);
    }
    rc_pdf_after(d, 6);
}

/* Raw HTML is never interpreted: its text (tags stripped) is shown plainly. */
static void render_html_block(doc *d, const char *lit)
{
    builder b;
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
    rc_pdf_gap(d, PARA_GAP);
    rc_pdf_flow_text(d, rc_pdf_bb_lines(&b, rc_pdf_content_width(d), SZ_BODY));
    rc_pdf_after(d, PARA_GAP);
}

static void render_rule(doc *d)
{
    rc_pdf_gap(d, 8);
    rc_pdf_need(d, 2);
    rc_pdf_hline(d, 1, 0.8f, 0.8f, 2);
    rc_pdf_after(d, 8);
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

void rc_pdf_close_blocks(doc *d)
{
    while (d->levels->nelts) {
        pop_level(d);
    }
    d->mk_kind = MK_NONE;
}

static int list_depth(doc *d)
{
    int i, n = 0;
    for (i = 0; i < d->levels->nelts; i++) {
        n += APR_ARRAY_IDX(d->levels, i, level).kind == C_LIST;
    }
    return n;
}

/* An item's marker waits in d->mk_* for the item's first line. */
static void set_marker(doc *d, cmark_node *n, level *lst, int depth)
{
    d->mk_depth = depth > 0 ? depth - 1 : 0;
    if (rc_pdf_is_type(n, "tasklist")) {
        d->mk_kind = MK_TASK;
        d->mk_checked = cmark_gfm_extensions_get_tasklist_item_checked(n);
    }
    else if (lst && lst->kind == C_LIST && lst->ordered) {
        d->mk_kind = MK_NUMBER;
        apr_snprintf(d->mk_text, sizeof(d->mk_text), "%d%c", lst->next,
                     lst->delim_paren ? ')' : '.');
        lst->next++;
    }
    else {
        d->mk_kind = MK_BULLET;
    }
}

static void open_quote(doc *d)
{
    rc_pdf_gap(d, PARA_GAP);
    push_level(d, C_QUOTE, QUOTE_INDENT);
    if (top_level(d)->indent > 0) {
        APR_ARRAY_PUSH(d->bars, float) = d->left - QUOTE_INDENT + 1;
    }
}

static void open_list(doc *d, cmark_node *n)
{
    level *l;

    if (!d->levels->nelts || top_level(d)->kind != C_ITEM) {
        rc_pdf_gap(d, PARA_GAP);
    }
    push_level(d, C_LIST, 0);
    l = top_level(d);
    l->ordered = cmark_node_get_list_type(n) == CMARK_ORDERED_LIST;
    l->next = cmark_node_get_list_start(n);
    l->delim_paren = cmark_node_get_list_delim(n) == CMARK_PAREN_DELIM;
}

static void open_item(doc *d, cmark_node *n)
{
    level *lst = top_level(d), *l;
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
    set_marker(d, n, lst, depth);
}

/* A footnote definition is set like a list item marked "[n]". */
static void open_footnote(doc *d)
{
    rc_pdf_gap(d, PARA_GAP);
    push_level(d, C_ITEM, LIST_INDENT);
    d->mk_kind = MK_NUMBER;
    d->mk_x = d->left - top_level(d)->indent;
    apr_snprintf(d->mk_text, sizeof(d->mk_text), "[%d]", ++d->nnotes);
}

/* An empty item still shows its marker, on an empty line. */
static void close_item(doc *d)
{
    if (d->mk_kind) {
        line empty;
        apr_array_header_t *one = apr_array_make(d->p, 1, sizeof(line));
        memset(&empty, 0, sizeof(empty));
        empty.size = SZ_BODY;
        empty.h = SZ_BODY * LEAD_BODY;
        APR_ARRAY_PUSH(one, line) = empty;
        rc_pdf_gap(d, 1.5f);
        rc_pdf_flow_text(d, one);
    }
    pop_level(d);
}

/* Leaving a container block. */
static void leave_block(doc *d, cmark_node *n)
{
    switch (cmark_node_get_type(n)) {
    case CMARK_NODE_BLOCK_QUOTE:
        pop_level(d);
        rc_pdf_after(d, PARA_GAP);
        break;
    case CMARK_NODE_LIST:
        pop_level(d);
        rc_pdf_after(d, top_level(d) && top_level(d)->kind == C_ITEM
                        && cmark_node_get_list_tight(n) ? 1.5f : PARA_GAP);
        break;
    case CMARK_NODE_ITEM:
        close_item(d);
        break;
    case CMARK_NODE_FOOTNOTE_DEFINITION:
        pop_level(d);
        break;
    default:
        break;
    }
}

/* Entering a block: containers open a level, leaves are rendered.  1 when the
 * block was rendered whole, so the walk skips its children. */
static int enter_block(doc *d, cmark_node *n)
{
    switch (cmark_node_get_type(n)) {
    case CMARK_NODE_BLOCK_QUOTE:
        open_quote(d);
        break;
    case CMARK_NODE_LIST:
        open_list(d, n);
        break;
    case CMARK_NODE_ITEM:
        open_item(d, n);
        break;
    case CMARK_NODE_FOOTNOTE_DEFINITION:
        open_footnote(d);
        break;
    case CMARK_NODE_PARAGRAPH:
        render_paragraph(d, n);
        return 1;
    case CMARK_NODE_HEADING:
        render_heading(d, n);
        return 1;
    case CMARK_NODE_CODE_BLOCK:
        render_code_block(d, cmark_node_get_literal(n));
        break;
    case CMARK_NODE_HTML_BLOCK:
        render_html_block(d, cmark_node_get_literal(n));
        break;
    case CMARK_NODE_THEMATIC_BREAK:
        render_rule(d);
        break;
    default:
        /* tables; the document itself and inline content of unknown blocks
         * have nothing to draw */
        if (rc_pdf_is_type(n, "table")) {
            rc_pdf_render_table(d, n);
            return 1;
        }
        break;
    }
    return 0;
}

void rc_pdf_render_blocks(doc *d, cmark_node *root)
{
    cmark_iter *it = cmark_iter_new(root);
    cmark_event_type ev;

    while ((ev = cmark_iter_next(it)) != CMARK_EVENT_DONE) {
        cmark_node *n = cmark_iter_get_node(it);
        if (ev == CMARK_EVENT_EXIT) {
            leave_block(d, n);
        }
        else if (enter_block(d, n)) {
            cmark_iter_reset(it, n, CMARK_EVENT_EXIT);
        }
    }
    cmark_iter_free(it);
}
