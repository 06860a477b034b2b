/* The store: users, threads, steps, feedback, elements and running answers
 * (the reference's tables plus ragchat_streams), as functions over db.c's
 * connections. Every statement of these tables is here. */
#include "store.h"
#include "ids.h"

#include "apr_strings.h"

const char *rc_store_user_id(rc_db *db, const char *ident)
{
    static const char sel[] = "SELECT id FROM users WHERE identifier = %s LIMIT 1";
    const char *id;
    int failed = 0, n = 0;

    id = rc_db_value(db, "user_get", sel, RC_DB_ARGS(ident), &failed);
    if (id || failed) {
        return id;
    }
    /* Another process may insert the same user at the same moment: the UNIQUE
     * identifier makes the loser's insert a no-op, and the loser reads the
     * winner's id. */
    id = rc_uuid4(db->pool);
    if (rc_db_exec(db, "user_add",
                   "INSERT INTO users (id, identifier, \"createdAt\", metadata)"
                   " VALUES (%s, %s, %s, %s) ON CONFLICT (identifier) DO NOTHING", &n,
                   RC_DB_ARGS(id, ident, rc_timestamp(db->pool, apr_time_now()),
                              "{\"role\": \"user\"}"))) {
        return NULL;
    }
    return n == 1 ? id : rc_db_value(db, "user_get", sel, RC_DB_ARGS(ident), NULL);
}

rc_thread *rc_store_thread_from_row(rc_db *db, apr_dbd_row_t *row)
{
    rc_thread *t = apr_pcalloc(db->pool, sizeof(*t));
    const char *v;

    t->id = apr_pstrdup(db->pool, rc_db_col(db, row, 0));
    v = rc_db_col(db, row, 1);
    t->name = apr_pstrdup(db->pool, v ? v : "");
    v = rc_db_col(db, row, 2);
    t->created = apr_pstrdup(db->pool, v ? v : "");
    v = rc_db_col(db, row, 3);
    t->app = v ? apr_pstrdup(db->pool, v) : NULL;
    return t;
}

rc_thread *rc_store_thread_get(rc_db *db, const char *id, const char *user_id,
                               const char *user_ident, const char *app, int *failed)
{
    apr_dbd_results_t *res;
    apr_dbd_row_t *row = NULL;
    rc_thread *t = NULL;

    /* Chainlit writes both the user's id and identifier; either proves ownership. */
    if (rc_db_select(db, "thread_get",
                     "SELECT id, name, \"createdAt\", \"ragchatApp\" FROM threads WHERE id = %s"
                     " AND (\"userId\" = %s OR \"userIdentifier\" = %s)"
                     " AND (\"ragchatApp\" IS NULL OR \"ragchatApp\" = %s) LIMIT 1",
                     &res, RC_DB_ARGS(id, user_id, user_ident, app))) {
        if (failed) {
            *failed = 1;
        }
        return NULL;
    }
    while (rc_db_next(db, res, &row) == 0) {
        if (!t) {
            t = rc_store_thread_from_row(db, row);
            t->user_id = user_id;
            t->user_ident = user_ident;
        }
    }
    return t;
}

rc_thread *rc_store_thread_new(rc_db *db, const char *user_id, const char *user_ident,
                               const char *app, const char *name)
{
    rc_thread *t = apr_pcalloc(db->pool, sizeof(*t));

    t->app = app;
    t->id = rc_uuid4(db->pool);
    t->created = rc_timestamp(db->pool, apr_time_now());
    t->name = name;
    t->user_id = user_id;
    t->user_ident = user_ident;
    return t;
}

int rc_store_thread_insert(rc_db *db, const rc_thread *t)
{
    return rc_db_exec(db, "thread_add",
                      "INSERT INTO threads (id, \"createdAt\", name, \"userId\","
                      " \"userIdentifier\", tags, metadata, \"ragchatApp\")"
                      " VALUES (%s, %s, %s, %s, %s, %s, %s, %s)",
                      NULL, RC_DB_ARGS(t->id, t->created, t->name, t->user_id,
                                       t->user_ident, "[]", "{}", t->app));
}

int rc_store_thread_claim(rc_db *db, const char *id, const char *app)
{
    return rc_db_exec(db, "thread_claim",
                      "UPDATE threads SET \"ragchatApp\" = %s WHERE id = %s"
                      " AND \"ragchatApp\" IS NULL", NULL, RC_DB_ARGS(app, id));
}

int rc_store_thread_rename(rc_db *db, const char *id, const char *name)
{
    return rc_db_exec(db, "thread_rename", "UPDATE threads SET name = %s WHERE id = %s",
                      NULL, RC_DB_ARGS(name, id));
}

int rc_store_thread_delete(rc_db *db, const char *id)
{
    apr_dbd_transaction_t *tx;
    int rv;

    if (rc_db_begin(db, &tx)) {
        return -1;
    }
    rv = rc_db_exec(db, "thread_del_fb", "DELETE FROM feedbacks WHERE \"threadId\" = %s",
                    NULL, RC_DB_ARGS(id))
      || rc_db_exec(db, "thread_del_el", "DELETE FROM elements WHERE \"threadId\" = %s",
                    NULL, RC_DB_ARGS(id))
      || rc_db_exec(db, "thread_del_steps", "DELETE FROM steps WHERE \"threadId\" = %s",
                    NULL, RC_DB_ARGS(id))
      || rc_db_exec(db, "thread_del", "DELETE FROM threads WHERE id = %s",
                    NULL, RC_DB_ARGS(id));
    if (rc_db_end(db, tx, rv) && !rv) {
        rv = -1;
    }
    return rv;
}

/* One of the two ways a thread names its user, newest first: each an
 * indexed range scan (threads ("userIdentifier"|"userId", "createdAt")), the
 * union of the two a merge; an OR in one WHERE would leave SQLite walking the
 * whole of the user's threads to sort them. */
#define LIST_SIDE(COL) \
    "SELECT * FROM (SELECT id, name, \"createdAt\", \"ragchatApp\" FROM threads" \
    " WHERE " COL " = %s AND (\"ragchatApp\" IS NULL OR \"ragchatApp\" = %s)" \
    " AND \"createdAt\" < %s ORDER BY \"createdAt\" DESC, id DESC LIMIT %d) AS " 

apr_array_header_t *rc_store_threads_list(rc_db *db, const char *user_id,
                                          const char *user_ident, const char *app,
                                          const char *before, int limit)
{
    apr_dbd_results_t *res;
    apr_dbd_row_t *row = NULL;
    apr_array_header_t *out;
    const char *lim = rc_db_int(db, limit);
    /* Timestamps compare as strings; this one sorts after all of them. */
    const char *cursor = before && *before ? before : "9999-12-31T23:59:59.999999Z";

    if (rc_db_select(db, "threads_list",
                     "SELECT id, name, \"createdAt\", \"ragchatApp\" FROM ("
                     LIST_SIDE("\"userIdentifier\"") "a UNION "
                     LIST_SIDE("\"userId\"") "b) AS u"
                     " ORDER BY \"createdAt\" DESC, id DESC LIMIT %d",
                     &res, RC_DB_ARGS(user_ident, app, cursor, lim, user_id, app, cursor, lim,
                                      lim))) {
        return NULL;
    }
    out = apr_array_make(db->pool, limit > 0 ? limit : 1, sizeof(rc_thread *));
    while (rc_db_next(db, res, &row) == 0) {
        APR_ARRAY_PUSH(out, rc_thread *) = rc_store_thread_from_row(db, row);
    }
    return out;
}

int rc_store_step_insert(rc_db *db, const rc_step *s)
{
    return rc_db_exec(db, "step_add",
                      "INSERT INTO steps (id, name, type, \"threadId\", \"parentId\","
                      " \"disableFeedback\", streaming, \"isError\", metadata, input, output,"
                      " \"createdAt\", start, \"end\", \"showInput\")"
                      " VALUES (%s, %s, %s, %s, %s, %d, %d, %d, %s, %s, %s, %s, %s, %s, %s)",
                      NULL, RC_DB_ARGS(s->id, s->name, s->type, s->thread_id, s->parent_id,
                                       "0", "0", s->is_error ? "1" : "0",
                                       s->metadata ? s->metadata : "{}", "", s->output,
                                       s->created, s->start, s->end, NULL));
}

static const char *dup_col(rc_db *db, apr_dbd_row_t *row, int col)
{
    const char *v = rc_db_col(db, row, col);
    return v ? apr_pstrdup(db->pool, v) : NULL;
}

rc_step *rc_store_step_from_row(rc_db *db, apr_dbd_row_t *row)
{
    rc_step *s = apr_pcalloc(db->pool, sizeof(*s));
    const char *err;

    s->id = dup_col(db, row, 0);
    s->name = dup_col(db, row, 1);
    s->type = dup_col(db, row, 2);
    s->thread_id = dup_col(db, row, 3);
    s->parent_id = dup_col(db, row, 4);
    err = rc_db_col(db, row, 5);
    s->is_error = err && atoi(err) != 0;
    s->metadata = dup_col(db, row, 6);
    s->output = dup_col(db, row, 7);
    s->created = dup_col(db, row, 8);
    s->start = dup_col(db, row, 9);
    s->end = dup_col(db, row, 10);
    s->feedback_value = dup_col(db, row, 11);
    s->feedback_comment = dup_col(db, row, 12);
    return s;
}

rc_step *rc_store_step_get(rc_db *db, const char *id, const char *user_id,
                           const char *user_ident, const char *app, int *failed)
{
    apr_dbd_results_t *res;
    apr_dbd_row_t *row = NULL;
    rc_step *s = NULL;

    if (rc_db_select(db, "step_get",
                     "SELECT " RC_STORE_STEP_COLS " FROM steps s"
                     " JOIN threads t ON t.id = s.\"threadId\""
                     " LEFT JOIN feedbacks f ON f.\"forId\" = s.id"
                     " WHERE s.id = %s AND (t.\"userId\" = %s OR t.\"userIdentifier\" = %s)"
                     " AND (t.\"ragchatApp\" IS NULL OR t.\"ragchatApp\" = %s)"
                     " LIMIT 1", &res, RC_DB_ARGS(id, user_id, user_ident, app))) {
        if (failed) {
            *failed = 1;
        }
        return NULL;
    }
    while (rc_db_next(db, res, &row) == 0) {
        if (!s) {
            s = rc_store_step_from_row(db, row);
        }
    }
    return s;
}

int rc_store_stream_begin(rc_db *db, const char *step_id, const char *thread_id,
                          const char *user_id)
{
    return rc_db_exec(db, "stream_add",
                      "INSERT INTO ragchat_streams (\"stepId\", \"threadId\", \"userId\", stop,"
                      " \"createdAt\") VALUES (%s, %s, %s, 0, %s)", NULL,
                      RC_DB_ARGS(step_id, thread_id, user_id,
                                 rc_timestamp(db->pool, apr_time_now())));
}

int rc_store_stream_stop_requested(rc_db *db, const char *step_id)
{
    int failed = 0;
    const char *v = rc_db_value(db, "stream_poll",
                                 "SELECT stop FROM ragchat_streams WHERE \"stepId\" = %s LIMIT 1",
                                 RC_DB_ARGS(step_id), &failed);

    if (failed) {
        return -1;
    }
    return v && atoi(v) != 0;
}

apr_array_header_t *rc_store_streams_stopping(rc_db *db)
{
    apr_dbd_results_t *res;
    apr_dbd_row_t *row = NULL;
    apr_array_header_t *out;

    if (rc_db_select(db, "streams_stopping",
                     "SELECT \"stepId\" FROM ragchat_streams WHERE stop = 1"
                     " ORDER BY \"createdAt\" DESC LIMIT " RC_STORE_STOPPING_MAX,
                     &res, 0, NULL)) {
        return NULL;
    }
    out = apr_array_make(db->pool, 4, sizeof(const char *));
    while (rc_db_next(db, res, &row) == 0) {
        const char *id = dup_col(db, row, 0);
        if (id) {
            APR_ARRAY_PUSH(out, const char *) = id;
        }
    }
    return out;
}

int rc_store_stream_request_stop(rc_db *db, const char *step_id, const char *user_id)
{
    int n = 0;

    if (rc_db_exec(db, "stream_stop",
                   "UPDATE ragchat_streams SET stop = 1 WHERE \"stepId\" = %s AND \"userId\" = %s",
                   &n, RC_DB_ARGS(step_id, user_id))) {
        return -1;
    }
    return n;
}

int rc_store_stream_end(rc_db *db, const char *step_id)
{
    return rc_db_exec(db, "stream_del", "DELETE FROM ragchat_streams WHERE \"stepId\" = %s",
                      NULL, RC_DB_ARGS(step_id));
}

int rc_store_feedback_set(rc_db *db, const char *step_id, const char *thread_id,
                          int value, const char *comment)
{
    int n = 0;
    const char *v = value ? "1" : "0";

    if (rc_db_exec(db, "fb_update",
                   "UPDATE feedbacks SET value = %d, comment = %s WHERE \"forId\" = %s",
                   &n, RC_DB_ARGS(v, comment, step_id))) {
        return -1;
    }
    if (n > 0) {
        return 0;
    }
    return rc_db_exec(db, "fb_add",
                      "INSERT INTO feedbacks (id, \"forId\", \"threadId\", value, comment)"
                      " VALUES (%s, %s, %s, %d, %s)", NULL,
                      RC_DB_ARGS(rc_uuid4(db->pool), step_id, thread_id, v, comment));
}

int rc_store_feedback_delete(rc_db *db, const char *step_id)
{
    return rc_db_exec(db, "fb_del", "DELETE FROM feedbacks WHERE \"forId\" = %s",
                      NULL, RC_DB_ARGS(step_id));
}

int rc_store_element_insert(rc_db *db, const rc_element *e)
{
    return rc_db_exec(db, "element_add",
                      "INSERT INTO elements (id, \"threadId\", type, name, display, size,"
                      " \"forId\", mime, props) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)",
                      NULL, RC_DB_ARGS(e->id, e->thread_id, e->type ? e->type : "file",
                                       e->name, "inline", e->size, e->for_id, e->mime, "{}"));
}

apr_array_header_t *rc_store_thread_elements(rc_db *db, const char *thread_id, int limit)
{
    apr_dbd_results_t *res;
    apr_dbd_row_t *row = NULL;
    apr_array_header_t *out;

    if (rc_db_select(db, "thread_elements",
                     "SELECT e.id, e.name, e.mime, e.size, e.\"forId\", e.type FROM elements e"
                     " LEFT JOIN steps s ON s.id = e.\"forId\""
                     " WHERE e.\"threadId\" = %s ORDER BY s.\"createdAt\", e.name, e.id LIMIT %d",
                     &res, RC_DB_ARGS(thread_id, rc_db_int(db, limit)))) {
        return NULL;
    }
    out = apr_array_make(db->pool, 4, sizeof(rc_element *));
    while (rc_db_next(db, res, &row) == 0) {
        rc_element *e = apr_pcalloc(db->pool, sizeof(*e));
        e->id = dup_col(db, row, 0);
        e->name = dup_col(db, row, 1);
        e->mime = dup_col(db, row, 2);
        e->size = dup_col(db, row, 3);
        e->for_id = dup_col(db, row, 4);
        e->type = dup_col(db, row, 5);
        e->thread_id = thread_id;
        APR_ARRAY_PUSH(out, rc_element *) = e;
    }
    return out;
}
