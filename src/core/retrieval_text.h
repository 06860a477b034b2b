/* Text for the built-in retrieval backend: readable text out of HTML and
 * JSON, normalisation, chunking on paragraph and sentence boundaries, the
 * FTS5 query built from a question, and markdown-inert quoting. Pure: no
 * httpd types, so unit tests and the fuzzer link it alone. */
#ifndef RC_RETRIEVAL_TEXT_H
#define RC_RETRIEVAL_TEXT_H

#include <apr_pools.h>
#include <apr_tables.h>
#include <stddef.h>

#define RC_TEXT_CHUNK_TARGET  800     /* bytes of a passage, about */
#define RC_TEXT_CHUNK_OVERLAP 150     /* bytes repeated from the previous passage */

/* Cleaned copy of s[0..n): valid UTF-8 (an invalid byte becomes U+FFFD), no
 * BOM, LF line ends, no control characters but LF (tabs and no-break spaces
 * become spaces), single spaces, no spaces at line ends, at most one blank
 * line in a row, trimmed. NUL-terminated in p; *outlen (when set) its length. */
char *rc_text_normalize(apr_pool_t *p, const char *s, size_t n, size_t *outlen);

/* The readable text of an HTML document: tags, comments and the content of
 * script, style, template and head-only elements dropped; block elements end
 * lines or paragraphs; character references decoded (named ones for the
 * common entities, all numeric ones). The result is normalised. */
char *rc_text_from_html(apr_pool_t *p, const char *s, size_t n, size_t *outlen);

/* The string values of a JSON document (object keys left out), one per line,
 * normalised. NULL when s is not JSON. */
char *rc_text_from_json(apr_pool_t *p, const char *s, size_t n, size_t *outlen);

typedef struct {
    size_t off, len;           /* a passage: text[off .. off+len) */
} rc_text_chunk;

/* Cuts text into passages of about target bytes, ending on a paragraph, else
 * a sentence, else a line, else a word boundary (a long word is cut on a
 * UTF-8 character boundary), each starting about overlap bytes before the end
 * of the previous one, on a sentence or word start. Passages are trimmed and
 * never empty. Returns an array of rc_text_chunk in p. */
apr_array_header_t *rc_text_chunks(apr_pool_t *p, const char *text, size_t len,
                                   size_t target, size_t overlap);

/* An FTS5 MATCH expression for question, safe for any input: every term is a
 * double-quoted string of letters and digits (FTS syntax characters are
 * separators), terms are ORed, duplicates and (unless nothing else is left)
 * common English words dropped, at most max_terms. Terms of context (the
 * previous question, may be NULL) count at lower weight: the expression is
 * "(Q) AND (Q OR C)", so a passage must match the question and the context
 * only ranks. NULL when the question has no term. */
char *rc_text_fts_query(apr_pool_t *p, const char *question, const char *context,
                        int max_terms);

/* s[0..n) on one line with markdown made inert: whitespace runs become one
 * space, and markdown punctuation (and a leading list or heading marker) is
 * backslash-escaped, so the text quotes literally in a paragraph, a
 * blockquote or a table cell. */
char *rc_text_md_inline(apr_pool_t *p, const char *s, size_t n);

#endif
