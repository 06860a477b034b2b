/* The thread search's query: what the user typed, as terms, and those terms
 * in the forms the two databases' trigram indexes take. */
#ifndef RC_SEARCH_QUERY_H
#define RC_SEARCH_QUERY_H

#include <apr_pools.h>
#include <apr_tables.h>

/* Terms one search uses at most (the first ones typed). */
#define RC_SEARCH_TERMS_MAX 4
/* The shortest term a trigram index finds, in characters. */
#define RC_SEARCH_TERM_MIN 3

typedef struct {
    apr_array_header_t *terms;   /* const char *: words and "quoted phrases", unquoted */
    int short_only;              /* the one term is shorter than RC_SEARCH_TERM_MIN
                                    characters: no trigram, found by a scan */
} rc_search_terms;

/* The terms of q: words split on white space, a "quoted phrase" one term
 * (an unclosed quote runs to the end), all required, at most
 * RC_SEARCH_TERMS_MAX. When a word is shorter than RC_SEARCH_TERM_MIN
 * characters ("chat 4", "a cat"), the query as a whole (quotes dropped, white
 * space folded) is the one term: a phrase. NULL when q holds no term. In p. */
rc_search_terms *rc_search_parse(apr_pool_t *p, const char *q);

/* An FTS5 MATCH expression: every term as a quoted string ("" for a quote),
 * all required. */
char *rc_search_fts5(apr_pool_t *p, const rc_search_terms *st);

/* A PostgreSQL regular expression (ARE) matching any of the terms, as text:
 * the punctuation of the terms escaped. */
char *rc_search_regex(apr_pool_t *p, const rc_search_terms *st);

/* text with RC_SEARCH_MARK_ON/OFF around each occurrence of term (ASCII
 * letters without case, other bytes as they are). In p. */
#define RC_SEARCH_MARK_ON  '\x02'
#define RC_SEARCH_MARK_OFF '\x03'
char *rc_search_mark(apr_pool_t *p, const char *text, const char *term);
/* text with RC_SEARCH_MARK_ON/OFF around each occurrence of any of st's
 * terms (the longest at a place), without the case of Latin, Greek and
 * Cyrillic letters; *marked says whether any was. In p. */
char *rc_search_mark_terms(apr_pool_t *p, const char *text, const rc_search_terms *st,
                           int *marked);

#endif
