/* The module's own threads (see helper_thread.h). */
#include "helper_thread.h"

#include <pthread.h>
#include <signal.h>
#include <string.h>

int rc_helper_init(rc_helper *h, apr_pool_t *pchild)
{
    apr_allocator_t *alloc = NULL;
    apr_thread_mutex_t *amutex = NULL;

    memset(h, 0, sizeof(*h));
    if (apr_allocator_create(&alloc) != APR_SUCCESS
        || apr_pool_create_ex(&h->pool, pchild, NULL, alloc) != APR_SUCCESS) {
        if (alloc) {
            apr_allocator_destroy(alloc);
        }
        h->pool = NULL;
        return -1;
    }
    apr_allocator_owner_set(alloc, h->pool);
    if (apr_thread_mutex_create(&amutex, APR_THREAD_MUTEX_DEFAULT, h->pool) != APR_SUCCESS) {
        return -1;
    }
    apr_allocator_mutex_set(alloc, amutex);
    if (apr_thread_mutex_create(&h->lock, APR_THREAD_MUTEX_DEFAULT, h->pool) != APR_SUCCESS
        || apr_thread_cond_create(&h->wake, h->pool) != APR_SUCCESS) {
        h->lock = NULL;
        return -1;
    }
    return 0;
}

static apr_status_t stop_helper(void *data)
{
    rc_helper *h = data;
    apr_status_t rv;

    apr_thread_mutex_lock(h->lock);
    h->quit = 1;
    apr_thread_cond_broadcast(h->wake);
    apr_thread_mutex_unlock(h->lock);
    apr_thread_join(&rv, h->thread);
    h->thread = NULL;
    return APR_SUCCESS;
}

apr_status_t rc_helper_start(rc_helper *h, apr_thread_start_t fn, void *data)
{
    sigset_t all, was;
    apr_status_t rv;

    /* Faults stay with the thread that caused them. */
    sigfillset(&all);
    sigdelset(&all, SIGSEGV);
    sigdelset(&all, SIGBUS);
    sigdelset(&all, SIGFPE);
    sigdelset(&all, SIGILL);
    pthread_sigmask(SIG_BLOCK, &all, &was);
    rv = apr_thread_create(&h->thread, NULL, fn, data, h->pool);
    pthread_sigmask(SIG_SETMASK, &was, NULL);
    if (rv != APR_SUCCESS) {
        h->thread = NULL;
        return rv;
    }
    apr_pool_pre_cleanup_register(h->pool, h, stop_helper);
    return APR_SUCCESS;
}
