/* POST B/api/upload: documents streamed to the backend as they arrive.
 *
 * The browser's multipart body is read in bounded pieces, scanned on the fly
 * (rc_mp) and re-encoded under a new boundary as the single field `files`,
 * which libcurl sends to BACKEND/upload with chunked transfer-encoding from
 * inside its read callback: the module never holds more than one piece of
 * the body, however large the files. Limits (size, count, types) are checked
 * on the way; the backend connection opens only once the first file part's
 * headers were read and allowed, and a later violation aborts the transfer,
 * so the backend sees a truncated body. Nothing is recorded unless the whole
 * body arrived and the backend accepted it: then one transaction writes the
 * user's step, an element per file and the assistant's step with the
 * backend's message. With RagChatBackend builtin the parts go to the built-in
 * ingestion instead of a backend. */
#include "upload.h"
#include "backend.h"
#include "builtin.h"
#include "json.h"
#include "multipart.h"
#include "store.h"
#include "util.h"

#include "http_log.h"
#include "http_protocol.h"
#include "http_request.h"
#include "apr_strings.h"

#include <curl/curl.h>

APLOG_USE_MODULE(ragchat);

#define RC_UP_PIECE        (256 * 1024)   /* bytes asked of the client per read */
#define RC_UP_CURL_BUF     (256 * 1024)   /* libcurl's upload buffer */
#define RC_UP_MAX_ANSWER   65536          /* bytes kept of the backend's answer */
#define RC_UP_TID_MAX      128            /* a thread id field longer is refused */
#define RC_UP_NAME_MAX     200            /* bytes of a thread name made of file names */

typedef struct {
    const char *name;          /* display name: never used as a path */
    const char *mime;
    apr_off_t size;
    rc_builtin_doc *doc;       /* builtin backend only */
} up_file;

typedef enum { PART_SKIP = 0, PART_FILE, PART_THREAD } part_kind;

typedef struct {
    rc_req *q;
    request_rec *r;
    rc_mp *mp;
    int builtin;
    const char *out_boundary;      /* the boundary of the body sent to the backend */
    apr_bucket_brigade *bb;
    apr_off_t limit, received;
    int max_files;
    int eos;                       /* the client's body ended */
    int all_sent;                  /* the closing boundary went out */

    apr_array_header_t *files;     /* up_file */
    part_kind part;
    up_file *cur;
    rc_buf *tid;                   /* value of the thread_id field */
    int tid_seen, tid_checked;
    rc_thread *thread;

    /* Re-encoded bytes for libcurl: written straight into curl's buffer while
     * it has room, the rest kept in pending (at most about one piece). */
    char *dst;
    size_t dst_room, dst_len;
    rc_buf *pending;
    size_t pending_off;

    /* The first failure wins; later ones are consequences. */
    int status;
    const char *code, *msg;
    int client_gone;

    CURL *curl;
    long http_status;
    rc_buf *answer;
    apr_time_t last_activity, idle;
    curl_off_t last_ul, last_dl;
    int idle_timeout;
    apr_time_t started;
} upload_ctx;

static int fail(upload_ctx *u, int status, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int fail(upload_ctx *u, int status, const char *code, const char *fmt, ...)
{
    va_list ap;

    if (!u->status) {
        u->status = status;
        u->code = code;
        va_start(ap, fmt);
        u->msg = apr_pvsprintf(u->r->pool, fmt, ap);
        va_end(ap);
    }
    return -1;
}

static const char *allowed_types(upload_ctx *u)
{
    const char *const *t = rc_conf_upload_types(u->r->pool, u->q->conf);
    const char *list = *t ? *t++ : "";

    for (; *t; t++) {
        list = apr_pstrcat(u->r->pool, list, " ", *t, NULL);
    }
    return list;
}

/* ---- the re-encoded body --------------------------------------------------- */

static int emit(upload_ctx *u, const char *data, size_t len)
{
    if (u->pending->len == u->pending_off && u->dst_len < u->dst_room) {
        size_t n = u->dst_room - u->dst_len;
        if (n > len) {
            n = len;
        }
        memcpy(u->dst + u->dst_len, data, n);
        u->dst_len += n;
        data += n;
        len -= n;
    }
    if (len && rc_buf_append(u->pending, data, len)) {
        return fail(u, HTTP_INTERNAL_SERVER_ERROR, "no_memory", "out of memory");
    }
    return 0;
}

static int emits(upload_ctx *u, const char *s)
{
    return emit(u, s, strlen(s));
}

/* ---- multipart callbacks ----------------------------------------------------- */

static int on_part(void *ctx, const char *name, const char *filename, const char *ctype)
{
    upload_ctx *u = ctx;
    request_rec *r = u->r;
    up_file *f;

    u->cur = NULL;
    u->part = PART_SKIP;
    if (!filename) {
        if (name && strcmp(name, "thread_id") == 0) {
            if (u->tid_seen) {
                return fail(u, HTTP_BAD_REQUEST, "bad_thread_id",
                            "the thread_id field is given twice");
            }
            u->tid_seen = 1;
            u->part = PART_THREAD;
        }
        return 0;   /* other fields are ignored */
    }
    if (!name || strcmp(name, "files") != 0) {
        return fail(u, HTTP_BAD_REQUEST, "bad_field",
                    "files must be sent in the field \"files\", not \"%s\"",
                    name ? name : "");
    }
    if (!*filename) {
        return 0;   /* an empty file input: browsers send a part without a name */
    }
    f = apr_pcalloc(r->pool, sizeof(*f));
    f->name = rc_mp_clean_filename(r->pool, filename);
    f->mime = ctype && *ctype ? apr_pstrdup(r->pool, ctype) : "application/octet-stream";
    if (u->files->nelts >= u->max_files) {
        return fail(u, HTTP_REQUEST_ENTITY_TOO_LARGE, "too_many_files",
                    "%s: too many files, at most %d per upload (RagChatUploadMaxFiles)",
                    f->name, u->max_files);
    }
    if (!rc_conf_upload_allowed(r->pool, u->q->conf, f->name, f->mime)) {
        return fail(u, HTTP_UNSUPPORTED_MEDIA_TYPE, "unsupported_type",
                    "%s: files of type %s are not accepted (RagChatUploadTypes: %s)",
                    f->name, f->mime, allowed_types(u));
    }
    if (u->builtin) {
        int status = HTTP_INTERNAL_SERVER_ERROR;
        const char *err = NULL;
        f->doc = rc_builtin_doc_begin(u->q, r->pool, f->name, f->mime, &status, &err);
        if (!f->doc) {
            return fail(u, status, status == HTTP_UNSUPPORTED_MEDIA_TYPE ? "unsupported_type"
                                                                         : "ingestion",
                        "%s: %s", f->name, err ? err : "the document cannot be ingested");
        }
    }
    else if (emits(u, rc_mp_part_head(r->pool, u->out_boundary, "files", f->name, f->mime))) {
        return -1;
    }
    APR_ARRAY_PUSH(u->files, up_file *) = f;
    u->cur = f;
    u->part = PART_FILE;
    return 0;
}

static int on_data(void *ctx, const char *data, size_t len)
{
    upload_ctx *u = ctx;

    switch (u->part) {
    case PART_FILE:
        u->cur->size += (apr_off_t)len;
        if (u->builtin) {
            if (rc_builtin_doc_write(u->cur->doc, data, len)) {
                return fail(u, HTTP_REQUEST_ENTITY_TOO_LARGE, "too_large",
                            "%s: the document is too large to ingest", u->cur->name);
            }
            return 0;
        }
        return emit(u, data, len);
    case PART_THREAD:
        if (u->tid->len + len > RC_UP_TID_MAX) {
            return fail(u, HTTP_BAD_REQUEST, "bad_thread_id", "the thread_id field is too long");
        }
        rc_buf_append(u->tid, data, len);
        return 0;
    default:
        return 0;
    }
}

static int on_part_end(void *ctx)
{
    upload_ctx *u = ctx;

    u->cur = NULL;
    u->part = PART_SKIP;
    return 0;
}

/* ---- reading the client's body ----------------------------------------------- */

/* Feeds the parser one read of the client's body (blocking or not). Returns
 * 1 when something was read, 0 when a non-blocking read found nothing, -1
 * on failure (u->status set). At the end of the body the parser is finished
 * and the closing boundary emitted. */
static int read_piece(upload_ctx *u, apr_read_type_e block)
{
    request_rec *r = u->r;
    apr_bucket *e;
    apr_status_t rv;
    int got = 0;

    rv = ap_get_brigade(r->input_filters, u->bb, AP_MODE_READBYTES, block, RC_UP_PIECE);
    if (block == APR_NONBLOCK_READ && (APR_STATUS_IS_EAGAIN(rv)
                                       || (rv == APR_SUCCESS && APR_BRIGADE_EMPTY(u->bb)))) {
        return 0;
    }
    if (rv != APR_SUCCESS) {
        apr_brigade_cleanup(u->bb);
        if (r->connection->aborted || APR_STATUS_IS_EOF(rv) || APR_STATUS_IS_ECONNRESET(rv)
            || rv == APR_INCOMPLETE || APR_STATUS_IS_ECONNABORTED(rv)) {
            u->client_gone = 1;
            return fail(u, HTTP_BAD_REQUEST, "incomplete",
                        "the client went away after %" APR_OFF_T_FMT " bytes of the upload",
                        u->received);
        }
        return fail(u, ap_map_http_request_error(rv, HTTP_BAD_REQUEST), "bad_request",
                    "could not read the request body");
    }
    for (e = APR_BRIGADE_FIRST(u->bb); e != APR_BRIGADE_SENTINEL(u->bb); e = APR_BUCKET_NEXT(e)) {
        const char *d;
        apr_size_t n;

        if (APR_BUCKET_IS_EOS(e)) {
            u->eos = 1;
            break;
        }
        if (APR_BUCKET_IS_METADATA(e)) {
            continue;
        }
        if ((rv = apr_bucket_read(e, &d, &n, APR_BLOCK_READ)) != APR_SUCCESS) {
            apr_brigade_cleanup(u->bb);
            return fail(u, HTTP_BAD_REQUEST, "bad_request", "could not read the request body");
        }
        got = 1;
        if (u->received + (apr_off_t)n > u->limit) {
            apr_brigade_cleanup(u->bb);
            return fail(u, HTTP_REQUEST_ENTITY_TOO_LARGE, "too_large",
                        "%s%sthe upload is larger than %" APR_OFF_T_FMT
                        " bytes (RagChatUploadMaxSize)",
                        u->cur ? u->cur->name : "", u->cur ? ": " : "", u->limit);
        }
        u->received += (apr_off_t)n;
        if (n && rc_mp_feed(u->mp, d, n) != 0) {
            apr_brigade_cleanup(u->bb);
            return u->status ? -1 : fail(u, HTTP_BAD_REQUEST, "bad_multipart",
                                         "malformed multipart body: %s", rc_mp_error(u->mp));
        }
        if (u->status) {
            apr_brigade_cleanup(u->bb);
            return -1;
        }
    }
    apr_brigade_cleanup(u->bb);
    if (u->eos) {
        if (rc_mp_finish(u->mp) != 0) {
            return u->status ? -1 : fail(u, HTTP_BAD_REQUEST, "bad_multipart",
                                         "malformed multipart body: %s", rc_mp_error(u->mp));
        }
        if (u->status) {
            return -1;
        }
        if (!u->files->nelts) {
            return fail(u, HTTP_BAD_REQUEST, "no_files",
                        "the upload holds no file (multipart field \"files\")");
        }
        if (!u->builtin && emits(u, rc_mp_tail(r->pool, u->out_boundary))) {
            return -1;
        }
        got = 1;
    }
    return got;
}

/* ---- the backend ------------------------------------------------------------- */

static size_t on_read(char *buf, size_t size, size_t nitems, void *ctx)
{
    upload_ctx *u = ctx;
    size_t avail;

    u->dst = buf;
    u->dst_room = size * nitems;
    u->dst_len = 0;
    if (u->status) {
        return CURL_READFUNC_ABORT;
    }
    /* What is left over from the last read goes first. */
    avail = u->pending->len - u->pending_off;
    if (avail) {
        size_t n = avail < u->dst_room ? avail : u->dst_room;
        memcpy(buf, u->pending->data + u->pending_off, n);
        u->dst_len = n;
        u->pending_off += n;
        if (u->pending_off == u->pending->len) {
            rc_buf_clear(u->pending);
            u->pending_off = 0;
        }
    }
    /* One blocking read when there is nothing to send, then whatever the
     * client already sent, until curl's buffer is full. */
    while (!u->eos && u->dst_len < u->dst_room && !u->pending->len) {
        int rv = read_piece(u, u->dst_len ? APR_NONBLOCK_READ : APR_BLOCK_READ);
        if (rv < 0) {
            return CURL_READFUNC_ABORT;
        }
        if (rv == 0 && u->dst_len) {
            break;   /* nothing more without waiting: send what there is */
        }
    }
    u->dst = NULL;
    u->last_activity = apr_time_now();
    if (u->eos && !u->pending->len) {
        u->all_sent = 1;
    }
    return u->dst_len;   /* 0 only at the end of the body */
}

static size_t on_header(char *buf, size_t size, size_t n, void *ctx)
{
    upload_ctx *u = ctx;

    (void)buf;
    u->last_activity = apr_time_now();
    return size * n;
}

static size_t on_write(char *buf, size_t size, size_t n, void *ctx)
{
    upload_ctx *u = ctx;
    size_t len = size * n, room = RC_UP_MAX_ANSWER - u->answer->len;

    u->last_activity = apr_time_now();
    rc_buf_append(u->answer, buf, len < room ? len : room);
    return len;
}

/* Idle timeout: no byte sent to nor received from the backend for too long.
 * Time spent waiting for the client does not count: on_read marks activity. */
static int on_progress(void *ctx, curl_off_t dltotal, curl_off_t dlnow,
                       curl_off_t ultotal, curl_off_t ulnow)
{
    upload_ctx *u = ctx;
    apr_time_t now = apr_time_now();

    (void)dltotal;
    (void)ultotal;
    if (ulnow != u->last_ul || dlnow != u->last_dl) {
        u->last_ul = ulnow;
        u->last_dl = dlnow;
        u->last_activity = now;
        return 0;
    }
    if (now - u->last_activity > u->idle) {
        u->idle_timeout = 1;
        return 1;
    }
    return 0;
}

static CURL *make_curl(upload_ctx *u)
{
    /* The length is unknown until the client's body ended: chunked. */
    const char *headers[] = {
        apr_pstrcat(u->r->pool, "Content-Type: multipart/form-data; boundary=",
                    u->out_boundary, NULL),
        "Transfer-Encoding: chunked", "Accept: application/json", NULL
    };
    CURL *h = rc_backend_curl(u->r, u->q->conf, "/upload", headers);

    if (!h) {
        return NULL;
    }
    curl_easy_setopt(h, CURLOPT_POST, 1L);
    curl_easy_setopt(h, CURLOPT_READFUNCTION, on_read);
    curl_easy_setopt(h, CURLOPT_READDATA, u);
    curl_easy_setopt(h, CURLOPT_UPLOAD_BUFFERSIZE, (long)RC_UP_CURL_BUF);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, u);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_write);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, u);
    curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, on_progress);
    curl_easy_setopt(h, CURLOPT_XFERINFODATA, u);
    u->curl = h;
    return h;
}

/* Sends the body to the backend while it arrives. Returns 0 when the backend
 * accepted it (u->answer holds its answer), else -1 with u->status set. */
static int run_backend(upload_ctx *u)
{
    request_rec *r = u->r;
    CURLcode code;
    const char *m;

    if (!make_curl(u)) {
        return fail(u, HTTP_INTERNAL_SERVER_ERROR, "internal", "libcurl failed to initialise");
    }
    u->idle = apr_time_from_sec(rc_conf_idle_timeout(u->q->conf));
    u->last_activity = apr_time_now();
    code = curl_easy_perform(u->curl);
    curl_easy_getinfo(u->curl, CURLINFO_RESPONSE_CODE, &u->http_status);
    if (u->status) {
        /* The client's side failed (a limit, bad multipart, gone): the
         * transfer was aborted and the backend saw a truncated body. */
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r,
                      "RC0410: upload to the backend aborted after %" APR_OFF_T_FMT
                      " bytes: %s", u->received, u->msg);
        return -1;
    }
    if (u->idle_timeout || code == CURLE_OPERATION_TIMEDOUT) {
        return fail(u, HTTP_GATEWAY_TIME_OUT, "backend_timeout",
                    u->http_status ? "the backend stopped answering (idle timeout)"
                                   : "the backend did not answer in time");
    }
    if (u->http_status >= 300 || (u->http_status && u->http_status < 200)) {
        m = rc_backend_error_message(r->pool, u->answer->data, u->answer->len);
        return fail(u, HTTP_BAD_GATEWAY, "backend_error", "the backend answered %ld%s%s",
                    u->http_status, m ? ": " : "", m ? m : "");
    }
    switch (code) {
    case CURLE_OK:
        break;
    case CURLE_COULDNT_CONNECT:
    case CURLE_COULDNT_RESOLVE_HOST:
        return fail(u, HTTP_BAD_GATEWAY, "backend_error", "the backend cannot be reached");
    default:
        return fail(u, HTTP_BAD_GATEWAY, "backend_error", "the backend connection broke off: %s",
                    curl_easy_strerror(code));
    }
    if (!u->all_sent) {
        return fail(u, HTTP_BAD_GATEWAY, "backend_error",
                    "the backend answered before the upload ended");
    }
    return 0;
}

/* ---- the database ------------------------------------------------------------- */

/* Checks that the thread named in the form belongs to the user. */
static int check_thread(upload_ctx *u)
{
    rc_req *q = u->q;
    request_rec *r = u->r;
    const char *id;
    rc_db *db;
    int failed = 0;

    u->tid_checked = 1;
    id = rc_buf_pstrdup(r->pool, u->tid);
    apr_collapse_spaces((char *)id, id);
    if (!*id) {
        return 0;     /* an empty field means a new thread */
    }
    db = rc_db_open(r, r->pool);
    if (!db || !rc_req_user_id(q, db)) {
        rc_db_release(db);
        return fail(u, HTTP_SERVICE_UNAVAILABLE, "database", "the database is unavailable");
    }
    u->thread = rc_store_thread_get(db, id, q->user_id, q->user, &failed);
    rc_db_release(db);
    if (!u->thread) {
        return failed ? fail(u, HTTP_SERVICE_UNAVAILABLE, "database", "the database is unavailable")
                      : fail(u, HTTP_NOT_FOUND, "not_found", "no such thread");
    }
    return 0;
}

static const char *file_names(upload_ctx *u, size_t max)
{
    rc_buf *b = rc_buf_make(u->r->pool, 256);
    int i;

    for (i = 0; i < u->files->nelts; i++) {
        if (i) {
            rc_buf_appends(b, ", ");
        }
        rc_buf_appends(b, APR_ARRAY_IDX(u->files, i, up_file *)->name);
    }
    if (max && b->len > max) {
        b->len = rc_utf8_floor(b->data, max);
        rc_buf_appends(b, "…");
    }
    return rc_buf_pstrdup(u->r->pool, b);
}

/* One transaction: the thread when new, the user's step, an element per file,
 * the assistant's step. */
static int record(upload_ctx *u, const char *message, const char **user_step,
                  const char **asst_step)
{
    rc_req *q = u->q;
    request_rec *r = u->r;
    apr_pool_t *p = r->pool;
    apr_dbd_transaction_t *tx;
    apr_time_t now = apr_time_now();
    rc_thread *t = u->thread;
    rc_step s;
    rc_db *db;
    int rv, i, new_thread = 0;

    db = rc_db_open(r, p);
    if (!db || !rc_req_user_id(q, db)) {
        rc_db_release(db);
        return -1;
    }
    if (!t) {
        t = rc_store_thread_new(db, q->user_id, q->user, file_names(u, RC_UP_NAME_MAX));
        new_thread = 1;
    }
    u->thread = t;
    *user_step = rc_uuid4(p);
    *asst_step = rc_uuid4(p);
    rv = rc_db_begin(db, &tx);
    if (!rv) {
        rv = new_thread && rc_store_thread_insert(db, t);

        memset(&s, 0, sizeof(s));
        s.id = *user_step;
        s.thread_id = t->id;
        s.type = "user_message";
        s.name = q->user;
        s.output = apr_pstrcat(p, "Uploaded: ", file_names(u, 0), NULL);
        s.metadata = "{}";
        s.created = s.start = rc_timestamp(p, u->started);
        s.end = rc_timestamp(p, now);
        rv = rv || rc_store_step_insert(db, &s);

        for (i = 0; !rv && i < u->files->nelts; i++) {
            up_file *f = APR_ARRAY_IDX(u->files, i, up_file *);
            rc_element e;
            memset(&e, 0, sizeof(e));
            e.id = rc_uuid4(p);
            e.thread_id = t->id;
            e.for_id = *user_step;
            e.name = f->name;
            e.mime = f->mime;
            e.size = apr_off_t_toa(p, f->size);
            e.type = "file";
            rv = rc_store_element_insert(db, &e);
        }

        memset(&s, 0, sizeof(s));
        s.id = *asst_step;
        s.thread_id = t->id;
        s.type = "assistant_message";
        s.name = rc_conf_assistant(q->conf);
        s.output = message;
        s.metadata = "{}";
        /* after the user's step, which started earlier */
        s.created = s.start = s.end = rc_timestamp(p, now > u->started ? now : u->started + 1);
        rv = rv || rc_store_step_insert(db, &s);
        if (rc_db_end(db, tx, rv) && !rv) {
            rv = -1;
        }
    }
    rc_db_release(db);
    return rv;
}

/* ---- the handler ------------------------------------------------------------- */

static int send_failure(upload_ctx *u)
{
    request_rec *r = u->r;
    int level = u->status >= 500 ? (u->status == HTTP_BAD_GATEWAY
                                    || u->status == HTTP_GATEWAY_TIME_OUT
                                    ? APLOG_WARNING : APLOG_ERR)
                                 : APLOG_INFO;

    /* An unread rest of the body is not worth reading: close afterwards. */
    if (!u->eos) {
        r->connection->keepalive = AP_CONN_CLOSE;
    }
    ap_log_rerror(APLOG_MARK, level, 0, r, "RC0401: upload refused (%d %s, %d file(s), %"
                  APR_OFF_T_FMT " bytes read; nothing recorded): %s",
                  u->status, u->code, u->files->nelts, u->received, u->msg);
    return rc_send_json(r, u->status,
                        json_pack("{s:{s:s,s:o}}", "error", "code", u->code,
                                  "message", rc_json_string(u->msg)));
}

static int check_request(upload_ctx *u, const char **boundary)
{
    request_rec *r = u->r;
    const char *ct = apr_table_get(r->headers_in, "Content-Type");
    const char *cl = apr_table_get(r->headers_in, "Content-Length");

    if (!ct || strncasecmp(ct, "multipart/form-data", 19) != 0) {
        return fail(u, HTTP_UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type",
                    "send the files as multipart/form-data");
    }
    if (!(*boundary = rc_mp_boundary(r->pool, ct))) {
        return fail(u, HTTP_BAD_REQUEST, "bad_multipart",
                    "the multipart Content-Type has no valid boundary");
    }
    if (cl) {
        char *end;
        apr_off_t n;
        if (apr_strtoff(&n, cl, &end, 10) != APR_SUCCESS || *end || n < 0) {
            return fail(u, HTTP_BAD_REQUEST, "bad_request", "invalid Content-Length");
        }
        if (n > u->limit) {
            return fail(u, HTTP_REQUEST_ENTITY_TOO_LARGE, "too_large",
                        "the upload (%" APR_OFF_T_FMT " bytes) is larger than %" APR_OFF_T_FMT
                        " bytes (RagChatUploadMaxSize)", n, u->limit);
        }
    }
    return 0;
}

int rc_handle_upload(rc_req *q)
{
    request_rec *r = q->r;
    upload_ctx *u = apr_pcalloc(r->pool, sizeof(*u));
    const char *boundary = NULL, *message, *user_step = NULL, *asst_step = NULL;
    json_t *files, *resp;
    int i;

    u->q = q;
    u->r = r;
    u->started = apr_time_now();
    u->builtin = rc_conf_is_builtin(q->conf);
    u->limit = rc_conf_upload_max_size(q->conf);
    u->max_files = rc_conf_upload_max_files(q->conf);
    u->files = apr_array_make(r->pool, 4, sizeof(up_file *));
    u->tid = rc_buf_make(r->pool, RC_UP_TID_MAX + 1);
    u->pending = rc_buf_make(r->pool, RC_UP_PIECE + 4096);
    u->answer = rc_buf_make(r->pool, 1024);
    u->bb = apr_brigade_create(r->pool, r->connection->bucket_alloc);

    if (check_request(u, &boundary)) {
        return send_failure(u);
    }
    u->out_boundary = rc_mp_new_boundary(r->pool);
    u->mp = rc_mp_create(r->pool, boundary, on_part, on_data, on_part_end, u);
    if (!u->mp) {
        fail(u, HTTP_BAD_REQUEST, "bad_multipart", "the multipart boundary is not usable");
        return send_failure(u);
    }

    /* Before the backend: up to the first allowed file part (or the end). */
    while (!u->status && !u->eos && !u->files->nelts) {
        read_piece(u, APR_BLOCK_READ);
    }
    if (!u->status && u->tid_seen) {
        check_thread(u);
    }
    if (u->status) {
        return send_failure(u);
    }

    if (u->builtin) {
        while (!u->status && !u->eos) {
            read_piece(u, APR_BLOCK_READ);
        }
    }
    else {
        run_backend(u);
    }
    if (!u->status && u->tid_seen && !u->tid_checked) {
        check_thread(u);   /* the field came after the files */
    }
    if (u->status) {
        return send_failure(u);
    }

    if (u->builtin) {
        int ndocs = 0;
        for (i = 0; i < u->files->nelts; i++) {
            up_file *f = APR_ARRAY_IDX(u->files, i, up_file *);
            const char *err = NULL;
            int st = rc_builtin_doc_end(f->doc, &err);
            if (st) {
                fail(u, st, "ingestion", "%s: %s", f->name,
                     err ? err : "the document could not be ingested");
                return send_failure(u);
            }
            ndocs++;
        }
        message = rc_builtin_upload_message(q, r->pool, ndocs, 0);
    }
    else {
        message = rc_backend_json_message(r->pool, u->answer->data, u->answer->len);
        if (!message) {
            ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r,
                          "RC0402: the backend accepted the upload without a message");
            message = apr_psprintf(r->pool, "Uploaded %d document%s", u->files->nelts,
                                   u->files->nelts == 1 ? "" : "s");
        }
    }

    if (record(u, message, &user_step, &asst_step)) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r,
                      "RC0403: the upload of %s was ingested but could not be recorded",
                      file_names(u, 0));
        return rc_send_json(r, HTTP_SERVICE_UNAVAILABLE,
                            json_pack("{s:{s:s,s:s}}", "error", "code", "database",
                                      "message", "the upload was ingested but could not be "
                                      "recorded"));
    }
    ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r,
                  "RC0404: %d file(s), %" APR_OFF_T_FMT " bytes uploaded to thread %s",
                  u->files->nelts, u->received, u->thread->id);

    files = json_array();
    for (i = 0; i < u->files->nelts; i++) {
        up_file *f = APR_ARRAY_IDX(u->files, i, up_file *);
        json_array_append_new(files, json_pack("{s:o,s:I,s:o}", "name", rc_json_string(f->name),
                                               "size", (json_int_t)f->size,
                                               "mime", rc_json_string(f->mime)));
    }
    resp = json_pack("{s:s,s:s,s:o,s:o}", "thread_id", u->thread->id, "step_id", asst_step,
                     "message", rc_json_string(message), "files", files);
    return rc_send_json(r, HTTP_OK, resp);
}
