/* The store: every statement the module runs, as functions named for what
 * they do, over db.h's connections. The tables are created in schema.c. */
#ifndef RC_STORE_H
#define RC_STORE_H

#include "db.h"
#include "search_query.h"

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
    const char *app;             /* RagChatApp that owns it; NULL: none yet (the
                                    reference app's threads show in every app) */
} rc_thread;

/* The users row of this identifier, created on first sight; NULL on error. */
const char *rc_store_user_id(rc_db *db, const char *identifier);

/* The thread if it belongs to the user and to app (or to no app yet), else
 * NULL (also on error: *failed). */
rc_thread *rc_store_thread_get(rc_db *db, const char *id, const char *user_id,
                               const char *user_ident, const char *app, int *failed);
rc_thread *rc_store_thread_new(rc_db *db, const char *user_id, const char *user_ident,
                               const char *app, const char *name);
/* A thread of no app yet becomes app's (the first app that continues it). */
int rc_store_thread_claim(rc_db *db, const char *id, const char *app);
int rc_store_thread_insert(rc_db *db, const rc_thread *t);
int rc_store_thread_rename(rc_db *db, const char *id, const char *name);
int rc_store_thread_delete(rc_db *db, const char *id);
/* The user's threads of app (and of no app), newest first: createdAt < before
 * (when set); at most limit. NULL on error. (A search: rc_store_threads_search.) */
apr_array_header_t *rc_store_threads_list(rc_db *db, const char *user_id,
                                          const char *user_ident, const char *app,
                                          const char *before, int limit);

int rc_store_step_insert(rc_db *db, const rc_step *s);
/* The step if its thread belongs to the user and to app (or no app), else NULL. */
rc_step *rc_store_step_get(rc_db *db, const char *id, const char *user_id,
                           const char *user_ident, const char *app, int *failed);

/* Running answers, so a stop request reaches the stream on any child process
 * or server sharing the database. */
int rc_store_stream_begin(rc_db *db, const char *step_id, const char *thread_id,
                          const char *user_id);
/* 1 when a stop was requested, 0 when not, -1 on error. */
int rc_store_stream_stop_requested(rc_db *db, const char *step_id);
/* The answers asked to stop, the newest RC_STORE_STOPPING_MAX (const char *
 * ids in db->pool); NULL on error. A row lives as long as its answer streams,
 * so the newest are the running ones (a process that died mid-answer leaves
 * an older row). */
#define RC_STORE_STOPPING_MAX "64"
apr_array_header_t *rc_store_streams_stopping(rc_db *db);
/* Rows changed: 1 when a running answer of this user was asked to stop. */
int rc_store_stream_request_stop(rc_db *db, const char *step_id, const char *user_id);
int rc_store_stream_end(rc_db *db, const char *step_id);

/* ---- sessions of RagChatAuth form, and failed logins (store_sessions.c) ---- */

/* A session row; times are epoch seconds. */
typedef struct {
    const char *user, *csrf, *provider;
    apr_int64_t created, last_seen, expires, checked;
} rc_session_row;

/* 1 with *s filled (strings in db->pool), 0 when there is no such row, -1 on error. */
int rc_store_session_get(rc_db *db, const char *row_id, rc_session_row *s);
int rc_store_session_insert(rc_db *db, const char *row_id, const rc_session_row *s,
                            const char *address);
int rc_store_session_touch(rc_db *db, const char *row_id, apr_int64_t last_seen,
                           apr_int64_t checked);
int rc_store_session_delete(rc_db *db, const char *row_id);
/* Ends every session of a user (log out everywhere); *n the number ended. */
int rc_store_sessions_delete_user(rc_db *db, const char *user, int *n);
/* Deletes the sessions that expired by now. */
int rc_store_sessions_prune(rc_db *db, apr_int64_t now);

/* The failures of key after since, newest first, at most limit: returns how
 * many (or -1 on error) and sets *oldest to the createdAt of the last one
 * counted. */
int rc_store_failures_count(rc_db *db, const char *key, apr_int64_t since, int limit,
                            apr_int64_t *oldest);
int rc_store_failure_add(rc_db *db, const char *key, apr_int64_t at);
/* Deletes the failures older than before. */
int rc_store_failures_prune(rc_db *db, apr_int64_t before);
/* Keeps only the newest keep failures of key (older ones never count). */
int rc_store_failures_trim_key(rc_db *db, const char *key, int keep);
/* Keeps at most max failure rows in all, deleting the oldest: the table's
 * size stays bounded whatever an attacker sends. */
int rc_store_failures_cap(rc_db *db, int max);
int rc_store_failures_clear(rc_db *db, const char *key);

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

/* The bytes around a matched word of a passage's text. */
#define RC_STORE_MARK_ON  '\x02'
#define RC_STORE_MARK_OFF '\x03'

typedef struct {
    const char *name, *ordinal;            /* never NULL */
    const char *text;                      /* never NULL; matched words marked */
    double rank;                           /* lower is better (bm25, -ts_rank) */
} rc_passage;

/* Removes the user's document of this name and its passages (none: 0). */
int rc_store_doc_remove_named(rc_db *db, const char *user_ident, const char *name);
int rc_store_doc_insert(rc_db *db, const rc_doc *d);
/* One passage of a document; ordinal counts from 0. */
int rc_store_passage_insert(rc_db *db, const rc_doc *d, const char *ordinal,
                            const char *text);
/* Number of the user's documents, capped at 1000; -1 on error. */
int rc_store_doc_count(rc_db *db, const char *user_ident);
/* The user's passages best matching a query (SQLite: an FTS5 MATCH
 * expression, rc_text_fts_query; PostgreSQL: a to_tsquery string,
 * rc_text_tsquery), best first, at most RC_STORE_PASSAGE_HITS (rc_passage, in
 * db->pool); NULL on error. */
apr_array_header_t *rc_store_passages_search(rc_db *db, const char *user_ident,
                                             const char *query);

/* ---- a thread's history, read in pieces (store_history.c) ---- */

/* Ids read by one statement of rc_store_steps_by_ids. */
#define RC_STORE_IDS_CHUNK 32

/* The thread's message steps (user_message, assistant_message) without their
 * text: id, type, metadata and createdAt only (rc_step *, in time order, in
 * db->pool); past limit, the newest limit. NULL on error. */
apr_array_header_t *rc_store_thread_outline(rc_db *db, const char *thread_id, int limit);
/* The whole steps (with feedback) of these ids of the thread, in no given
 * order (rc_step *, in db->pool; ids not found, or of another thread, are
 * left out). NULL on error. */
apr_array_header_t *rc_store_steps_by_ids(rc_db *db, const char *thread_id,
                                          const char *const *ids, int n);

/* The columns of a whole step (steps s LEFT JOIN feedbacks f), and the step
 * of such a row (in db->pool). */
#define RC_STORE_STEP_COLS \
    "s.id, s.name, s.type, s.\"threadId\", s.\"parentId\", s.\"isError\", s.metadata," \
    " s.output, s.\"createdAt\", s.start, s.\"end\", f.value, f.comment"
rc_step *rc_store_step_from_row(rc_db *db, apr_dbd_row_t *row);

/* ---- conversation branches (store_branches.c) ---- */

/* Replaces a step's metadata (JSON text). */
int rc_store_step_set_metadata(rc_db *db, const char *step_id, const char *metadata);

/* A thread from a row whose first columns are id, name, "createdAt",
 * "ragchatApp" (in db->pool). */
rc_thread *rc_store_thread_from_row(rc_db *db, apr_dbd_row_t *row);

/* ---- search (store_search.c) ---- */

typedef struct {
    rc_thread *thread;
    const char *doc;             /* the best matching document (its id) */
    int in_name;                 /* that document is the thread's name */
} rc_search_hit;

/* The user's threads of app (and of no app) matching every term, best first
 * (see store_search.c), from the offset-th on, at most limit (rc_search_hit,
 * in db->pool); NULL on error. */
apr_array_header_t *rc_store_threads_search(rc_db *db, const char *user_id,
                                            const char *user_ident, const char *app,
                                            const rc_search_terms *st, int offset,
                                            int limit);
/* A document's text with the matches of st between RC_SEARCH_MARK_ON and
 * RC_SEARCH_MARK_OFF; NULL when it is gone (or on error: *failed). */
const char *rc_store_search_marked(rc_db *db, const char *doc, const rc_search_terms *st,
                                   int *failed);
/* One step of the build of the search index of the rows written before it
 * (search_build.c), as owner ("host/pid") at now: claims the build (free, its
 * own, or its owner's heartbeat older than stale), indexes one batch in one
 * short transaction. 0: nothing is left; 1: a batch done, more left; 2: the
 * last batch done (*started: when the build began, µs); 3: another owner
 * builds; -1: an error (logged). */
int rc_store_search_build(rc_db *db, const char *owner, apr_time_t now,
                          apr_interval_time_t stale, apr_time_t *started);
#endif
