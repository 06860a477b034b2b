/* Search results: a short piece of a message around what was searched for. */
#ifndef RC_SNIPPET_H
#define RC_SNIPPET_H

#include <apr_pools.h>
#include <apr_tables.h>
#include <stddef.h>

/* The text around the first match of q in text (ASCII letters compared
 * without case, as the search's LOWER(…) LIKE does): markdown marks (code,
 * emphasis, table pipes, heading and quote markers) dropped unless the match
 * needs them, white space folded,
 * at most about width bytes, cut on word boundaries (and UTF-8 characters),
 * with an ellipsis where text was cut. NULL when q does not occur. In p. */
char *rc_snippet(apr_pool_t *p, const char *text, const char *q, size_t width);

/* The text around the first marked span of marked (spans between the bytes
 * 0x02 and 0x03, as the search's highlighting writes them), cut as
 * rc_snippet cuts: the pieces in order, even indexes plain text (the first
 * and last with the ellipsis where text was cut, either may be ""), odd
 * indexes the marked words, marks removed. NULL when nothing is marked. In p. */
apr_array_header_t *rc_snippet_parts(apr_pool_t *p, const char *marked, size_t width);

/* A LIKE pattern (with ESCAPE '\\') matching any text that contains q: the
 * wildcards of q escaped, "%" around it. In p. */
char *rc_like_contains(apr_pool_t *p, const char *q);

#endif
