/* The backend that answers chats and ingests uploads: a remote RAG backend
 * (RagChatBackend URL, backend_remote*.c) or the built-in retrieval
 * (RagChatBackend builtin, backend_builtin.c), behind one interface. chat.c
 * and upload.c drive it without knowing which one it is. */
#ifndef RC_BACKEND_H
#define RC_BACKEND_H

#include "http.h"
#include "sse_out.h"
#include "buf.h"

#include <jansson.h>

/* How an answer ended. */
typedef enum {
    RC_ANSWER_DONE = 0,
    RC_ANSWER_STOPPED,       /* the user asked to stop */
    RC_ANSWER_UNREACHABLE,   /* connect failed */
    RC_ANSWER_TIMEOUT,       /* connect or idle timeout */
    RC_ANSWER_HTTP_ERROR,    /* non-2xx status */
    RC_ANSWER_BROKEN,        /* cut off, or a transfer error */
    RC_ANSWER_BAD_STREAM,    /* the backend sent an error event or garbage */
    RC_ANSWER_TOO_LONG
} rc_answer_outcome;

/* One answer being streamed. chat.c fills it in and provides the hooks; the
 * backend appends the answer's text to answer and sends it as token events
 * to out. */
typedef struct rc_answer rc_answer;
struct rc_answer {
    rc_req *q;
    request_rec *r;
    json_t *history;             /* [{"role","content"}], the question last */
    const char *thread_id, *step_id;   /* step_id: the assistant's step */
    rc_sse_out *out;
    rc_buf *answer;
    apr_pool_t *scratch;         /* for one read's work; tick clears it */
    const char *error;           /* set by the backend when it ends in failure:
                                  * words for the user, never the backend's */
    const char *detail;          /* what the backend said, for the log only */
    /* The answer begins: the event stream to the browser is opened (until
     * then a failure can still be answered with a JSON error). */
    void (*open)(rc_answer *a);
    /* After each batch of reads: live rendering, the batch's flush, the
     * scratch cleared; while more is to come (more), the stop check. 1 when
     * the user asked to stop. */
    int (*tick)(rc_answer *a, int more);
};

/* One file of an upload, as upload.c sees it. */
typedef struct {
    const char *name;            /* display name: never used as a path */
    const char *mime;
    apr_off_t size;
    void *doc;                   /* the backend's own state of this file */
} rc_upload_file;

/* Bytes one read of the client's body asks for, at most. */
#define RC_UPLOAD_PIECE (256 * 1024)

/* One upload being read from the client (upload.c's part, shared with the
 * backend). The first failure wins: rc_upload_fail records it. */
typedef struct rc_upload rc_upload;
struct rc_upload {
    rc_req *q;
    request_rec *r;
    apr_array_header_t *files;   /* rc_upload_file * */
    apr_off_t received;          /* bytes of the client's body */
    int eos;                     /* the client's body ended */
    int status;
    const char *code, *msg;
    const char *detail;          /* what the backend said, for the log only */
    /* One read of the client's body into the multipart scanner, which calls
     * the backend's file_begin/file_write/body_end: 1 when something was
     * read, 0 when a non-blocking read found nothing, -1 on failure. */
    int (*read)(rc_upload *u, apr_read_type_e block);
    void *backend;               /* the backend's own state of this upload */
};

/* Records the upload's failure (the first one only); returns -1. (upload.c) */
int rc_upload_fail(rc_upload *u, int status, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* A backend. The upload calls come in this order: upload_start once;
 * file_begin, then file_write for its bytes, for each file part as the body
 * is scanned; body_end when the body ended; send until the whole body was
 * read (and delivered); finish for the message shown to the user. Each
 * returns 0, or -1 after rc_upload_fail (finish: NULL). */
typedef struct {
    const char *name;            /* "remote" or "builtin" */
    rc_answer_outcome (*answer)(rc_answer *a);
    int (*upload_start)(rc_upload *u);
    int (*file_begin)(rc_upload *u, rc_upload_file *f);
    int (*file_write)(rc_upload *u, rc_upload_file *f, const char *data, size_t len);
    int (*body_end)(rc_upload *u);
    int (*send)(rc_upload *u);
    const char *(*finish)(rc_upload *u);
} rc_backend;

extern const rc_backend rc_backend_remote;
extern const rc_backend rc_backend_builtin;

/* The backend of this location (RagChatBackend). */
const rc_backend *rc_backend_of(const rc_dir_conf *conf);

/* curl_global_init, once in the parent (post_config). */
int rc_backend_global_init(void);
/* Per child: the thread key of the remote backend's reused handles. */
void rc_backend_child_init(apr_pool_t *p);

#endif
