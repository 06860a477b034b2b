/* The remote backend's uploads: the browser's files, re-encoded under a new
 * boundary as the single field `files` while upload.c scans them, go to
 * BACKEND/upload with chunked transfer-encoding from inside libcurl's read
 * callback, which pulls the client's body one piece at a time: the module
 * never holds more than about one piece, however large the files. A failure
 * on the client's side aborts the transfer, so the backend sees a truncated
 * body. */
#include "backend_remote.h"
#include "multipart.h"

#include "http_log.h"
#include "http_protocol.h"
#include "apr_strings.h"

APLOG_USE_MODULE(ragchat);

#define RC_UP_CURL_BUF     (256 * 1024)   /* libcurl's upload buffer */
#define RC_UP_MAX_ANSWER   65536          /* bytes kept of the backend's answer */

typedef struct {
    rc_upload *u;
    const char *boundary;          /* of the body sent to the backend */
    int all_sent;                  /* the closing boundary went out */

    /* Re-encoded bytes for libcurl: written straight into curl's buffer while
     * it has room, the rest kept in pending (at most about one piece). */
    char *dst;
    size_t dst_room, dst_len;
    rc_buf *pending;
    size_t pending_off;

    CURL *curl;
    long http_status;
    rc_buf *answer;
    apr_time_t last_activity, idle;
    curl_off_t last_ul, last_dl;
    int idle_timeout;
} remote_upload;

/* ---- the re-encoded body --------------------------------------------------- */

static int emit(remote_upload *ru, const char *data, size_t len)
{
    if (ru->pending->len == ru->pending_off && ru->dst_len < ru->dst_room) {
        size_t n = ru->dst_room - ru->dst_len;
        if (n > len) {
            n = len;
        }
        memcpy(ru->dst + ru->dst_len, data, n);
        ru->dst_len += n;
        data += n;
        len -= n;
    }
    if (len && rc_buf_append(ru->pending, data, len)) {
        return rc_upload_fail(ru->u, HTTP_INTERNAL_SERVER_ERROR, "no_memory", "out of memory");
    }
    return 0;
}

static int emits(remote_upload *ru, const char *s)
{
    return emit(ru, s, strlen(s));
}

int rc_remote_upload_start(rc_upload *u)
{
    remote_upload *ru = apr_pcalloc(u->r->pool, sizeof(*ru));

    ru->u = u;
    ru->boundary = rc_mp_new_boundary(u->r->pool);
    ru->pending = rc_buf_make(u->r->pool, RC_UPLOAD_PIECE + 4096);
    ru->answer = rc_buf_make(u->r->pool, 1024);
    u->backend = ru;
    return 0;
}

int rc_remote_file_begin(rc_upload *u, rc_upload_file *f)
{
    remote_upload *ru = u->backend;

    return emits(ru, rc_mp_part_head(u->r->pool, ru->boundary, "files", f->name, f->mime));
}

int rc_remote_file_write(rc_upload *u, rc_upload_file *f, const char *data, size_t len)
{
    (void)f;
    return emit(u->backend, data, len);
}

int rc_remote_body_end(rc_upload *u)
{
    remote_upload *ru = u->backend;

    return emits(ru, rc_mp_tail(u->r->pool, ru->boundary));
}

/* ---- libcurl's callbacks ----------------------------------------------------- */

static size_t on_read(char *buf, size_t size, size_t nitems, void *ctx)
{
    remote_upload *ru = ctx;
    rc_upload *u = ru->u;
    size_t avail;

    ru->dst = buf;
    ru->dst_room = size * nitems;
    ru->dst_len = 0;
    if (u->status) {
        return CURL_READFUNC_ABORT;
    }
    /* What is left over from the last read goes first. */
    avail = ru->pending->len - ru->pending_off;
    if (avail) {
        size_t n = avail < ru->dst_room ? avail : ru->dst_room;
        memcpy(buf, ru->pending->data + ru->pending_off, n);
        ru->dst_len = n;
        ru->pending_off += n;
        if (ru->pending_off == ru->pending->len) {
            rc_buf_clear(ru->pending);
            ru->pending_off = 0;
        }
    }
    /* One blocking read when there is nothing to send, then whatever the
     * client already sent, until curl's buffer is full. */
    while (!u->eos && ru->dst_len < ru->dst_room && !ru->pending->len) {
        int rv = u->read(u, ru->dst_len ? APR_NONBLOCK_READ : APR_BLOCK_READ);
        if (rv < 0) {
            return CURL_READFUNC_ABORT;
        }
        if (rv == 0 && ru->dst_len) {
            break;   /* nothing more without waiting: send what there is */
        }
    }
    ru->dst = NULL;
    ru->last_activity = apr_time_now();
    if (u->eos && !ru->pending->len) {
        ru->all_sent = 1;
    }
    return ru->dst_len;   /* 0 only at the end of the body */
}

static size_t on_header(char *buf, size_t size, size_t n, void *ctx)
{
    remote_upload *ru = ctx;

    (void)buf;
    ru->last_activity = apr_time_now();
    return size * n;
}

static size_t on_write(char *buf, size_t size, size_t n, void *ctx)
{
    remote_upload *ru = ctx;
    size_t len = size * n, room = RC_UP_MAX_ANSWER - ru->answer->len;

    ru->last_activity = apr_time_now();
    rc_buf_append(ru->answer, buf, len < room ? len : room);
    return len;
}

/* Idle timeout: no byte sent to nor received from the backend for too long.
 * Time spent waiting for the client does not count: on_read marks activity. */
static int on_progress(void *ctx, curl_off_t dltotal, curl_off_t dlnow,
                       curl_off_t ultotal, curl_off_t ulnow)
{
    remote_upload *ru = ctx;
    apr_time_t now = apr_time_now();

    (void)dltotal;
    (void)ultotal;
    if (ulnow != ru->last_ul || dlnow != ru->last_dl) {
        ru->last_ul = ulnow;
        ru->last_dl = dlnow;
        ru->last_activity = now;
        return 0;
    }
    if (now - ru->last_activity > ru->idle) {
        ru->idle_timeout = 1;
        return 1;
    }
    return 0;
}

static CURL *make_curl(remote_upload *ru)
{
    rc_upload *u = ru->u;
    /* The length is unknown until the client's body ended: chunked. */
    const char *headers[] = {
        apr_pstrcat(u->r->pool, "Content-Type: multipart/form-data; boundary=",
                    ru->boundary, NULL),
        "Transfer-Encoding: chunked", "Accept: application/json", NULL
    };
    CURL *h = rc_backend_curl(u->r, u->q->conf, "/upload", headers);

    if (!h) {
        return NULL;
    }
    curl_easy_setopt(h, CURLOPT_POST, 1L);
    curl_easy_setopt(h, CURLOPT_READFUNCTION, on_read);
    curl_easy_setopt(h, CURLOPT_READDATA, ru);
    curl_easy_setopt(h, CURLOPT_UPLOAD_BUFFERSIZE, (long)RC_UP_CURL_BUF);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, ru);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_write);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, ru);
    curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, on_progress);
    curl_easy_setopt(h, CURLOPT_XFERINFODATA, ru);
    ru->curl = h;
    return h;
}

/* ---- the transfer ------------------------------------------------------------ */

/* Sends the body to the backend while it arrives. Returns 0 when the backend
 * accepted it (ru->answer holds its answer), else -1 with u->status set. */
int rc_remote_send(rc_upload *u)
{
    remote_upload *ru = u->backend;
    request_rec *r = u->r;
    CURLcode code;

    if (!make_curl(ru)) {
        return rc_upload_fail(u, HTTP_INTERNAL_SERVER_ERROR, "internal",
                              "libcurl failed to initialise");
    }
    ru->idle = apr_time_from_sec(rc_conf_idle_timeout(u->q->conf));
    ru->last_activity = apr_time_now();
    code = curl_easy_perform(ru->curl);
    curl_easy_getinfo(ru->curl, CURLINFO_RESPONSE_CODE, &ru->http_status);
    if (u->status) {
        /* The client's side failed (a limit, bad multipart, gone): the
         * transfer was aborted and the backend saw a truncated body. */
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r,
                      "RC0410: upload to the backend aborted after %" APR_OFF_T_FMT
                      " bytes: %s", u->received, u->msg);
        return -1;
    }
    if (ru->idle_timeout || code == CURLE_OPERATION_TIMEDOUT) {
        return rc_upload_fail(u, HTTP_GATEWAY_TIME_OUT, "backend_timeout",
                              ru->http_status ? "The assistant's service stopped answering. "
                                                "Try the upload again."
                                              : "The assistant's service did not answer in "
                                                "time. Try the upload again in a minute.");
    }
    if (ru->http_status >= 300 || (ru->http_status && ru->http_status < 200)) {
        u->detail = rc_backend_log_detail(r->pool, ru->answer->data, ru->answer->len);
        return rc_upload_fail(u, HTTP_BAD_GATEWAY, "backend_error", "%s",
                              rc_backend_status_message(r->pool, ru->http_status));
    }
    switch (code) {
    case CURLE_OK:
        break;
    case CURLE_COULDNT_CONNECT:
    case CURLE_COULDNT_RESOLVE_HOST:
        return rc_upload_fail(u, HTTP_BAD_GATEWAY, "backend_error", RC_MSG_UNREACHABLE);
    default:
        u->detail = curl_easy_strerror(code);
        return rc_upload_fail(u, HTTP_BAD_GATEWAY, "backend_error",
                              "The connection to the assistant's service broke off. Try the "
                              "upload again.");
    }
    if (!ru->all_sent) {
        return rc_upload_fail(u, HTTP_BAD_GATEWAY, "backend_error",
                              "The assistant's service answered before the upload ended. Try "
                              "again; tell the site's administrator if it keeps happening.");
    }
    return 0;
}

/* The backend's {"message"}, or a count of the files. */
const char *rc_remote_finish(rc_upload *u)
{
    remote_upload *ru = u->backend;
    const char *message = rc_backend_json_message(u->r->pool, ru->answer->data,
                                                  ru->answer->len);

    if (!message) {
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, u->r,
                      "RC0402: the backend accepted the upload without a message");
        message = apr_psprintf(u->r->pool, "Uploaded %d document%s", u->files->nelts,
                               u->files->nelts == 1 ? "" : "s");
    }
    return message;
}
