/* HarfBuzz in the PDF engine: TrueType faces opened from their files, glyph
 * coverage, and shaping of every run of text (joining, clusters, marks,
 * ligatures, kerning) into glyph ids with their advances and offsets.  Faces
 * and fonts are the font cache's (pdf_cache.c: shared, immutable) or, without
 * one, the document's, dying with its pool; the shaping buffer is always the
 * document's. */
#include "pdf_internal.h"

#include <hb.h>
#include <string.h>

static apr_status_t free_face(void *data)
{
    face *f = data;
    hb_font_destroy(f->hb);
    hb_face_destroy(f->hbface);
    f->hb = NULL;
    f->hbface = NULL;
    return APR_SUCCESS;
}

static apr_status_t free_buffer(void *data)
{
    hb_buffer_destroy(data);
    return APR_SUCCESS;
}

/* Outlines we can embed as FontFile2: a glyf table, and an OS/2 fsType that
 * allows embedding and subsetting (as libharu checked for its own fonts). */
static int embeddable(hb_face_t *hf)
{
    hb_blob_t *glyf = hb_face_reference_table(hf, HB_TAG('g', 'l', 'y', 'f'));
    hb_blob_t *os2 = hb_face_reference_table(hf, HB_TAG('O', 'S', '/', '2'));
    unsigned n = 0;
    const unsigned char *o = (const unsigned char *)hb_blob_get_data(os2, &n);
    int ok = hb_blob_get_length(glyf) > 0 && hb_face_get_glyph_count(hf) > 1;

    if (ok && o && n >= 10) {
        unsigned fs = ((unsigned)o[8] << 8) | o[9];
        ok = (fs & 0x000F) != 0x0002 && !(fs & 0x0300);
    }
    hb_blob_destroy(glyf);
    hb_blob_destroy(os2);
    return ok;
}

int rc_pdf_hb_load(const char *path, unsigned index, hb_face_t **face, hb_font_t **font)
{
    hb_blob_t *blob = hb_blob_create_from_file_or_fail(path);
    hb_face_t *hf;

    if (!blob) {
        return 0;
    }
    hf = hb_face_create(blob, index);
    hb_blob_destroy(blob);
    if (!embeddable(hf)) {
        hb_face_destroy(hf);
        return 0;
    }
    *face = hf;
    *font = hb_font_create(hf);
    return 1;
}

/* The cache's face when the document has a cache (and it has room), else
 * one of the document's own, freed with its pool. */
int rc_pdf_hb_open(doc *d, face *f)
{
    int ok = d->cache ? rc_pdf_cache_face(d->cache, f->path, f->index, f) : -1;

    if (ok < 0) {
        if (!(ok = rc_pdf_hb_load(f->path, f->index, &f->hbface, &f->hb))) {
            return 0;
        }
        apr_pool_cleanup_register(d->keep, f, free_face, apr_pool_cleanup_null);
    }
    if (ok) {
        f->k = 1000.0f / (float)hb_face_get_upem(f->hbface);
    }
    return ok;
}

int rc_pdf_has_glyph(const face *f, apr_uint32_t c)
{
    hb_codepoint_t g;
    return f->hb && hb_font_get_nominal_glyph(f->hb, c, &g);
}

/* Marks, joiners, variation selectors, emoji modifiers and tags stay with the
 * character before them. */
int rc_pdf_continues_cluster(apr_uint32_t c)
{
    hb_unicode_general_category_t gc;

    if (c < 0x300) {
        return 0;
    }
    if (c == 0x200C || c == 0x200D || (c >= 0xFE00 && c <= 0xFE0F)
        || (c >= 0x1F3FB && c <= 0x1F3FF) || (c >= 0xE0000 && c <= 0xE01EF)) {
        return 1;
    }
    gc = hb_unicode_general_category(hb_unicode_funcs_get_default(), c);
    return gc == HB_UNICODE_GENERAL_CATEGORY_NON_SPACING_MARK
        || gc == HB_UNICODE_GENERAL_CATEGORY_SPACING_MARK
        || gc == HB_UNICODE_GENERAL_CATEGORY_ENCLOSING_MARK;
}

static hb_buffer_t *buffer(doc *d)
{
    if (!d->hbbuf) {
        d->hbbuf = hb_buffer_create();
        apr_pool_cleanup_register(d->keep, d->hbbuf, free_buffer, apr_pool_cleanup_null);
    }
    hb_buffer_clear_contents(d->hbbuf);
    return d->hbbuf;
}

/* d->gl with room for n glyphs (it lives in the document's pool). */
static glyph *glyph_room(doc *d, int n)
{
    if (n > d->glcap) {
        d->glcap = n * 2 + 16;
        d->gl = apr_palloc(d->keep, sizeof(glyph) * (apr_size_t)d->glcap);
    }
    return d->gl;
}

int rc_pdf_shape(doc *d, int fi, const char *s, int n, int rtl)
{
    const face *f = &d->f[fi];
    hb_buffer_t *buf;
    hb_glyph_info_t *info;
    hb_glyph_position_t *pos;
    unsigned i, count;
    hb_codepoint_t mark;
    glyph *g;

    d->ngl = 0;
    d->glrtl = 0;
    if (!f->hb || n <= 0) {
        return 0;
    }
    buf = buffer(d);
    hb_buffer_add_utf8(buf, s, n, 0, n);
    hb_buffer_set_flags(buf, HB_BUFFER_FLAG_BOT | HB_BUFFER_FLAG_EOT
                             | HB_BUFFER_FLAG_REMOVE_DEFAULT_IGNORABLES);
    hb_buffer_set_cluster_level(buf, HB_BUFFER_CLUSTER_LEVEL_MONOTONE_GRAPHEMES);
    hb_buffer_guess_segment_properties(buf);
    if (rtl >= 0) {
        hb_buffer_set_direction(buf, rtl ? HB_DIRECTION_RTL : HB_DIRECTION_LTR);
    }
    hb_shape(f->hb, buf, NULL, 0);
    info = hb_buffer_get_glyph_infos(buf, &count);
    pos = hb_buffer_get_glyph_positions(buf, NULL);
    g = glyph_room(d, (int)count);
    for (i = 0; i < count; i++) {
        g[i].gid = info[i].codepoint;
        if (!g[i].gid && hb_font_get_nominal_glyph(f->hb, 0xFFFD, &mark)) {
            /* no font has it: the replacement mark, not the .notdef box */
            g[i].gid = mark;
            pos[i].x_advance = hb_font_get_glyph_h_advance(f->hb, mark);
        }
        g[i].cluster = (int)info[i].cluster;
        g[i].ax = (float)pos[i].x_advance * f->k;
        g[i].dx = (float)pos[i].x_offset * f->k;
        g[i].dy = (float)pos[i].y_offset * f->k;
    }
    d->ngl = (int)count;
    d->glrtl = HB_DIRECTION_IS_BACKWARD(hb_buffer_get_direction(buf));
    return d->ngl;
}
