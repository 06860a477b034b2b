/* RagChatBackend builtin: retrieval over the user's uploaded documents with
 * SQLite FTS5, answered through the same stream path as a real backend. */
#ifndef RC_BUILTIN_H
#define RC_BUILTIN_H

#include "http.h"
#include "filter.h"
#include "util.h"
#include <jansson.h>

/* Answers the last user message of history (with the earlier turns as
 * context): tokens go to out (rc_sse_out_token) and are appended to answer.
 * Returns 0, or -1 on failure (what was appended is kept). */
int rc_builtin_answer(rc_req *q, json_t *history, const char *thread_id,
                      rc_sse_out *out, rc_buf *answer);

#endif
