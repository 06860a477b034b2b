/* A thread's history, read in two steps so that a thread of any length opens
 * and continues cheaply: its outline (the message steps' ids, types, times
 * and branch metadata, no text) for src/core/branches.c, then the whole rows
 * of only the steps needed, a few ids per statement. */
#include "store.h"

#include "apr_strings.h"

/* Steps of one time in id order (the statement orders by time only, which
 * its index gives without sorting): the array is in time order already, so
 * this is one pass. */
static void order_ties(apr_array_header_t *a)
{
    rc_step **v = (rc_step **)a->elts;
    int i, j;

    for (i = 1; i < a->nelts; i++) {
        rc_step *x = v[i];
        for (j = i; j > 0 && strcmp(v[j - 1]->created, x->created) == 0
                    && strcmp(v[j - 1]->id, x->id) > 0; j--) {
            v[j] = v[j - 1];
        }
        v[j] = x;
    }
}

#define OUTLINE_SQL \
    "SELECT id, type, metadata, \"createdAt\" FROM steps" \
    " WHERE \"threadId\" = %s AND type IN ('user_message', 'assistant_message')" \
    " ORDER BY \"createdAt\" DESC LIMIT %d"

typedef struct {
    apr_pool_t *p;
    apr_array_header_t *out;
    const char *thread_id;
} outline_ctx;

/* One step of the outline (its columns copied into the pool). */
static int outline_row(void *ctx, const char *const *cols, int ncols)
{
    outline_ctx *o = ctx;
    rc_step *s = apr_pcalloc(o->p, sizeof(*s));

    (void)ncols;
    s->id = apr_pstrdup(o->p, cols[0] ? cols[0] : "");
    s->type = cols[1] ? apr_pstrdup(o->p, cols[1]) : NULL;
    s->metadata = cols[2] ? apr_pstrdup(o->p, cols[2]) : NULL;
    s->created = apr_pstrdup(o->p, cols[3] ? cols[3] : "");
    s->thread_id = o->thread_id;
    APR_ARRAY_PUSH(o->out, rc_step *) = s;
    return 0;
}

/* Through apr's driver (PostgreSQL). */
static int outline_rows(rc_db *db, const char *thread_id, int limit, outline_ctx *o)
{
    apr_dbd_results_t *res;
    apr_dbd_row_t *row = NULL;
    const char *cols[4];
    int i;

    if (rc_db_select(db, "thread_outline", OUTLINE_SQL, &res,
                     RC_DB_ARGS(thread_id, rc_db_int(db, limit)))) {
        return -1;
    }
    while (rc_db_next(db, res, &row) == 0) {
        for (i = 0; i < 4; i++) {
            cols[i] = rc_db_col(db, row, i);
        }
        outline_row(o, cols, 4);
    }
    return 0;
}

apr_array_header_t *rc_store_thread_outline(rc_db *db, const char *thread_id, int limit)
{
    outline_ctx o;
    int i, j, rv;

    o.p = db->pool;
    o.out = apr_array_make(db->pool, 256, sizeof(rc_step *));
    o.thread_id = thread_id;
    /* Newest first: past the limit, the oldest steps are the ones left out.
     * On SQLite, thousands of rows are read straight from the connection. */
    rv = rc_db_is_sqlite(db)
       ? rc_db_sqlite_each(db, "thread_outline", OUTLINE_SQL,
                           RC_DB_ARGS(thread_id, rc_db_int(db, limit)), outline_row, &o)
       : outline_rows(db, thread_id, limit, &o);
    if (rv) {
        return NULL;
    }
    for (i = 0, j = o.out->nelts - 1; i < j; i++, j--) {
        rc_step *t = APR_ARRAY_IDX(o.out, i, rc_step *);
        APR_ARRAY_IDX(o.out, i, rc_step *) = APR_ARRAY_IDX(o.out, j, rc_step *);
        APR_ARRAY_IDX(o.out, j, rc_step *) = t;
    }
    order_ties(o.out);
    return o.out;
}

/* One statement of RC_STORE_IDS_CHUNK ids (unused places bind ""). */
#define ID_PLACES "%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s," \
                  " %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s"

static int steps_chunk(rc_db *db, const char *thread_id, const char *const *ids, int n,
                       apr_array_header_t *out)
{
    const char *args[RC_STORE_IDS_CHUNK];
    apr_dbd_results_t *res;
    apr_dbd_row_t *row = NULL;
    const char *last = NULL;
    int i;

    for (i = 0; i < RC_STORE_IDS_CHUNK; i++) {
        args[i] = i < n && ids[i] ? ids[i] : "";
    }
    /* By primary key only: with the thread in the WHERE too, SQLite would
     * walk the thread's index instead; the thread is checked here. */
    if (rc_db_select(db, "steps_by_ids",
                     "SELECT " RC_STORE_STEP_COLS " FROM steps s"
                     " LEFT JOIN feedbacks f ON f.\"forId\" = s.id"
                     " WHERE s.id IN (" ID_PLACES ") ORDER BY s.id LIMIT 256",
                     &res, RC_STORE_IDS_CHUNK, args)) {
        return -1;
    }
    while (rc_db_next(db, res, &row) == 0) {
        rc_step *s = rc_store_step_from_row(db, row);
        /* A Chainlit database may hold several feedbacks for one step. */
        if (!s->thread_id || strcmp(s->thread_id, thread_id) != 0
            || (last && s->id && strcmp(last, s->id) == 0)) {
            continue;
        }
        last = s->id;
        APR_ARRAY_PUSH(out, rc_step *) = s;
    }
    return 0;
}

apr_array_header_t *rc_store_steps_by_ids(rc_db *db, const char *thread_id,
                                          const char *const *ids, int n)
{
    apr_array_header_t *out = apr_array_make(db->pool, n > 0 ? n : 1, sizeof(rc_step *));
    int i;

    for (i = 0; i < n; i += RC_STORE_IDS_CHUNK) {
        int k = n - i < RC_STORE_IDS_CHUNK ? n - i : RC_STORE_IDS_CHUNK;
        if (steps_chunk(db, thread_id, ids + i, k, out)) {
            return NULL;
        }
    }
    return out;
}
