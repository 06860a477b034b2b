/* POST B/api/upload: documents streamed to the backend as they arrive.
 *
 * The browser's multipart body is read in bounded pieces and scanned on the
 * fly (rc_mp); each file part goes to the backend (rc_backend_of) as it is
 * scanned: a remote backend gets it re-encoded and streamed to BACKEND/upload
 * (backend_remote_upload.c), the built-in one buffers and indexes it. Limits
 * (size, count, types) are checked on the way; the backend is involved only
 * once the first file part's headers were read and allowed, and a later
 * violation aborts the transfer, so a remote backend sees a truncated body.
 * Nothing is recorded unless the whole body arrived and the backend accepted
 * it: then one transaction writes the user's step, an element per file and
 * the assistant's step with the backend's message. */
#include "upload.h"
#include "backend.h"
#include "conversation.h"
#include "json.h"
#include "multipart.h"
#include "store.h"
#include "buf.h"
#include "ids.h"
#include "utf8.h"

#include "http_log.h"
#include "http_protocol.h"
#include "http_request.h"
#include "apr_strings.h"

APLOG_USE_MODULE(ragchat);

#define RC_UP_TID_MAX      128            /* a thread id field longer is refused */
#define RC_UP_NAME_MAX     200            /* bytes of a thread name made of file names */

typedef enum { PART_SKIP = 0, PART_FILE, PART_THREAD } part_kind;

typedef struct {
    rc_upload up;                  /* what the backend sees */
    const rc_backend *be;
    rc_mp *mp;
    apr_bucket_brigade *bb;
    apr_off_t limit;
    int max_files;

    part_kind part;
    rc_upload_file *cur;
    rc_buf *tid;                   /* value of the thread_id field */
    int tid_seen, tid_checked;
    rc_thread *thread;
    int client_gone;
    apr_time_t started;
} upload_ctx;

/* The first failure wins; later ones are consequences. */
#define fail(u, ...) rc_upload_fail(&(u)->up, __VA_ARGS__)

int rc_upload_fail(rc_upload *u, int status, const char *code, const char *fmt, ...)
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
    const char *const *t = rc_conf_upload_types(u->up.r->pool, u->up.q->conf);
    const char *list = *t ? *t++ : "";

    for (; *t; t++) {
        list = apr_pstrcat(u->up.r->pool, list, " ", *t, NULL);
    }
    return list;
}

/* ---- multipart callbacks ----------------------------------------------------- */

static int on_part(void *ctx, const char *name, const char *filename, const char *ctype)
{
    upload_ctx *u = ctx;
    request_rec *r = u->up.r;
    rc_upload_file *f;

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
    if (u->up.files->nelts >= u->max_files) {
        return fail(u, HTTP_REQUEST_ENTITY_TOO_LARGE, "too_many_files",
                    "%s: too many files, at most %d per upload (RagChatUploadMaxFiles)",
                    f->name, u->max_files);
    }
    if (!rc_conf_upload_allowed(r->pool, u->up.q->conf, f->name, f->mime)) {
        return fail(u, HTTP_UNSUPPORTED_MEDIA_TYPE, "unsupported_type",
                    "%s: files of type %s are not accepted (RagChatUploadTypes: %s)",
                    f->name, f->mime, allowed_types(u));
    }
    if (u->be->file_begin(&u->up, f)) {
        return -1;
    }
    APR_ARRAY_PUSH(u->up.files, rc_upload_file *) = f;
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
        return u->be->file_write(&u->up, u->cur, data, len);
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
 * on failure (u->up.status set). At the end of the body the parser is finished
 * and the backend told (body_end). */
static int read_piece(upload_ctx *u, apr_read_type_e block)
{
    request_rec *r = u->up.r;
    apr_bucket *e;
    apr_status_t rv;
    int got = 0;

    rv = ap_get_brigade(r->input_filters, u->bb, AP_MODE_READBYTES, block, RC_UPLOAD_PIECE);
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
                        u->up.received);
        }
        return fail(u, ap_map_http_request_error(rv, HTTP_BAD_REQUEST), "bad_request",
                    "could not read the request body");
    }
    for (e = APR_BRIGADE_FIRST(u->bb); e != APR_BRIGADE_SENTINEL(u->bb); e = APR_BUCKET_NEXT(e)) {
        const char *d;
        apr_size_t n;

        if (APR_BUCKET_IS_EOS(e)) {
            u->up.eos = 1;
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
        if (u->up.received + (apr_off_t)n > u->limit) {
            apr_brigade_cleanup(u->bb);
            return fail(u, HTTP_REQUEST_ENTITY_TOO_LARGE, "too_large",
                        "%s%sthe upload is larger than %" APR_OFF_T_FMT
                        " bytes (RagChatUploadMaxSize)",
                        u->cur ? u->cur->name : "", u->cur ? ": " : "", u->limit);
        }
        u->up.received += (apr_off_t)n;
        if (n && rc_mp_feed(u->mp, d, n) != 0) {
            apr_brigade_cleanup(u->bb);
            return u->up.status ? -1 : fail(u, HTTP_BAD_REQUEST, "bad_multipart",
                                            "malformed multipart body: %s", rc_mp_error(u->mp));
        }
        if (u->up.status) {
            apr_brigade_cleanup(u->bb);
            return -1;
        }
    }
    apr_brigade_cleanup(u->bb);
    if (u->up.eos) {
        if (rc_mp_finish(u->mp) != 0) {
            return u->up.status ? -1 : fail(u, HTTP_BAD_REQUEST, "bad_multipart",
                                            "malformed multipart body: %s", rc_mp_error(u->mp));
        }
        if (u->up.status) {
            return -1;
        }
        if (!u->up.files->nelts) {
            return fail(u, HTTP_BAD_REQUEST, "no_files",
                        "the upload holds no file (multipart field \"files\")");
        }
        if (u->be->body_end(&u->up)) {
            return -1;
        }
        got = 1;
    }
    return got;
}

/* rc_upload's read, for the backend. */
static int read_body(rc_upload *up, apr_read_type_e block)
{
    return read_piece((upload_ctx *)up, block);
}

/* ---- the database ------------------------------------------------------------- */

/* Checks that the thread named in the form belongs to the user. */
static int check_thread(upload_ctx *u)
{
    rc_req *q = u->up.q;
    request_rec *r = u->up.r;
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
    u->thread = rc_store_thread_get(db, id, q->user_id, q->user, rc_req_app(q), &failed);
    rc_db_release(db);
    if (!u->thread) {
        return failed ? fail(u, HTTP_SERVICE_UNAVAILABLE, "database", "the database is unavailable")
                      : fail(u, HTTP_NOT_FOUND, "not_found", "no such thread");
    }
    return 0;
}

static const char *file_names(upload_ctx *u, size_t max)
{
    rc_buf *b = rc_buf_make(u->up.r->pool, 256);
    int i;

    for (i = 0; i < u->up.files->nelts; i++) {
        if (i) {
            rc_buf_appends(b, ", ");
        }
        rc_buf_appends(b, APR_ARRAY_IDX(u->up.files, i, rc_upload_file *)->name);
    }
    if (max && b->len > max) {
        b->len = rc_utf8_floor(b->data, max);
        rc_buf_appends(b, "…");
    }
    return rc_buf_pstrdup(u->up.r->pool, b);
}

/* One transaction: the thread when new, the user's step, an element per file,
 * the assistant's step. */
static int record(upload_ctx *u, const char *message, const char **user_step,
                  const char **asst_step)
{
    rc_req *q = u->up.q;
    request_rec *r = u->up.r;
    apr_pool_t *p = r->pool;
    apr_dbd_transaction_t *tx;
    apr_time_t now = apr_time_now();
    rc_thread *t = u->thread;
    rc_conversation *conv = NULL;
    const char *after = NULL;
    rc_step s;
    rc_db *db;
    int rv, i, new_thread = 0;

    db = rc_db_open(r, p);
    if (!db || !rc_req_user_id(q, db)) {
        rc_db_release(db);
        return -1;
    }
    if (!t) {
        t = rc_store_thread_new(db, q->user_id, q->user, rc_req_app(q),
                                file_names(u, RC_UP_NAME_MAX));
        new_thread = 1;
    }
    else if ((conv = rc_conversation_load(db, t->id)) != NULL) {
        after = rc_conversation_leaf(p, conv);    /* the end of the branch shown */
    }
    else {
        rc_db_release(db);
        return -1;
    }
    u->thread = t;
    *user_step = rc_uuid4(p);
    *asst_step = rc_uuid4(p);
    rv = rc_db_begin(db, &tx);
    if (!rv) {
        rv = (new_thread && rc_store_thread_insert(db, t))
             || (!new_thread && !t->app && rc_store_thread_claim(db, t->id, rc_req_app(q)));

        memset(&s, 0, sizeof(s));
        s.id = *user_step;
        s.thread_id = t->id;
        s.type = "user_message";
        s.name = q->user;
        s.output = apr_pstrcat(p, "Uploaded: ", file_names(u, 0), NULL);
        s.metadata = rc_branches_meta_after(p, "{\"upload\":true}", after);
        s.created = s.start = rc_timestamp(p, u->started);
        s.end = rc_timestamp(p, now);
        rv = rv || rc_store_step_insert(db, &s);

        for (i = 0; !rv && i < u->up.files->nelts; i++) {
            rc_upload_file *f = APR_ARRAY_IDX(u->up.files, i, rc_upload_file *);
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
        s.metadata = rc_branches_meta_after(p, "{\"upload\":true}", *user_step);
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
    request_rec *r = u->up.r;
    int level = u->up.status >= 500 ? (u->up.status == HTTP_BAD_GATEWAY
                                    || u->up.status == HTTP_GATEWAY_TIME_OUT
                                    ? APLOG_WARNING : APLOG_ERR)
                                 : APLOG_INFO;

    /* An unread rest of the body is not worth reading: close afterwards. */
    if (!u->up.eos) {
        r->connection->keepalive = AP_CONN_CLOSE;
    }
    ap_log_rerror(APLOG_MARK, level, 0, r, "RC0401: upload refused (%d %s, %d file(s), %"
                  APR_OFF_T_FMT " bytes read; nothing recorded): %s%s%s",
                  u->up.status, u->up.code, u->up.files->nelts, u->up.received, u->up.msg,
                  u->up.detail ? " The backend said: " : "",
                  u->up.detail ? ap_escape_logitem(r->pool, u->up.detail) : "");
    return rc_send_json(r, u->up.status,
                        json_pack("{s:{s:s,s:o}}", "error", "code", u->up.code,
                                  "message", rc_json_string(u->up.msg)));
}

static int check_request(upload_ctx *u, const char **boundary)
{
    request_rec *r = u->up.r;
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

static upload_ctx *upload_create(rc_req *q)
{
    request_rec *r = q->r;
    upload_ctx *u = apr_pcalloc(r->pool, sizeof(*u));

    u->up.q = q;
    u->up.r = r;
    u->up.read = read_body;
    u->be = rc_backend_of(q->conf);
    u->started = apr_time_now();
    u->limit = rc_conf_upload_max_size(q->conf);
    u->max_files = rc_conf_upload_max_files(q->conf);
    u->up.files = apr_array_make(r->pool, 4, sizeof(rc_upload_file *));
    u->tid = rc_buf_make(r->pool, RC_UP_TID_MAX + 1);
    u->bb = apr_brigade_create(r->pool, r->connection->bucket_alloc);
    return u;
}

/* The body up to the first allowed file part (or its end), before the
 * backend is involved; the thread when its field came first. 0, or -1 with
 * the failure set. */
static int read_head(upload_ctx *u)
{
    const char *boundary = NULL;

    if (check_request(u, &boundary) || u->be->upload_start(&u->up)) {
        return -1;
    }
    u->mp = rc_mp_create(u->up.r->pool, boundary, on_part, on_data, on_part_end, u);
    if (!u->mp) {
        return fail(u, HTTP_BAD_REQUEST, "bad_multipart",
                              "the multipart boundary is not usable");
    }
    while (!u->up.status && !u->up.eos && !u->up.files->nelts) {
        read_piece(u, APR_BLOCK_READ);
    }
    if (!u->up.status && u->tid_seen) {
        check_thread(u);
    }
    return u->up.status ? -1 : 0;
}

/* The rest of the body through the backend; its message, or NULL with the
 * failure set. */
static const char *ingest(upload_ctx *u)
{
    u->be->send(&u->up);
    if (!u->up.status && u->tid_seen && !u->tid_checked) {
        check_thread(u);   /* the field came after the files */
    }
    return u->up.status ? NULL : u->be->finish(&u->up);
}

static int send_result(upload_ctx *u, const char *message)
{
    request_rec *r = u->up.r;
    const char *user_step = NULL, *asst_step = NULL;
    json_t *files, *resp;
    int i;

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
                  u->up.files->nelts, u->up.received, u->thread->id);

    files = json_array();
    for (i = 0; i < u->up.files->nelts; i++) {
        rc_upload_file *f = APR_ARRAY_IDX(u->up.files, i, rc_upload_file *);
        json_array_append_new(files, json_pack("{s:o,s:I,s:o}", "name", rc_json_string(f->name),
                                               "size", (json_int_t)f->size,
                                               "mime", rc_json_string(f->mime)));
    }
    resp = json_pack("{s:s,s:s,s:o,s:o}", "thread_id", u->thread->id, "step_id", asst_step,
                     "message", rc_json_string(message), "files", files);
    return rc_send_json(r, HTTP_OK, resp);
}

int rc_handle_upload(rc_req *q)
{
    upload_ctx *u = upload_create(q);
    const char *message;

    if (read_head(u) || !(message = ingest(u))) {
        return send_failure(u);
    }
    return send_result(u, message);
}
