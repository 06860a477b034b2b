/* PDF export: our own layout of the cmark-gfm tree, drawn with libharu.
 * No httpd types; everything the caller gets back lives in its pool. */
#ifndef RC_PDF_H
#define RC_PDF_H

#include <apr_pools.h>
#include <apr_time.h>

/* Fonts loaded once and shared by every document made with them (pdf_cache.c):
 * HarfBuzz faces of the TrueType files, the standard fonts' widths,
 * fontconfig's answers.  Thread-safe; it lives as long as the pool it was
 * made in and stays bounded however many documents use it.  NULL if it could
 * not be made. */
typedef struct rc_pdf_cache rc_pdf_cache;
rc_pdf_cache *rc_pdf_cache_create(apr_pool_t *p);
/* What it holds: font files loaded, fontconfig answers kept. */
void rc_pdf_cache_counts(rc_pdf_cache *c, int *faces, int *lookups);

/* TrueType files used when the text needs more than WinAnsi; NULL = default:
 * DejaVuSans.ttf, -Bold, -Oblique, -BoldOblique, DejaVuSansMono.ttf in
 * /usr/share/fonts/truetype/dejavu; fallback: tried first for characters
 * those lack, before the built-in chain (Noto per script, CJK fonts with
 * Hangul, symbols, Symbola, then fontconfig); "" turns fallback off. */
typedef struct {
    const char *regular, *bold, *italic, *bold_italic, *mono, *fallback;
    rc_pdf_cache *cache;   /* NULL: the document loads its fonts itself */
} rc_pdf_fonts;

typedef struct {
    const char *title;    /* PDF Title; also the heading of a transcript */
    const char *author;   /* PDF Author (the user) */
    apr_time_t created;   /* PDF CreationDate; 0 = none */
} rc_pdf_meta;

typedef struct {
    const char *role;      /* "user" or "assistant" */
    const char *name;      /* display name of the speaker */
    const char *timestamp; /* already formatted, e.g. "2026-11-26 18:09 UTC" */
    const char *markdown;  /* already cleaned */
} rc_pdf_turn;

/* One answer as a PDF.  0 on success with the bytes in *out / *outlen (in p);
 * non-zero on failure with a message in *err (in p).  fonts and meta may be NULL.
 * The PDF is the same byte for byte with or without a cache. */
int rc_pdf_from_markdown(apr_pool_t *p, const char *md, apr_size_t len,
                         const rc_pdf_fonts *fonts, const rc_pdf_meta *meta,
                         const char **out, apr_size_t *outlen, const char **err);

/* A whole conversation: the title, then each turn under a label band (speaker
 * and timestamp; user and assistant turns shaded differently). */
int rc_pdf_transcript(apr_pool_t *p, const rc_pdf_turn *turns, int nturns,
                      const rc_pdf_fonts *fonts, const rc_pdf_meta *meta,
                      const char **out, apr_size_t *outlen, const char **err);

#endif
