/* The reference app's cleaning rules for backend answers. No Apache types. */
#ifndef RC_CLEAN_H
#define RC_CLEAN_H

#include <apr_pools.h>
#include <stddef.h>

/* clean_display(): a leading fenced JSON block (```json {…} ```) is removed and
 * leading white space stripped, as the reference's _JSON_PREAMBLE.sub + lstrip. */
char *rc_clean_display(apr_pool_t *p, const char *text, size_t len);

/* md_to_pdf()'s cleaning: clean_display, then every line holding a status
 * marker like `[search working...]` dropped, and the result stripped. */
char *rc_clean_export(apr_pool_t *p, const char *text, size_t len);

/* Offset where the displayable answer starts: 0, or the end of a leading JSON
 * preamble and the white space after it. While a stream is still arriving,
 * *pending is set when the text may still turn out to be such a preamble. */
size_t rc_clean_display_offset(const char *text, size_t len, int *pending);

/* 1 when the line (without terminator) holds a reference status marker. */
int rc_clean_is_status_line(const char *line, size_t len);

#endif
