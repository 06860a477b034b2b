/* Search: the message a search result is shown with. (The search itself,
 * which threads match, is rc_store_threads_list's.) */
#include "store.h"
#include "snippet.h"

const char *rc_store_thread_match(rc_db *db, const char *thread_id, const char *q,
                                  int *failed)
{
    /* The first message that matches, as the list's search matches it. */
    return rc_db_value(db, "thread_match",
                       "SELECT output FROM steps WHERE \"threadId\" = %s"
                       " AND type IN ('user_message', 'assistant_message')"
                       " AND LOWER(output) LIKE LOWER(%s) ESCAPE '\\'"
                       " ORDER BY \"createdAt\", id LIMIT 1",
                       RC_DB_ARGS(thread_id, rc_like_contains(db->pool, q)), failed);
}
