/* Stop requests for the running answers of this node.
 *
 * POST B/api/chat/STEP/stop sets the stop flag of the answer's ragchat_streams
 * row, on whichever node or child gets it. The answers don't each read their
 * row. In every child process where answers stream, one thread looks every
 * RC_WATCH_TICK at a round kept in shared memory: the ids of the answers asked
 * to stop (the newest RC_STORE_STOPPING_MAX of the database), and when it was
 * read. When the round is older than RC_WATCH_EVERY, the first child to
 * notice claims the next one (a compare-and-swap on its time), runs the one
 * query and publishes the ids; the others read them. So a node asks the
 * database about RC_WATCH_EVERY⁻¹ times a second however many answers stream
 * in however many children, none when none does, and a stop is seen within
 * about RC_WATCH_EVERY + RC_WATCH_TICK.
 *
 * Answers of a server (virtual host) other than the one the last round was
 * read for, or with no shared memory, are read by their own child every
 * RC_WATCH_EVERY.
 *
 * The watch of an answer lives in its request's pool and leaves the list by
 * that pool's cleanup, so the thread never sees a finished request's memory. */
#include "stream_watch.h"
#include "helper_thread.h"
#include "db.h"
#include "store.h"

#include "http_log.h"
#include "apr_atomic.h"
#include "apr_shm.h"
#include "apr_strings.h"
#include "apr_thread_cond.h"
#include "apr_thread_mutex.h"
#include "apr_thread_proc.h"

#include <time.h>

APLOG_USE_MODULE(ragchat);

#define RC_WATCH_EVERY  250000            /* µs between two queries of the node */
#define RC_WATCH_TICK   apr_time_from_msec(50)
#define RC_WATCH_OWN    (RC_WATCH_EVERY / 50000)   /* ticks between own queries */
/* Databases (servers with their own DBD settings) read per round. */
#define RC_WATCH_SERVERS 8
#define RC_WATCH_IDS    64                /* ids a shared round holds */
#define RC_WATCH_ID     48                /* bytes of one (our ids: uuids, 36) */

struct rc_stream_watch {
    rc_stream_watch *prev, *next;
    apr_pool_t *pool;            /* the request's */
    server_rec *s;
    const char *step_id;
    int stop;
};

static struct {
    rc_helper h;                 /* the thread, its pool, lock and wake */
    apr_pool_t *round;           /* one round's (cleared) */
    rc_stream_watch *head;
    int broken;
} W;

/* The node's round, in memory shared by the children (made before the fork). */
typedef struct {
    volatile apr_uint64_t claimed;   /* CLOCK_MONOTONIC µs of the last round claimed */
    volatile apr_uint32_t seq;       /* odd while a round is being written */
    apr_uint32_t n;
    apr_uint64_t server;             /* the server_rec it was read for (the same in
                                      * every child) */
    char ids[RC_WATCH_IDS][RC_WATCH_ID];
} watch_shared;

static watch_shared *shared;

static apr_uint64_t mono_us(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (apr_uint64_t)ts.tv_sec * 1000000u + (apr_uint64_t)ts.tv_nsec / 1000u;
}

void rc_stream_watch_post_config(apr_pool_t *pconf, server_rec *s)
{
    apr_shm_t *shm;
    apr_status_t rv = apr_shm_create(&shm, sizeof(watch_shared), NULL, pconf);

    if (rv != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_NOTICE, rv, s, "RC0207: no shared memory for the "
                     "stop watcher: each child process reads its answers' stop flags itself");
        shared = NULL;
        return;
    }
    shared = apr_shm_baseaddr_get(shm);
    memset(shared, 0, sizeof(*shared));
}

void rc_stream_watch_child_init(apr_pool_t *pchild)
{
    memset(&W, 0, sizeof(W));
    if (rc_helper_init(&W.h, pchild) || apr_pool_create(&W.round, W.h.pool) != APR_SUCCESS) {
        W.broken = 1;
    }
}

/* ---- the rounds ------------------------------------------------------------ */

/* The ids asked to stop in s's database, or NULL. */
static apr_array_header_t *query_round(server_rec *s)
{
    apr_array_header_t *ids;
    rc_db *db = rc_db_open_server(s, W.round);

    if (!db) {
        return NULL;
    }
    ids = rc_store_streams_stopping(db);
    rc_db_release(db);
    return ids;
}

/* Publishes a round, unless another child is writing one (then that one
 * stands). */
static void publish(server_rec *s, const apr_array_header_t *ids)
{
    apr_uint32_t seq = apr_atomic_read32(&shared->seq);
    int i, n = 0;

    if ((seq & 1) || apr_atomic_cas32(&shared->seq, seq + 1, seq) != seq) {
        return;
    }
    for (i = 0; i < ids->nelts && n < RC_WATCH_IDS; i++) {
        const char *id = APR_ARRAY_IDX(ids, i, const char *);
        if (strlen(id) < RC_WATCH_ID) {
            strcpy(shared->ids[n++], id);
        }
    }
    shared->n = (apr_uint32_t)n;
    shared->server = (apr_uint64_t)(apr_uintptr_t)s;
    apr_atomic_set32(&shared->seq, seq + 2);
}

/* The last published round, if it was read for s: its ids in W.round. */
static apr_array_header_t *read_published(server_rec *s)
{
    int tries;

    for (tries = 0; tries < 8; tries++) {
        apr_uint32_t before = apr_atomic_read32(&shared->seq), after, i, n;
        apr_array_header_t *ids;
        apr_uint64_t server;
        if (before & 1) {
            apr_sleep(50);
            continue;
        }
        __sync_synchronize();
        server = shared->server;
        n = shared->n > RC_WATCH_IDS ? RC_WATCH_IDS : shared->n;
        ids = apr_array_make(W.round, (int)n + 1, sizeof(const char *));
        for (i = 0; i < n; i++) {
            APR_ARRAY_PUSH(ids, const char *) = apr_pstrndup(W.round, shared->ids[i],
                                                             RC_WATCH_ID - 1);
        }
        __sync_synchronize();
        after = apr_atomic_read32(&shared->seq);
        if (after == before) {
            return server == (apr_uint64_t)(apr_uintptr_t)s ? ids : NULL;
        }
    }
    return NULL;
}

/* The node's round for s: claimed and read here when it is due, else the
 * one another child published. NULL when the published round is of another
 * server (or there is no shared memory): then own is 1 and the caller reads. */
static apr_array_header_t *node_round(server_rec *s, int *own)
{
    apr_uint64_t now, last;
    apr_array_header_t *ids;

    *own = !shared;
    if (!shared) {
        return NULL;
    }
    now = mono_us();
    last = apr_atomic_read64(&shared->claimed);
    if (now - last >= RC_WATCH_EVERY && apr_atomic_cas64(&shared->claimed, now, last) == last) {
        if ((ids = query_round(s)) != NULL) {
            publish(s, ids);
        }
        return ids;
    }
    ids = read_published(s);
    *own = ids == NULL;
    return ids;
}

/* Raises the flags of s's watched answers among ids. */
static void mark(server_rec *s, const apr_array_header_t *ids)
{
    apr_hash_t *stopping;
    rc_stream_watch *w;
    int i;

    if (!ids || ids->nelts == 0) {
        return;
    }
    stopping = apr_hash_make(W.round);
    for (i = 0; i < ids->nelts; i++) {
        apr_hash_set(stopping, APR_ARRAY_IDX(ids, i, const char *), APR_HASH_KEY_STRING, "");
    }
    apr_thread_mutex_lock(W.h.lock);
    for (w = W.head; w; w = w->next) {
        if (w->s == s && apr_hash_get(stopping, w->step_id, APR_HASH_KEY_STRING)) {
            w->stop = 1;
        }
    }
    apr_thread_mutex_unlock(W.h.lock);
}

/* The distinct servers of the watched answers (W.h.lock held). */
static int watched_servers(server_rec **servers)
{
    rc_stream_watch *w;
    int n = 0, i;

    for (w = W.head; w; w = w->next) {
        for (i = 0; i < n && servers[i] != w->s; i++) {
        }
        if (i == n && n < RC_WATCH_SERVERS) {
            servers[n++] = w->s;
        }
    }
    return n;
}

static void *APR_THREAD_FUNC watch_thread(apr_thread_t *t, void *data)
{
    apr_time_t next = apr_time_now() + RC_WATCH_TICK;
    unsigned ticks = 0;

    (void)t;
    (void)data;
    apr_thread_mutex_lock(W.h.lock);
    for (;;) {
        server_rec *servers[RC_WATCH_SERVERS];
        apr_time_t now;
        int n, i;

        /* Idle until an answer starts; its first look comes a tick later. */
        while (!W.h.quit && !W.head) {
            apr_thread_cond_wait(W.h.wake, W.h.lock);
            next = apr_time_now() + RC_WATCH_TICK;
        }
        while (!W.h.quit && W.head && (now = apr_time_now()) < next) {
            apr_thread_cond_timedwait(W.h.wake, W.h.lock, next - now);
        }
        if (W.h.quit) {
            break;
        }
        if (!W.head) {
            continue;
        }
        n = watched_servers(servers);
        next = apr_time_now() + RC_WATCH_TICK;
        ticks++;
        apr_thread_mutex_unlock(W.h.lock);
        for (i = 0; i < n; i++) {
            int own;
            apr_array_header_t *ids = node_round(servers[i], &own);
            if (own && ticks % RC_WATCH_OWN == 0) {
                ids = query_round(servers[i]);
            }
            mark(servers[i], ids);
        }
        apr_pool_clear(W.round);
        apr_thread_mutex_lock(W.h.lock);
    }
    apr_thread_mutex_unlock(W.h.lock);
    return NULL;       /* not apr_thread_exit: see helper_thread.h */
}

/* ---- the thread and the watches ------------------------------------------- */

static apr_status_t unlink_watch(void *data)
{
    rc_stream_watch *w = data;

    apr_thread_mutex_lock(W.h.lock);
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
    apr_thread_mutex_unlock(W.h.lock);
    return APR_SUCCESS;
}

rc_stream_watch *rc_stream_watch_add(request_rec *r, const char *step_id)
{
    rc_stream_watch *w;
    apr_status_t rv;

    if (W.broken || !W.h.lock) {
        return NULL;
    }
    w = apr_pcalloc(r->pool, sizeof(*w));
    w->pool = r->pool;
    w->s = r->server;
    w->step_id = apr_pstrdup(r->pool, step_id);
    apr_thread_mutex_lock(W.h.lock);
    if (!W.h.thread) {
        rv = rc_helper_start(&W.h, watch_thread, NULL);
        if (rv != APR_SUCCESS) {
            W.broken = 1;
            apr_thread_mutex_unlock(W.h.lock);
            ap_log_rerror(APLOG_MARK, APLOG_ERR, rv, r, "RC0206: the stop watcher thread "
                          "could not start: each answer reads its stop flag itself");
            return NULL;
        }
    }
    w->next = W.head;
    if (W.head) {
        W.head->prev = w;
    }
    W.head = w;
    apr_thread_cond_signal(W.h.wake);
    apr_thread_mutex_unlock(W.h.lock);
    apr_pool_cleanup_register(r->pool, w, unlink_watch, apr_pool_cleanup_null);
    return w;
}

int rc_stream_watch_stopped(rc_stream_watch *w)
{
    int stop;

    apr_thread_mutex_lock(W.h.lock);
    stop = w->stop;
    apr_thread_mutex_unlock(W.h.lock);
    return stop;
}

void rc_stream_watch_remove(rc_stream_watch *w)
{
    if (w) {
        apr_pool_cleanup_run(w->pool, w, unlink_watch);
    }
}
