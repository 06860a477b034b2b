/* Streaming multipart/form-data scanner (RFC 7578 / RFC 2046) and the
 * re-encoding helpers used by POST B/api/upload. No Apache types.
 *
 * The scanner is fed the body in pieces split anywhere and reports each
 * part's headers and body bytes through callbacks as they arrive. Body bytes
 * are passed as pointers into the caller's buffer (or into a small internal
 * carry holding at most boundary-length+3 held-back bytes), never collected:
 * memory is constant (one bounded header buffer per scanner), whatever the
 * size or number of parts. */
#ifndef RC_MULTIPART_H
#define RC_MULTIPART_H

#include <apr_pools.h>
#include <stddef.h>

#define RC_MP_OK            0
#define RC_MP_ERROR         (-1)   /* malformed body: rc_mp_error() says why */

#define RC_MP_BOUNDARY_MAX  70     /* RFC 2046 */
#define RC_MP_HEADERS_MAX   8192   /* bytes of one part's header block */

typedef struct rc_mp rc_mp;

/* A part's headers are complete. name is the form field name, filename NULL
 * when the part has none (a plain field such as thread_id), otherwise raw as
 * sent (may be empty, hold paths, quotes, any bytes but NUL; an RFC 5987
 * filename* parameter in UTF-8 or ISO-8859-1 wins over filename and is
 * returned decoded to UTF-8); content_type NULL when absent. The strings live
 * in the scanner until the callback returns: copy what you keep. */
typedef int (*rc_mp_part_fn)(void *ctx, const char *name, const char *filename,
                             const char *content_type);
/* Body bytes of the current part, in pieces as they arrive (len > 0). */
typedef int (*rc_mp_data_fn)(void *ctx, const char *buf, size_t len);
/* The current part's body is complete. */
typedef int (*rc_mp_end_fn)(void *ctx);

/* The boundary of a Content-Type header value, or NULL when the value is not
 * multipart/form-data or has no valid boundary (1..70 characters, quoted or
 * not; RFC 2046 characters plus other visible ASCII, no trailing space). */
const char *rc_mp_boundary(apr_pool_t *p, const char *content_type);

/* A scanner for bodies delimited by boundary (as returned by rc_mp_boundary),
 * or NULL when the boundary is not valid. Every callback may be NULL; a
 * callback's non-zero return stops the scanner, and rc_mp_feed / rc_mp_finish
 * then return that value (now and on every later call). Allocates about
 * 2 * RC_MP_HEADERS_MAX bytes from p, once. */
rc_mp *rc_mp_create(apr_pool_t *p, const char *boundary, rc_mp_part_fn on_part,
                    rc_mp_data_fn on_data, rc_mp_end_fn on_part_end, void *ctx);

/* Feeds bytes, split at any position. Returns RC_MP_OK while all is well,
 * including after the closing boundary (the epilogue is ignored: see
 * rc_mp_done), RC_MP_ERROR on a malformed body, or a callback's non-zero
 * code. The preamble before the first boundary is ignored. */
int rc_mp_feed(rc_mp *m, const char *buf, size_t len);

/* End of input: RC_MP_OK when the closing boundary was seen, RC_MP_ERROR
 * ("truncated body") when not, or the earlier failure's code. */
int rc_mp_finish(rc_mp *m);

/* 1 once the closing boundary was seen. */
int rc_mp_done(const rc_mp *m);

/* Why the scanner stopped, or NULL while it did not. */
const char *rc_mp_error(const rc_mp *m);

/* A display-safe file name (never to be used as a path): the last path
 * component (after / or \), control and bidi-override characters dropped,
 * invalid UTF-8 replaced by U+FFFD, leading/trailing dots and spaces trimmed,
 * at most 255 bytes cut on a character boundary keeping a short extension;
 * "file" when nothing remains. raw may be NULL. */
const char *rc_mp_clean_filename(apr_pool_t *p, const char *raw);

/* Re-encoding for the backend: before each part's data the glue writes
 * rc_mp_part_head(), at the end rc_mp_tail(). Every head starts with CRLF
 * (for the first part that is an empty preamble, RFC 2046 §5.1.1), so no
 * part-count state is needed. field, filename and ctype are quoted and
 * escaped (\ and " escaped, control characters including CR/LF dropped);
 * filename and ctype may be NULL to leave the parameter / header out. */
const char *rc_mp_part_head(apr_pool_t *p, const char *boundary, const char *field,
                            const char *filename, const char *ctype);
const char *rc_mp_tail(apr_pool_t *p, const char *boundary);

/* A fresh random boundary ("----RagChat" + 32 hex digits). */
char *rc_mp_new_boundary(apr_pool_t *p);

#endif
