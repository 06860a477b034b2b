/* RagChatBackend builtin: retrieval over the user's uploaded documents with
 * SQLite FTS5, answered through the same stream path as a real backend. */
#ifndef RC_BUILTIN_H
#define RC_BUILTIN_H

#include "http.h"
#include "sse_out.h"
#include "util.h"
#include <jansson.h>

/* Answers the last user message of history (with the earlier turns as
 * context): tokens go to out (rc_sse_out_token) and are appended to answer.
 * Returns 0, or -1 on failure (what was appended is kept). */
int rc_builtin_answer(rc_req *q, json_t *history, const char *thread_id,
                      rc_sse_out *out, rc_buf *answer);

/* Ingestion of one uploaded file, fed as it arrives (upload.c drives it when
 * RagChatBackend is builtin). begin returns NULL and sets *status (415 for a
 * type it cannot read) and *err; write buffers at most the upload limit; end
 * extracts the text, chunks it and stores it for this user. end returns 0, or
 * an HTTP status with *err set. */
typedef struct rc_builtin_doc rc_builtin_doc;
rc_builtin_doc *rc_builtin_doc_begin(rc_req *q, apr_pool_t *p, const char *name,
                                     const char *mime, int *status, const char **err);
int rc_builtin_doc_write(rc_builtin_doc *d, const char *buf, apr_size_t len);
int rc_builtin_doc_end(rc_builtin_doc *d, const char **err);
/* The message shown after an upload to the builtin backend, like a real
 * backend's {"message"}: e.g. "Ingested 2 documents (14 passages)". */
const char *rc_builtin_upload_message(rc_req *q, apr_pool_t *p, int ndocs, int nchunks);

#endif
