/* Conversation branches: what the store writes for them. The tree itself is
 * read with the thread's outline (rc_store_thread_outline) and resolved by
 * src/core/branches.c; it lives in the steps' metadata, so the only statement
 * of its own is a step's metadata being rewritten (the version shown). */
#include "store.h"

int rc_store_step_set_metadata(rc_db *db, const char *step_id, const char *metadata)
{
    return rc_db_exec(db, "step_set_meta", "UPDATE steps SET metadata = %s WHERE id = %s",
                      NULL, RC_DB_ARGS(metadata, step_id));
}
