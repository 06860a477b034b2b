/* The chat history sent to the backend as context. */
#include "store.h"

#include "apr_strings.h"

#define RC_HISTORY_LIMIT "2000"    /* steps sent as context */

static const char *dup_col(rc_db *db, apr_dbd_row_t *row, int col)
{
    const char *v = rc_db_col(db, row, col);
    return v ? apr_pstrdup(db->pool, v) : NULL;
}

apr_array_header_t *rc_store_history(rc_db *db, const char *thread_id)
{
    apr_array_header_t *out;
    apr_dbd_results_t *res;
    apr_dbd_row_t *row = NULL;

    if (rc_db_select(db, "history",
                     "SELECT type, output FROM steps WHERE \"threadId\" = %s"
                     " AND type IN ('user_message', 'assistant_message')"
                     " ORDER BY \"createdAt\", id LIMIT " RC_HISTORY_LIMIT,
                     &res, RC_DB_ARGS(thread_id))) {
        return NULL;
    }
    out = apr_array_make(db->pool, 16, sizeof(rc_history_msg));
    while (rc_db_next(db, res, &row) == 0) {
        rc_history_msg *m = apr_array_push(out);
        m->type = dup_col(db, row, 0);
        m->output = dup_col(db, row, 1);
    }
    return out;
}
