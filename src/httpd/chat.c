/* POST B/api/chat: the user's message is saved, the thread's history goes to
 * the backend, and its answer is relayed token by token as it arrives.
 *
 * The answer is saved when it ends, however it ends: complete, stopped by the
 * user (from any child process or node: the stop flag lives in the database,
 * read for all of a process's answers by stream_watch.c), cut by a
 * backend failure (saved with isError), or after the browser went away (the
 * backend is read to the end all the same). No pooled database connection is
 * held while the answer streams. The backend (rc_backend_of) streams the
 * answer's tokens; this file starts the stream, renders, polls for a stop and
 * saves. */
#include "chat.h"
#include "backend.h"
#include "clean.h"
#include "sse_out.h"
#include "json.h"
#include "markdown.h"
#include "store.h"
#include "stream_watch.h"
#include "buf.h"
#include "ids.h"

#include "http_log.h"
#include "http_protocol.h"
#include "apr_strings.h"

APLOG_USE_MODULE(ragchat);

#define RC_STOP_POLL         apr_time_from_msec(200)
#define RC_RENDER_MIN        apr_time_from_msec(100)

typedef struct {
    rc_answer a;                  /* first: the hooks get it back as a chat_ctx */
    rc_req *q;
    request_rec *r;
    rc_sse_out *out;
    rc_buf *answer;               /* the backend's raw text */
    const char *thread_id, *user_step_id, *assistant_step_id;
    const char *thread_name;
    int new_thread;
    rc_stream_watch *watch;       /* NULL: read the stop flag here */
    apr_time_t started, last_render, render_cost, next_poll;
    size_t rendered_len;
} chat_ctx;

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
    html = rc_markdown_to_html(c->a.scratch, c->answer->data + off, c->answer->len - off);
    b = rc_buf_make(c->a.scratch, strlen(html) + 16);
    rc_buf_appends(b, "{\"html\":");
    rc_json_append_string(b, html, strlen(html));
    rc_buf_appends(b, "}");
    rc_sse_out_event(c->out, "render", b->data, b->len);
    c->last_render = apr_time_now();
    c->render_cost = c->last_render - t0;
    c->rendered_len = c->answer->len;
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

/* 1 when a stop was asked for this answer: the watcher's flag, or without a
 * watcher the row itself (on a short-lived connection). */
static int stop_requested(chat_ctx *c)
{
    apr_pool_t *p;
    rc_db *db;
    int stop = 0;

    if (c->watch) {
        return rc_stream_watch_stopped(c->watch);
    }
    apr_pool_create(&p, c->r->pool);
    db = rc_db_open(c->r, p);
    if (db) {
        stop = rc_store_stream_stop_requested(db, c->assistant_step_id) == 1;
        rc_db_release(db);
    }
    apr_pool_destroy(p);
    return stop;
}

/* ---- the backend's hooks ------------------------------------------------------ */

static void on_open(rc_answer *a)
{
    start_stream((chat_ctx *)a);
}

/* Between reads: what arrived is rendered and goes out with one flush; the
 * stop flag is looked at every RC_STOP_POLL while the answer goes on. */
static int on_tick(rc_answer *a, int more)
{
    chat_ctx *c = (chat_ctx *)a;
    apr_time_t now;

    maybe_render(c, 0);
    rc_sse_out_flush(c->out);
    apr_pool_clear(a->scratch);
    if (!more || (now = apr_time_now()) < c->next_poll) {
        return 0;
    }
    c->next_poll = now + RC_STOP_POLL;
    return stop_requested(c);
}

/* ---- saving ----------------------------------------------------------------- */

static int save_answer(chat_ctx *c, const char *text, rc_answer_outcome o, const char *error)
{
    apr_pool_t *p = c->r->pool;
    rc_step s;
    rc_db *db;
    json_t *meta = json_object();
    int rv = -1;

    if (o == RC_ANSWER_STOPPED) {
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

/* The request's message and thread id (NULL, or a JSON string). Returns
 * OK, or DONE after sending an error. */
static int read_question(chat_ctx *c, const char **content, json_t **tid)
{
    request_rec *r = c->r;
    json_t *body;
    int rv;

    if ((rv = rc_read_json(c->q, &body)) != OK) {
        return rv;
    }
    *content = rc_json_get_str(body, "content");
    *tid = json_object_get(body, "thread_id");
    if (!*content) {
        return rc_send_error(r, HTTP_BAD_REQUEST, "empty_message",
                             "\"content\" must be a non-empty string"), DONE;
    }
    if ((*content)[strspn(*content, " \t\r\n")] == '\0') {
        return rc_send_error(r, HTTP_BAD_REQUEST, "empty_message",
                             "the message is empty"), DONE;
    }
    if (*tid && !json_is_null(*tid) && !json_is_string(*tid)) {
        return rc_send_error(r, HTTP_BAD_REQUEST, "bad_thread_id",
                             "\"thread_id\" must be null or a string"), DONE;
    }
    return OK;
}

/* One transaction: the thread when new, the user's step, the running answer. */
static int save_question(chat_ctx *c, rc_db *db, const rc_thread *t, const char *content)
{
    apr_dbd_transaction_t *tx;
    rc_step s;
    int rv;

    memset(&s, 0, sizeof(s));
    s.id = c->user_step_id;
    s.thread_id = t->id;
    s.type = "user_message";
    s.name = c->q->user;
    s.output = content;
    s.metadata = "{}";
    s.created = s.start = s.end = rc_timestamp(c->r->pool, c->started);

    rv = rc_db_begin(db, &tx);
    if (!rv) {
        rv = (c->new_thread && rc_store_thread_insert(db, t))
          || rc_store_step_insert(db, &s)
          || rc_store_stream_begin(db, c->assistant_step_id, t->id, c->q->user_id);
        if (rc_db_end(db, tx, rv) && !rv) {
            rv = -1;
        }
    }
    return rv;
}

/* Validates the request, saves the user's step (and a new thread) and reads
 * the history. Returns OK, or DONE after sending an error. */
static int begin_chat(chat_ctx *c, json_t **history)
{
    rc_req *q = c->q;
    request_rec *r = c->r;
    json_t *tid;
    const char *content;
    rc_db *db;
    rc_thread *t = NULL;
    int rv, failed = 0;

    if ((rv = read_question(c, &content, &tid)) != OK) {
        return rv;
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

    rv = save_question(c, db, t, content);
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

static const char *outcome_name(rc_answer_outcome o)
{
    static const char *const names[] = { "done", "stopped", "unreachable", "timeout",
                                         "http_error", "broken", "bad_stream", "too_long" };

    return (unsigned)o < sizeof(names) / sizeof(names[0]) ? names[o] : "failed";
}

/* One line per answer that admins can grep (RC0206 at info; a failure is
 * RC0204 at warn with its reason): who, which app and thread, the outcome,
 * tokens, time to first token and duration. Never the words of the messages. */
static void log_answer(chat_ctx *c, rc_answer_outcome o, const char *error)
{
    request_rec *r = c->r;
    apr_time_t now = apr_time_now();
    const char *fields = apr_psprintf(
        r->pool, "user=%s app=%s thread=%s step=%s outcome=%s tokens=%lu ttft_ms=%s "
        "duration_ms=%" APR_INT64_T_FMT " bytes=%lu", ap_escape_logitem(r->pool, c->q->user),
        ap_escape_logitem(r->pool, *c->q->base ? c->q->base : "/"), c->thread_id,
        c->assistant_step_id, outcome_name(o), c->out->tokens,
        c->out->first_token ? apr_psprintf(r->pool, "%" APR_INT64_T_FMT,
                                           (apr_int64_t)apr_time_as_msec(c->out->first_token
                                                                         - r->request_time))
                            : "-",
        (apr_int64_t)apr_time_as_msec(now - r->request_time), (unsigned long)c->answer->len);

    if (error) {
        ap_log_rerror(APLOG_MARK, APLOG_WARNING, 0, r, "RC0204: answer ended early: %s %s%s%s",
                      fields, error, c->a.detail ? " The backend said: " : "",
                      c->a.detail ? ap_escape_logitem(r->pool, c->a.detail) : "");
        return;
    }
    ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, "RC0206: answer %s", fields);
}

static void finish_chat(chat_ctx *c, rc_answer_outcome o)
{
    request_rec *r = c->r;
    const char *error = o == RC_ANSWER_DONE || o == RC_ANSWER_STOPPED ? NULL : c->a.error;
    char *text = rc_clean_display(r->pool, c->answer->data, c->answer->len);
    json_t *ev;

    log_answer(c, o, error);
    save_answer(c, text, o, error);

    if (!c->out->started) {
        /* Nothing was streamed yet: a plain JSON error says what happened. */
        int status = o == RC_ANSWER_TIMEOUT ? HTTP_GATEWAY_TIME_OUT : HTTP_BAD_GATEWAY;
        json_t *j = json_pack("{s:{s:s,s:o},s:s,s:s,s:s}", "error",
                              "code", o == RC_ANSWER_TIMEOUT ? "backend_timeout" : "backend_error",
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
                       "stopped", o == RC_ANSWER_STOPPED);
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
    rc_answer *a = &c->a;
    json_t *history = NULL;
    rc_answer_outcome o;
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
    c->next_poll = now + RC_STOP_POLL;
    c->watch = rc_stream_watch_add(r, c->assistant_step_id);
    rc_json_pool(r->pool, history);
    c->out = rc_sse_out_create(r);
    c->answer = rc_buf_make(r->pool, 4096);

    a->q = q;
    a->r = r;
    a->history = history;
    a->thread_id = c->thread_id;
    a->step_id = c->assistant_step_id;
    a->out = c->out;
    a->answer = c->answer;
    apr_pool_create(&a->scratch, r->pool);
    a->open = on_open;
    a->tick = on_tick;
    o = rc_backend_of(q->conf)->answer(a);
    maybe_render(c, 1);
    rc_stream_watch_remove(c->watch);
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
