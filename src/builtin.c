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
