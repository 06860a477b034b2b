/* UTF-8: the one decoder, encoder and validator of the module.  Strict as
 * RFC 3629 is: overlong forms, UTF-16 surrogates (U+D800..U+DFFF) and code
 * points above U+10FFFF are invalid, so is a sequence cut short by the end of
 * the input.  Callers choose what invalid input becomes: rc_utf8_decode says
 * "invalid" (0), rc_utf8_next and the sanitizer put U+FFFD for each byte that
 * starts no valid sequence. */
#ifndef RC_UTF8_H
#define RC_UTF8_H

#include <apr_pools.h>
#include <stddef.h>

/* Length (1..4) of the valid sequence at s, n bytes available, with its code
 * point in *cp when cp is set; 0 when s starts no valid sequence (or n is 0). */
size_t rc_utf8_decode(const unsigned char *s, size_t n, apr_uint32_t *cp);

/* One code point from s (n bytes left, n >= 1); an invalid or truncated
 * sequence gives U+FFFD and consumes one byte, so a loop always advances. */
apr_uint32_t rc_utf8_next(const unsigned char *s, apr_size_t n, apr_size_t *used);

/* Writes c as UTF-8 at o (room for 4 bytes); returns the byte count (1..4).
 * A surrogate or a value above U+10FFFF is written as U+FFFD. */
int rc_utf8_put(apr_uint32_t c, char *o);

/* Bytes of s[0..n) that start no valid UTF-8 sequence (each becomes U+FFFD,
 * 3 bytes, when repaired). */
size_t rc_utf8_invalid_bytes(const char *s, size_t n);

/* Copy of s[0..n) with each byte that starts no valid sequence replaced by
 * U+FFFD, NUL-terminated, in p. */
char *rc_utf8_sanitize(apr_pool_t *p, const char *s, size_t n);

/* Length of the longest prefix of s[0..n) that ends on a UTF-8 character
 * boundary, so a truncated string never splits a character. */
size_t rc_utf8_floor(const char *s, size_t n);

#endif
