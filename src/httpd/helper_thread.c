/* The module's own threads, shielded from the process's signals. */
#include "helper_thread.h"

#include <pthread.h>
#include <signal.h>

apr_status_t rc_helper_thread_create(apr_thread_t **t, apr_thread_start_t fn, void *data,
                                     apr_pool_t *p)
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
    rv = apr_thread_create(t, NULL, fn, data, p);
    pthread_sigmask(SIG_SETMASK, &was, NULL);
    return rv;
}
