/* Decoding of the chunks of an OpenAI-compatible chat-completion stream (the
 * data of each event): a fast scanner for the usual chunk, jansson for the
 * rest. No Apache types. */
#ifndef RC_OPENAI_CHUNK_H
#define RC_OPENAI_CHUNK_H

#include <apr_pools.h>
#include <stddef.h>

/* What one `data:` payload of an OpenAI-compatible stream carries. */
typedef enum {
    RC_DELTA_TOKEN,     /* *text holds a non-empty content piece */
    RC_DELTA_EMPTY,     /* valid chunk without content (role, finish_reason, null) */
    RC_DELTA_DONE,      /* the [DONE] sentinel */
    RC_DELTA_ERROR,     /* {"error": …}: *text holds the backend's message */
    RC_DELTA_INVALID    /* not JSON, or no choices[0].delta: *text says why */
} rc_delta_kind;

rc_delta_kind rc_openai_delta(apr_pool_t *p, const char *data, size_t len,
                              const char **text, size_t *text_len);
/* The same with jansson only (the reference the fast path is tested against). */
rc_delta_kind rc_openai_delta_slow(apr_pool_t *p, const char *data, size_t len,
                                   const char **text, size_t *text_len);

#endif
