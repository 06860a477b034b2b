/* The connection layer over mod_dbd: connections, the writer lock, the
 * statement cache. The store (store.h) is built on it; nothing else runs SQL. */
#ifndef RC_DB_H
#define RC_DB_H

#include "httpd.h"
#include "apr_dbd.h"
#include "mod_dbd.h"

typedef struct {
    request_rec *r;      /* NULL for a connection of no request (rc_db_open_server) */
    server_rec *s;
    apr_pool_t *pool;
    ap_dbd_t *dbd;
    int opened;          /* from ap_dbd_open: rc_db_release must close it */
    int in_tx;           /* inside rc_db_begin/rc_db_end (holds the write lock) */
    int sqlite;          /* DBDriver sqlite3 (else pgsql) */
} rc_db;

/* Registers the writers' lock (pre_config: a `Mutex` directive can name it). */
void rc_db_pre_config(apr_pool_t *pconf);
/* Fetches mod_dbd's optional functions; an error string when mod_dbd is absent. */
const char *rc_db_post_config(void);
/* Creates the writers' lock (post_config); an error string when it cannot be made. */
const char *rc_db_lock_create(apr_pool_t *pconf, server_rec *s);

/* Per child process: attaches to the lock that serialises all the children's
 * writers on SQLite. */
void rc_db_child_init(apr_pool_t *p);

/* The request's pooled connection (held until the request ends). NULL when the
 * database is unavailable (logged). */
rc_db *rc_db_acquire(request_rec *r);
/* A connection for a short piece of work inside a long request (a stream),
 * with results allocated in p: must be given back with rc_db_release. */
rc_db *rc_db_open(request_rec *r, apr_pool_t *p);
/* The same for work of no request (a child's own thread), on s's database. */
rc_db *rc_db_open_server(server_rec *s, apr_pool_t *p);
void rc_db_release(rc_db *db);
/* The same connection with results allocated in p (a scratch pool cleared
 * between pieces of a long read); nothing to release. */
rc_db *rc_db_scratch(rc_db *db, apr_pool_t *p);

/* Low-level statements, prepared once per connection under a label. Arguments
 * are strings (NULL binds SQL NULL). The SQL's placeholders carry the
 * column's type: %s for text, %d for INTEGER, %lld for BIGINT (the pgsql
 * driver declares the parameters with these types; sqlite3 binds them all as
 * text, which its columns' affinity converts). Return 0 or a driver error
 * (logged). */
#define RC_DB_ARGS(...) \
    (int)(sizeof((const char *[]){__VA_ARGS__}) / sizeof(const char *)), \
    (const char *[]){__VA_ARGS__}
int rc_db_exec(rc_db *db, const char *label, const char *sql, int *nrows,
               int nargs, const char **args);
int rc_db_select(rc_db *db, const char *label, const char *sql,
                 apr_dbd_results_t **res, int nargs, const char **args);
/* Next row (0) or -1 at the end; columns are NULL for SQL NULL. *row must
 * be NULL before the first call (the pgsql driver reuses what it holds). */
int rc_db_next(rc_db *db, apr_dbd_results_t *res, apr_dbd_row_t **row);
const char *rc_db_col(rc_db *db, apr_dbd_row_t *row, int col);
/* A long read on SQLite, row by row from the connection's own handle: apr's
 * driver would first copy every row (a row struct, a copy of each value, a
 * lock per call); here each row's columns (NULL for SQL NULL, valid during
 * the call only) go to fn, which returns 0 to go on. The same placeholders
 * and arguments as rc_db_select. 0, or -1 on error (logged). SQLite only. */
typedef int (*rc_db_row_fn)(void *ctx, const char *const *cols, int ncols);
int rc_db_sqlite_each(rc_db *db, const char *label, const char *sql, int nargs,
                      const char **args, rc_db_row_fn fn, void *ctx);
int rc_db_begin(rc_db *db, apr_dbd_transaction_t **tx);
int rc_db_end(rc_db *db, apr_dbd_transaction_t *tx, int rollback);
int rc_db_is_sqlite(const rc_db *db);
/* Decimal text of a number, for a %d or %lld argument. */
const char *rc_db_int(rc_db *db, apr_int64_t v);
/* A single-column, single-row answer (in db->pool); NULL when there is no row
 * (and *failed, when given, set on error). */
const char *rc_db_value(rc_db *db, const char *label, const char *sql,
                        int nargs, const char **args, int *failed);
/* Runs sql without parameters or results (schema statements, pragmas). */
int rc_db_run(rc_db *db, const char *sql);

#endif
