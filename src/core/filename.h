/* Rules for names shown as file names: thread names in export downloads,
 * uploaded files' display names. */
#ifndef RC_FILENAME_H
#define RC_FILENAME_H

#include <apr_pools.h>

/* 1 for an invisible format character (Unicode category Cf: the bidi
 * controls such as U+202E RIGHT-TO-LEFT OVERRIDE, zero-width characters,
 * the BOM, interlinear annotation, tag characters), which can make a name
 * read differently from what it is ("cod\u202Efdp.exe" shows as "codexe.pdf"). */
int rc_is_format_char(apr_uint32_t c);

/* A copy of the UTF-8 string s without its format characters. */
char *rc_strip_format_chars(apr_pool_t *p, const char *s);

#endif
