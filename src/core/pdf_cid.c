/* Our CID fonts: a Type0 font per TrueType face, Identity-H, whose codes are
 * CIDs we hand out per (glyph, text) pair.  libharu's own TrueType fonts
 * encode Unicode code points (BMP only) and map them to glyphs through the
 * font's cmap, which cannot name the glyphs shaping produces (Arabic forms,
 * Indic conjuncts, ligatures).  Here a CID stands for one glyph and the text
 * it shows, so the ToUnicode CMap gives every glyph its own text back.
 *
 * The objects are libharu dictionaries in its cross-reference table; their
 * contents are written at the end (rc_pdf_cid_finish), once the glyphs used
 * are known: the widths (W), CIDToGIDMap, ToUnicode, and the font file cut
 * down by HarfBuzz's subsetter to those glyphs (renumbered; the whole file
 * should the subsetter fail). */
#include "pdf_internal.h"
#include "encode.h"

#include <apr_strings.h>
#include <hb.h>
#include <hb-ot.h>
#include <hb-subset.h>
#include <math.h>
#include <string.h>

#define CID_MAX 65535

typedef struct {
    unsigned gid;
    const char *text;     /* UTF-8; "" for glyphs whose text an ActualText span gives */
    int n;
    float w;              /* advance, 1/1000 em */
} cid_entry;

struct rc_cidfont {
    HPDF_Dict type0, cidfont;
    apr_hash_t *ids;            /* gid + text -> cid (1-based index into entries) */
    apr_array_header_t *entries;
};

static void free_attr(HPDF_Dict obj)
{
    if (obj->attr) {
        HPDF_FreeMem(obj->mmgr, obj->attr);
        obj->attr = NULL;
    }
}

/* A dictionary in the document's cross-reference table (libharu frees it). */
static HPDF_Dict indirect_dict(doc *d)
{
    HPDF_Dict o = HPDF_Dict_New(d->pdf->mmgr);
    if (o && HPDF_Xref_Add(d->pdf->xref, o) != HPDF_OK) {
        return NULL;
    }
    return o;
}

static HPDF_Dict system_info(doc *d)
{
    HPDF_Dict si = HPDF_Dict_New(d->pdf->mmgr);
    if (si) {
        HPDF_Dict_Add(si, "Registry", HPDF_String_New(d->pdf->mmgr, "Adobe", NULL));
        HPDF_Dict_Add(si, "Ordering", HPDF_String_New(d->pdf->mmgr, "Identity", NULL));
        HPDF_Dict_AddNumber(si, "Supplement", 0);
    }
    return si;
}

/* The Type0 font: HPDF_Page_SetFontAndSize takes it as a libharu font. */
static HPDF_Font cid_font(doc *d, int fi)
{
    HPDF_MMgr mm = d->pdf->mmgr;
    HPDF_Dict t0 = indirect_dict(d), cf;
    HPDF_FontAttr attr;
    HPDF_Array desc;
    rc_cidfont *c;

    if (!t0 || !(attr = HPDF_GetMem(mm, sizeof(HPDF_FontAttr_Rec)))) {
        return NULL;
    }
    memset(attr, 0, sizeof(*attr));
    attr->type = HPDF_FONT_TYPE0_TT;
    attr->writing_mode = HPDF_WMODE_HORIZONTAL;
    attr->xref = d->pdf->xref;
    t0->header.obj_class = HPDF_OSUBCLASS_FONT | HPDF_OCLASS_DICT;
    t0->attr = attr;
    t0->free_fn = free_attr;
    if (!(cf = indirect_dict(d)) || !(desc = HPDF_Array_New(mm))) {
        return NULL;
    }
    HPDF_Dict_AddName(t0, "Type", "Font");
    HPDF_Dict_AddName(t0, "Subtype", "Type0");
    HPDF_Dict_AddName(t0, "Encoding", "Identity-H");
    HPDF_Dict_Add(t0, "DescendantFonts", desc);
    HPDF_Array_Add(desc, cf);
    HPDF_Dict_AddName(cf, "Type", "Font");
    HPDF_Dict_AddName(cf, "Subtype", "CIDFontType2");
    HPDF_Dict_Add(cf, "CIDSystemInfo", system_info(d));
    c = apr_pcalloc(d->keep, sizeof(*c));
    c->type0 = t0;
    c->cidfont = cf;
    c->ids = apr_hash_make(d->keep);
    c->entries = apr_array_make(d->keep, 64, sizeof(cid_entry));
    d->f[fi].cid = c;
    return d->err ? NULL : t0;
}

HPDF_Font rc_pdf_face_font(doc *d, int fi)
{
    face *f = &d->f[fi];
    if (!f->font && d->unicode && f->ok) {
        f->font = cid_font(d, fi);
    }
    return f->font;
}

unsigned rc_pdf_cid_of(doc *d, int fi, unsigned gid, const char *text, int n, float *w)
{
    rc_cidfont *c = d->f[fi].cid;
    char stack[64], *key = stack;
    apr_size_t klen = 4 + (apr_size_t)n;
    void *v;
    cid_entry *e;

    if (c->entries->nelts >= CID_MAX - 1) {
        n = 0;                 /* out of CIDs: reuse the glyph's unmapped one */
        klen = 4;
    }
    if (klen > sizeof(stack)) {
        key = apr_palloc(d->keep, klen);
    }
    memcpy(key, &gid, 4);
    memcpy(key + 4, text, (size_t)n);
    if ((v = apr_hash_get(c->ids, key, (apr_ssize_t)klen)) != NULL) {
        *w = APR_ARRAY_IDX(c->entries, (apr_uintptr_t)v - 1, cid_entry).w;
        return (unsigned)(apr_uintptr_t)v;
    }
    if (c->entries->nelts >= CID_MAX) {
        *w = 0;
        return 0;
    }
    e = &APR_ARRAY_PUSH(c->entries, cid_entry);
    e->gid = gid;
    e->text = apr_pstrmemdup(d->keep, text, (apr_size_t)n);
    e->n = n;
    /* to a tenth, as W states it: the TJ adjustments count on the same value */
    e->w = roundf((float)hb_font_get_glyph_h_advance(d->f[fi].hb, gid) * d->f[fi].k * 10) / 10;
    *w = e->w;
    if (key == stack) {
        key = apr_pmemdup(d->keep, stack, klen);
    }
    apr_hash_set(c->ids, key, (apr_ssize_t)klen, (void *)(apr_uintptr_t)c->entries->nelts);
    return (unsigned)c->entries->nelts;
}

/* ---- the objects written at the end -------------------------------------------- */

/* A stream object, deflated like the rest of the document. */
static HPDF_Dict new_stream(doc *d)
{
    HPDF_Dict s = HPDF_DictStream_New(d->pdf->mmgr, d->pdf->xref);
    if (s) {
        s->filter = HPDF_STREAM_FILTER_FLATE_DECODE;
    }
    return s;
}

/* W: every CID's width, in one run from CID 1. */
static void write_widths(doc *d, const rc_cidfont *c)
{
    HPDF_Array w = HPDF_Array_New(d->pdf->mmgr), ws = HPDF_Array_New(d->pdf->mmgr);
    int i;

    if (!w || !ws) {
        return;
    }
    HPDF_Dict_Add(c->cidfont, "W", w);
    HPDF_Array_AddNumber(w, 1);
    HPDF_Array_Add(w, ws);
    for (i = 0; i < c->entries->nelts; i++) {
        HPDF_Array_AddReal(ws, APR_ARRAY_IDX(c->entries, i, cid_entry).w);
    }
}

/* CIDToGIDMap: CID -> the glyph's number in the subset font (old_to_new
 * NULL: the whole font, numbers unchanged). */
static void write_gid_map(doc *d, const rc_cidfont *c, const hb_map_t *old_to_new)
{
    HPDF_Dict s = new_stream(d);
    int i, n = c->entries->nelts + 1;
    unsigned char *m = apr_pcalloc(d->p, (apr_size_t)n * 2);

    if (!s) {
        return;
    }
    for (i = 1; i < n; i++) {
        hb_codepoint_t g = APR_ARRAY_IDX(c->entries, i - 1, cid_entry).gid;
        g = old_to_new ? hb_map_get(old_to_new, g) : g;
        if (g == HB_MAP_VALUE_INVALID) {
            g = 0;
        }
        m[2 * i] = (unsigned char)(g >> 8);
        m[2 * i + 1] = (unsigned char)g;
    }
    HPDF_Stream_Write(s->stream, m, (HPDF_UINT)n * 2);
    HPDF_Dict_Add(c->cidfont, "CIDToGIDMap", s);
}

/* Appends text's UTF-16BE hex to o; returns the new length. */
static int utf16_hex(const char *text, int n, char *o, int at)
{
    const unsigned char *u = (const unsigned char *)text;
    apr_size_t i = 0, used;
    while (i < (apr_size_t)n) {
        apr_uint32_t c = rc_utf8_next(u + i, (apr_size_t)n - i, &used), units[2];
        int k, nu = 1;
        i += used;
        units[0] = c;
        if (c > 0xFFFF) {
            units[0] = 0xD800 + ((c - 0x10000) >> 10);
            units[1] = 0xDC00 + ((c - 0x10000) & 0x3FF);
            nu = 2;
        }
        for (k = 0; k < nu; k++) {
            unsigned char be[2] = { (unsigned char)(units[k] >> 8), (unsigned char)units[k] };
            at = (int)(rc_hex_encode_upper(o + at, be, 2) - o);
        }
    }
    return at;
}

int rc_pdf_utf16_hex(const char *text, int n, char *o)
{
    return utf16_hex(text, n, o, 0);
}

static const char cmap_head[] =
    "/CIDInit /ProcSet findresource begin\n12 dict begin\nbegincmap\n"
    "/CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def\n"
    "/CMapName /Adobe-Identity-UCS def\n/CMapType 2 def\n"
    "1 begincodespacerange\n<0000> <FFFF>\nendcodespacerange\n";
static const char cmap_tail[] =
    "endcmap\nCMapName currentdict /CMap defineresource pop\nend\nend\n";

/* ToUnicode: each CID's text (glyphs inside ActualText spans have none). */
static void write_to_unicode(doc *d, const rc_cidfont *c)
{
    HPDF_Dict s = new_stream(d);
    int i, from;
    char *buf;

    if (!s) {
        return;
    }
    HPDF_Stream_WriteStr(s->stream, cmap_head);
    for (from = 0; from < c->entries->nelts; from += 100) {
        int to = from + 100 < c->entries->nelts ? from + 100 : c->entries->nelts, count = 0;
        for (i = from; i < to; i++) {
            count += APR_ARRAY_IDX(c->entries, i, cid_entry).n > 0;
        }
        if (!count) {
            continue;
        }
        HPDF_Stream_WriteStr(s->stream, apr_psprintf(d->p, "%d beginbfchar\n", count));
        for (i = from; i < to; i++) {
            const cid_entry *e = &APR_ARRAY_IDX(c->entries, i, cid_entry);
            int at;
            if (!e->n) {
                continue;
            }
            buf = apr_palloc(d->p, (apr_size_t)e->n * 8 + 16);
            at = apr_snprintf(buf, 9, "<%04X> <", i + 1);
            at = utf16_hex(e->text, e->n, buf, at);
            buf[at++] = '>';
            buf[at++] = '\n';
            HPDF_Stream_Write(s->stream, (const HPDF_BYTE *)buf, (HPDF_UINT)at);
        }
        HPDF_Stream_WriteStr(s->stream, "endbfchar\n");
    }
    HPDF_Stream_WriteStr(s->stream, cmap_tail);
    HPDF_Dict_Add(c->type0, "ToUnicode", s);
}

/* The font program cut down to the glyphs used (renumbered, no hinting, no
 * layout tables: the glyphs are already shaped).  NULL when it fails. */
static hb_face_t *subset(doc *d, const face *f, const rc_cidfont *c, hb_subset_plan_t **plan)
{
    static const hb_tag_t drop[] = {
        HB_TAG('G', 'S', 'U', 'B'), HB_TAG('G', 'P', 'O', 'S'), HB_TAG('G', 'D', 'E', 'F'),
        HB_TAG('B', 'A', 'S', 'E'), HB_TAG('J', 'S', 'T', 'F'), HB_TAG('M', 'A', 'T', 'H'),
        HB_TAG('k', 'e', 'r', 'n'), HB_TAG('m', 'o', 'r', 'x'), HB_TAG('k', 'e', 'r', 'x'),
        HB_TAG('v', 'h', 'e', 'a'), HB_TAG('v', 'm', 't', 'x'), HB_TAG('V', 'O', 'R', 'G'),
        HB_TAG('D', 'S', 'I', 'G'), HB_TAG('h', 'd', 'm', 'x'), HB_TAG('L', 'T', 'S', 'H'),
        HB_TAG('V', 'D', 'M', 'X'), HB_TAG('g', 'a', 's', 'p'), HB_TAG('C', 'O', 'L', 'R'),
        HB_TAG('C', 'P', 'A', 'L'), HB_TAG('S', 'V', 'G', ' '), HB_TAG('E', 'B', 'D', 'T'),
        HB_TAG('E', 'B', 'L', 'C'), HB_TAG('C', 'B', 'D', 'T'), HB_TAG('C', 'B', 'L', 'C'),
        HB_TAG('s', 'b', 'i', 'x'), HB_TAG('m', 'e', 't', 'a')
    };
    hb_subset_input_t *in = hb_subset_input_create_or_fail();
    hb_set_t *gs, *dt;
    hb_face_t *sub = NULL;
    int i;

    *plan = NULL;
    if (!in) {
        return NULL;
    }
    gs = hb_subset_input_glyph_set(in);
    hb_set_add(gs, 0);
    for (i = 0; i < c->entries->nelts; i++) {
        hb_set_add(gs, APR_ARRAY_IDX(c->entries, i, cid_entry).gid);
    }
    dt = hb_subset_input_set(in, HB_SUBSET_SETS_DROP_TABLE_TAG);
    for (i = 0; i < (int)(sizeof(drop) / sizeof(drop[0])); i++) {
        hb_set_add(dt, drop[i]);
    }
    hb_subset_input_set_flags(in, HB_SUBSET_FLAGS_NO_HINTING);
    *plan = hb_subset_plan_create_or_fail(rc_pdf_subset_source(d, f), in);
    hb_subset_input_destroy(in);
    if (*plan) {
        sub = hb_subset_plan_execute_or_fail(*plan);
    }
    return sub;
}

/* "RCAAAB+DejaVuSans-Bold": a subset tag unique in the document, then the
 * font's PostScript name (no tag for a whole font). */
static const char *font_name(doc *d, const face *f, int fi, int whole)
{
    char ps[64], *o;
    unsigned len = sizeof(ps);
    const char *s;

    if (!hb_ot_name_get_utf8(f->hbface, HB_OT_NAME_ID_POSTSCRIPT_NAME, HB_LANGUAGE_INVALID,
                             &len, ps)) {
        apr_snprintf(ps, sizeof(ps), "Font%d", fi);
    }
    o = apr_psprintf(d->p, "RCA%c%c%c+%s", 'A' + fi / 676 % 26, 'A' + fi / 26 % 26,
                     'A' + fi % 26, ps);
    for (s = o + 7; *s; s++) {
        char ch = *s;
        if (!((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9')
              || ch == '-' || ch == '_')) {
            o[s - o] = '-';
        }
    }
    return whole ? o + 7 : o;
}

static float head_value(const unsigned char *h, unsigned n, unsigned at, float k)
{
    return at + 2 <= n ? (float)(short)((h[at] << 8) | h[at + 1]) * k : 0;
}

static HPDF_Dict descriptor(doc *d, const face *f, const char *name)
{
    HPDF_Dict ds = indirect_dict(d);
    hb_blob_t *head = hb_face_reference_table(f->hbface, HB_TAG('h', 'e', 'a', 'd'));
    unsigned n = 0;
    const unsigned char *h = (const unsigned char *)hb_blob_get_data(head, &n);
    hb_font_extents_t ext;
    hb_position_t cap = 0;
    float slant = hb_style_get_value(f->hb, HB_STYLE_TAG_SLANT_ANGLE);
    HPDF_Box bb;

    if (ds) {
        hb_font_get_h_extents(f->hb, &ext);
        hb_ot_metrics_get_position(f->hb, HB_OT_METRICS_TAG_CAP_HEIGHT, &cap);
        bb.left = head_value(h, n, 36, f->k);
        bb.bottom = head_value(h, n, 38, f->k);
        bb.right = head_value(h, n, 40, f->k);
        bb.top = head_value(h, n, 42, f->k);
        HPDF_Dict_AddName(ds, "Type", "FontDescriptor");
        HPDF_Dict_AddName(ds, "FontName", name);
        HPDF_Dict_AddNumber(ds, "Flags", 4 | (slant != 0 ? 64 : 0));
        HPDF_Dict_Add(ds, "FontBBox", HPDF_Box_Array_New(d->pdf->mmgr, bb));
        HPDF_Dict_AddReal(ds, "ItalicAngle", slant);
        HPDF_Dict_AddNumber(ds, "Ascent", (HPDF_INT32)((float)ext.ascender * f->k));
        HPDF_Dict_AddNumber(ds, "Descent", (HPDF_INT32)((float)ext.descender * f->k));
        HPDF_Dict_AddNumber(ds, "CapHeight", (HPDF_INT32)((float)cap * f->k));
        HPDF_Dict_AddNumber(ds, "StemV", 80);
    }
    hb_blob_destroy(head);
    return ds;
}

/* The whole font file, when the subsetter cannot cut it down: a lone
 * TrueType font only (a face of a collection has no file of its own). */
static hb_blob_t *whole_font(const face *f)
{
    hb_blob_t *b = hb_face_reference_blob(f->hbface);
    unsigned n = 0;
    const char *data = hb_blob_get_data(b, &n);

    if (f->index || n < 4 || memcmp(data, "ttcf", 4) == 0) {
        hb_blob_destroy(b);
        return NULL;
    }
    return b;
}

/* The font file, descriptor, widths, glyph map and ToUnicode of one face. */
static int finish_font(doc *d, int fi)
{
    const face *f = &d->f[fi];
    const rc_cidfont *c = f->cid;
    hb_subset_plan_t *plan;
    hb_face_t *sub = subset(d, f, c, &plan);
    hb_blob_t *blob = sub ? hb_face_reference_blob(sub) : whole_font(f);
    HPDF_Dict file, ds;
    const char *name = font_name(d, f, fi, !sub), *data;
    unsigned len = 0;

    if (!blob) {
        hb_subset_plan_destroy(plan);
        return -1;
    }
    data = hb_blob_get_data(blob, &len);
    if ((file = new_stream(d)) != NULL && (ds = descriptor(d, f, name)) != NULL) {
        HPDF_Stream_Write(file->stream, (const HPDF_BYTE *)data, len);
        HPDF_Dict_AddNumber(file, "Length1", (HPDF_INT32)len);
        HPDF_Dict_Add(ds, "FontFile2", file);
        HPDF_Dict_AddName(c->type0, "BaseFont", name);
        HPDF_Dict_AddName(c->cidfont, "BaseFont", name);
        HPDF_Dict_Add(c->cidfont, "FontDescriptor", ds);
        if (c->entries->nelts) {
            write_widths(d, c);
        }
        write_gid_map(d, c, sub ? hb_subset_plan_old_to_new_glyph_mapping(plan) : NULL);
        write_to_unicode(d, c);
    }
    hb_blob_destroy(blob);
    hb_face_destroy(sub);
    hb_subset_plan_destroy(plan);
    return d->err ? -1 : 0;
}

int rc_pdf_cid_finish(doc *d)
{
    int i;

    for (i = 0; d->unicode && i < F_N; i++) {
        if (d->f[i].cid && finish_font(d, i) != 0) {
            return -1;
        }
    }
    return 0;
}
