/* POST B/api/chat: the user's message is saved, the thread's history goes to
 * the backend, and its answer is relayed token by token as it arrives.
 *
 * The answer is saved when it ends, however it ends: complete, stopped by the
 * user (from any child process: the stop flag lives in the database), cut by a
 * backend failure (saved with isError), or after the browser went away (the
 * backend is read to the end all the same). No pooled database connection is
 * held while the answer streams. */
#include "chat.h"
#include "backend.h"
#include "clean.h"
#include "sse_out.h"
#include "json.h"
#include "markdown.h"
#include "sse.h"
#include "store.h"
#include "util.h"
#include "builtin.h"

#include "http_log.h"
#include "http_protocol.h"
#include "apr_strings.h"

#include <curl/curl.h>

APLOG_USE_MODULE(ragchat);

#define RC_MAX_ANSWER        (8 * 1024 * 1024)  /* bytes of one answer */
#define RC_MAX_SSE_EVENT     (1024 * 1024)
#define RC_MAX_ERROR_BODY    16384
#define RC_STOP_POLL         apr_time_from_msec(200)
#define RC_RENDER_MIN        apr_time_from_msec(100)

typedef enum {
    OUTCOME_DONE = 0,
    OUTCOME_STOPPED,
    OUTCOME_UNREACHABLE,     /* connect failed */
    OUTCOME_TIMEOUT,         /* connect or idle timeout */
    OUTCOME_HTTP_ERROR,      /* non-2xx status */
    OUTCOME_BROKEN,          /* cut off, or a transfer error */
    OUTCOME_BAD_STREAM,      /* the backend sent an error event or garbage */
    OUTCOME_TOO_LONG
} chat_outcome;

typedef struct {
    rc_req *q;
    request_rec *r;
    CURL *curl;
    CURLM *multi;                 /* the thread's, reused (backend.c) */
    rc_sse_out *out;
    rc_sse_parser *sse;
    apr_pool_t *scratch;          /* cleared after every read from the backend */
    rc_buf *answer;               /* the backend's raw text */
    rc_buf *errbody;              /* body of a non-2xx answer */
    long status;
    int headers_done;
    int json_reply;               /* a 2xx application/json answer: stream ignored */
    int saw_done;
    chat_outcome failure;         /* set by the SSE callback on a bad stream */
    const char *failure_msg;
    const char *thread_id, *user_step_id, *assistant_step_id;
    const char *thread_name;
    int new_thread;
    apr_time_t started, last_data, last_render, render_cost;
    size_t rendered_len;
} chat_ctx;

int rc_chat_global_init(void)
{
    return curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK ? 0 : -1;
}

/* ---- events to the browser ---------------------------------------------- */

static void send_thread_event(chat_ctx *c)
{
    rc_buf *b = rc_buf_make(c->r->pool, 256);

    rc_buf_appends(b, "{\"thread_id\":");
    rc_json_append_string(b, c->thread_id, strlen(c->thread_id));
    rc_buf_appends(b, ",\"user_step_id\":");
    rc_json_append_string(b, c->user_step_id, strlen(c->user_step_id));
    rc_buf_appends(b, ",\"assistant_step_id\":");
    rc_json_append_string(b, c->assistant_step_id, strlen(c->assistant_step_id));
    rc_buf_appends(b, ",\"thread_name\":");
    rc_json_append_string(b, c->thread_name, strlen(c->thread_name));
    rc_buf_appends(b, c->new_thread ? ",\"new_thread\":true}" : ",\"new_thread\":false}");
    rc_sse_out_event(c->out, "thread", b->data, b->len);
}

static void start_stream(chat_ctx *c)
{
    rc_sse_out_start(c->out);
    send_thread_event(c);
}

/* Live rendering, throttled so that its cost stays a small share of the
 * stream: never more often than every 100 ms, nor than 5x its last cost. */
static void maybe_render(chat_ctx *c, int force)
{
    apr_time_t now = apr_time_now(), t0;
    size_t off;
    int pending;
    char *html;
    rc_buf *b;

    if (c->out->gone || c->answer->len == c->rendered_len) {
        return;
    }
    if (!force && (now - c->last_render < RC_RENDER_MIN
                   || now - c->last_render < 5 * c->render_cost)) {
        return;
    }
    off = rc_clean_display_offset(c->answer->data, c->answer->len, &pending);
    if (pending) {
        return;    /* maybe a JSON preamble that cleaning will remove: wait */
    }
    t0 = apr_time_now();
    html = rc_markdown_to_html(c->scratch, c->answer->data + off, c->answer->len - off);
    b = rc_buf_make(c->scratch, strlen(html) + 16);
    rc_buf_appends(b, "{\"html\":");
    rc_json_append_string(b, html, strlen(html));
    rc_buf_appends(b, "}");
    rc_sse_out_event(c->out, "render", b->data, b->len);
    c->last_render = apr_time_now();
    c->render_cost = c->last_render - t0;
    c->rendered_len = c->answer->len;
}

/* ---- the backend's stream ------------------------------------------------ */

static int on_sse_event(void *ctx, const char *event, const char *data, size_t len)
{
    chat_ctx *c = ctx;
    const char *text;
    size_t n;

    (void)event;
    switch (rc_openai_delta(c->scratch, data, len, &text, &n)) {
    case RC_DELTA_TOKEN:
        if (c->answer->len + n > RC_MAX_ANSWER) {
            c->failure = OUTCOME_TOO_LONG;
            c->failure_msg = "the answer exceeded the size limit and was cut";
            return 1;
        }
        rc_buf_append(c->answer, text, n);
        rc_sse_out_token(c->out, text, n);
        return 0;
    case RC_DELTA_DONE:
        c->saw_done = 1;
        return 0;
    case RC_DELTA_EMPTY:
        return 0;
    case RC_DELTA_ERROR:
        c->failure = OUTCOME_BAD_STREAM;
        c->failure_msg = apr_pstrcat(c->r->pool, "backend error: ", text, NULL);
        return 1;
    case RC_DELTA_INVALID:
    default:
        /* One malformed chunk is skipped, not fatal: later tokens still count. */
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, c->r, "RC0202: %s", text);
        return 0;
    }
}

static size_t on_header(char *buf, size_t size, size_t n, void *ctx)
{
    chat_ctx *c = ctx;
    size_t len = size * n;
    long status = 0;

    /* A blank line ends a header block; an interim 1xx block is followed by
     * the real one. Only a 2xx answer opens the event stream to the browser,
     * so that failures before it can still be answered with a JSON error. */
    if (len > 2 || (len && buf[0] != '\r' && buf[0] != '\n')) {
        return len;
    }
    curl_easy_getinfo(c->curl, CURLINFO_RESPONSE_CODE, &status);
    if (status >= 100 && status < 200) {
        return len;
    }
    c->status = status;
    c->headers_done = 1;
    c->last_data = apr_time_now();
    {
        char *ct = NULL;
        curl_easy_getinfo(c->curl, CURLINFO_CONTENT_TYPE, &ct);
        c->json_reply = ct && strncasecmp(ct, "application/json", 16) == 0;
    }
    if (status >= 200 && status < 300 && !c->out->started) {
        start_stream(c);
    }
    return len;
}

static size_t on_body(char *buf, size_t size, size_t n, void *ctx)
{
    chat_ctx *c = ctx;
    size_t len = size * n;
    int rv;

    c->last_data = apr_time_now();
    if (c->status < 200 || c->status >= 300 || c->json_reply) {
        size_t max = c->json_reply ? RC_MAX_ANSWER : RC_MAX_ERROR_BODY;
        size_t room = max - c->errbody->len;
        rc_buf_append(c->errbody, buf, len < room ? len : room);
        return len;
    }
    rv = rc_sse_feed(c->sse, buf, len);
    if (rv == RC_SSE_TOO_LARGE) {
        c->failure = OUTCOME_BAD_STREAM;
        c->failure_msg = "the backend sent an oversized event";
    }
    /* Returning less than len makes curl abort the transfer. */
    return rv ? 0 : len;
}

/* ---- request to the backend ----------------------------------------------- */

/* The thread's messages in order, for the backend: user messages and the
 * non-empty answers (an answer that failed before any text adds nothing). */
static json_t *history_messages(rc_db *db, const char *thread_id)
{
    apr_array_header_t *steps = rc_store_history(db, thread_id);
    json_t *msgs;
    int i;

    if (!steps) {
        return NULL;
    }
    msgs = json_array();
    for (i = 0; i < steps->nelts; i++) {
        const rc_history_msg *m = &APR_ARRAY_IDX(steps, i, rc_history_msg);
        int user = m->type && strcmp(m->type, "user_message") == 0;
        if (!m->output || (!user && !*m->output)) {
            continue;
        }
        json_array_append_new(msgs, json_pack("{s:s,s:o}", "role", user ? "user" : "assistant",
                                              "content", rc_json_string(m->output)));
    }
    return msgs;
}

static const char *backend_body(chat_ctx *c, json_t *msgs)
{
    json_t *body = json_pack("{s:o,s:b}", "messages", msgs, "stream", 1);

    if (c->q->conf->model) {
        json_object_set_new(body, "model", json_string(c->q->conf->model));
    }
    rc_json_pool(c->r->pool, body);
    return rc_json_dump(c->r->pool, body);
}

static CURL *make_curl(chat_ctx *c, const char *body)
{
    static const char *const headers[] = {
        "Content-Type: application/json", "Accept: text/event-stream", NULL
    };
    CURL *h = rc_backend_thread_curl(c->r, c->q->conf, "/v1/chat/completions", headers,
                                     &c->multi);

    if (!h) {
        return NULL;
    }
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, c);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, c);
    c->curl = h;
    return h;
}

/* 1 when a stop was asked for this answer (checked on a short-lived connection). */
static int stop_requested(chat_ctx *c)
{
    apr_pool_t *p;
    rc_db *db;
    int stop = 0;

    apr_pool_create(&p, c->r->pool);
    db = rc_db_open(c->r, p);
    if (db) {
        stop = rc_store_stream_stop_requested(db, c->assistant_step_id) == 1;
        rc_db_release(db);
    }
    apr_pool_destroy(p);
    return stop;
}

/* A backend that ignored "stream": true and sent one JSON completion: its
 * message is relayed as a single token. */
static chat_outcome json_reply_answer(chat_ctx *c)
{
    json_t *j = rc_json_parse(c->r->pool, c->errbody->data, c->errbody->len, NULL);
    json_t *choices = j ? json_object_get(j, "choices") : NULL;
    json_t *msg = json_object_get(json_array_get(choices, 0), "message");
    const char *text = rc_json_get_str(msg, "content");

    if (!text) {
        c->failure_msg = "the backend sent JSON without choices[0].message.content";
        return OUTCOME_BAD_STREAM;
    }
    rc_buf_appends(c->answer, text);
    rc_sse_out_token(c->out, text, strlen(text));
    return OUTCOME_DONE;
}

/* Runs the transfer until it ends, is stopped, or goes idle too long. */
static chat_outcome run_transfer(chat_ctx *c)
{
    CURLM *m = c->multi;
    apr_time_t idle = apr_time_from_sec(rc_conf_idle_timeout(c->q->conf));
    apr_time_t next_poll = apr_time_now() + RC_STOP_POLL;
    chat_outcome outcome = OUTCOME_DONE;
    CURLcode code = CURLE_OK;
    int running = 1;

    if (!m) {
        return OUTCOME_BROKEN;
    }
    c->last_data = apr_time_now();
    ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, c->r,
                  "RC0205: answer %s: calling the backend %" APR_TIME_T_FMT " us after the "
                  "request arrived", c->assistant_step_id, c->last_data - c->r->request_time);
    curl_multi_add_handle(m, c->curl);
    while (running) {
        CURLMsg *msg;
        int left;
        apr_time_t now;

        /* Whatever one perform reads (several reads, several HTTP chunks) arrived
         * together: its events go out with one flush, its scratch is freed. */
        rc_sse_out_batch(c->out);
        curl_multi_perform(m, &running);
        maybe_render(c, 0);
        rc_sse_out_flush(c->out);
        apr_pool_clear(c->scratch);
        while ((msg = curl_multi_info_read(m, &left))) {
            if (msg->msg == CURLMSG_DONE) {
                code = msg->data.result;
            }
        }
        if (!running) {
            break;
        }
        now = apr_time_now();
        if (now >= next_poll) {
            next_poll = now + RC_STOP_POLL;
            if (stop_requested(c)) {
                outcome = OUTCOME_STOPPED;
                break;
            }
        }
        /* Idle covers the wait for the first byte as well as gaps later on. */
        if (now - c->last_data > idle) {
            outcome = OUTCOME_TIMEOUT;
            break;
        }
        curl_multi_poll(m, NULL, 0, 100, NULL);
    }
    curl_multi_remove_handle(m, c->curl);

    if (outcome != OUTCOME_DONE) {
        return outcome;
    }
    if (c->failure != OUTCOME_DONE) {
        return c->failure;
    }
    switch (code) {
    case CURLE_OK:
        break;
    case CURLE_COULDNT_CONNECT:
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_SEND_ERROR:
        return c->headers_done ? OUTCOME_BROKEN : OUTCOME_UNREACHABLE;
    case CURLE_OPERATION_TIMEDOUT:
        return OUTCOME_TIMEOUT;
    default:
        c->failure_msg = curl_easy_strerror(code);
        return OUTCOME_BROKEN;
    }
    if (c->status < 200 || c->status >= 300) {
        return OUTCOME_HTTP_ERROR;
    }
    if (c->json_reply) {
        return json_reply_answer(c);
    }
    /* A stream that ends cleanly without [DONE] is complete: many backends
     * simply close. Flush an event the backend left unterminated. */
    if (rc_sse_finish(c->sse) && c->failure != OUTCOME_DONE) {
        return c->failure;
    }
    return OUTCOME_DONE;
}

static const char *outcome_message(chat_ctx *c, chat_outcome o)
{
    const char *m;

    switch (o) {
    case OUTCOME_UNREACHABLE:
        return "the backend cannot be reached";
    case OUTCOME_TIMEOUT:
        return c->headers_done ? "the backend stopped sending (idle timeout)"
                               : "the backend did not answer in time";
    case OUTCOME_HTTP_ERROR:
        m = rc_backend_error_message(c->r->pool, c->errbody->data, c->errbody->len);
        return apr_psprintf(c->r->pool, "the backend answered %ld%s%s", c->status,
                            m ? ": " : "", m ? m : "");
    case OUTCOME_BROKEN:
        return apr_pstrcat(c->r->pool, "the backend connection broke off",
                           c->failure_msg ? ": " : "", c->failure_msg ? c->failure_msg : "",
                           NULL);
    case OUTCOME_BAD_STREAM:
    case OUTCOME_TOO_LONG:
        return c->failure_msg;
    default:
        return NULL;
    }
}

/* ---- saving ----------------------------------------------------------------- */

static int save_answer(chat_ctx *c, const char *text, chat_outcome o, const char *error)
{
    apr_pool_t *p = c->r->pool;
    rc_step s;
    rc_db *db;
    json_t *meta = json_object();
    int rv = -1;

    if (o == OUTCOME_STOPPED) {
        json_object_set_new(meta, "stopped", json_true());
    }
    if (error) {
        json_object_set_new(meta, "error", rc_json_string(error));
    }
    memset(&s, 0, sizeof(s));
    s.id = c->assistant_step_id;
    s.thread_id = c->thread_id;
    s.parent_id = NULL;
    s.type = "assistant_message";
    s.name = rc_conf_assistant(c->q->conf);
    s.output = text;
    s.metadata = rc_json_dump(p, rc_json_pool(p, meta));
    s.created = s.start = rc_timestamp(p, c->started);
    s.end = rc_timestamp(p, apr_time_now());
    s.is_error = error != NULL;

    db = rc_db_open(c->r, p);
    if (db) {
        apr_dbd_transaction_t *tx;
        if (!(rv = rc_db_begin(db, &tx))) {
            rv = rc_store_step_insert(db, &s) || rc_store_stream_end(db, c->assistant_step_id);
            if (rc_db_end(db, tx, rv) && !rv) {
                rv = -1;
            }
        }
        rc_db_release(db);
    }
    if (rv) {
        ap_log_rerror(APLOG_MARK, APLOG_CRIT, 0, c->r,
                      "RC0203: could not save the answer of step %s (%lu bytes)",
                      c->assistant_step_id, (unsigned long)c->answer->len);
    }
    return rv;
}

/* ---- before the backend: the user's message ------------------------------- */

/* Validates the request and saves the user's step (and a new thread) in one
 * transaction. Returns OK, or DONE after sending an error. */
static int begin_chat(chat_ctx *c, json_t **history)
{
    rc_req *q = c->q;
    request_rec *r = c->r;
    json_t *body, *tid;
    const char *content;
    rc_db *db;
    rc_thread *t = NULL;
    rc_step s;
    apr_dbd_transaction_t *tx;
    int rv, failed = 0;

    if ((rv = rc_read_json(q, &body)) != OK) {
        return rv;
    }
    content = rc_json_get_str(body, "content");
    tid = json_object_get(body, "thread_id");
    if (!content) {
        return rc_send_error(r, HTTP_BAD_REQUEST, "empty_message",
                             "\"content\" must be a non-empty string"), DONE;
    }
    if (content[strspn(content, " \t\r\n")] == '\0') {
        return rc_send_error(r, HTTP_BAD_REQUEST, "empty_message",
                             "the message is empty"), DONE;
    }
    if (tid && !json_is_null(tid) && !json_is_string(tid)) {
        return rc_send_error(r, HTTP_BAD_REQUEST, "bad_thread_id",
                             "\"thread_id\" must be null or a string"), DONE;
    }
    db = rc_db_open(r, r->pool);
    if (!db || !rc_req_user_id(q, db)) {
        rc_db_release(db);
        return rc_send_error(r, HTTP_SERVICE_UNAVAILABLE, "database", "the database is unavailable"),
               DONE;
    }
    if (json_is_string(tid)) {
        t = rc_store_thread_get(db, json_string_value(tid), q->user_id, q->user, &failed);
        if (!t) {
            rc_db_release(db);
            return failed ? (rc_send_error(r, HTTP_SERVICE_UNAVAILABLE, "database",
                                           "the database is unavailable"), DONE)
                          : (rc_send_error(r, HTTP_NOT_FOUND, "not_found", "no such thread"),
                             DONE);
        }
    }
    else {
        t = rc_store_thread_new(db, q->user_id, q->user, content);
        c->new_thread = 1;
    }
    c->thread_id = t->id;
    c->thread_name = t->name;
    c->user_step_id = rc_uuid4(r->pool);
    c->assistant_step_id = rc_uuid4(r->pool);

    memset(&s, 0, sizeof(s));
    s.id = c->user_step_id;
    s.thread_id = t->id;
    s.type = "user_message";
    s.name = q->user;
    s.output = content;
    s.metadata = "{}";
    s.created = s.start = s.end = rc_timestamp(r->pool, c->started);

    rv = rc_db_begin(db, &tx);
    if (!rv) {
        rv = (c->new_thread && rc_store_thread_insert(db, t))
          || rc_store_step_insert(db, &s)
          || rc_store_stream_begin(db, c->assistant_step_id, t->id, q->user_id);
        if (rc_db_end(db, tx, rv) && !rv) {
            rv = -1;
        }
    }
    if (rv) {
        *history = NULL;
    }
    else if (c->new_thread) {
        /* A new thread's history is this message: no need to read it back. */
        *history = json_pack("[{s:s,s:o}]", "role", "user", "content", rc_json_string(content));
    }
    else {
        *history = history_messages(db, t->id);
    }
    rc_db_release(db);
    if (rv || !*history) {
        return rc_send_error(r, HTTP_SERVICE_UNAVAILABLE, "database",
                             "the message could not be saved"), DONE;
    }
    return OK;
}

/* ---- the handler ------------------------------------------------------------ */

static void finish_chat(chat_ctx *c, chat_outcome o)
{
    request_rec *r = c->r;
    const char *error = o == OUTCOME_DONE || o == OUTCOME_STOPPED ? NULL : outcome_message(c, o);
    char *text = rc_clean_display(r->pool, c->answer->data, c->answer->len);
    json_t *ev;

    if (error) {
        ap_log_rerror(APLOG_MARK, APLOG_WARNING, 0, r,
                      "RC0204: answer %s in thread %s ended early: %s (%lu bytes kept)",
                      c->assistant_step_id, c->thread_id, error,
                      (unsigned long)c->answer->len);
    }
    save_answer(c, text, o, error);

    if (!c->out->started) {
        /* Nothing was streamed yet: a plain JSON error says what happened. */
        int status = o == OUTCOME_TIMEOUT ? HTTP_GATEWAY_TIME_OUT : HTTP_BAD_GATEWAY;
        json_t *j = json_pack("{s:{s:s,s:o},s:s,s:s,s:s}", "error",
                              "code", o == OUTCOME_TIMEOUT ? "backend_timeout" : "backend_error",
                              "message", rc_json_string(error ? error : "no answer"),
                              "thread_id", c->thread_id, "user_step_id", c->user_step_id,
                              "assistant_step_id", c->assistant_step_id);
        rc_send_json(r, status, j);
        return;
    }
    if (error) {
        ev = json_pack("{s:o,s:s,s:o}", "message", rc_json_string(error),
                       "step_id", c->assistant_step_id, "content", rc_json_string(text));
    }
    else {
        const char *html = rc_markdown_to_html(r->pool, text, strlen(text));
        ev = json_pack("{s:s,s:o,s:o,s:b}", "step_id", c->assistant_step_id,
                       "content", rc_json_string(text), "html", rc_json_string(html),
                       "stopped", o == OUTCOME_STOPPED);
    }
    rc_json_pool(r->pool, ev);
    {
        const char *data = rc_json_dump(r->pool, ev);
        rc_sse_out_event(c->out, error ? "error" : "done", data, strlen(data));
    }
    rc_sse_out_finish(c->out);
}

int rc_handle_chat(rc_req *q)
{
    request_rec *r = q->r;
    chat_ctx *c = apr_pcalloc(r->pool, sizeof(*c));
    json_t *history = NULL;
    chat_outcome o;
    apr_time_t now;
    int rv;

    c->q = q;
    c->r = r;
    c->started = apr_time_now();
    if ((rv = begin_chat(c, &history)) != OK) {
        return rv == DONE ? OK : rv;
    }
    /* The answer's createdAt must sort after the question's. */
    now = apr_time_now();
    c->started = now > c->started ? now : c->started + 1;
    rc_json_pool(r->pool, history);
    apr_pool_create(&c->scratch, r->pool);
    c->out = rc_sse_out_create(r);
    c->answer = rc_buf_make(r->pool, 4096);
    c->errbody = rc_buf_make(r->pool, 256);
    c->sse = rc_sse_create(r->pool, RC_MAX_SSE_EVENT, on_sse_event, c);

    if (rc_conf_is_builtin(q->conf)) {
        start_stream(c);
        o = rc_builtin_answer(q, history, c->thread_id, c->out, c->answer) ? OUTCOME_BROKEN
                                                                          : OUTCOME_DONE;
    }
    else if (!make_curl(c, backend_body(c, json_incref(history)))) {
        o = OUTCOME_BROKEN;
    }
    else {
        o = run_transfer(c);
    }
    maybe_render(c, 1);
    finish_chat(c, o);
    return OK;
}

int rc_handle_chat_stop(rc_req *q, const char *step_id)
{
    request_rec *r = q->r;
    rc_db *db = rc_db_acquire(r);
    int n, failed = 0;

    if (!db || !rc_req_user_id(q, db)) {
        return rc_send_error(r, HTTP_SERVICE_UNAVAILABLE, "database",
                             "the database is unavailable");
    }
    n = rc_store_stream_request_stop(db, step_id, q->user_id);
    if (n > 0) {
        return rc_send_json(r, HTTP_ACCEPTED, json_pack("{s:b}", "stopping", 1));
    }
    if (n == 0 && rc_store_step_get(db, step_id, q->user_id, q->user, &failed)) {
        return rc_send_error(r, HTTP_CONFLICT, "not_running", "this answer has already ended");
    }
    return rc_send_error(r, HTTP_NOT_FOUND, "not_found", "no running answer with this id");
}
