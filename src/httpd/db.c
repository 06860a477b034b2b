/* The connection layer over mod_dbd: connections (the request's pooled one,
 * or a short-lived one inside a stream or a child's own thread), the
 * process's writer lock on SQLite, the per-connection statement cache, and
 * SQLite's busy handling.
 *
 * Statements are prepared lazily, once per pooled connection, and cached in the
 * connection's own `prepared` hash: ap_dbd_prepare would prepare them when the
 * connection opens, before the schema exists, and fail the connection. The
 * first use of a connection sets SQLite's pragmas and brings the schema up to
 * date (src/core/schema.c).
 *
 * apr's pgsql driver, read sequentially, reports no error and waits 100 ms
 * after an empty result: selects on PostgreSQL are random-access (the whole
 * result at once, errors reported), which our small LIMITed results afford. It
 * also returns "" for NULL, so columns are read through apr_dbd_datum_get. */
#include "db.h"
#include "schema.h"       /* src/core */

#include "http_log.h"
#include "apr_strings.h"
#include "apr_global_mutex.h"
#include "util_mutex.h"

#include <sqlite3.h>

APLOG_USE_MODULE(ragchat);

/* One writer at a time across all the children, on SQLite. apr's sqlite3
 * driver runs every call under one process-wide mutex, so a thread waiting in
 * SQLite's busy handler stalls every database call of its process; and
 * SQLite's own waiting is polling (naps between tries). With this lock writers
 * queue in the kernel and are woken when the writer before them commits
 * (tens of microseconds): SQLite never finds the database locked by another
 * child, and its busy handler only ever waits for writers outside this
 * server (a second server on the same file, a tool). A `Mutex` directive of
 * httpd may choose its mechanism (name ragchat-db-writer). */
#define RC_DB_MUTEX "ragchat-db-writer"
static apr_global_mutex_t *write_lock;
static const char *write_lock_file;

static APR_OPTIONAL_FN_TYPE(ap_dbd_acquire) *dbd_acquire;
static APR_OPTIONAL_FN_TYPE(ap_dbd_open) *dbd_open;
static APR_OPTIONAL_FN_TYPE(ap_dbd_close) *dbd_close;


void rc_db_pre_config(apr_pool_t *pconf)
{
    ap_mutex_register(pconf, RC_DB_MUTEX, NULL, APR_LOCK_DEFAULT, 0);
}

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

const char *rc_db_lock_create(apr_pool_t *pconf, server_rec *s)
{
    write_lock = NULL;
    if (ap_global_mutex_create(&write_lock, &write_lock_file, RC_DB_MUTEX, NULL, s, pconf, 0)
        != APR_SUCCESS) {
        return "the database writers' lock (" RC_DB_MUTEX ") could not be created";
    }
    return NULL;
}

void rc_db_child_init(apr_pool_t *p)
{
    if (write_lock) {
        apr_global_mutex_child_init(&write_lock, write_lock_file, p);
    }
}

/* PostgreSQL needs no such lock: its writers wait for each other's rows only. */
static void lock_writes(rc_db *db)
{
    if (!db->in_tx && write_lock && db->sqlite) {
        apr_global_mutex_lock(write_lock);
    }
}

static void unlock_writes(rc_db *db)
{
    if (!db->in_tx && write_lock && db->sqlite) {
        apr_global_mutex_unlock(write_lock);
    }
}

int rc_db_is_sqlite(const rc_db *db)
{
    return db->sqlite;
}

const char *rc_db_int(rc_db *db, apr_int64_t v)
{
    return apr_psprintf(db->pool, "%" APR_INT64_T_FMT, v);
}

/* Logged with the request when there is one. */
#define DB_LOG(db, level, ...) \
    do { \
        if ((db)->r) { \
            ap_log_rerror(APLOG_MARK, level, 0, (db)->r, __VA_ARGS__); \
        } \
        else { \
            ap_log_error(APLOG_MARK, level, 0, (db)->s, __VA_ARGS__); \
        } \
    } while (0)

static void log_db_error(rc_db *db, int rv, const char *what)
{
    const char *msg = apr_dbd_error(db->dbd->driver, db->dbd->handle, rv);

    DB_LOG(db, APLOG_ERR, "RC0101: database error in %s: %s", what, msg ? msg : "?");
}

int rc_db_run(rc_db *db, const char *sql)
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
    apr_dbd_row_t *row = NULL;
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

/* Brings the schema up to date (once per connection: a quick version check
 * when it is). */
static int upgrade_schema(rc_db *db)
{
    static int newer_logged;
    rc_schema_state st;
    const char *err = NULL;
    apr_pool_t *p;
    int rv;

    apr_pool_create(&p, db->pool);
    rv = rc_schema_upgrade(p, db->dbd->driver, db->dbd->handle, &st, &err);
    if (rv) {
        DB_LOG(db, APLOG_ERR, "RC0103: the database schema could not be brought to version "
               "%d: %s", RC_SCHEMA_VERSION, err ? err : "?");
    }
    else if (st.to > st.from && st.from > 0) {
        DB_LOG(db, APLOG_NOTICE, "RC0104: database schema upgraded from version %d to %d (%s)",
               st.from, st.to, apr_dbd_name(db->dbd->driver));
    }
    else if (st.to > st.from) {
        DB_LOG(db, APLOG_NOTICE, "RC0104: database schema at version %d (%s): the missing "
               "tables created, those there kept (no version was recorded)", st.to,
               apr_dbd_name(db->dbd->driver));
    }
    else if (st.from > RC_SCHEMA_VERSION && !newer_logged) {
        newer_logged = 1;
        DB_LOG(db, APLOG_NOTICE, "RC0105: the database schema is at version %d, newer than "
               "this module's %d: left as it is", st.from, RC_SCHEMA_VERSION);
    }
    apr_pool_destroy(p);
    return rv;
}

/* Our statements of one connection, kept in mod_dbd's table of the
 * connection under one key (the table's other entries are DBDPrepareSQL's,
 * other modules'). */
typedef struct {
    apr_hash_t *statements;      /* label -> apr_dbd_prepared_t */
    int schema_version;          /* SQLite's, when they were prepared */
} conn_cache;

#define RC_CONN_CACHE "ragchat:statements"

static conn_cache *cache_of(rc_db *db)
{
    return apr_hash_get(db->dbd->prepared, RC_CONN_CACHE, APR_HASH_KEY_STRING);
}

/* PRAGMA schema_version: it changes with every change of the schema. */
static int sqlite_schema_version(rc_db *db)
{
    sqlite3 *h = apr_dbd_native_handle(db->dbd->driver, db->dbd->handle);
    sqlite3_stmt *st = NULL;
    int v = -1;

    if (sqlite3_prepare_v2(h, "PRAGMA schema_version", -1, &st, NULL) == SQLITE_OK
        && sqlite3_step(st) == SQLITE_ROW) {
        v = sqlite3_column_int(st, 0);
    }
    sqlite3_finalize(st);
    return v;
}

/* apr prepares SQLite statements with the legacy sqlite3_prepare: once
 * another connection changed the schema (this server's upgrade on another
 * node, a tool, an index an admin added) they fail for good, and inside a
 * transaction apr then repeats that failure for every later statement, so
 * the transaction's writes would be lost. Before a transaction a changed
 * schema empties the connection's cache: its statements are prepared again
 * (the old ones go with the connection). */
static void forget_stale_statements(rc_db *db)
{
    conn_cache *c = cache_of(db);
    int v;

    if (!c || !db->sqlite || (v = sqlite_schema_version(db)) == c->schema_version) {
        return;
    }
    DB_LOG(db, APLOG_DEBUG, "RC0111: the database schema changed (version %d to %d): this "
           "connection's statements are prepared again", c->schema_version, v);
    /* The connection's copy of the schema is read again by a statement of
     * SQLite's current API (which finds the change and reloads), so that
     * the new legacy statements are made from the new schema. */
    sqlite3_exec(apr_dbd_native_handle(db->dbd->driver, db->dbd->handle),
                 "SELECT count(*) FROM sqlite_master", NULL, NULL, NULL);
    apr_hash_clear(c->statements);
    c->schema_version = v;
}

static int init_connection(rc_db *db)
{
    conn_cache *c;

    if (cache_of(db)) {
        return 0;
    }
    lock_writes(db);
    if (db->sqlite) {
        /* Several child processes write at once: WAL lets readers go on while
         * one writes, and the busy timeout makes writers wait instead of fail. */
        sqlite3_busy_handler(apr_dbd_native_handle(db->dbd->driver, db->dbd->handle),
                             busy_wait, NULL);
        /* Reads map the file instead of copying each page through read():
         * a long thread's outline reads thousands of rows. */
        if (run_pragma(db, "PRAGMA journal_mode = WAL")
            || rc_db_run(db, "PRAGMA synchronous = NORMAL")
            /* Each connection's page cache (2 MiB by default) grows with the
             * database and never shrinks: under a burst of new threads it was
             * ~10 KiB per open stream (bench/burst_bench.py). Reads go through
             * the map below; 512 KiB holds a batch's writes. */
            || rc_db_run(db, "PRAGMA cache_size = -512")
            || run_pragma(db, "PRAGMA mmap_size = 268435456")) {
            unlock_writes(db);
            return -1;
        }
    }
    if (upgrade_schema(db)) {
        unlock_writes(db);
        return -1;
    }
    c = apr_pcalloc(db->dbd->pool, sizeof(*c));
    c->statements = apr_hash_make(db->dbd->pool);
    c->schema_version = db->sqlite ? sqlite_schema_version(db) : 0;
    unlock_writes(db);
    apr_hash_set(db->dbd->prepared, RC_CONN_CACHE, APR_HASH_KEY_STRING, c);
    return 0;
}

static rc_db *wrap(request_rec *r, server_rec *s, apr_pool_t *p, ap_dbd_t *dbd, int opened)
{
    rc_db *db;

    if (!dbd) {
        if (r) {
            ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r,
                          "RC0102: no database connection (check DBDriver and DBDParams)");
        }
        else {
            ap_log_error(APLOG_MARK, APLOG_ERR, 0, s,
                         "RC0102: no database connection (check DBDriver and DBDParams)");
        }
        return NULL;
    }
    db = apr_pcalloc(p, sizeof(*db));
    db->r = r;
    db->s = s;
    db->pool = p;
    db->dbd = dbd;
    db->opened = opened;
    db->sqlite = rc_driver_of(dbd->driver) == RC_DRIVER_SQLITE;
    if (init_connection(db)) {
        rc_db_release(db);
        return NULL;
    }
    return db;
}

rc_db *rc_db_acquire(request_rec *r)
{
    return wrap(r, r->server, r->pool, dbd_acquire(r), 0);
}

rc_db *rc_db_open(request_rec *r, apr_pool_t *p)
{
    return wrap(r, r->server, p, dbd_open(p, r->server), 1);
}

rc_db *rc_db_open_server(server_rec *s, apr_pool_t *p)
{
    return wrap(NULL, s, p, dbd_open(p, s), 1);
}

void rc_db_release(rc_db *db)
{
    if (db && db->opened && db->dbd) {
        dbd_close(db->s, db->dbd);
        db->dbd = NULL;
    }
}

/* SQLITE_SCHEMA: apr's driver prepares with the legacy sqlite3_prepare, whose
 * statements fail for good once another connection changed the schema. */
#define RC_SQLITE_SCHEMA 17

/* 1 when a failed statement is worth one more try on this connection,
 * outside a transaction:
 * - SQLite: a legacy statement after another connection changed the schema
 *   (its step says only SQLITE_ERROR; the reset apr does after it leaves the
 *   real reason in the connection's message): prepared again;
 * - PostgreSQL: the connection broke (a restart, a failover) and apr's check
 *   made it again (PQreset). */
static int worth_retry(rc_db *db, int rv)
{
    const char *msg;

    if (!rv || db->in_tx) {
        return 0;
    }
    msg = apr_dbd_error(db->dbd->driver, db->dbd->handle, rv);
    if (db->sqlite) {
        return rv == RC_SQLITE_SCHEMA || (msg && strstr(msg, "schema has changed"));
    }
    if (msg && (strstr(msg, "connection") || strstr(msg, "server closed"))) {
        char *was = apr_pstrdup(db->pool, msg);       /* the reset replaces msg */
        if (apr_dbd_check_conn(db->dbd->driver, db->pool, db->dbd->handle) == APR_SUCCESS) {
            DB_LOG(db, APLOG_NOTICE, "RC0106: the database connection was made again after: "
                   "%s", apr_collapse_spaces(was, was));
            return 1;
        }
    }
    return 0;
}

/* On PostgreSQL the statements are unnamed (apr runs them with PQexecParams,
 * the types inferred from the columns): the server keeps no state of ours, so
 * a connection made again (PQreset keeps apr's handle and this cache) or a
 * pooler between us and the server (pgbouncer in transaction mode) changes
 * nothing. On SQLite they are prepared once per connection. */
static apr_dbd_prepared_t *prepared(rc_db *db, const char *label, const char *sql,
                                    int fresh)
{
    apr_hash_t *cache = cache_of(db)->statements;
    apr_dbd_prepared_t *st = fresh ? NULL : apr_hash_get(cache, label, APR_HASH_KEY_STRING);
    int rv;

    if (st) {
        return st;
    }
    rv = apr_dbd_prepare(db->dbd->driver, db->dbd->pool, db->dbd->handle, sql,
                         db->sqlite ? label : NULL, &st);
    if (rv) {
        log_db_error(db, rv, label);
        return NULL;
    }
    apr_hash_set(cache, label, APR_HASH_KEY_STRING, st);
    return st;
}

rc_db *rc_db_scratch(rc_db *db, apr_pool_t *p)
{
    rc_db *s = apr_pmemdup(p, db, sizeof(*db));

    s->pool = p;
    s->opened = 0;
    return s;
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
    if (worth_retry(db, rv) && (st = prepared(db, label, sql, db->sqlite))) {
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
    rv = apr_dbd_pselect(db->dbd->driver, db->pool, db->dbd->handle, res, st, !db->sqlite,
                         nargs, args);
    if (worth_retry(db, rv) && (st = prepared(db, label, sql, db->sqlite))) {
        *res = NULL;
        rv = apr_dbd_pselect(db->dbd->driver, db->pool, db->dbd->handle, res, st, !db->sqlite,
                             nargs, args);
    }
    if (rv) {
        log_db_error(db, rv, label);
    }
    return rv;
}

/* apr's placeholders (%s, %d, %lld...) as SQLite's "?" (in db->pool). */
static char *sqlite_placeholders(apr_pool_t *p, const char *sql)
{
    char *out = apr_palloc(p, strlen(sql) + 1), *w = out;

    while (*sql) {
        if (*sql == '%' && sql[1] && sql[1] != '%') {
            sql++;
            while (*sql == 'l' || *sql == 'h') {
                sql++;
            }
            sql++;                    /* the conversion letter */
            *w++ = '?';
            continue;
        }
        *w++ = *sql++;
    }
    *w = '\0';
    return out;
}

int rc_db_sqlite_each(rc_db *db, const char *label, const char *sql, int nargs,
                      const char **args, rc_db_row_fn fn, void *ctx)
{
    sqlite3 *h = apr_dbd_native_handle(db->dbd->driver, db->dbd->handle);
    sqlite3_stmt *st = NULL;
    const char *cols[16];
    int rv, i, n;

    rv = sqlite3_prepare_v2(h, sqlite_placeholders(db->pool, sql), -1, &st, NULL);
    for (i = 0; rv == SQLITE_OK && i < nargs; i++) {
        rv = args[i] ? sqlite3_bind_text(st, i + 1, args[i], -1, SQLITE_STATIC)
                     : sqlite3_bind_null(st, i + 1);
    }
    n = st ? sqlite3_column_count(st) : 0;
    if (n > 16) {
        rv = SQLITE_RANGE;
    }
    while (rv == SQLITE_OK && (rv = sqlite3_step(st)) == SQLITE_ROW) {
        for (i = 0; i < n; i++) {
            cols[i] = (const char *)sqlite3_column_text(st, i);
        }
        if (fn(ctx, cols, n)) {
            break;
        }
        rv = SQLITE_OK;
    }
    if (rv != SQLITE_OK && rv != SQLITE_DONE && rv != SQLITE_ROW) {
        DB_LOG(db, APLOG_ERR, "RC0101: database error in %s: %s", label,
               n > 16 ? "more than 16 columns" : sqlite3_errmsg(h));
        sqlite3_finalize(st);
        return -1;
    }
    sqlite3_finalize(st);
    return 0;
}

int rc_db_next(rc_db *db, apr_dbd_results_t *res, apr_dbd_row_t **row)
{
    return apr_dbd_get_row(db->dbd->driver, db->pool, res, row, -1);
}

const char *rc_db_col(rc_db *db, apr_dbd_row_t *row, int col)
{
    const char *v = NULL;

    if (db->sqlite) {
        return apr_dbd_get_entry(db->dbd->driver, row, col);
    }
    if (apr_dbd_datum_get(db->dbd->driver, row, col, APR_DBD_TYPE_STRING, &v) != APR_SUCCESS) {
        return NULL;       /* SQL NULL */
    }
    return v;
}

/* On PostgreSQL, BEGIN, COMMIT and ROLLBACK are plain statements (*tx stays
 * NULL): apr's pgsql transaction_start dereferences a NULL transaction when
 * BEGIN fails, as on a broken connection. A failed statement of ours ends the
 * transaction with a rollback (the callers stop at the first failure). */
static int pg_tx(rc_db *db, const char *sql)
{
    int n = 0;

    return apr_dbd_query(db->dbd->driver, db->dbd->handle, &n, sql);
}

int rc_db_begin(rc_db *db, apr_dbd_transaction_t **tx)
{
    int rv;

    *tx = NULL;
    lock_writes(db);
    if (db->sqlite) {
        forget_stale_statements(db);
        rv = apr_dbd_transaction_start(db->dbd->driver, db->pool, db->dbd->handle, tx);
    }
    else if ((rv = pg_tx(db, "BEGIN")) != 0 && worth_retry(db, rv)) {
        rv = pg_tx(db, "BEGIN");
    }
    if (rv) {
        log_db_error(db, rv, "BEGIN");
        unlock_writes(db);
        return rv;
    }
    db->in_tx = 1;
    return 0;
}

int rc_db_end(rc_db *db, apr_dbd_transaction_t *tx, int rollback)
{
    int rv;

    if (!db->sqlite) {
        rv = pg_tx(db, rollback ? "ROLLBACK" : "COMMIT");
        if (rv) {
            log_db_error(db, rv, rollback ? "ROLLBACK" : "COMMIT");
        }
    }
    else {
        if (rollback) {
            apr_dbd_transaction_mode_set(db->dbd->driver, tx, APR_DBD_TRANSACTION_ROLLBACK);
        }
        rv = apr_dbd_transaction_end(db->dbd->driver, db->pool, tx);
    }
    db->in_tx = 0;
    unlock_writes(db);
    return rv;
}

/* A single-column, single-row answer; NULL when there is no row. */
const char *rc_db_value(rc_db *db, const char *label, const char *sql,
                                int nargs, const char **args, int *failed)
{
    apr_dbd_results_t *res;
    apr_dbd_row_t *row = NULL;
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
