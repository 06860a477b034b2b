/* Group commit. Every chat writes twice: when it starts (the user, the thread,
 * the question, the running answer) and when it ends (the answer). Under a
 * burst hundreds of requests of a child want to write at once; each taking a
 * pooled connection and a transaction of its own would queue them for the
 * pool (DBDMax) and, on SQLite, for the one writer of the database, with a
 * commit each. Instead the requests queue their work here and wait; the
 * child's writer thread takes everything queued (up to RC_BATCH_MAX jobs of
 * one database), runs it in one transaction on one connection, commits once
 * and wakes them. A request waits at most for the batch under way and its
 * own; a request that finds the writer idle and nobody queued writes at
 * once on its own thread (no hand-over: half a millisecond less at the
 * median with 50 streams open), and those that arrive meanwhile queue for the
 * writer. A thread of its own, not the first waiting request leading the
 * batch: on a busy machine a
 * request thread is preempted among hundreds of runnable ones while it holds
 * the database's writer lock (batches of 64 took 100-250 ms that way), where
 * the writer, asleep between batches, is run as soon as it is woken (the same
 * batches: 0.1-2 ms).
 *
 * A job that fails rolls its batch back; the batch's jobs then run again one
 * transaction each, so that one request's failure is its own only.
 *
 * A chat's question need not be waited for: rc_writer_submit queues it and
 * the request calls the backend meanwhile (under load the wait for a commit
 * was most of the time to the first token), looking at the result between
 * reads and waiting for it before the answer is saved. */
#include "writer.h"
#include "helper_thread.h"

#include "http_log.h"

APLOG_USE_MODULE(ragchat);

#define RC_BATCH_MAX 64

typedef struct write_job write_job;
struct write_job {
    write_job *next;
    server_rec *s;               /* its database: mod_dbd's settings of this server */
    const char *order;           /* its place in the batch (NULL first) */
    rc_write_fn fn;
    void *baton;
    apr_thread_cond_t *done_cond;
    int rv, done;
};

static struct {
    rc_helper h;                 /* the thread, its pool, lock and wake */
    apr_pool_t *batch;           /* one batch's (cleared) */
    write_job *head;
    int busy;                    /* a batch, or a lone request, is writing */
    int broken;
} G;

void rc_writer_child_init(apr_pool_t *pchild)
{
    memset(&G, 0, sizeof(G));
    if (rc_helper_init(&G.h, pchild) || apr_pool_create(&G.batch, G.h.pool) != APR_SUCCESS) {
        G.broken = 1;
    }
}

/* One transaction of jobs[0..n); 0 when all of them committed. */
static int run_transaction(rc_db *db, write_job **jobs, int n)
{
    apr_dbd_transaction_t *tx;
    int i, rv;

    if ((rv = rc_db_begin(db, &tx)) != 0) {
        return rv;
    }
    for (i = 0; i < n && !rv; i++) {
        rv = jobs[i]->fn(db, jobs[i]->baton);
    }
    if (rc_db_end(db, tx, rv) && !rv) {
        rv = -1;
    }
    return rv;
}

static void run_batch(write_job **jobs, int n)
{
    apr_time_t t0 = apr_time_now(), t1;
    rc_db *db = rc_db_open_server(jobs[0]->s, G.batch);
    int i, rv;

    t1 = apr_time_now();
    rv = db ? run_transaction(db, jobs, n) : -1;
    ap_log_error(APLOG_MARK, APLOG_DEBUG, 0, jobs[0]->s, "RC0110: %d requests' writes "
                 "committed together in %" APR_TIME_T_FMT " us (a connection in %"
                 APR_TIME_T_FMT " us)%s", n, apr_time_now() - t1, t1 - t0,
                 rv ? ", failed: each again alone" : "");

    for (i = 0; i < n; i++) {
        jobs[i]->rv = rv;
    }
    if (rv && db && n > 1) {
        for (i = 0; i < n; i++) {
            jobs[i]->rv = run_transaction(db, jobs + i, 1);
        }
    }
    rc_db_release(db);
    apr_pool_clear(G.batch);
}

/* Batches of different children (or nodes) that insert the same new users
 * in different orders would deadlock on PostgreSQL (each waiting for the
 * other's uncommitted row of the unique index): every batch takes its rows'
 * locks in one order, its jobs sorted by their order key (the user). An
 * insertion sort: a batch is short. */
static void sort_batch(write_job **jobs, int n)
{
    int i, j;

    for (i = 1; i < n; i++) {
        write_job *x = jobs[i];
        for (j = i; j > 0 && jobs[j - 1]->order
                    && (!x->order || strcmp(jobs[j - 1]->order, x->order) > 0); j--) {
            jobs[j] = jobs[j - 1];
        }
        jobs[j] = x;
    }
}

/* Takes the first queued job and those of the same database after it (in
 * their order), up to RC_BATCH_MAX; under G.h.lock. */
static int take_batch(write_job **jobs)
{
    write_job **at = &G.head;
    server_rec *s = G.head->s;
    int n = 0;

    while (*at && n < RC_BATCH_MAX) {
        if ((*at)->s == s) {
            jobs[n++] = *at;
            *at = (*at)->next;
        }
        else {
            at = &(*at)->next;
        }
    }
    return n;
}

static void *APR_THREAD_FUNC writer_thread(apr_thread_t *t, void *data)
{
    write_job *jobs[RC_BATCH_MAX];

    (void)t;
    (void)data;
    apr_thread_mutex_lock(G.h.lock);
    for (;;) {
        int n, i;

        while ((!G.h.quit && !G.head) || G.busy) {
            apr_thread_cond_wait(G.h.wake, G.h.lock);
        }
        if (!G.head) {
            break;             /* quitting, nothing left to write */
        }
        n = take_batch(jobs);
        G.busy = 1;
        apr_thread_mutex_unlock(G.h.lock);
        sort_batch(jobs, n);
        run_batch(jobs, n);
        apr_thread_mutex_lock(G.h.lock);
        G.busy = 0;
        for (i = 0; i < n; i++) {
            jobs[i]->done = 1;
            apr_thread_cond_signal(jobs[i]->done_cond);
        }
    }
    apr_thread_mutex_unlock(G.h.lock);
    return NULL;       /* not apr_thread_exit: see helper_thread.h */
}

/* The request's own transaction, on a connection of its own: when it writes
 * alone, or without the writer thread (it could not start). */
static int run_alone(request_rec *r, rc_write_fn fn, void *baton)
{
    apr_pool_t *p;
    write_job job, *jobs[1] = { &job };
    rc_db *db;
    int rv = -1;

    apr_pool_create(&p, r->pool);
    memset(&job, 0, sizeof(job));
    job.fn = fn;
    job.baton = baton;
    if ((db = rc_db_open(r, p)) != NULL) {
        rv = run_transaction(db, jobs, 1);
        rc_db_release(db);
    }
    apr_pool_destroy(p);
    return rv;
}

/* Starts the writer thread; under G.h.lock. */
static int start_thread(request_rec *r)
{
    apr_status_t rv = rc_helper_start(&G.h, writer_thread, NULL);

    if (rv != APR_SUCCESS) {
        G.broken = 1;
        ap_log_rerror(APLOG_MARK, APLOG_ERR, rv, r, "RC0109: the writer thread could not "
                      "start: each request writes in a transaction of its own");
        return -1;
    }
    return 0;
}

/* Queues job (its cond made) and wakes the writer, starting it when needed;
 * under G.h.lock. Non-zero when there is no writer thread. */
static int enqueue(request_rec *r, write_job *job)
{
    write_job **at;

    if (!G.h.thread && start_thread(r)) {
        return -1;
    }
    for (at = &G.head; *at; at = &(*at)->next) {
        /* to the end: the queue is short (what arrived during one batch) */
    }
    *at = job;
    apr_thread_cond_signal(G.h.wake);
    return 0;
}

/* Waits for a queued job's end; under G.h.lock. */
static int wait_job(write_job *job)
{
    while (!job->done) {
        apr_thread_cond_wait(job->done_cond, G.h.lock);
    }
    return job->rv != 0;
}

static void init_job(write_job *job, request_rec *r, const char *order, rc_write_fn fn,
                     void *baton)
{
    memset(job, 0, sizeof(*job));
    job->s = r->server;
    job->order = order;
    job->fn = fn;
    job->baton = baton;
}

int rc_writer_run(request_rec *r, const char *order, rc_write_fn fn, void *baton)
{
    write_job job;
    int rv;

    if (G.broken || !G.h.lock) {
        return run_alone(r, fn, baton);
    }
    init_job(&job, r, order, fn, baton);
    if (apr_thread_cond_create(&job.done_cond, r->pool) != APR_SUCCESS) {
        return run_alone(r, fn, baton);
    }
    apr_thread_mutex_lock(G.h.lock);
    if (!G.busy && !G.head) {
        /* Nothing to join: written at once on this thread, without waking
         * the writer; requests arriving meanwhile queue for it. */
        G.busy = 1;
        apr_thread_mutex_unlock(G.h.lock);
        rv = run_alone(r, fn, baton);
        apr_thread_mutex_lock(G.h.lock);
        G.busy = 0;
        apr_thread_cond_signal(G.h.wake);     /* the queue, or the end of the child */
        apr_thread_mutex_unlock(G.h.lock);
        return rv;
    }
    if (enqueue(r, &job)) {
        apr_thread_mutex_unlock(G.h.lock);
        return run_alone(r, fn, baton);
    }
    rv = wait_job(&job);
    apr_thread_mutex_unlock(G.h.lock);
    return rv;
}

/* ---- a write that goes on while the request does ----------------------------- */

struct rc_write_ticket {
    write_job job;
    int queued;                  /* in the writer's hands until job.done */
    int rv;                      /* when not queued: the result */
};

/* r's pool must not go while the writer may still touch the job. */
static apr_status_t wait_ticket(void *data)
{
    rc_writer_wait(data);
    return APR_SUCCESS;
}

rc_write_ticket *rc_writer_submit(request_rec *r, const char *order, rc_write_fn fn,
                                  void *baton)
{
    rc_write_ticket *t = apr_pcalloc(r->pool, sizeof(*t));

    init_job(&t->job, r, order, fn, baton);
    if (!G.broken && G.h.lock
        && apr_thread_cond_create(&t->job.done_cond, r->pool) == APR_SUCCESS) {
        apr_thread_mutex_lock(G.h.lock);
        t->queued = enqueue(r, &t->job) == 0;
        apr_thread_mutex_unlock(G.h.lock);
    }
    if (!t->queued) {
        t->rv = run_alone(r, fn, baton) != 0;
        return t;
    }
    apr_pool_pre_cleanup_register(r->pool, t, wait_ticket);
    return t;
}

/* The ticket's result; with block, once the write has ended. */
static int ticket_result(rc_write_ticket *t, int block)
{
    int rv;

    if (!t->queued) {
        return t->rv;
    }
    apr_thread_mutex_lock(G.h.lock);
    rv = block ? wait_job(&t->job) : t->job.done ? t->job.rv != 0 : -1;
    apr_thread_mutex_unlock(G.h.lock);
    return rv;
}

int rc_writer_result(rc_write_ticket *t)
{
    return ticket_result(t, 0);
}

int rc_writer_wait(rc_write_ticket *t)
{
    return ticket_result(t, 1);
}
