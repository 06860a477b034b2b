/* Built-in backend (placeholder until its issue lands). */
#include "builtin.h"

int rc_builtin_answer(rc_req *q, json_t *history, const char *thread_id,
                      rc_sse_out *out, rc_buf *answer)
{
    static const char msg[] = "The built-in backend is not available in this build.";
    (void)q; (void)history; (void)thread_id;
    rc_buf_appends(answer, msg);
    rc_sse_out_token(out, msg, sizeof(msg) - 1);
    return 0;
}

struct rc_builtin_doc {
    int unused;
};

rc_builtin_doc *rc_builtin_doc_begin(rc_req *q, apr_pool_t *p, const char *name,
                                     const char *mime, int *status, const char **err)
{
    (void)q; (void)p; (void)name; (void)mime;
    *status = 501;
    *err = "the built-in backend is not available in this build";
    return NULL;
}

int rc_builtin_doc_write(rc_builtin_doc *d, const char *buf, apr_size_t len)
{
    (void)d; (void)buf; (void)len;
    return -1;
}

int rc_builtin_doc_end(rc_builtin_doc *d, const char **err)
{
    (void)d;
    *err = "the built-in backend is not available in this build";
    return 501;
}

const char *rc_builtin_upload_message(rc_req *q, apr_pool_t *p, int ndocs, int nchunks)
{
    (void)q; (void)p; (void)ndocs; (void)nchunks;
    return "";
}
