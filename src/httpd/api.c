/* JSON routes: the user, threads and feedback. Every lookup is scoped to the
 * requesting user: another user's id answers 404, never 403, so ids leak nothing. */
#include "api.h"
#include "conversation.h"
#include "ids.h"
#include "json.h"
#include "markdown.h"
#include "snippet.h"
#include "version.h"

#include "http_log.h"
#include "http_protocol.h"
#include "apr_strings.h"

APLOG_USE_MODULE(ragchat);

#define RC_LIST_MAX 100
#define RC_PAGE_DEFAULT 100     /* steps of a thread sent at once */
#define RC_PAGE_MAX 500
#define RC_NAME_MAX 1000
#define RC_SNIPPET_WIDTH 160      /* bytes of a search result's snippet */

rc_db *rc_api_db(rc_req *q)
{
    rc_db *db = rc_db_acquire(q->r);

    if (!db || !rc_req_user_id(q, db)) {
        rc_send_error(q->r, HTTP_SERVICE_UNAVAILABLE, "database", "the database is unavailable");
        return NULL;
    }
    return db;
}

rc_thread *rc_api_owned_thread(rc_req *q, rc_db *db, const char *id)
{
    int failed = 0;
    rc_thread *t = rc_store_thread_get(db, id, q->user_id, q->user, rc_req_app(q), &failed);

    if (!t) {
        if (failed) {
            rc_send_error(q->r, HTTP_SERVICE_UNAVAILABLE, "database", "the database is unavailable");
        }
        else {
            rc_send_error(q->r, HTTP_NOT_FOUND, "not_found", "no such thread");
        }
    }
    return t;
}

rc_step *rc_api_owned_step(rc_req *q, rc_db *db, const char *id)
{
    int failed = 0;
    rc_step *s = rc_store_step_get(db, id, q->user_id, q->user, rc_req_app(q), &failed);

    if (!s) {
        if (failed) {
            rc_send_error(q->r, HTTP_SERVICE_UNAVAILABLE, "database", "the database is unavailable");
        }
        else {
            rc_send_error(q->r, HTTP_NOT_FOUND, "not_found", "no such message");
        }
    }
    return s;
}

/* What the empty chat shows: "starters" (RagChatStarter) and "readme", the
 * rendered RagChatReadme. */
static void empty_chat(rc_req *q, json_t *me)
{
    const rc_dir_conf *c = q->conf;
    json_t *starters = json_array();
    int i;

    for (i = 0; c->starters && i < c->starters->nelts; i++) {
        const rc_starter *st = &APR_ARRAY_IDX(c->starters, i, rc_starter);
        json_array_append_new(starters, json_pack("{s:o,s:o}", "label", rc_json_string(st->label),
                                                  "message", rc_json_string(st->message)));
    }
    json_object_set_new(me, "starters", starters);
    if (c->readme) {
        json_object_set_new(me, "readme", rc_json_string(
            rc_markdown_to_html(q->r->pool, c->readme, strlen(c->readme))));
    }
}

int rc_handle_me(rc_req *q)
{
    rc_dir_conf *c = q->conf;
    json_t *types = json_array(), *me;
    const char *const *t;

    if (strcmp(q->r->method, "GET")) {
        return rc_send_method_not_allowed(q->r, "GET");
    }
    for (t = rc_conf_upload_types(q->r->pool, c); *t; t++) {
        json_array_append_new(types, json_string(*t));
    }
    me = json_pack("{s:o,s:s,s:o,s:o,s:o,s:s,s:s,s:{s:I,s:i,s:o},s:s,s:o,s:o}",
                  "user", rc_json_string(q->user),
                  "csrf", q->csrf ? q->csrf : "",
                  "title", rc_json_string(rc_conf_title(c)),
                  "welcome", rc_json_string(rc_conf_welcome(c)),
                  "assistant", rc_json_string(rc_conf_assistant(c)),
                  "auth", rc_conf_auth(c) == RC_AUTH_FORM ? "form" : "apache",
                  "backend", rc_conf_is_builtin(c) ? "builtin" : "remote",
                  "upload", "max_size", (json_int_t)rc_conf_upload_max_size(c),
                  "max_files", rc_conf_upload_max_files(c), "types", types,
                  "version", RAGCHAT_VERSION,
                  /* apache mode: the site's logout, and how the login is held
                   * ("Basic": by the browser, which only closing it forgets) */
                  "logout_url", c->logout_url ? json_string(c->logout_url) : json_null(),
                  "auth_type", q->r->ap_auth_type ? json_string(q->r->ap_auth_type)
                                                  : json_null());
    empty_chat(q, me);
    return rc_send_json(q->r, HTTP_OK, me);
}

static json_t *thread_json(const rc_thread *t)
{
    return json_pack("{s:s,s:o,s:s}", "id", t->id, "name", rc_json_string(t->name),
                     "createdAt", t->created);
}

/* A search result's "snippet": the text around the match in its best
 * message, and the same as "snippet_parts": plain text and the matched words
 * by turns, for the browser to mark as text. None when the name matched best
 * (the name is there to see). */
static void search_snippet(rc_db *db, const rc_search_hit *h, const rc_search_terms *st,
                           json_t *tj)
{
    const char *marked = h->in_name ? NULL : rc_store_search_marked(db, h->doc, st, NULL);
    apr_array_header_t *parts = rc_snippet_parts(db->pool, marked, RC_SNIPPET_WIDTH);
    json_t *arr;
    const char *plain = "";
    int i;

    if (!parts) {
        return;
    }
    arr = json_array();
    for (i = 0; i < parts->nelts; i++) {
        const char *s = APR_ARRAY_IDX(parts, i, const char *);
        plain = apr_pstrcat(db->pool, plain, s, NULL);
        json_array_append_new(arr, rc_json_string(s));
    }
    json_object_set_new(tj, "snippet", rc_json_string(plain));
    json_object_set_new(tj, "snippet_parts", arr);
}

/* A search's next page: "offset:N" (the results are ranked, not by date). */
#define RC_SEARCH_CURSOR "offset:"

static int search_threads(rc_req *q, rc_db *db, const rc_search_terms *st,
                          const char *before, int limit)
{
    int offset = 0, i;
    apr_array_header_t *hits;
    json_t *arr;

    if (before && strncmp(before, RC_SEARCH_CURSOR, sizeof(RC_SEARCH_CURSOR) - 1) == 0) {
        offset = atoi(before + sizeof(RC_SEARCH_CURSOR) - 1);
        offset = offset < 0 || offset > 100000 ? 0 : offset;
    }
    hits = rc_store_threads_search(db, q->user_id, q->user, rc_req_app(q), st, offset,
                                   limit + 1);
    if (!hits) {
        return rc_send_error(q->r, HTTP_SERVICE_UNAVAILABLE, "database",
                             "the database is unavailable");
    }
    arr = json_array();
    for (i = 0; i < hits->nelts && i < limit; i++) {
        const rc_search_hit *h = &APR_ARRAY_IDX(hits, i, rc_search_hit);
        json_t *tj = thread_json(h->thread);
        search_snippet(db, h, st, tj);
        json_array_append_new(arr, tj);
    }
    return rc_send_json(q->r, HTTP_OK, json_pack("{s:o,s:o}", "threads", arr, "next_before",
        hits->nelts > limit
            ? json_string(apr_psprintf(q->r->pool, RC_SEARCH_CURSOR "%d", offset + limit))
            : json_null()));
}

static int list_threads(rc_req *q)
{
    request_rec *r = q->r;
    const char *lim = rc_query_param(r, "limit");
    const char *before = rc_query_param(r, "before");
    const char *query = rc_query_param(r, "q");
    int limit = lim ? atoi(lim) : 30;
    rc_search_terms *st = NULL;
    apr_array_header_t *list;
    json_t *arr;
    rc_db *db;
    int i;

    if (limit < 1 || limit > RC_LIST_MAX) {
        return rc_send_error(r, HTTP_BAD_REQUEST, "bad_limit",
                             "limit must be between 1 and %d", RC_LIST_MAX);
    }
    if (query && strlen(query) > 200) {
        return rc_send_error(r, HTTP_BAD_REQUEST, "bad_query", "the search is too long");
    }
    if (!(db = rc_api_db(q))) {
        return OK;
    }
    if (query && (st = rc_search_parse(r->pool, query)) != NULL) {
        return search_threads(q, db, st, before, limit);
    }
    /* One more than asked tells whether another page follows. */
    list = rc_store_threads_list(db, q->user_id, q->user, rc_req_app(q), before, limit + 1);
    if (!list) {
        return rc_send_error(r, HTTP_SERVICE_UNAVAILABLE, "database", "the database is unavailable");
    }
    arr = json_array();
    for (i = 0; i < list->nelts && i < limit; i++) {
        json_array_append_new(arr, thread_json(APR_ARRAY_IDX(list, i, rc_thread *)));
    }
    return rc_send_json(r, HTTP_OK, json_pack("{s:o,s:o}", "threads", arr, "next_before",
        list->nelts > limit
            ? json_string(APR_ARRAY_IDX(list, limit - 1, rc_thread *)->created)
            : json_null()));
}

int rc_handle_threads(rc_req *q)
{
    if (strcmp(q->r->method, "GET")) {
        return rc_send_method_not_allowed(q->r, "GET");
    }
    return list_threads(q);
}

static json_t *metadata_json(const char *text)
{
    json_t *j = text ? json_loads(text, 0, NULL) : NULL;

    if (!json_is_object(j)) {
        json_decref(j);
        j = json_object();
    }
    return j;
}

static json_t *step_json(apr_pool_t *p, const rc_step *s)
{
    const char *out = s->output ? s->output : "";
    json_t *j = json_pack("{s:s,s:o,s:o,s:o,s:o,s:o,s:o,s:b,s:o}",
                          "id", s->id,
                          "type", rc_json_string(s->type),
                          "name", rc_json_string(s->name),
                          "output", rc_json_string(out),
                          "createdAt", rc_json_string(s->created),
                          "start", rc_json_string(s->start),
                          "end", rc_json_string(s->end),
                          "isError", s->is_error,
                          "metadata", metadata_json(s->metadata));

    if (s->type && strcmp(s->type, "user_message") != 0) {
        json_object_set_new(j, "html", rc_json_string(rc_markdown_to_html(p, out, strlen(out))));
    }
    json_object_set_new(j, "feedback", s->feedback_value
        ? json_pack("{s:i,s:o}", "value", atoi(s->feedback_value),
                    "comment", s->feedback_comment ? rc_json_string(s->feedback_comment)
                                                   : json_null())
        : json_null());
    return j;
}

/* The uploaded files of the thread, as the browser pairs them with steps. */
static json_t *elements_json(apr_array_header_t *els)
{
    json_t *earr = json_array();
    int i;

    for (i = 0; i < els->nelts; i++) {
        rc_element *e = APR_ARRAY_IDX(els, i, rc_element *);
        json_array_append_new(earr, json_pack("{s:s,s:o,s:o,s:o,s:o}", "id", e->id,
                                              "name", rc_json_string(e->name),
                                              "size", e->size ? json_integer(atoll(e->size))
                                                              : json_null(),
                                              "mime", rc_json_string(e->mime),
                                              "forId", rc_json_string(e->for_id)));
    }
    return earr;
}

/* The steps of one page (node indexes of conv), read whole; a step with
 * other versions lists them all ("versions", ids in time order, its own
 * among them). NULL on a database error. */
static json_t *page_steps(rc_db *db, const rc_conversation *conv, apr_array_header_t *page)
{
    apr_array_header_t *steps = rc_conversation_read(db, conv, (const int *)page->elts,
                                                     page->nelts);
    json_t *arr;
    apr_pool_t *p;
    int i, k = 0;

    if (!steps) {
        return NULL;
    }
    arr = json_array();
    apr_pool_create(&p, db->pool);
    for (i = 0; i < steps->nelts; i++) {
        rc_step *s = APR_ARRAY_IDX(steps, i, rc_step *);
        json_t *sj = step_json(p, s), *versions;
        /* the page's node of this step (a step deleted meanwhile is skipped) */
        while (k < page->nelts && strcmp(conv->nodes[APR_ARRAY_IDX(page, k, int)].id, s->id)) {
            k++;
        }
        versions = k < page->nelts ? rc_conversation_versions(conv, APR_ARRAY_IDX(page, k, int))
                                   : NULL;
        if (versions) {
            json_object_set_new(sj, "versions", versions);
        }
        json_array_append_new(arr, sj);
        apr_pool_clear(p);    /* rendered html is copied into the JSON value */
    }
    apr_pool_destroy(p);
    return arr;
}

/* The thread with a page of the branch shown: its newest steps, or with
 * ?before=<step id> (the "next_before" of the page after it) the steps of
 * that step's branch just before it; "next_before" is null at the start.
 * ?limit= takes 1..RC_PAGE_MAX steps (default RC_PAGE_DEFAULT). */
static int get_thread(rc_req *q, rc_db *db, rc_thread *t)
{
    request_rec *r = q->r;
    const char *before = rc_query_param(r, "before");
    const char *lim = rc_query_param(r, "limit");
    int limit = lim ? atoi(lim) : RC_PAGE_DEFAULT, at = -1, more = 0;
    rc_conversation *conv;
    apr_array_header_t *els, *page;
    json_t *j, *arr;

    if (limit < 1 || limit > RC_PAGE_MAX) {
        return rc_send_error(r, HTTP_BAD_REQUEST, "bad_limit",
                             "limit must be between 1 and %d", RC_PAGE_MAX);
    }
    if (!(conv = rc_conversation_load(db, t->id))) {
        return rc_send_error(r, HTTP_SERVICE_UNAVAILABLE, "database",
                             "the database is unavailable");
    }
    if (before && (at = rc_branches_find(conv->nodes, conv->n, before)) < 0) {
        return rc_send_error(r, HTTP_BAD_REQUEST, "bad_cursor",
                             "\"before\" is not a message of this thread");
    }
    page = rc_conversation_page(r->pool, conv, at, limit, &more);
    if (!(els = rc_store_thread_elements(db, t->id, 1000)) || !(arr = page_steps(db, conv, page))) {
        return rc_send_error(r, HTTP_SERVICE_UNAVAILABLE, "database",
                             "the database is unavailable");
    }
    j = thread_json(t);
    json_object_set_new(j, "steps", arr);
    json_object_set_new(j, "elements", elements_json(els));
    json_object_set_new(j, "next_before", more && page->nelts
        ? rc_json_string(conv->nodes[APR_ARRAY_IDX(page, 0, int)].id) : json_null());
    return rc_send_json(r, HTTP_OK, j);
}

static int rename_thread(rc_req *q, rc_db *db, rc_thread *t)
{
    json_t *body;
    const char *name;
    int rv;

    if ((rv = rc_read_json(q, &body)) != OK) {
        return rv == DONE ? OK : rv;
    }
    name = rc_json_get_str(body, "name");
    if (!name || !name[strspn(name, " \t\r\n")]) {
        return rc_send_error(q->r, HTTP_BAD_REQUEST, "bad_name", "\"name\" must be a non-empty string");
    }
    if (strlen(name) > RC_NAME_MAX) {
        return rc_send_error(q->r, HTTP_BAD_REQUEST, "bad_name",
                             "the name is longer than %d bytes", RC_NAME_MAX);
    }
    if (rc_store_thread_rename(db, t->id, name)) {
        return rc_send_error(q->r, HTTP_SERVICE_UNAVAILABLE, "database", "the thread was not renamed");
    }
    t->name = name;
    return rc_send_json(q->r, HTTP_OK, thread_json(t));
}

int rc_handle_thread(rc_req *q, const char *id)
{
    request_rec *r = q->r;
    rc_db *db;
    rc_thread *t;
    int m = r->method_number;

    if (m != M_GET && m != M_PATCH && m != M_DELETE) {
        return rc_send_method_not_allowed(r, "GET, PATCH, DELETE");
    }
    if (!(db = rc_api_db(q)) || !(t = rc_api_owned_thread(q, db, id))) {
        return OK;
    }
    if (m == M_GET) {
        return get_thread(q, db, t);
    }
    if (m == M_PATCH) {
        return rename_thread(q, db, t);
    }
    if (rc_store_thread_delete(db, t->id)) {
        return rc_send_error(r, HTTP_SERVICE_UNAVAILABLE, "database", "the thread was not deleted");
    }
    r->status = HTTP_NO_CONTENT;
    return OK;
}

int rc_handle_feedback(rc_req *q, const char *step_id)
{
    request_rec *r = q->r;
    json_t *body, *value, *comment;
    rc_db *db;
    rc_step *s;
    int rv;

    if (r->method_number != M_PUT && r->method_number != M_DELETE) {
        return rc_send_method_not_allowed(r, "PUT, DELETE");
    }
    if (!(db = rc_api_db(q)) || !(s = rc_api_owned_step(q, db, step_id))) {
        return OK;
    }
    if (r->method_number == M_DELETE) {
        if (rc_store_feedback_delete(db, s->id)) {
            return rc_send_error(r, HTTP_SERVICE_UNAVAILABLE, "database", "feedback not removed");
        }
        r->status = HTTP_NO_CONTENT;
        return OK;
    }
    if ((rv = rc_read_json(q, &body)) != OK) {
        return rv == DONE ? OK : rv;
    }
    value = json_object_get(body, "value");
    comment = json_object_get(body, "comment");
    if (!json_is_integer(value) || (json_integer_value(value) != 0
                                    && json_integer_value(value) != 1)) {
        return rc_send_error(r, HTTP_BAD_REQUEST, "bad_value",
                             "\"value\" must be 1 (thumbs up) or 0 (thumbs down)");
    }
    if (comment && !json_is_null(comment)
        && (!json_is_string(comment) || json_string_length(comment) > 10000)) {
        return rc_send_error(r, HTTP_BAD_REQUEST, "bad_comment",
                             "\"comment\" must be a string of at most 10000 bytes");
    }
    if (s->type && strcmp(s->type, "assistant_message") != 0) {
        return rc_send_error(r, HTTP_BAD_REQUEST, "not_an_answer",
                             "feedback is for the assistant's answers");
    }
    if (rc_store_feedback_set(db, s->id, s->thread_id, (int)json_integer_value(value),
                              json_is_string(comment) ? json_string_value(comment) : NULL)) {
        return rc_send_error(r, HTTP_SERVICE_UNAVAILABLE, "database", "feedback not saved");
    }
    return rc_send_json(r, HTTP_OK, json_pack("{s:I,s:O}", "value", json_integer_value(value),
                                              "comment", json_is_string(comment) ? comment
                                                                                : json_null()));
}

int rc_handle_step_show(rc_req *q, const char *step_id)
{
    request_rec *r = q->r;
    rc_db *db;
    rc_step *s;
    rc_thread *t;
    const char *meta;

    if (r->method_number != M_POST) {
        return rc_send_method_not_allowed(r, "POST");
    }
    if (!(db = rc_api_db(q)) || !(s = rc_api_owned_step(q, db, step_id))
        || !(t = rc_api_owned_thread(q, db, s->thread_id))) {
        return OK;
    }
    if (!rc_step_kind(s)) {
        return rc_send_error(r, HTTP_BAD_REQUEST, "not_a_message",
                             "only questions and answers have versions");
    }
    /* The most recently picked version is the one shown (branches.h). */
    meta = rc_branches_meta_shown(r->pool, s->metadata, rc_timestamp(r->pool, apr_time_now()));
    if (rc_store_step_set_metadata(db, s->id, meta)) {
        return rc_send_error(r, HTTP_SERVICE_UNAVAILABLE, "database",
                             "the version shown could not be saved");
    }
    return get_thread(q, db, t);
}
