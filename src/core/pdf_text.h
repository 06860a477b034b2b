/* Text helpers of the PDF engine (pdf.c): the WinAnsi and Symbol encodings of
 * the standard PDF fonts, TrueType cmap coverage. */
#ifndef RC_PDF_TEXT_H
#define RC_PDF_TEXT_H

#include <apr_pools.h>
/* rc_utf8_next and rc_utf8_put, which the PDF engine decodes and encodes with. */
#include "utf8.h"

typedef struct { apr_uint32_t lo, hi; } rc_crange;

/* Format and control characters with nothing to draw (ZWJ, variation selectors...). */
int rc_pdf_invisible(apr_uint32_t c);
/* The WinAnsi (cp1252) byte for c, 0 if none. */
int rc_pdf_winansi(apr_uint32_t c);
/* The Symbol font's code for c (arrows, math, Greek), 0 if none. */
int rc_pdf_symbol_code(apr_uint32_t c);
/* Reads the BMP coverage of a TrueType file's Unicode cmap (a .ttc's first
 * font) into sorted ranges in p.  Returns 0 if the file is not a usable
 * TrueType font (missing, CFF-based .otf, no Unicode cmap). */
int rc_ttf_coverage(apr_pool_t *p, const char *path, rc_crange **cov, int *ncov, int *ttc);
int rc_ttf_covers(const rc_crange *cov, int ncov, apr_uint32_t c);

#endif
