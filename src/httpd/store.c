/* Persistence through mod_dbd.
 *
 * Statements are prepared lazily, once per pooled connection, and cached in the
 * connection's own `prepared` hash: ap_dbd_prepare would prepare them when the
 * connection opens, before the schema exists, and fail the connection. The
 * first use of a connection sets SQLite's pragmas and creates missing tables. */
#include "store.h"
#include "util.h"

#include "http_log.h"
#include "apr_strings.h"
#include "apr_thread_mutex.h"

#include <sqlite3.h>

APLOG_USE_MODULE(ragchat);

/* One writer at a time per process. apr's sqlite3 driver runs every call
 * under one process-wide mutex; a thread waiting in SQLite's busy handler
 * holds it, so a write transaction of another thread of the same process
 * could never finish (a deadlock until the busy timeout). With this lock,
 * busy waits only ever wait for other processes, which do finish. */
static apr_thread_mutex_t *write_lock;

static APR_OPTIONAL_FN_TYPE(ap_dbd_acquire) *dbd_acquire;
static APR_OPTIONAL_FN_TYPE(ap_dbd_open) *dbd_open;
static APR_OPTIONAL_FN_TYPE(ap_dbd_close) *dbd_close;

/* The reference's init_db.py schema, verbatim, then the module's own tables. */
static const char *const schema[] = {
    "CREATE TABLE IF NOT EXISTS users (id TEXT PRIMARY KEY, identifier TEXT NOT NULL UNIQUE,"
    " \"createdAt\" TEXT, metadata TEXT NOT NULL DEFAULT '{}')",
    "CREATE TABLE IF NOT EXISTS threads (id TEXT PRIMARY KEY, \"createdAt\" TEXT, name TEXT,"
    " \"userId\" TEXT, \"userIdentifier\" TEXT, tags TEXT,"
    " metadata TEXT NOT NULL DEFAULT '{}',"
    " FOREIGN KEY (\"userId\") REFERENCES users(id) ON DELETE CASCADE)",
    "CREATE TABLE IF NOT EXISTS steps (id TEXT PRIMARY KEY, name TEXT NOT NULL,"
    " type TEXT NOT NULL, \"threadId\" TEXT NOT NULL, \"parentId\" TEXT,"
    " \"disableFeedback\" INTEGER NOT NULL DEFAULT 0, streaming INTEGER NOT NULL DEFAULT 0,"
    " \"waitForAnswer\" INTEGER, \"isError\" INTEGER NOT NULL DEFAULT 0,"
    " metadata TEXT NOT NULL DEFAULT '{}', tags TEXT, input TEXT, output TEXT,"
    " \"createdAt\" TEXT, start TEXT, \"end\" TEXT, \"showInput\" TEXT, language TEXT,"
    " indent INTEGER, generation TEXT, \"defaultOpen\" INTEGER, \"autoCollapse\" INTEGER,"
    " FOREIGN KEY (\"threadId\") REFERENCES threads(id) ON DELETE CASCADE)",
    "CREATE TABLE IF NOT EXISTS feedbacks (id TEXT PRIMARY KEY, \"forId\" TEXT NOT NULL,"
    " \"threadId\" TEXT NOT NULL, value INTEGER NOT NULL, comment TEXT)",
    "CREATE TABLE IF NOT EXISTS elements (id TEXT PRIMARY KEY, \"threadId\" TEXT, type TEXT,"
    " url TEXT, \"chainlitKey\" TEXT, name TEXT NOT NULL, display TEXT, \"objectKey\" TEXT,"
    " size TEXT, page INTEGER, language TEXT, \"forId\" TEXT, mime TEXT, props TEXT)",
    "CREATE INDEX IF NOT EXISTS ragchat_threads_user ON threads (\"userIdentifier\", \"createdAt\")",
    "CREATE INDEX IF NOT EXISTS ragchat_steps_thread ON steps (\"threadId\", \"createdAt\")",
    "CREATE INDEX IF NOT EXISTS ragchat_feedbacks_for ON feedbacks (\"forId\")",
    "CREATE TABLE IF NOT EXISTS ragchat_streams (\"stepId\" TEXT PRIMARY KEY,"
    " \"threadId\" TEXT NOT NULL, \"userId\" TEXT NOT NULL, stop INTEGER NOT NULL DEFAULT 0,"
    " \"createdAt\" TEXT)",
    /* Sessions of RagChatAuth form (session.c): id is a hash of the cookie's
     * random id, so the table alone lets nobody in; times are epoch seconds. */
    "CREATE TABLE IF NOT EXISTS ragchat_sessions (id TEXT PRIMARY KEY,"
    " \"userIdentifier\" TEXT NOT NULL, csrf TEXT NOT NULL, provider TEXT NOT NULL,"
    " \"createdAt\" BIGINT NOT NULL, \"lastSeen\" BIGINT NOT NULL,"
    " \"expiresAt\" BIGINT NOT NULL, \"checkedAt\" BIGINT NOT NULL, address TEXT)",
    "CREATE INDEX IF NOT EXISTS ragchat_sessions_user ON ragchat_sessions (\"userIdentifier\")",
    "CREATE INDEX IF NOT EXISTS ragchat_sessions_expires ON ragchat_sessions (\"expiresAt\")",
    /* Failed logins, one row per failure and key (a hash of the user name or
     * of the address); createdAt in epoch seconds. */
    "CREATE TABLE IF NOT EXISTS ragchat_login_failures (id TEXT PRIMARY KEY,"
    " \"key\" TEXT NOT NULL, \"createdAt\" BIGINT NOT NULL)",
    "CREATE INDEX IF NOT EXISTS ragchat_login_failures_key"
    " ON ragchat_login_failures (\"key\", \"createdAt\")",
    "CREATE INDEX IF NOT EXISTS ragchat_login_failures_time"
    " ON ragchat_login_failures (\"createdAt\")",
    NULL
};

/* SQLite only: the built-in backend's document store (FTS5). Created with the
 * rest, before any statement is prepared on the connection. */
static const char *const sqlite_schema[] = {
    "CREATE TABLE IF NOT EXISTS ragchat_documents (id TEXT PRIMARY KEY,"
    " \"userIdentifier\" TEXT NOT NULL, name TEXT NOT NULL, mime TEXT, size INTEGER,"
    " chunks INTEGER NOT NULL DEFAULT 0, \"createdAt\" TEXT NOT NULL)",
    "CREATE INDEX IF NOT EXISTS ragchat_documents_user"
    " ON ragchat_documents (\"userIdentifier\", name)",
    "CREATE VIRTUAL TABLE IF NOT EXISTS ragchat_chunks USING fts5(document UNINDEXED,"
    " \"userIdentifier\" UNINDEXED, name UNINDEXED, ordinal UNINDEXED, text,"
    " tokenize = 'porter unicode61 remove_diacritics 2')",
    NULL
};

const char *rc_db_post_config(void)
{
    dbd_acquire = APR_RETRIEVE_OPTIONAL_FN(ap_dbd_acquire);
    dbd_open = APR_RETRIEVE_OPTIONAL_FN(ap_dbd_open);
    dbd_close = APR_RETRIEVE_OPTIONAL_FN(ap_dbd_close);
    if (!dbd_acquire || !dbd_open || !dbd_close) {
        return "mod_ragchat needs mod_dbd: add LoadModule dbd_module and DBDriver/DBDParams";
    }
    return NULL;
}

void rc_db_child_init(apr_pool_t *p)
{
    apr_thread_mutex_create(&write_lock, APR_THREAD_MUTEX_DEFAULT, p);
}

static void lock_writes(rc_db *db)
{
    if (!db->in_tx && write_lock) {
        apr_thread_mutex_lock(write_lock);
    }
}

static void unlock_writes(rc_db *db)
{
    if (!db->in_tx && write_lock) {
        apr_thread_mutex_unlock(write_lock);
    }
}

int rc_db_is_sqlite(const rc_db *db)
{
    return strcmp(apr_dbd_name(db->dbd->driver), "sqlite3") == 0;
}

static void log_db_error(rc_db *db, int rv, const char *what)
{
    ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, db->r, "RC0101: database error in %s: %s",
                  what, apr_dbd_error(db->dbd->driver, db->dbd->handle, rv));
}

static int run_plain(rc_db *db, const char *sql)
{
    int n = 0, rv = apr_dbd_query(db->dbd->driver, db->dbd->handle, &n, sql);

    if (rv) {
        log_db_error(db, rv, sql);
    }
    return rv;
}

/* A pragma that answers with a row must be run as a select. */
static int run_pragma(rc_db *db, const char *sql)
{
    apr_dbd_results_t *res = NULL;
    apr_dbd_row_t *row;
    int rv = apr_dbd_select(db->dbd->driver, db->pool, db->dbd->handle, &res, sql, 0);

    if (rv) {
        log_db_error(db, rv, sql);
        return rv;
    }
    while (apr_dbd_get_row(db->dbd->driver, db->pool, res, &row, -1) == 0) {
        /* drain */
    }
    return 0;
}

/* SQLite's own busy handler sleeps 1, 2, 5, 10… ms between tries, far longer
 * than a WAL write transaction lasts (tens of microseconds): short naps keep a
 * writer that meets another process's transaction from losing milliseconds.
 * Gives up after about 10 s, like the busy_timeout it replaces. */
static int busy_wait(void *data, int tries)
{
    (void)data;
    if (tries < 200) {
        apr_sleep(50);                 /* the first 10 ms: 50 us naps */
        return 1;
    }
    if (tries < 200 + 2000) {
        apr_sleep(5000);               /* then 5 ms naps, 10 s in all */
        return 1;
    }
    return 0;
}

static int init_connection(rc_db *db)
{
    static const char marker[] = "ragchat:init";
    int i;

    if (apr_hash_get(db->dbd->prepared, marker, APR_HASH_KEY_STRING)) {
        return 0;
    }
    lock_writes(db);
    if (rc_db_is_sqlite(db)) {
        /* Several child processes write at once: WAL lets readers go on while
         * one writes, and the busy timeout makes writers wait instead of fail. */
        sqlite3_busy_handler(apr_dbd_native_handle(db->dbd->driver, db->dbd->handle),
                             busy_wait, NULL);
        if (run_pragma(db, "PRAGMA journal_mode = WAL")
            || run_plain(db, "PRAGMA synchronous = NORMAL")) {
            unlock_writes(db);
            return -1;
        }
    }
    for (i = 0; schema[i]; i++) {
        if (run_plain(db, schema[i])) {
            unlock_writes(db);
            return -1;
        }
    }
    for (i = 0; rc_db_is_sqlite(db) && sqlite_schema[i]; i++) {
        if (run_plain(db, sqlite_schema[i])) {
            unlock_writes(db);
            return -1;
        }
    }
    unlock_writes(db);
    apr_hash_set(db->dbd->prepared, marker, APR_HASH_KEY_STRING, (void *)marker);
    return 0;
}

static rc_db *wrap(request_rec *r, apr_pool_t *p, ap_dbd_t *dbd, int opened)
{
    rc_db *db;

    if (!dbd) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r,
                      "RC0102: no database connection (check DBDriver and DBDParams)");
        return NULL;
    }
    db = apr_pcalloc(p, sizeof(*db));
    db->r = r;
    db->pool = p;
    db->dbd = dbd;
    db->opened = opened;
    if (init_connection(db)) {
        rc_db_release(db);
        return NULL;
    }
    return db;
}

rc_db *rc_db_acquire(request_rec *r)
{
    return wrap(r, r->pool, dbd_acquire(r), 0);
}

rc_db *rc_db_open(request_rec *r, apr_pool_t *p)
{
    return wrap(r, p, dbd_open(p, r->server), 1);
}

void rc_db_release(rc_db *db)
{
    if (db && db->opened && db->dbd) {
        dbd_close(db->r->server, db->dbd);
        db->dbd = NULL;
    }
}

/* SQLITE_SCHEMA: apr's driver prepares with the legacy sqlite3_prepare, whose
 * statements fail for good once another connection changed the schema. */
#define RC_SQLITE_SCHEMA 17

static int stale_statement(rc_db *db, int rv)
{
    const char *msg;

    if (!rv || !rc_db_is_sqlite(db)) {
        return 0;
    }
    /* A legacy statement's step says only SQLITE_ERROR; the reset that apr
     * does after it leaves the real reason in the connection's message. */
    msg = apr_dbd_error(db->dbd->driver, db->dbd->handle, rv);
    return rv == RC_SQLITE_SCHEMA || (msg && strstr(msg, "schema has changed"));
}

static apr_dbd_prepared_t *prepared(rc_db *db, const char *label, const char *sql,
                                    int fresh)
{
    apr_dbd_prepared_t *st = fresh ? NULL
                           : apr_hash_get(db->dbd->prepared, label, APR_HASH_KEY_STRING);
    int rv;

    if (st) {
        return st;
    }
    rv = apr_dbd_prepare(db->dbd->driver, db->dbd->pool, db->dbd->handle, sql, label, &st);
    if (rv) {
        log_db_error(db, rv, label);
        return NULL;
    }
    apr_hash_set(db->dbd->prepared, label, APR_HASH_KEY_STRING, st);
    return st;
}

int rc_db_exec(rc_db *db, const char *label, const char *sql, int *nrows,
               int nargs, const char **args)
{
    apr_dbd_prepared_t *st = prepared(db, label, sql, 0);
    int n = 0, rv;

    if (!st) {
        return -1;
    }
    lock_writes(db);
    rv = apr_dbd_pquery(db->dbd->driver, db->pool, db->dbd->handle, &n, st, nargs, args);
    if (stale_statement(db, rv) && !db->in_tx && (st = prepared(db, label, sql, 1))) {
        rv = apr_dbd_pquery(db->dbd->driver, db->pool, db->dbd->handle, &n, st, nargs, args);
    }
    unlock_writes(db);
    if (rv) {
        log_db_error(db, rv, label);
    }
    if (nrows) {
        *nrows = n;
    }
    return rv;
}

int rc_db_select(rc_db *db, const char *label, const char *sql,
                 apr_dbd_results_t **res, int nargs, const char **args)
{
    apr_dbd_prepared_t *st = prepared(db, label, sql, 0);
    int rv;

    *res = NULL;
    if (!st) {
        return -1;
    }
    rv = apr_dbd_pselect(db->dbd->driver, db->pool, db->dbd->handle, res, st, 0,
                         nargs, args);
    if (stale_statement(db, rv) && !db->in_tx && (st = prepared(db, label, sql, 1))) {
        rv = apr_dbd_pselect(db->dbd->driver, db->pool, db->dbd->handle, res, st, 0,
                             nargs, args);
    }
    if (rv) {
        log_db_error(db, rv, label);
    }
    return rv;
}

int rc_db_next(rc_db *db, apr_dbd_results_t *res, apr_dbd_row_t **row)
{
    return apr_dbd_get_row(db->dbd->driver, db->pool, res, row, -1);
}

const char *rc_db_col(rc_db *db, apr_dbd_row_t *row, int col)
{
    return apr_dbd_get_entry(db->dbd->driver, row, col);
}

int rc_db_begin(rc_db *db, apr_dbd_transaction_t **tx)
{
    int rv;

    *tx = NULL;
    lock_writes(db);
    db->in_tx = 1;
    rv = apr_dbd_transaction_start(db->dbd->driver, db->pool, db->dbd->handle, tx);
    if (rv) {
        log_db_error(db, rv, "BEGIN");
        db->in_tx = 0;
        unlock_writes(db);
    }
    return rv;
}

int rc_db_end(rc_db *db, apr_dbd_transaction_t *tx, int rollback)
{
    int rv;

    if (rollback) {
        apr_dbd_transaction_mode_set(db->dbd->driver, tx, APR_DBD_TRANSACTION_ROLLBACK);
    }
    rv = apr_dbd_transaction_end(db->dbd->driver, db->pool, tx);
    db->in_tx = 0;
    unlock_writes(db);
    return rv;
}

/* A single-column, single-row answer; NULL when there is no row. */
static const char *select_value(rc_db *db, const char *label, const char *sql,
                                int nargs, const char **args, int *failed)
{
    apr_dbd_results_t *res;
    apr_dbd_row_t *row;
    const char *v = NULL;

    if (rc_db_select(db, label, sql, &res, nargs, args)) {
        if (failed) {
            *failed = 1;
        }
        return NULL;
    }
    while (rc_db_next(db, res, &row) == 0) {
        if (!v) {
            v = rc_db_col(db, row, 0);
            v = v ? apr_pstrdup(db->pool, v) : "";
        }
    }
    return v;
}

const char *rc_store_user_id(rc_db *db, const char *ident)
{
    static const char sel[] = "SELECT id FROM users WHERE identifier = %s LIMIT 1";
    const char *id;
    int failed = 0;

    id = select_value(db, "user_get", sel, RC_DB_ARGS(ident), &failed);
    if (id || failed) {
        return id;
    }
    /* Another process may insert the same user at the same moment: the UNIQUE
     * identifier makes the loser's insert a no-op, and both read the winner. */
    if (rc_db_exec(db, "user_add",
                   "INSERT INTO users (id, identifier, \"createdAt\", metadata)"
                   " VALUES (%s, %s, %s, %s) ON CONFLICT (identifier) DO NOTHING", NULL,
                   RC_DB_ARGS(rc_uuid4(db->pool), ident,
                              rc_timestamp(db->pool, apr_time_now()),
                              "{\"role\": \"user\"}"))) {
        return NULL;
    }
    return select_value(db, "user_get", sel, RC_DB_ARGS(ident), NULL);
}

static rc_thread *thread_from_row(rc_db *db, apr_dbd_row_t *row)
{
    rc_thread *t = apr_pcalloc(db->pool, sizeof(*t));
    const char *v;

    t->id = apr_pstrdup(db->pool, rc_db_col(db, row, 0));
    v = rc_db_col(db, row, 1);
    t->name = apr_pstrdup(db->pool, v ? v : "");
    v = rc_db_col(db, row, 2);
    t->created = apr_pstrdup(db->pool, v ? v : "");
    return t;
}

rc_thread *rc_store_thread_get(rc_db *db, const char *id, const char *user_id,
                               const char *user_ident, int *failed)
{
    apr_dbd_results_t *res;
    apr_dbd_row_t *row;
    rc_thread *t = NULL;

    /* Chainlit writes both the user's id and identifier; either proves ownership. */
    if (rc_db_select(db, "thread_get",
                     "SELECT id, name, \"createdAt\" FROM threads WHERE id = %s"
                     " AND (\"userId\" = %s OR \"userIdentifier\" = %s) LIMIT 1",
                     &res, RC_DB_ARGS(id, user_id, user_ident))) {
        if (failed) {
            *failed = 1;
        }
        return NULL;
    }
    while (rc_db_next(db, res, &row) == 0) {
        if (!t) {
            t = thread_from_row(db, row);
            t->user_id = user_id;
            t->user_ident = user_ident;
        }
    }
    return t;
}

rc_thread *rc_store_thread_new(rc_db *db, const char *user_id, const char *user_ident,
                               const char *name)
{
    rc_thread *t = apr_pcalloc(db->pool, sizeof(*t));

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
                      " \"userIdentifier\", tags, metadata) VALUES (%s, %s, %s, %s, %s, %s, %s)",
                      NULL, RC_DB_ARGS(t->id, t->created, t->name, t->user_id,
                                       t->user_ident, "[]", "{}"));
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

/* LIKE pattern for a substring search, with the wildcards of q escaped. */
static const char *like_pattern(apr_pool_t *p, const char *q)
{
    char *out = apr_palloc(p, strlen(q) * 2 + 3), *o = out;

    *o++ = '%';
    for (; *q; q++) {
        if (*q == '%' || *q == '_' || *q == '\\') {
            *o++ = '\\';
        }
        *o++ = *q;
    }
    *o++ = '%';
    *o = '\0';
    return out;
}

apr_array_header_t *rc_store_threads_list(rc_db *db, const char *user_id,
                                          const char *user_ident, const char *q,
                                          const char *before, int limit)
{
    apr_dbd_results_t *res;
    apr_dbd_row_t *row;
    apr_array_header_t *out;
    const char *lim = apr_itoa(db->pool, limit);
    /* Timestamps compare as strings; this one sorts after all of them. */
    const char *cursor = before && *before ? before : "9999-12-31T23:59:59.999999Z";
    int rv;

    if (q && *q) {
        const char *pat = like_pattern(db->pool, q);
        rv = rc_db_select(db, "threads_search",
                          "SELECT t.id, t.name, t.\"createdAt\" FROM threads t"
                          " WHERE (t.\"userId\" = %s OR t.\"userIdentifier\" = %s)"
                          " AND t.\"createdAt\" < %s"
                          " AND (LOWER(t.name) LIKE LOWER(%s) ESCAPE '\\'"
                          "  OR EXISTS (SELECT 1 FROM steps s WHERE s.\"threadId\" = t.id"
                          "  AND LOWER(s.output) LIKE LOWER(%s) ESCAPE '\\'))"
                          " ORDER BY t.\"createdAt\" DESC, t.id DESC LIMIT %s",
                          &res, RC_DB_ARGS(user_id, user_ident, cursor, pat, pat, lim));
    }
    else {
        rv = rc_db_select(db, "threads_list",
                          "SELECT id, name, \"createdAt\" FROM threads"
                          " WHERE (\"userId\" = %s OR \"userIdentifier\" = %s)"
                          " AND \"createdAt\" < %s"
                          " ORDER BY \"createdAt\" DESC, id DESC LIMIT %s",
                          &res, RC_DB_ARGS(user_id, user_ident, cursor, lim));
    }
    if (rv) {
        return NULL;
    }
    out = apr_array_make(db->pool, limit > 0 ? limit : 1, sizeof(rc_thread *));
    while (rc_db_next(db, res, &row) == 0) {
        APR_ARRAY_PUSH(out, rc_thread *) = thread_from_row(db, row);
    }
    return out;
}

int rc_store_step_insert(rc_db *db, const rc_step *s)
{
    return rc_db_exec(db, "step_add",
                      "INSERT INTO steps (id, name, type, \"threadId\", \"parentId\","
                      " \"disableFeedback\", streaming, \"isError\", metadata, input, output,"
                      " \"createdAt\", start, \"end\", \"showInput\")"
                      " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
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

static rc_step *step_from_row(rc_db *db, apr_dbd_row_t *row)
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

#define STEP_COLS \
    "s.id, s.name, s.type, s.\"threadId\", s.\"parentId\", s.\"isError\", s.metadata," \
    " s.output, s.\"createdAt\", s.start, s.\"end\", f.value, f.comment"

apr_array_header_t *rc_store_thread_steps(rc_db *db, const char *thread_id, int limit)
{
    apr_dbd_results_t *res;
    apr_dbd_row_t *row;
    apr_array_header_t *out;
    const char *last = NULL;

    if (rc_db_select(db, "thread_steps",
                     "SELECT " STEP_COLS " FROM steps s"
                     " LEFT JOIN feedbacks f ON f.\"forId\" = s.id"
                     " WHERE s.\"threadId\" = %s ORDER BY s.\"createdAt\", s.id LIMIT %s",
                     &res, RC_DB_ARGS(thread_id, apr_itoa(db->pool, limit)))) {
        return NULL;
    }
    out = apr_array_make(db->pool, 16, sizeof(rc_step *));
    while (rc_db_next(db, res, &row) == 0) {
        rc_step *s = step_from_row(db, row);
        /* A Chainlit database may hold several feedbacks for one step. */
        if (last && s->id && strcmp(last, s->id) == 0) {
            continue;
        }
        last = s->id;
        APR_ARRAY_PUSH(out, rc_step *) = s;
    }
    return out;
}

rc_step *rc_store_step_get(rc_db *db, const char *id, const char *user_id,
                           const char *user_ident, int *failed)
{
    apr_dbd_results_t *res;
    apr_dbd_row_t *row;
    rc_step *s = NULL;

    if (rc_db_select(db, "step_get",
                     "SELECT " STEP_COLS " FROM steps s"
                     " JOIN threads t ON t.id = s.\"threadId\""
                     " LEFT JOIN feedbacks f ON f.\"forId\" = s.id"
                     " WHERE s.id = %s AND (t.\"userId\" = %s OR t.\"userIdentifier\" = %s)"
                     " LIMIT 1", &res, RC_DB_ARGS(id, user_id, user_ident))) {
        if (failed) {
            *failed = 1;
        }
        return NULL;
    }
    while (rc_db_next(db, res, &row) == 0) {
        if (!s) {
            s = step_from_row(db, row);
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
    const char *v = select_value(db, "stream_poll",
                                 "SELECT stop FROM ragchat_streams WHERE \"stepId\" = %s LIMIT 1",
                                 RC_DB_ARGS(step_id), &failed);

    if (failed) {
        return -1;
    }
    return v && atoi(v) != 0;
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
                   "UPDATE feedbacks SET value = %s, comment = %s WHERE \"forId\" = %s",
                   &n, RC_DB_ARGS(v, comment, step_id))) {
        return -1;
    }
    if (n > 0) {
        return 0;
    }
    return rc_db_exec(db, "fb_add",
                      "INSERT INTO feedbacks (id, \"forId\", \"threadId\", value, comment)"
                      " VALUES (%s, %s, %s, %s, %s)", NULL,
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
    apr_dbd_row_t *row;
    apr_array_header_t *out;

    if (rc_db_select(db, "thread_elements",
                     "SELECT e.id, e.name, e.mime, e.size, e.\"forId\", e.type FROM elements e"
                     " LEFT JOIN steps s ON s.id = e.\"forId\""
                     " WHERE e.\"threadId\" = %s ORDER BY s.\"createdAt\", e.name, e.id LIMIT %s",
                     &res, RC_DB_ARGS(thread_id, apr_itoa(db->pool, limit)))) {
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
