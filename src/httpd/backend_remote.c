/* RagChatBackend URL: a remote RAG backend, reached with libcurl. Its chat
 * answers come from BACKEND/v1/chat/completions (OpenAI's streamed chat
 * completions), relayed token by token as they arrive; its uploads are in
 * backend_remote_upload.c. Here too: what every call to it shares. */
#include "backend_remote.h"
#include "backend_http.h"
#include "json.h"
#include "sse_parse.h"
#include "openai_chunk.h"
#include "buf.h"
#include "utf8.h"

#include "http_log.h"
#include "apr_strings.h"
#include "apr_thread_proc.h"

#include <stdlib.h>

APLOG_USE_MODULE(ragchat);

#define RC_MAX_ANSWER        (8 * 1024 * 1024)  /* bytes of one answer */
#define RC_MAX_SSE_EVENT     (1024 * 1024)
#define RC_MAX_ERROR_BODY    16384
/* libcurl's receive buffer for an answer's stream (its default: 16 KiB, held
 * by every open stream): its smallest, 1 KiB. Tokens arrive a few hundred
 * bytes at a time, and one curl_multi_perform reads on while more is
 * waiting, so a small buffer costs no throughput (bench/chat_bench.py). */
#define RC_RELAY_RECV_BUFFER 1024

int rc_backend_global_init(void)
{
    return curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK ? 0 : -1;
}

static apr_status_t curl_cleanup(void *data)
{
    curl_easy_cleanup((CURL *)data);
    return APR_SUCCESS;
}

static apr_status_t slist_cleanup(void *data)
{
    curl_slist_free_all((struct curl_slist *)data);
    return APR_SUCCESS;
}

/* The settings every backend request shares; the header list is freed with
 * the request (a reused handle is reset before its next use). */
static void setup_handle(request_rec *r, const rc_dir_conf *conf, CURL *h, const char *path,
                         const char *const *headers)
{
    struct curl_slist *hdrs = NULL;

    for (; headers && *headers; headers++) {
        hdrs = curl_slist_append(hdrs, *headers);
    }
    hdrs = curl_slist_append(hdrs, "Expect:");
    if (conf->backend_key) {
        hdrs = curl_slist_append(hdrs, apr_pstrcat(r->pool, "Authorization: Bearer ",
                                                   conf->backend_key, NULL));
    }
    apr_pool_cleanup_register(r->pool, hdrs, slist_cleanup, apr_pool_cleanup_null);
    curl_easy_setopt(h, CURLOPT_URL, apr_pstrcat(r->pool, conf->backend, path, NULL));
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
    /* Threaded MPMs: no SIGALRM for DNS timeouts. */
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, (long)rc_conf_connect_timeout(conf));
    curl_easy_setopt(h, CURLOPT_TCP_NODELAY, 1L);
    curl_easy_setopt(h, CURLOPT_ACCEPT_ENCODING, "identity");
    curl_easy_setopt(h, CURLOPT_USERAGENT, "mod_ragchat/1.0");
}

CURL *rc_backend_curl(request_rec *r, const rc_dir_conf *conf, const char *path,
                      const char *const *headers)
{
    CURL *h = curl_easy_init();

    if (!h) {
        return NULL;
    }
    apr_pool_cleanup_register(r->pool, h, curl_cleanup, apr_pool_cleanup_null);
    setup_handle(r, conf, h, path, headers);
    return h;
}

/* ---- per-thread handles of the chat relay ------------------------------------ */

typedef struct {
    CURLM *multi;
    CURL *easy;
} thread_handles;

static apr_threadkey_t *handles_key;

static void free_thread_handles(void *data)
{
    thread_handles *t = data;

    if (t) {
        curl_easy_cleanup(t->easy);
        curl_multi_cleanup(t->multi);
        free(t);
    }
}

void rc_backend_child_init(apr_pool_t *p)
{
    apr_threadkey_private_create(&handles_key, free_thread_handles, p);
}

CURL *rc_backend_thread_curl(request_rec *r, const rc_dir_conf *conf, const char *path,
                             const char *const *headers, CURLM **multi)
{
    thread_handles *t = NULL;

    if (!handles_key) {
        return NULL;
    }
    apr_threadkey_private_get((void **)&t, handles_key);
    if (!t) {
        t = calloc(1, sizeof(*t));
        if (!t || !(t->multi = curl_multi_init()) || !(t->easy = curl_easy_init())) {
            if (t) {
                curl_multi_cleanup(t->multi);
                free(t);
            }
            return NULL;
        }
        /* One idle connection to the backend is what one thread can reuse. */
        curl_multi_setopt(t->multi, CURLMOPT_MAXCONNECTS, 1L);
        apr_threadkey_private_set(t, handles_key);
    }
    else {
        curl_easy_reset(t->easy);
    }
    setup_handle(r, conf, t->easy, path, headers);
    *multi = t->multi;
    return t->easy;
}

const char *rc_backend_json_message(apr_pool_t *p, const char *body, size_t len)
{
    json_t *j = len ? rc_json_parse(p, body, len, NULL) : NULL;
    json_t *e;
    const char *m;

    if (!json_is_object(j)) {
        return NULL;
    }
    e = json_object_get(j, "error");
    m = json_is_string(e) ? json_string_value(e) : rc_json_get_str(e, "message");
    if (!m) {
        m = rc_json_get_str(j, "message");
    }
    if (!m) {
        m = rc_json_get_str(j, "detail");
    }
    return m ? apr_pstrdup(p, m) : NULL;
}

const char *rc_backend_status_message(apr_pool_t *p, long status)
{
    if (status == 401 || status == 403) {
        return apr_psprintf(p, "The assistant's service refused this server (HTTP %ld). "
                            "Tell the site's administrator.", status);
    }
    if (status == 429 || status == 503) {
        return apr_psprintf(p, "The assistant is busy right now (HTTP %ld). Try again in a "
                            "minute.", status);
    }
    if (status == 413) {
        return "The assistant's service refused this as too large (HTTP 413).";
    }
    if (status >= 500) {
        return apr_psprintf(p, "The assistant's service ran into an error (HTTP %ld). Try "
                            "again in a minute; if it keeps happening, tell the site's "
                            "administrator.", status);
    }
    return apr_psprintf(p, "The assistant's service could not handle this request (HTTP "
                        "%ld). Tell the site's administrator if it keeps happening.", status);
}

const char *rc_backend_log_detail(apr_pool_t *p, const char *body, size_t len)
{
    const char *m = rc_backend_json_message(p, body, len);
    size_t n;

    if (m) {
        body = m;
        len = strlen(m);
    }
    if (!len) {
        return NULL;
    }
    n = rc_utf8_floor(body, len < RC_LOG_DETAIL_MAX ? len : RC_LOG_DETAIL_MAX);
    return apr_pstrcat(p, rc_utf8_sanitize(p, body, n), n < len ? " [...]" : "", NULL);
}

/* ---- the chat relay ------------------------------------------------------------ */

typedef struct {
    rc_answer *a;
    CURL *curl;
    CURLM *multi;                 /* the thread's, reused */
    rc_sse_parser *sse;
    rc_buf *errbody;              /* body of a non-2xx answer */
    long status;
    int headers_done;
    int json_reply;               /* a 2xx application/json answer: stream ignored */
    int saw_done;
    rc_answer_outcome failure;    /* set by the SSE callback on a bad stream */
    const char *failure_msg;      /* for the log */
    int error_event;              /* the backend sent {"error": …} in its stream */
    apr_time_t last_data, idle;
    rc_answer_outcome stopped;    /* why the own client's tick stopped it */
} relay;

static int on_sse_event(void *ctx, const char *event, const char *data, size_t len)
{
    relay *c = ctx;
    rc_answer *a = c->a;
    const char *text;
    size_t n;

    (void)event;
    switch (rc_openai_delta(a->scratch, data, len, &text, &n)) {
    case RC_DELTA_TOKEN:
        if (a->answer->len + n > RC_MAX_ANSWER) {
            c->failure = RC_ANSWER_TOO_LONG;
            c->failure_msg = "the answer exceeded the size limit and was cut";
            return 1;
        }
        rc_buf_append(a->answer, text, n);
        rc_sse_out_token(a->out, text, n);
        return 0;
    case RC_DELTA_DONE:
        c->saw_done = 1;
        return 0;
    case RC_DELTA_EMPTY:
        return 0;
    case RC_DELTA_ERROR:
        c->failure = RC_ANSWER_BAD_STREAM;
        c->error_event = 1;
        c->failure_msg = rc_backend_log_detail(a->r->pool, text, strlen(text));
        return 1;
    case RC_DELTA_INVALID:
    default:
        /* One malformed chunk is skipped, not fatal: later tokens still count. */
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, a->r, "RC0202: %s", text);
        return 0;
    }
}

/* The answer's head, from either client. Only a 2xx answer opens the event
 * stream to the browser, so that failures before it can still be answered
 * with a JSON error. */
static int relay_head(void *ctx, int status, const char *content_type)
{
    relay *c = ctx;

    c->status = status;
    c->headers_done = 1;
    c->last_data = apr_time_now();
    c->json_reply = content_type && strncasecmp(content_type, "application/json", 16) == 0;
    if (status >= 200 && status < 300 && !c->a->out->started) {
        c->a->open(c->a);
    }
    return 0;
}

/* A piece of the answer's body, from either client; non-zero stops it. */
static int relay_body(void *ctx, const char *buf, size_t len)
{
    relay *c = ctx;
    int rv;

    c->last_data = apr_time_now();
    if (c->status < 200 || c->status >= 300 || c->json_reply) {
        size_t max = c->json_reply ? RC_MAX_ANSWER : RC_MAX_ERROR_BODY;
        size_t room = max - c->errbody->len;
        rc_buf_append(c->errbody, buf, len < room ? len : room);
        return 0;
    }
    rv = rc_sse_feed(c->sse, buf, len);
    if (rv == RC_SSE_TOO_LARGE) {
        c->failure = RC_ANSWER_BAD_STREAM;
        c->failure_msg = "the backend sent an oversized event";
    }
    return rv != 0;
}

static size_t on_header(char *buf, size_t size, size_t n, void *ctx)
{
    relay *c = ctx;
    size_t len = size * n;
    long status = 0;
    char *ct = NULL;

    /* A blank line ends a header block; an interim 1xx block is followed by
     * the real one. */
    if (len > 2 || (len && buf[0] != '\r' && buf[0] != '\n')) {
        return len;
    }
    curl_easy_getinfo(c->curl, CURLINFO_RESPONSE_CODE, &status);
    if (status >= 100 && status < 200) {
        return len;
    }
    curl_easy_getinfo(c->curl, CURLINFO_CONTENT_TYPE, &ct);
    relay_head(c, (int)status, ct);
    return len;
}

static size_t on_body(char *buf, size_t size, size_t n, void *ctx)
{
    /* Returning less than len makes curl abort the transfer. */
    return relay_body(ctx, buf, size * n) ? 0 : size * n;
}

static const char *request_body(rc_answer *a)
{
    json_t *body = json_pack("{s:O,s:b}", "messages", a->history, "stream", 1);

    if (a->q->conf->model) {
        json_object_set_new(body, "model", json_string(a->q->conf->model));
    }
    rc_json_pool(a->r->pool, body);
    return rc_json_dump(a->r->pool, body);
}

static CURL *make_curl(relay *c, const char *body)
{
    static const char *const headers[] = {
        "Content-Type: application/json", "Accept: text/event-stream", NULL
    };
    CURL *h = rc_backend_thread_curl(c->a->r, c->a->q->conf, "/v1/chat/completions", headers,
                                     &c->multi);

    if (!h) {
        return NULL;
    }
    curl_easy_setopt(h, CURLOPT_BUFFERSIZE, (long)RC_RELAY_RECV_BUFFER);
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, c);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, c);
    c->curl = h;
    return h;
}

/* A backend that ignored "stream": true and sent one JSON completion: its
 * message is relayed as a single token. */
static rc_answer_outcome json_reply_answer(relay *c)
{
    rc_answer *a = c->a;
    json_t *j = rc_json_parse(a->r->pool, c->errbody->data, c->errbody->len, NULL);
    json_t *choices = j ? json_object_get(j, "choices") : NULL;
    json_t *msg = json_object_get(json_array_get(choices, 0), "message");
    const char *text = rc_json_get_str(msg, "content");

    if (!text) {
        c->failure_msg = "the backend sent JSON without choices[0].message.content";
        return RC_ANSWER_BAD_STREAM;
    }
    rc_buf_appends(a->answer, text);
    rc_sse_out_token(a->out, text, strlen(text));
    return RC_ANSWER_DONE;
}

/* The backend is about to be called (by either client): the idle clock
 * starts (the wait for the first byte counts as well as gaps later on). */
static void begin_call(relay *c)
{
    rc_answer *a = c->a;

    c->idle = apr_time_from_sec(rc_conf_idle_timeout(a->q->conf));
    c->last_data = apr_time_now();
    ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, a->r,
                  "RC0205: answer %s: calling the backend %" APR_TIME_T_FMT " us after the "
                  "request arrived", a->step_id, c->last_data - a->r->request_time);
}

/* Runs the transfer until it ends (*code: how), is stopped, or goes idle too
 * long. */
static rc_answer_outcome transfer(relay *c, CURLcode *code)
{
    rc_answer *a = c->a;
    CURLM *m = c->multi;
    rc_answer_outcome outcome = RC_ANSWER_DONE;
    int running = 1;

    begin_call(c);
    curl_multi_add_handle(m, c->curl);
    while (running) {
        CURLMsg *msg;
        int left, stop;

        /* Whatever one perform reads (several reads, several HTTP chunks) arrived
         * together: its events go out with one flush (tick). */
        rc_sse_out_batch(a->out);
        curl_multi_perform(m, &running);
        stop = a->tick(a, running);
        while ((msg = curl_multi_info_read(m, &left))) {
            if (msg->msg == CURLMSG_DONE) {
                *code = msg->data.result;
            }
        }
        if (!running) {
            break;
        }
        if (stop) {
            outcome = RC_ANSWER_STOPPED;
            break;
        }
        if (apr_time_now() - c->last_data > c->idle) {
            outcome = RC_ANSWER_TIMEOUT;
            break;
        }
        curl_multi_poll(m, NULL, 0, 100, NULL);
    }
    curl_multi_remove_handle(m, c->curl);
    return outcome;
}

/* How a transfer that ran to its end went. */
static rc_answer_outcome transfer_result(relay *c, CURLcode code)
{
    if (c->failure != RC_ANSWER_DONE) {
        return c->failure;
    }
    switch (code) {
    case CURLE_OK:
        break;
    case CURLE_COULDNT_CONNECT:
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_SEND_ERROR:
        return c->headers_done ? RC_ANSWER_BROKEN : RC_ANSWER_UNREACHABLE;
    case CURLE_OPERATION_TIMEDOUT:
        return RC_ANSWER_TIMEOUT;
    default:
        c->failure_msg = curl_easy_strerror(code);
        return RC_ANSWER_BROKEN;
    }
    if (c->status < 200 || c->status >= 300) {
        return RC_ANSWER_HTTP_ERROR;
    }
    if (c->json_reply) {
        return json_reply_answer(c);
    }
    /* A stream that ends cleanly without [DONE] is complete: many backends
     * simply close. Flush an event the backend left unterminated. */
    if (rc_sse_finish(c->sse) && c->failure != RC_ANSWER_DONE) {
        return c->failure;
    }
    return RC_ANSWER_DONE;
}

static const char *outcome_message(relay *c, rc_answer_outcome o)
{
    rc_answer *a = c->a;

    switch (o) {
    case RC_ANSWER_UNREACHABLE:
        return RC_MSG_UNREACHABLE;
    case RC_ANSWER_TIMEOUT:
        return c->headers_done ? "The assistant stopped answering midway. Try again."
                               : "The assistant did not answer in time. Try again in a minute.";
    case RC_ANSWER_HTTP_ERROR:
        a->detail = rc_backend_log_detail(a->r->pool, c->errbody->data, c->errbody->len);
        return rc_backend_status_message(a->r->pool, c->status);
    case RC_ANSWER_BROKEN:
        a->detail = c->failure_msg;
        return "The connection to the assistant broke off. Try again.";
    case RC_ANSWER_BAD_STREAM:
        a->detail = c->failure_msg;
        return c->error_event ? "The assistant reported an error while answering. Try again "
                                "in a minute."
                              : "The assistant sent an answer this app cannot read. Tell the "
                                "site's administrator if it keeps happening.";
    case RC_ANSWER_TOO_LONG:
        return "The answer was too long and was cut.";
    default:
        return NULL;
    }
}

/* ---- the relay on the own client (an http:// backend) ----------------------- */

static void http_batch(void *ctx)
{
    rc_sse_out_batch(((relay *)ctx)->a->out);
}

/* The answer's tick, and the idle timeout (the wait for the first byte as
 * well as gaps later on). */
static int http_tick(void *ctx, int more)
{
    relay *c = ctx;

    if (c->a->tick(c->a, more)) {
        c->stopped = RC_ANSWER_STOPPED;
        return 1;
    }
    if (more && apr_time_now() - c->last_data > c->idle) {
        c->stopped = RC_ANSWER_TIMEOUT;
        return 1;
    }
    return 0;
}

static const rc_http_hooks http_hooks = { relay_head, relay_body, http_batch, http_tick };

/* How the own client's request went, as transfer_result says it for libcurl's. */
static rc_answer_outcome http_transfer(relay *c, const apr_uri_t *url, const char *body)
{
    static const char *const headers[] = {
        "Content-Type: application/json", "Accept: text/event-stream", NULL
    };
    rc_answer *a = c->a;
    const rc_dir_conf *conf = a->q->conf;
    const char *why = NULL;
    const char *hdrs[4] = { headers[0], headers[1], NULL, NULL };
    rc_http_end end;

    if (conf->backend_key) {
        hdrs[2] = apr_pstrcat(a->r->pool, "Authorization: Bearer ", conf->backend_key, NULL);
    }
    begin_call(c);
    end = rc_http_post(a->r, url, hdrs, body, strlen(body),
                       apr_time_from_sec(rc_conf_connect_timeout(conf)), c->idle, &http_hooks,
                       c, &why);
    switch (end) {
    case RC_HTTP_OK:
        return transfer_result(c, CURLE_OK);
    case RC_HTTP_STOPPED:
        return c->stopped;
    case RC_HTTP_ABORTED:
        return c->failure != RC_ANSWER_DONE ? c->failure : RC_ANSWER_BROKEN;
    case RC_HTTP_CONNECT_TIMEOUT:
        c->failure_msg = why;
        return RC_ANSWER_TIMEOUT;
    case RC_HTTP_UNREACHABLE:
    case RC_HTTP_SEND_FAILED:
        c->failure_msg = why;
        return c->headers_done ? RC_ANSWER_BROKEN : RC_ANSWER_UNREACHABLE;
    default:
        if (c->failure != RC_ANSWER_DONE) {
            return c->failure;
        }
        c->failure_msg = why;
        return RC_ANSWER_BROKEN;
    }
}

static rc_answer_outcome remote_answer(rc_answer *a)
{
    relay *c = apr_pcalloc(a->r->pool, sizeof(*c));
    rc_answer_outcome o;
    CURLcode code = CURLE_OK;
    const char *url;
    apr_uri_t uri;

    c->a = a;
    c->errbody = rc_buf_make(a->r->pool, 256);
    c->sse = rc_sse_create(a->r->pool, RC_MAX_SSE_EVENT, on_sse_event, c);
    url = apr_pstrcat(a->r->pool, a->q->conf->backend, "/v1/chat/completions", NULL);
    if (rc_http_can_post(a->r->pool, url, &uri)) {
        o = http_transfer(c, &uri, request_body(a));
    }
    else if (!make_curl(c, request_body(a)) || !c->multi) {
        o = RC_ANSWER_BROKEN;
    }
    else if ((o = transfer(c, &code)) == RC_ANSWER_DONE) {
        o = transfer_result(c, code);
    }
    if (o != RC_ANSWER_DONE && o != RC_ANSWER_STOPPED) {
        a->error = outcome_message(c, o);
    }
    return o;
}

const rc_backend rc_backend_remote = {
    "remote", remote_answer, rc_remote_upload_start, rc_remote_file_begin,
    rc_remote_file_write, rc_remote_body_end, rc_remote_send, rc_remote_finish
};
