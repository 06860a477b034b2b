/* JSON helpers: jansson values tied to APR pools, and a fast string escaper. */
#ifndef RC_JSON_H
#define RC_JSON_H

#include <apr_pools.h>
#include <jansson.h>
#include "buf.h"

/* Ties j to p: the pool's cleanup drops the reference. Returns j. */
json_t *rc_json_pool(apr_pool_t *p, json_t *j);
/* Parses len bytes into an object or array tied to p; NULL (and *err set, in p)
 * when the text is not JSON. */
json_t *rc_json_parse(apr_pool_t *p, const char *text, size_t len, const char **err);
/* Compact serialisation of j, in p. */
char *rc_json_dump(apr_pool_t *p, const json_t *j);
/* json_string for UTF-8 that may be invalid: invalid sequences become U+FFFD. */
json_t *rc_json_string(const char *s);
json_t *rc_json_stringn(const char *s, size_t n);
/* Object member as a string, or NULL when absent or not a string. */
const char *rc_json_get_str(const json_t *obj, const char *key);

/* Appends s as a quoted JSON string (control characters, quotes, backslashes,
 * U+2028/2029 escaped; invalid UTF-8 replaced by U+FFFD). */
int rc_json_append_string(rc_buf *b, const char *s, size_t n);

#endif
