/* Stop requests for the running answers of this child process.
 *
 * POST B/api/chat/STEP/stop sets the stop flag of the answer's ragchat_streams
 * row, on whichever node or child gets it. The streams of this process don't
 * each read their row: one thread reads, every RC_WATCH_EVERY while at least
 * one answer streams here, the rows asked to stop, in one query per database,
 * and raises the flags of the answers it finds. So a node asks the database a
 * few times a second per child process however many answers stream, and a
 * stop is seen within RC_WATCH_EVERY plus the query's time. Idle, the thread
 * sleeps until an answer starts.
 *
 * The watch of an answer lives in its request's pool and leaves the list by
 * that pool's cleanup, so the thread never sees a finished request's memory. */
#include "stream_watch.h"
#include "db.h"
#include "store.h"
#include "ids.h"

#include "http_log.h"
#include "apr_strings.h"
#include "apr_thread_cond.h"
#include "apr_thread_mutex.h"
#include "apr_thread_proc.h"

APLOG_USE_MODULE(ragchat);

#define RC_WATCH_EVERY  apr_time_from_msec(250)
/* Rows are matched from this long before the oldest watched answer began. */
#define RC_WATCH_MARGIN apr_time_from_sec(10)
/* Databases (servers with their own DBD settings) read per round. */
#define RC_WATCH_SERVERS 8

struct rc_stream_watch {
    rc_stream_watch *prev, *next;
    apr_pool_t *pool;            /* the request's */
    server_rec *s;
    const char *step_id;
    apr_time_t since;
    int stop;
};

static struct {
    apr_pool_t *pool, *round;    /* the thread's, and one round's (cleared) */
    apr_thread_mutex_t *lock;
    apr_thread_cond_t *wake;
    apr_thread_t *thread;
    rc_stream_watch *head;
    int quit, broken;
} W;

/* The watcher's pools have an allocator of their own, locked: the thread and
 * the request threads that start it allocate from them. */
void rc_stream_watch_child_init(apr_pool_t *pchild)
{
    apr_allocator_t *alloc = NULL;
    apr_thread_mutex_t *amutex = NULL;

    memset(&W, 0, sizeof(W));
    if (apr_allocator_create(&alloc) != APR_SUCCESS
        || apr_pool_create_ex(&W.pool, pchild, NULL, alloc) != APR_SUCCESS) {
        if (alloc) {
            apr_allocator_destroy(alloc);
        }
        W.broken = 1;
        return;
    }
    apr_allocator_owner_set(alloc, W.pool);
    if (apr_thread_mutex_create(&amutex, APR_THREAD_MUTEX_DEFAULT, W.pool) != APR_SUCCESS) {
        W.broken = 1;
        return;
    }
    apr_allocator_mutex_set(alloc, amutex);
    if (apr_pool_create(&W.round, W.pool) != APR_SUCCESS
        || apr_thread_mutex_create(&W.lock, APR_THREAD_MUTEX_DEFAULT, W.pool) != APR_SUCCESS
        || apr_thread_cond_create(&W.wake, W.pool) != APR_SUCCESS) {
        W.broken = 1;
    }
}

/* The stop requests of the watched answers of one database (server s). */
static void read_round(server_rec *s, apr_time_t since)
{
    apr_array_header_t *ids;
    apr_hash_t *stopping;
    rc_stream_watch *w;
    rc_db *db = rc_db_open_server(s, W.round);
    int i;

    if (!db) {
        return;
    }
    ids = rc_store_streams_stopping(db, rc_timestamp(W.round, since));
    rc_db_release(db);
    if (!ids || ids->nelts == 0) {
        return;
    }
    stopping = apr_hash_make(W.round);
    for (i = 0; i < ids->nelts; i++) {
        apr_hash_set(stopping, APR_ARRAY_IDX(ids, i, const char *), APR_HASH_KEY_STRING, "");
    }
    apr_thread_mutex_lock(W.lock);
    for (w = W.head; w; w = w->next) {
        if (w->s == s && apr_hash_get(stopping, w->step_id, APR_HASH_KEY_STRING)) {
            w->stop = 1;
        }
    }
    apr_thread_mutex_unlock(W.lock);
}

static void *APR_THREAD_FUNC watch_thread(apr_thread_t *t, void *data)
{
    apr_time_t next = apr_time_now() + RC_WATCH_EVERY;

    (void)t;
    (void)data;
    apr_thread_mutex_lock(W.lock);
    for (;;) {
        server_rec *servers[RC_WATCH_SERVERS];
        apr_time_t since[RC_WATCH_SERVERS], now;
        rc_stream_watch *w;
        int n = 0, i;

        /* Idle until an answer starts; its first round comes RC_WATCH_EVERY
         * later, not while it starts. */
        while (!W.quit && !W.head) {
            apr_thread_cond_wait(W.wake, W.lock);
            next = apr_time_now() + RC_WATCH_EVERY;
        }
        while (!W.quit && W.head && (now = apr_time_now()) < next) {
            apr_thread_cond_timedwait(W.wake, W.lock, next - now);
        }
        if (W.quit) {
            break;
        }
        if (!W.head) {
            continue;
        }
        for (w = W.head; w; w = w->next) {
            for (i = 0; i < n && servers[i] != w->s; i++) {
            }
            if (i == n && n < RC_WATCH_SERVERS) {
                servers[n] = w->s;
                since[n++] = w->since;
            }
            else if (i < n && w->since < since[i]) {
                since[i] = w->since;
            }
        }
        next = apr_time_now() + RC_WATCH_EVERY;
        apr_thread_mutex_unlock(W.lock);
        for (i = 0; i < n; i++) {
            read_round(servers[i], since[i] - RC_WATCH_MARGIN);
        }
        apr_pool_clear(W.round);
        apr_thread_mutex_lock(W.lock);
    }
    apr_thread_mutex_unlock(W.lock);
    /* A plain return, not apr_thread_exit: pthread_exit's unwinding trips
     * AddressSanitizer (sigaltstack), and the thread's pool goes with W.pool. */
    return NULL;
}

/* At the child's end: the thread stops before mod_dbd's pools go. */
static apr_status_t stop_thread(void *data)
{
    apr_status_t rv;

    (void)data;
    apr_thread_mutex_lock(W.lock);
    W.quit = 1;
    apr_thread_cond_broadcast(W.wake);
    apr_thread_mutex_unlock(W.lock);
    apr_thread_join(&rv, W.thread);
    W.thread = NULL;
    return APR_SUCCESS;
}

static apr_status_t unlink_watch(void *data)
{
    rc_stream_watch *w = data;

    apr_thread_mutex_lock(W.lock);
    if (w->prev) {
        w->prev->next = w->next;
    }
    else if (W.head == w) {
        W.head = w->next;
    }
    if (w->next) {
        w->next->prev = w->prev;
    }
    w->prev = w->next = NULL;
    apr_thread_mutex_unlock(W.lock);
    return APR_SUCCESS;
}

rc_stream_watch *rc_stream_watch_add(request_rec *r, const char *step_id, apr_time_t since)
{
    rc_stream_watch *w;
    apr_status_t rv;

    if (W.broken || !W.lock) {
        return NULL;
    }
    w = apr_pcalloc(r->pool, sizeof(*w));
    w->pool = r->pool;
    w->s = r->server;
    w->step_id = apr_pstrdup(r->pool, step_id);
    w->since = since;
    apr_thread_mutex_lock(W.lock);
    if (!W.thread) {
        rv = apr_thread_create(&W.thread, NULL, watch_thread, NULL, W.pool);
        if (rv != APR_SUCCESS) {
            W.broken = 1;
            W.thread = NULL;
            apr_thread_mutex_unlock(W.lock);
            ap_log_rerror(APLOG_MARK, APLOG_ERR, rv, r, "RC0206: the stop watcher thread "
                          "could not start: each answer reads its stop flag itself");
            return NULL;
        }
        /* A pre-cleanup: it runs before the subpools the thread uses go. */
        apr_pool_pre_cleanup_register(W.pool, NULL, stop_thread);
    }
    w->next = W.head;
    if (W.head) {
        W.head->prev = w;
    }
    W.head = w;
    apr_thread_cond_signal(W.wake);
    apr_thread_mutex_unlock(W.lock);
    apr_pool_cleanup_register(r->pool, w, unlink_watch, apr_pool_cleanup_null);
    return w;
}

int rc_stream_watch_stopped(rc_stream_watch *w)
{
    int stop;

    apr_thread_mutex_lock(W.lock);
    stop = w->stop;
    apr_thread_mutex_unlock(W.lock);
    return stop;
}

void rc_stream_watch_remove(rc_stream_watch *w)
{
    if (w) {
        apr_pool_cleanup_run(w->pool, w, unlink_watch);
    }
}
