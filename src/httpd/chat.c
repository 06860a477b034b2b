/* POST B/api/chat: the user's message is saved, the thread's history goes to
 * the backend, and its answer is relayed token by token as it arrives.
 *
 * The conversation branches (conversation.h): a new message follows the end
 * of the branch shown; {"regenerate": answer} answers that answer's question
 * again, and {"edit": question, "content"} asks a new version of a question,
 * each as a new version beside the one it replaces (kept). The backend gets
 * the history of the new step's own branch: never the answer being replaced,
 * nor the old question or anything after it; of that history, the newest
 * part within the RagChatHistoryMax / RagChatHistoryChars budget (history.c),
 * always ending with the question.
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
#include "conversation.h"
#include "history.h"
#include "sources.h"
#include "sse_out.h"
#include "json.h"
#include "markdown.h"
#include "store.h"
#include "stream_watch.h"
#include "writer.h"
#include "buf.h"
#include "ids.h"

#include "http_log.h"
#include "http_protocol.h"
#include "apr_strings.h"

APLOG_USE_MODULE(ragchat);

#define RC_STOP_POLL         apr_time_from_msec(200)
#define RC_RENDER_MIN        apr_time_from_msec(100)
#define RC_USER_ID_MAX       128    /* bytes of a user's id (ours: a UUID) */

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
    const char *question_after;   /* the step the new question follows (NULL: the start) */
    int regenerate;               /* no new question: a new answer to it */
    struct question_write *question;
    rc_write_ticket *saving;      /* its write, committed while the answer streams */
    int saved;                    /* its result: -1 under way, 0 committed, 1 failed */
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
    if (c->saved < 0 && (c->saved = rc_writer_result(c->saving)) > 0) {
        return 1;                 /* the question was not saved: no answer to it */
    }
    if (!more || (now = apr_time_now()) < c->next_poll) {
        return 0;
    }
    c->next_poll = now + RC_STOP_POLL;
    return stop_requested(c);
}

/* ---- saving ----------------------------------------------------------------- */

/* The answer and the end of its running row: one job of the writer (writer.h). */
typedef struct {
    const rc_step *step;
    const char *stream_id;
} answer_write;

static int write_answer(rc_db *db, void *baton)
{
    answer_write *w = baton;

    return rc_store_step_insert(db, w->step) || rc_store_stream_end(db, w->stream_id);
}

static int save_answer(chat_ctx *c, const char *text, rc_answer_outcome o, const char *error,
                       json_t *preamble, json_t *sources)
{
    apr_pool_t *p = c->r->pool;
    rc_step s;
    json_t *meta = json_object();
    int rv;

    json_object_set_new(meta, "after", rc_json_string(c->user_step_id));
    /* What the backend said of its answer (the reference threw it away). */
    if (preamble) {
        json_object_set(meta, "preamble", preamble);
    }
    if (sources) {
        json_object_set(meta, "sources", sources);
    }
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

    answer_write w = { &s, c->assistant_step_id };
    rv = rc_writer_run(c->r, NULL, write_answer, &w);
    if (rv) {
        ap_log_rerror(APLOG_MARK, APLOG_CRIT, 0, c->r,
                      "RC0203: could not save the answer of step %s (%lu bytes)",
                      c->assistant_step_id, (unsigned long)c->answer->len);
    }
    return rv;
}

/* ---- before the backend: the user's message ------------------------------- */

/* What POST B/api/chat asks for. */
typedef struct {
    const char *content;         /* the question (NULL when regenerating) */
    json_t *thread_id;           /* NULL, JSON null or a string */
    const char *regenerate;      /* an answer's step id: answer its question again */
    const char *edit;            /* a question's step id: ask content in its place */
} chat_request;

static int bad_request(request_rec *r, const char *code, const char *msg)
{
    rc_send_error(r, HTTP_BAD_REQUEST, code, "%s", msg);
    return DONE;
}

/* The request's body. Returns OK, or DONE after sending an error. */
static int read_request(chat_ctx *c, chat_request *req)
{
    request_rec *r = c->r;
    json_t *body, *regen, *edit;
    int rv;

    if ((rv = rc_read_json(c->q, &body)) != OK) {
        return rv;
    }
    memset(req, 0, sizeof(*req));
    req->content = rc_json_get_str(body, "content");
    req->thread_id = json_object_get(body, "thread_id");
    regen = json_object_get(body, "regenerate");
    edit = json_object_get(body, "edit");
    if ((regen && !json_is_null(regen) && !json_is_string(regen))
        || (edit && !json_is_null(edit) && !json_is_string(edit))) {
        return bad_request(r, "bad_step_id", "\"regenerate\" and \"edit\" take a step id");
    }
    req->regenerate = json_string_value(regen);
    req->edit = json_string_value(edit);
    if (req->regenerate && req->edit) {
        return bad_request(r, "bad_request", "\"regenerate\" and \"edit\" exclude each other");
    }
    if (req->thread_id && !json_is_null(req->thread_id) && !json_is_string(req->thread_id)) {
        return bad_request(r, "bad_thread_id", "\"thread_id\" must be null or a string");
    }
    if ((req->regenerate || req->edit) && !json_is_string(req->thread_id)) {
        return bad_request(r, "bad_thread_id", "a regenerated answer or an edited question "
                           "needs its \"thread_id\"");
    }
    if (req->regenerate) {
        req->content = NULL;
        return OK;
    }
    if (!req->content) {
        return bad_request(r, "empty_message", "\"content\" must be a non-empty string");
    }
    if (req->content[strspn(req->content, " \t\r\n")] == '\0') {
        return bad_request(r, "empty_message", "the message is empty");
    }
    return OK;
}

/* The start of a chat, one job of the writer (writer.h), so one transaction
 * with the other requests' of the moment: the user when new, the thread when
 * new, the user's step (none when an answer is regenerated), the running
 * answer. */
typedef struct question_write {
    chat_ctx *c;
    rc_thread *t;
    rc_step step;
    const char *known_user_id;    /* the user's id when known before */
    char user_id[RC_USER_ID_MAX]; /* the user's, found or made by the job */
} question_write;

/* The user's id, their row made when it is their first message: the
 * identifier's UNIQUE makes a concurrent insert of the same user (another
 * child, another node) a no-op, and both use the winner's id. Copied into
 * the job: it runs on the writer's thread, away from the request's pool. */
static int write_user(rc_db *db, question_write *w)
{
    const char *id = w->known_user_id;

    if (!id && !(id = rc_store_user_id(db, w->c->q->user))) {
        return -1;
    }
    if (strlen(id) >= sizeof(w->user_id)) {
        ap_log_error(APLOG_MARK, APLOG_ERR, 0, w->c->r->server, "RC0210: the id of user %s "
                     "is longer than %d bytes", ap_escape_logitem(db->pool, w->c->q->user),
                     RC_USER_ID_MAX - 1);
        return -1;
    }
    strcpy(w->user_id, id);
    return 0;
}

/* Reads only what the request set before it was queued, and writes only
 * into w: the request goes on meanwhile. */
static int write_question(rc_db *db, void *baton)
{
    question_write *w = baton;
    chat_ctx *c = w->c;
    rc_thread t = *w->t;

    if (write_user(db, w)) {
        return -1;
    }
    t.user_id = w->user_id;
    return (c->new_thread && rc_store_thread_insert(db, &t))
        || (!c->new_thread && !t.app && rc_store_thread_claim(db, t.id, rc_req_app(c->q)))
        || (!c->regenerate && rc_store_step_insert(db, &w->step))
        || rc_store_stream_begin(db, c->assistant_step_id, t.id, w->user_id);
}

/* Queues the question's write (rc_writer_submit): the backend is called
 * while it commits. */
static void save_question(chat_ctx *c, rc_thread *t, const char *content)
{
    question_write *w = apr_pcalloc(c->r->pool, sizeof(*w));

    w->c = c;
    w->t = t;
    w->known_user_id = c->q->user_id;
    w->step.id = c->user_step_id;
    w->step.thread_id = t->id;
    w->step.type = "user_message";
    w->step.name = c->q->user;
    w->step.output = content;
    w->step.metadata = rc_branches_meta_after(c->r->pool, NULL, c->question_after);
    w->step.created = w->step.start = w->step.end = rc_timestamp(c->r->pool, c->started);
    c->question = w;
    c->saving = rc_writer_submit(c->r, c->q->user, write_question, w);
    c->saved = rc_writer_result(c->saving);
}

/* A new thread, named by its first message; its user's id is known, or
 * found (or made) when it is written. */
static rc_thread *new_thread(chat_ctx *c, const char *name)
{
    rc_thread *t = apr_pcalloc(c->r->pool, sizeof(*t));

    t->app = rc_req_app(c->q);
    t->id = rc_uuid4(c->r->pool);
    t->created = rc_timestamp(c->r->pool, apr_time_now());
    t->name = name;
    t->user_id = c->q->user_id;
    t->user_ident = c->q->user;
    return t;
}

/* Where the new answer goes in the conversation, and the history it answers
 * (*chain: the steps before the new question, or down to the regenerated
 * answer's question). Returns OK, or DONE after sending an error. */
static int place_answer(chat_ctx *c, const chat_request *req, const rc_conversation *conv,
                        apr_array_header_t **chain, const char **question)
{
    request_rec *r = c->r;
    const char *id = req->regenerate ? req->regenerate : req->edit;
    int i = id ? rc_branches_find(conv->nodes, conv->n, id) : -1;
    const rc_step *s = rc_conversation_step(conv, i), *before;

    *question = req->content;
    if (!id) {
        /* a new message: after the end of the branch shown */
        c->question_after = rc_conversation_leaf(r->pool, conv);
        *chain = rc_branches_chain(r->pool, conv->nodes, rc_branches_find(
                                   conv->nodes, conv->n, c->question_after));
        return OK;
    }
    if (!s || rc_step_kind(s) != (req->regenerate ? 2 : 1)) {
        rc_send_error(r, HTTP_NOT_FOUND, "not_found", req->regenerate
                      ? "no such answer in this thread" : "no such question in this thread");
        return DONE;
    }
    before = rc_conversation_step(conv, conv->nodes[i].parent);
    if (rc_conversation_is_upload(s) || (req->regenerate && rc_step_kind(before) != 1)) {
        return bad_request(r, "not_a_question", req->regenerate
                           ? "this message does not answer a question"
                           : "an upload cannot be edited");
    }
    if (req->regenerate) {
        /* the same question again, with the history before it */
        c->regenerate = 1;
        c->user_step_id = before->id;
        *question = NULL;
        *chain = rc_branches_chain(r->pool, conv->nodes, conv->nodes[i].parent);
        return OK;
    }
    /* a new version of the question, after what the old one followed */
    c->question_after = before ? before->id : NULL;
    *chain = rc_branches_chain(r->pool, conv->nodes, conv->nodes[i].parent);
    return OK;
}

/* The messages for the backend (history.h): a new thread has only its
 * question. NULL on a database error. */
static json_t *backend_history(chat_ctx *c, rc_db *db, const rc_conversation *conv,
                               const apr_array_header_t *chain, const char *question)
{
    rc_history_budget budget;
    json_t *msgs;
    int dropped = 0;

    budget.max_messages = rc_conf_history_max(c->q->conf);
    budget.max_chars = rc_conf_history_chars(c->q->conf);
    msgs = rc_history_messages(db, conv, conv ? chain : NULL, question, &budget, &dropped);
    if (msgs && dropped) {
        ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, c->r, "RC0208: thread %s: %lu messages "
                      "of history sent, %d older ones over the budget", c->thread_id,
                      (unsigned long)json_array_size(msgs), dropped);
    }
    return msgs;
}

static int unavailable(request_rec *r)
{
    rc_send_error(r, HTTP_SERVICE_UNAVAILABLE, "database", "the database is unavailable");
    return DONE;
}

/* An existing thread of the user and its conversation, on a connection held
 * for the reading only (*db: the caller reads the history on it, then
 * releases it). Returns OK, or DONE after sending an error. */
static int read_thread(chat_ctx *c, const char *id, rc_db **db, rc_thread **t,
                       rc_conversation **conv)
{
    rc_req *q = c->q;
    request_rec *r = c->r;
    int failed = 0;

    *db = rc_db_open(r, r->pool);
    if (!*db || !rc_req_user_id(q, *db)) {
        rc_db_release(*db);
        return unavailable(r);
    }
    *t = rc_store_thread_get(*db, id, q->user_id, q->user, rc_req_app(q), &failed);
    if (*t) {
        *conv = rc_conversation_load(*db, (*t)->id);
        failed = !*conv;
    }
    if (failed || !*t) {
        rc_db_release(*db);
        return failed ? unavailable(r)
                      : (rc_send_error(r, HTTP_NOT_FOUND, "not_found", "no such thread"), DONE);
    }
    return OK;
}

/* Validates the request, reads the thread (none for a new one), saves the
 * user's step (and the new thread) and makes the history. Returns OK, or
 * DONE after sending an error. A new chat needs no connection of its own:
 * its writes go with the other requests' of the moment (writer.h). */
static int begin_chat(chat_ctx *c, json_t **history)
{
    request_rec *r = c->r;
    chat_request req;
    const char *question;
    apr_array_header_t *chain = NULL;
    rc_conversation *conv = NULL;
    rc_thread *t = NULL;
    rc_db *db = NULL;             /* an existing thread's, for its reading only */
    apr_time_t t_read, t_write;
    int rv;

    if ((rv = read_request(c, &req)) != OK) {
        return rv;
    }
    t_read = apr_time_now();
    if (json_is_string(req.thread_id)) {
        if ((rv = read_thread(c, json_string_value(req.thread_id), &db, &t, &conv)) != OK) {
            return rv;
        }
    }
    else {
        t = new_thread(c, req.content);
        c->new_thread = 1;
    }
    c->thread_id = t->id;
    c->thread_name = t->name;
    c->user_step_id = rc_uuid4(r->pool);
    c->assistant_step_id = rc_uuid4(r->pool);
    question = req.content;
    if (conv && (rv = place_answer(c, &req, conv, &chain, &question)) != OK) {
        rc_db_release(db);
        return rv;
    }
    /* Read before anything is saved: a failure leaves the thread as it was. */
    *history = backend_history(c, db, conv, chain, question);
    rc_db_release(db);
    if (!*history) {
        return rc_send_error(r, HTTP_SERVICE_UNAVAILABLE, "database",
                             "the conversation could not be read"), DONE;
    }
    t_write = apr_time_now();
    save_question(c, t, req.content);
    ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r, "RC0209: answer %s: the question read in %"
                  APR_TIME_T_FMT " us after the request arrived, the thread and its history "
                  "in %" APR_TIME_T_FMT " us, its write queued in %" APR_TIME_T_FMT " us "
                  "(group commit)", c->assistant_step_id, t_read - r->request_time,
                  t_write - t_read, apr_time_now() - t_write);
    if (c->saved > 0) {
        json_decref(*history);
        *history = NULL;
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
static void log_answer(chat_ctx *c, const char *outcome, const char *error)
{
    request_rec *r = c->r;
    apr_time_t now = apr_time_now();
    const char *fields = apr_psprintf(
        r->pool, "user=%s app=%s thread=%s step=%s outcome=%s tokens=%lu ttft_ms=%s "
        "duration_ms=%" APR_INT64_T_FMT " bytes=%lu", ap_escape_logitem(r->pool, c->q->user),
        ap_escape_logitem(r->pool, *c->q->base ? c->q->base : "/"), c->thread_id,
        c->assistant_step_id, outcome, c->out->tokens,
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

/* The stream's last event (its JSON freed with the request), then its end. */
static void end_stream(chat_ctx *c, const char *event, json_t *ev)
{
    const char *data;

    rc_json_pool(c->r->pool, ev);
    data = rc_json_dump(c->r->pool, ev);
    rc_sse_out_event(c->out, event, data, strlen(data));
    rc_sse_out_finish(c->out);
}

static void finish_chat(chat_ctx *c, rc_answer_outcome o)
{
    request_rec *r = c->r;
    const char *error = o == RC_ANSWER_DONE || o == RC_ANSWER_STOPPED ? NULL : c->a.error;
    char *text = rc_clean_display(r->pool, c->answer->data, c->answer->len);
    json_t *preamble = rc_sources_preamble(c->answer->data, c->answer->len);
    json_t *sources = rc_sources_from(preamble), *ev;

    log_answer(c, outcome_name(o), error);
    rc_json_pool(r->pool, preamble);
    rc_json_pool(r->pool, sources);
    save_answer(c, text, o, error, preamble, sources);

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
        if (sources) {
            json_object_set(ev, "sources", sources);
        }
    }
    end_stream(c, error ? "error" : "done", ev);
}

/* The question could not be saved (the database layer logged why): the
 * answer, stopped as soon as that was known, is not saved either. The user
 * is told so; their words are still in the browser, to send again. */
static void finish_unsaved(chat_ctx *c)
{
    static const char msg[] = "Your message could not be saved, so its answer was stopped. "
                              "Please send it again.";
    request_rec *r = c->r;
    json_t *ev;

    log_answer(c, "not_saved", "the question could not be saved");
    if (!c->out->started) {
        rc_send_error(r, HTTP_SERVICE_UNAVAILABLE, "database", "the message could not be saved");
        return;
    }
    ev = json_pack("{s:s,s:s,s:b}", "message", msg, "code", "not_saved", "saved", 0);
    end_stream(c, "error", ev);
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
    c->answer = rc_buf_make(r->pool, 256);   /* grows by doubling: an open stream holds what came */

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
    rc_stream_watch_remove(c->watch);
    if (rc_writer_wait(c->saving)) {
        finish_unsaved(c);
        return OK;
    }
    c->q->user_id = c->question->user_id;
    maybe_render(c, 1);
    finish_chat(c, o);
    return OK;
}

/* Sets the stop flag of the user's running answer: 1 when it was set, 0 when
 * the answer has ended, -1 when no answer has that id, -2 on a database
 * error. */
static int request_stop(rc_req *q, const char *step_id)
{
    request_rec *r = q->r;
    apr_pool_t *p;
    rc_db *db;
    int n = -2, failed = 0;

    apr_pool_create(&p, r->pool);
    db = rc_db_open(r, p);
    if (db && rc_req_user_id(q, db)) {
        n = rc_store_stream_request_stop(db, step_id, q->user_id);
        if (n == 0) {
            n = rc_store_step_get(db, step_id, q->user_id, q->user, rc_req_app(q), &failed)
                ? 0 : failed ? -2 : -1;
        }
        else if (n < 0) {
            n = -2;
        }
    }
    rc_db_release(db);
    apr_pool_destroy(p);
    return n;
}

/* An answer streams while its question is being committed (the running
 * answer's row goes with it): a stop that finds no such answer looks again
 * a few times, up to RC_STOP_WAIT, before it says so. */
#define RC_STOP_WAIT   apr_time_from_msec(1000)
#define RC_STOP_RETRY  apr_time_from_msec(100)

int rc_handle_chat_stop(rc_req *q, const char *step_id)
{
    request_rec *r = q->r;
    apr_time_t until = apr_time_now() + RC_STOP_WAIT;
    int n;

    while ((n = request_stop(q, step_id)) == -1 && apr_time_now() < until) {
        apr_sleep(RC_STOP_RETRY);
    }
    switch (n) {
    case -2:
        return rc_send_error(r, HTTP_SERVICE_UNAVAILABLE, "database",
                             "the database is unavailable");
    case -1:
        return rc_send_error(r, HTTP_NOT_FOUND, "not_found", "no running answer with this id");
    case 0:
        return rc_send_error(r, HTTP_CONFLICT, "not_running", "this answer has already ended");
    default:
        return rc_send_json(r, HTTP_ACCEPTED, json_pack("{s:b}", "stopping", 1));
    }
}
