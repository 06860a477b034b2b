/* Internals of the PDF engine (pdf.c and its pdf_*.c parts): page geometry,
 * typography, the layout records and the document being drawn.  Not part of
 * the public API (pdf.h). */
#ifndef RC_PDF_INTERNAL_H
#define RC_PDF_INTERNAL_H

#include "pdf.h"
#include "pdf_text.h"

#include <apr_hash.h>
#include <apr_tables.h>
#include <cmark-gfm.h>
#include <hpdf.h>

/* ---- geometry (points, A4) and typography ------------------------------- */

#define PAGE_W      595.276f
#define PAGE_H      841.89f
#define MARGIN_X    56.0f
#define MARGIN_TOP  56.0f
#define MARGIN_BOT  60.0f
#define FOOTER_Y    30.0f
#define TOP_Y       (PAGE_H - MARGIN_TOP)

#define SZ_BODY     10.5f
#define SZ_CODE     9.0f
#define SZ_TABLE    9.5f
#define SZ_FOOT     8.0f
#define SZ_H1       16.5f
#define SZ_TITLE    (SZ_H1 + 2)   /* a transcript's title */
#define LEAD_BODY   1.32f
#define LEAD_HEAD   1.2f
#define LEAD_CODE   1.28f
#define PARA_GAP    5.0f
#define LIST_INDENT 18.0f
#define QUOTE_INDENT 14.0f
#define MAX_INDENT_DEPTH 8
#define CODE_PAD    1.5f       /* inline code background, each side */
#define PRE_PAD     5.0f       /* code block background */
#define CELL_PAD    4.0f

/* ---- fonts ---------------------------------------------------------------- */

/* Faces: the standard fonts (or their TrueType stand-ins), the configured
 * fallback, then the fallback chain's fonts (pdf_chain.c), loaded on demand. */
enum { F_REG, F_BOLD, F_ITAL, F_BI, F_MONO, F_SYM, F_FALL, F_CHAIN, F_N = F_CHAIN + 96 };
/* Inline styles of a run of text. */
enum { S_BOLD = 1, S_ITAL = 2, S_CODE = 4, S_STRIKE = 8, S_LINK = 16, S_GREY = 32 };

typedef struct rc_cidfont rc_cidfont;     /* pdf_cid.c */
typedef struct hb_font_t hb_font_t;       /* harfbuzz */
typedef struct hb_face_t hb_face_t;

typedef struct {
    const char *path;
    unsigned index;           /* face of a .ttc */
    HPDF_Font font;           /* standard font, or our Type0 font (pdf_cid.c) */
    int tried, ok;
    hb_face_t *hbface;        /* TrueType faces (unicode documents) */
    hb_font_t *hb;
    void *shared;             /* the font cache's entry of this face, or NULL */
    float k;                  /* font units to 1/1000 em */
    rc_cidfont *cid;
    const unsigned short *wa; /* WinAnsi widths per byte, 1/1000 em (standard fonts) */
} face;

/* One shaped glyph: advance and offsets in 1/1000 em; cluster: byte offset
 * of its characters in the shaped text. */
typedef struct {
    unsigned gid;
    float ax, dx, dy;
    int cluster;
} glyph;

/* ---- layout records --------------------------------------------------------- */

/* A run of one face and style between break opportunities. */
typedef struct {
    const char *s;
    int n;
    float w, sp, size;       /* width, space before (0 = glued), font size */
    const char *url;
    unsigned char face, style, brk, nl;
    unsigned char level, splevel;   /* bidi embedding levels of the run and the space before */
} box;

/* A run placed on a line, x from the line's left edge. */
typedef struct {
    const char *s;
    int n;
    float x, w, size;
    const char *url;
    unsigned char face, style, level, splevel;
} item;

typedef struct {
    item *it;
    int n;
    float w, h, size;        /* width, height, largest font size */
    int rtl;                 /* of a right-to-left paragraph: right-aligned */
} line;

/* The marker of a list item. */
enum { MK_NONE, MK_BULLET, MK_NUMBER, MK_TASK };

/* The open containers (quotes, lists, items) around the current block. */
enum { C_QUOTE = 1, C_LIST, C_ITEM };

typedef struct {
    int kind, ordered, next, delim_paren;
    float indent;
} level;

typedef struct {
    apr_pool_t *p;               /* layout scratch (a subpool per transcript turn) */
    apr_pool_t *keep;            /* the document's pool: fonts, pages */
    HPDF_Doc pdf;
    rc_pdf_cache *cache;         /* shared fonts, or NULL */
    HPDF_STATUS err, detail;
    int unicode;
    face *f;                     /* F_N faces */
    int nchain;                  /* chain faces set up (pdf_chain.c) */
    void *hbbuf;                 /* the harfbuzz buffer shaping reuses */
    glyph *gl;                   /* shaped glyphs of the last run */
    int ngl, glcap, glrtl;       /* glrtl: they are in right-to-left order */
    int fc_lookups;              /* fontconfig look-ups made (bounded) */
    float lead;
    /* the page being filled */
    HPDF_Page page;
    apr_array_header_t *pages;
    float y, left, right;
    float pend;                  /* collapsed space owed before the next block */
    apr_array_header_t *levels;  /* of level */
    apr_array_header_t *bars;    /* x of the active quote bars (float) */
    int indent_depth;
    apr_hash_t *notes;           /* footnote label -> "[n]" */
    int nnotes;
    /* marker of a list item waiting for its first line */
    int mk_kind;                 /* MK_* */
    int mk_checked, mk_depth;
    char mk_text[16];
    float mk_x;
    /* scratch for NUL-terminated draws */
    char *tmp;
    apr_size_t tmpn;
} doc;

/* Collects text as boxes; preserve keeps white space (code). */
typedef struct {
    doc *d;
    apr_array_header_t *boxes;
    char *buf;
    int n, cap;
    int face, style;
    float size;
    const char *url;
    int space, nl, preserve;
    float space_w;
    int rtl;                     /* the paragraph's direction, once bidi ran */
    int bidi_done;
} builder;

/* ---- pdf_font.c: faces and measuring --------------------------------------- */

int rc_pdf_fonts_open(doc *d, int unicode, const rc_pdf_fonts *fonts);
/* Makes face i usable (loading it on first use); 0 if it cannot be. */
int rc_pdf_face_ready(doc *d, int i);
/* The face that draws c in this style.  Standard fonts: its byte in out
 * (*outn 1); unicode: *outn is 0, the character is drawn as it is. */
int rc_pdf_resolve(doc *d, int style, apr_uint32_t c, char *out, int *outn);
/* Width of text in face fi, in 1/1000 em (unicode: shaped UTF-8). */
float rc_pdf_text_units(doc *d, int fi, const char *s, int n);
int rc_pdf_needs_unicode(const char *s, apr_size_t n);
/* The widths of bytes 0-255 of a standard font, 1/1000 em (0 below 32). */
void rc_pdf_winansi_widths(HPDF_Font font, unsigned short *w);

/* ---- pdf_chain.c: font fallback by coverage ---------------------------------- */

/* Sets up the fallback chain (the configured fallback first); none when
 * fallback is "". */
void rc_pdf_chain_open(doc *d, const char *fallback);
/* The first face of the chain that has c (preferred: only the fonts that
 * come before the document's own faces for their script); -1 if none. */
int rc_pdf_chain_find(doc *d, int style, apr_uint32_t c, int preferred);

/* The TrueType fonts fontconfig knows of with a character, by file name. */
typedef struct {
    int n;
    const char **files;
    unsigned *index;          /* face of a .ttc */
} rc_pdf_fc_fonts;

/* fontconfig's list for c, in p (n 0 when there is none). */
const rc_pdf_fc_fonts *rc_pdf_fontconfig_list(apr_pool_t *p, apr_uint32_t c);

/* ---- pdf_cache.c: what documents share --------------------------------------- */

/* The shared HarfBuzz face and font of a file: 1 (in *face, *font: the
 * cache's, immutable), 0 if it is not an embeddable TrueType font, -1 when
 * the cache is full (the caller loads it for itself). */
int rc_pdf_cache_face(rc_pdf_cache *c, const char *path, unsigned index, face *f);
/* The face to subset f from: the cache's, prepared once for subsetting
 * (hb_subset_preprocess), else f's own. */
hb_face_t *rc_pdf_subset_source(doc *d, const face *f);
/* The byte widths of standard face fi (F_REG..F_SYM), taken from font the
 * first time. */
const unsigned short *rc_pdf_cache_widths(rc_pdf_cache *c, int fi, HPDF_Font font);
/* fontconfig's list for ch; NULL when the cache is full. */
const rc_pdf_fc_fonts *rc_pdf_cache_lookup(rc_pdf_cache *c, apr_uint32_t ch);

/* ---- pdf_shape.c: HarfBuzz faces and shaping ---------------------------------- */

/* Loads a file's face as a HarfBuzz face and font: 1, or 0 (nothing to free)
 * unless it is an embeddable TrueType font. */
int rc_pdf_hb_load(const char *path, unsigned index, hb_face_t **face, hb_font_t **font);
/* Opens f->path as a HarfBuzz face (the cache's when the document has one):
 * 0 unless it is an embeddable TrueType font. */
int rc_pdf_hb_open(doc *d, face *f);
int rc_pdf_has_glyph(const face *f, apr_uint32_t c);
/* Shapes UTF-8 text in face fi into d->gl (visual order); rtl: -1 guesses
 * from the script.  Returns the glyph count. */
int rc_pdf_shape(doc *d, int fi, const char *s, int n, int rtl);
/* Characters that belong to the cluster before them (marks, joiners,
 * variation selectors, emoji modifiers and tags). */
int rc_pdf_continues_cluster(apr_uint32_t c);

/* ---- pdf_cid.c: our CID fonts (Identity-H, glyph ids, ToUnicode, subsets) ---- */

/* The PDF font of face fi: a standard font, or the Type0 font of a TrueType
 * face, made on first use (so only the faces that draw are in the PDF). */
HPDF_Font rc_pdf_face_font(doc *d, int fi);
/* text's UTF-16BE as hex digits into o (room: 8 per byte of text); returns the count. */
int rc_pdf_utf16_hex(const char *text, int n, char *o);
/* The CID of glyph gid standing for text (UTF-8) in face fi; its width as
 * the font's W array gives it in *w (1/1000 em). */
unsigned rc_pdf_cid_of(doc *d, int fi, unsigned gid, const char *text, int n, float *w);
/* Writes every used font's widths, ToUnicode CMap and subset font file. */
int rc_pdf_cid_finish(doc *d);

/* ---- pdf_show.c: drawing text ------------------------------------------------ */

/* Draws UTF-8 text (standard fonts: encoded bytes) in face fi at x, y;
 * rtl: the run's direction (-1: from its script). */
void rc_pdf_show(doc *d, int fi, float size, float x, float y, const char *s, int n, int rtl);

/* ---- pdf_bidi.c: bidirectional text -------------------------------------------- */

/* Gives each box its embedding level (splitting boxes that mix levels);
 * ltr forces a left-to-right paragraph (code).  Returns 1 for a
 * right-to-left paragraph. */
int rc_pdf_bidi_boxes(doc *d, apr_array_header_t *boxes, int ltr);
/* Puts a line's items in visual order and places them again. */
void rc_pdf_bidi_line(doc *d, line *l);

/* ---- pdf_line.c: boxes and line breaking ------------------------------------- */

void rc_pdf_bb_init(builder *b, doc *d, int preserve);
/* Ends the box being built. */
void rc_pdf_bb_close(builder *b);
/* A hard line break before what follows. */
void rc_pdf_bb_break(builder *b);
/* Adds UTF-8 text in this style, size and link. */
void rc_pdf_bb_text(builder *b, const char *s, apr_size_t len, int style, float size,
                    const char *url);
/* Closes the builder and resolves the bidi levels of its boxes (b->rtl). */
void rc_pdf_bb_finish(builder *b);
/* Lines (of line) of at most maxw points; base is the font size of an empty
 * line; rtl: the paragraph's direction. */
apr_array_header_t *rc_pdf_break_lines(doc *d, const box *bx, int nb, float maxw, float base,
                                       int rtl);
/* The builder's boxes (closed first) as lines. */
apr_array_header_t *rc_pdf_bb_lines(builder *b, float maxw, float base);

/* ---- pdf_inline.c: inline content -------------------------------------------- */

/* Is n a node of this extension type ("table", "strikethrough", ...)? */
int rc_pdf_is_type(cmark_node *n, const char *name);
/* Adds the inline content under block to b in base_style and size. */
void rc_pdf_collect_inlines(builder *b, cmark_node *block, int base_style, float size);

/* ---- pdf_draw.c: drawing lines --------------------------------------------------- */

/* Draws one line's items with the left edge at x0. */
void rc_pdf_draw_items(doc *d, const line *l, float x0, float baseline);
/* The baseline of line l when its top is at top. */
float rc_pdf_baseline_in(const line *l, float top);
/* Draws the pending list marker (d->mk_*) beside a line, then clears it;
 * rtl: on the right of a right-to-left line, mirrored. */
void rc_pdf_draw_marker(doc *d, float baseline, float size, int rtl);

/* ---- pdf_flow.c: pages, vertical flow, blocks --------------------------------- */

void rc_pdf_new_page(doc *d);
/* Nothing drawn yet on this page? */
int rc_pdf_at_top(const doc *d);
float rc_pdf_content_width(const doc *d);
/* Moves down h points, drawing the bars of the open block quotes beside the strip. */
void rc_pdf_strip(doc *d, float h);
/* Starts a new page unless h points fit below y. */
void rc_pdf_need(doc *d, float h);
/* Pays the collapsed space owed before a block (at least before). */
void rc_pdf_gap(doc *d, float before);
/* Owes at least h points of space before the next block. */
void rc_pdf_after(doc *d, float h);
/* A grey line across the text column, `below` points under y (headings h1/h2,
 * thematic breaks, a transcript's title), then room points down. */
void rc_pdf_hline(doc *d, float below, float grey, float width, float room);
/* Flows lines at the current position, each whole on its page; bg: code band. */
void rc_pdf_flow_lines(doc *d, apr_array_header_t *lines, float x0, float width, int bg);
/* The same across the text column. */
void rc_pdf_flow_text(doc *d, apr_array_header_t *lines);
/* Renders the blocks of a parsed tree. */
void rc_pdf_render_blocks(doc *d, cmark_node *root);
/* Closes every open quote, list and item and drops a pending marker (the
 * end of a transcript turn's markdown). */
void rc_pdf_close_blocks(doc *d);

/* ---- pdf_table.c ---------------------------------------------------------------- */

void rc_pdf_render_table(doc *d, cmark_node *table);

#endif
