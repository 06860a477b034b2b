/* The module's own threads (the writer, the stop watcher, the search index
 * builder): what each of them has, its start and its stop. */
#ifndef RC_HELPER_THREAD_H
#define RC_HELPER_THREAD_H

#include "apr_thread_proc.h"
#include "apr_thread_cond.h"
#include "apr_thread_mutex.h"

typedef struct {
    apr_pool_t *pool;            /* an allocator of its own, locked: the thread
                                  * and the requests that wake it allocate here */
    apr_thread_mutex_t *lock;
    apr_thread_cond_t *wake;     /* signalled under lock */
    apr_thread_t *thread;        /* NULL until started */
    int quit;                    /* set under lock at the child's end */
} rc_helper;

/* The pool (a subpool of pchild), the lock and the condition. 0, or
 * non-zero when one could not be made (the helper is then unusable). */
int rc_helper_init(rc_helper *h, apr_pool_t *pchild);

/* Starts fn(thread, data) with every asynchronous signal blocked: under
 * prefork a child's main thread takes SIGTERM and SIGHUP and runs the child's
 * exit from the handler; a helper thread that took one ran that exit beside
 * the main thread (two threads destroying the child's pools). The mask is
 * set before the thread exists (it inherits it). At the end of h->pool (a
 * pre-cleanup: before the subpools the thread uses and mod_dbd's pools go)
 * quit is set, the thread woken and joined. The thread returns normally:
 * apr_thread_exit's unwinding trips AddressSanitizer, and the thread's pool
 * goes with h->pool. */
apr_status_t rc_helper_start(rc_helper *h, apr_thread_start_t fn, void *data);

#endif
