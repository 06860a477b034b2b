/* Persistence through mod_dbd: the reference's schema (users, threads, steps,
 * feedbacks, elements) plus the module's own ragchat_* tables. */
#ifndef RC_STORE_H
#define RC_STORE_H

#include "httpd.h"
#include "apr_dbd.h"
#include "mod_dbd.h"

typedef struct {
    request_rec *r;
    apr_pool_t *pool;
    ap_dbd_t *dbd;
    int opened;          /* from ap_dbd_open: rc_db_release must close it */
    int in_tx;           /* inside rc_db_begin/rc_db_end (holds the write lock) */
} rc_db;

/* Fetches mod_dbd's optional functions; an error string when mod_dbd is absent. */
const char *rc_db_post_config(void);

/* Per child process: the lock that serialises this process's writers. */
void rc_db_child_init(apr_pool_t *p);

/* The request's pooled connection (held until the request ends). NULL when the
 * database is unavailable (logged). */
rc_db *rc_db_acquire(request_rec *r);
/* A connection for a short piece of work inside a long request (a stream),
 * with results allocated in p: must be given back with rc_db_release. */
rc_db *rc_db_open(request_rec *r, apr_pool_t *p);
void rc_db_release(rc_db *db);

/* Low-level statements, prepared once per connection under a label. Arguments
 * are strings (NULL binds SQL NULL). Return 0 or a driver error (logged). */
#define RC_DB_ARGS(...) \
    (int)(sizeof((const char *[]){__VA_ARGS__}) / sizeof(const char *)), \
    (const char *[]){__VA_ARGS__}
int rc_db_exec(rc_db *db, const char *label, const char *sql, int *nrows,
               int nargs, const char **args);
int rc_db_select(rc_db *db, const char *label, const char *sql,
                 apr_dbd_results_t **res, int nargs, const char **args);
/* Next row (0) or -1 at the end; columns are NULL for SQL NULL. */
int rc_db_next(rc_db *db, apr_dbd_results_t *res, apr_dbd_row_t **row);
const char *rc_db_col(rc_db *db, apr_dbd_row_t *row, int col);
int rc_db_begin(rc_db *db, apr_dbd_transaction_t **tx);
int rc_db_end(rc_db *db, apr_dbd_transaction_t *tx, int rollback);
int rc_db_is_sqlite(const rc_db *db);

typedef struct {
    const char *id, *thread_id, *parent_id;
    const char *type;            /* user_message | assistant_message */
    const char *name;
    const char *output;
    const char *metadata;        /* JSON text */
    const char *created, *start, *end;
    int is_error;
    const char *feedback_value;  /* "1", "0" or NULL */
    const char *feedback_comment;
} rc_step;

typedef struct {
    const char *id, *name, *created, *user_id, *user_ident;
} rc_thread;

/* The users row of this identifier, created on first sight; NULL on error. */
const char *rc_store_user_id(rc_db *db, const char *identifier);

/* The thread if it belongs to the user, else NULL (also on error: *failed). */
rc_thread *rc_store_thread_get(rc_db *db, const char *id, const char *user_id,
                               const char *user_ident, int *failed);
rc_thread *rc_store_thread_new(rc_db *db, const char *user_id, const char *user_ident,
                               const char *name);
int rc_store_thread_insert(rc_db *db, const rc_thread *t);
int rc_store_thread_rename(rc_db *db, const char *id, const char *name);
int rc_store_thread_delete(rc_db *db, const char *id);
/* The user's threads, newest first: createdAt < before (when set), matching q in
 * the name or any message (when set); at most limit. NULL on error. */
apr_array_header_t *rc_store_threads_list(rc_db *db, const char *user_id,
                                          const char *user_ident, const char *q,
                                          const char *before, int limit);

int rc_store_step_insert(rc_db *db, const rc_step *s);
/* Steps of a thread in order, with their feedback; at most limit. */
apr_array_header_t *rc_store_thread_steps(rc_db *db, const char *thread_id, int limit);
/* The step if its thread belongs to the user, else NULL. */
rc_step *rc_store_step_get(rc_db *db, const char *id, const char *user_id,
                           const char *user_ident, int *failed);

/* Running answers, so a stop request reaches the stream on any child process
 * or server sharing the database. */
int rc_store_stream_begin(rc_db *db, const char *step_id, const char *thread_id,
                          const char *user_id);
/* 1 when a stop was requested, 0 when not, -1 on error. */
int rc_store_stream_stop_requested(rc_db *db, const char *step_id);
/* Rows changed: 1 when a running answer of this user was asked to stop. */
int rc_store_stream_request_stop(rc_db *db, const char *step_id, const char *user_id);
int rc_store_stream_end(rc_db *db, const char *step_id);

int rc_store_feedback_set(rc_db *db, const char *step_id, const char *thread_id,
                          int value, const char *comment);
int rc_store_feedback_delete(rc_db *db, const char *step_id);



typedef struct {
    const char *id, *thread_id, *for_id, *name, *mime, *size, *type;
} rc_element;

int rc_store_element_insert(rc_db *db, const rc_element *e);
/* Elements of a thread (uploaded files), at most limit. */
apr_array_header_t *rc_store_thread_elements(rc_db *db, const char *thread_id, int limit);

/* ---- built-in retrieval: documents and passages ---- */

/* Passages one search returns at most. */
#define RC_STORE_PASSAGE_HITS 5

typedef struct {
    const char *id, *user_ident, *name, *mime;
    const char *size, *chunks, *created;   /* bytes, passages, timestamp */
} rc_doc;

typedef struct {
    const char *name, *ordinal, *text;     /* never NULL */
    double rank;                           /* FTS5's bm25 rank: lower is better */
} rc_passage;

/* Removes the user's document of this name and its passages (none: 0). */
int rc_store_doc_remove_named(rc_db *db, const char *user_ident, const char *name);
int rc_store_doc_insert(rc_db *db, const rc_doc *d);
/* One passage of a document; ordinal counts from 0. */
int rc_store_passage_insert(rc_db *db, const rc_doc *d, const char *ordinal,
                            const char *text);
/* Number of the user's documents, capped at 1000; -1 on error. */
int rc_store_doc_count(rc_db *db, const char *user_ident);
/* The user's passages best matching an FTS5 query, best first, at most
 * RC_STORE_PASSAGE_HITS (rc_passage, in db->pool); NULL on error. */
apr_array_header_t *rc_store_passages_search(rc_db *db, const char *user_ident,
                                             const char *query);

/* ---- chat history ---- */

typedef struct {
    const char *type;            /* user_message | assistant_message */
    const char *output;          /* may be NULL */
} rc_history_msg;

/* The messages of a thread in order (rc_history_msg, in db->pool), at most
 * the first 2000; NULL on error. */
apr_array_header_t *rc_store_history(rc_db *db, const char *thread_id);
#endif
