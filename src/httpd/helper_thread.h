/* The module's own threads (the writer, the stop watcher, the search index
 * builder) never take the process's signals. */
#ifndef RC_HELPER_THREAD_H
#define RC_HELPER_THREAD_H

#include "apr_thread_proc.h"

/* apr_thread_create, the new thread with every asynchronous signal blocked.
 * Under prefork a child's main thread takes SIGTERM and SIGHUP and runs the
 * child's exit from the handler; a helper thread that took one ran that exit
 * at the same time as the main thread (two threads destroying the child's
 * pools: a crash at every few stops). The mask is set before the thread
 * exists (it inherits it), so no signal can reach it in between. */
apr_status_t rc_helper_thread_create(apr_thread_t **t, apr_thread_start_t fn, void *data,
                                     apr_pool_t *p);

#endif
