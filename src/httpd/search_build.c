/* The search index of the rows written before it (a database upgraded to
 * schema version 4 or 5 with threads in it), built in the background, on the
 * main server's database (DBDriver/DBDParams outside any virtual host).
 *
 * Every child process starts one thread. It asks the database whether rows
 * are left to index (ragchat_search_backfill); when none are (the usual
 * case) it ends at once. Otherwise one child of one node at a time claims the
 * build (ragchat_search_builder: an owner "host/pid" and a heartbeat) and
 * indexes RC_BACKFILL_BATCH rows per short transaction, pausing half as long
 * as each took so requests and writers get in; the others look again every RC_BUILD_RETRY and take the
 * build over when its owner's heartbeat is older than RC_BUILD_STALE (a
 * crashed or stopped child). Requests meanwhile run as usual: searches find
 * the new rows and the old ones indexed so far (the oldest first). The
 * builder that indexes the last batch logs it, with the build's duration. */
#include "search_build.h"
#include "helper_thread.h"
#include "db.h"
#include "store.h"

#include "http_log.h"
#include "apr_strings.h"
#include "apr_thread_cond.h"
#include "apr_thread_mutex.h"
#include "apr_thread_proc.h"

#include <unistd.h>

APLOG_USE_MODULE(ragchat);

#define RC_BUILD_PAUSE  apr_time_from_msec(5)     /* between two batches, at least */
#define RC_BUILD_RETRY  apr_time_from_sec(5)      /* while another builds, after an error */
#define RC_BUILD_STALE  apr_time_from_sec(30)     /* a heartbeat this old: the owner is gone */
/* Before the first look: a fresh server's schema is made by its first
 * requests, not by every child's builder at the same moment as they. */
#define RC_BUILD_FIRST  apr_time_from_sec(5)

static struct {
    rc_helper h;                 /* the thread, its pool, lock and wake */
    server_rec *s;
    const char *owner;
    int failures;                /* connections refused in a row */
} B;

/* Waits for d, or less when the child ends: 1 then. */
static int wait_or_quit(apr_interval_time_t d)
{
    apr_time_t until = apr_time_now() + d, now;
    int quit;

    apr_thread_mutex_lock(B.h.lock);
    while (!B.h.quit && (now = apr_time_now()) < until) {
        apr_thread_cond_timedwait(B.h.wake, B.h.lock, until - now);
    }
    quit = B.h.quit;
    apr_thread_mutex_unlock(B.h.lock);
    return quit;
}

/* One step (store.h's rc_store_search_build): what to wait before the next,
 * or -1 when the thread is done. */
static apr_interval_time_t step(apr_pool_t *p, int *began)
{
    apr_time_t started = 0, t0 = apr_time_now();
    apr_interval_time_t took;
    rc_db *db = rc_db_open_server(B.s, p);
    int rv;

    if (!db) {
        /* Logged (RC0102); a database that stays away (none configured for
         * the main server, say) is asked less and less often: 5 s … 10 min. */
        return RC_BUILD_RETRY << (B.failures < 7 ? B.failures++ : 7);
    }
    B.failures = 0;
    rv = rc_store_search_build(db, B.owner, t0, RC_BUILD_STALE, &started);
    rc_db_release(db);
    took = apr_time_now() - t0;
    if ((rv == 1 || rv == 2) && !*began) {
        *began = 1;
        ap_log_error(APLOG_MARK, APLOG_NOTICE, 0, B.s, "RC0108: search index: %s indexes the"
                     " threads and messages written before it, in the background", B.owner);
    }
    if (rv == 2) {
        ap_log_error(APLOG_MARK, APLOG_NOTICE, 0, B.s, "RC0107: search index: the threads"
                     " and messages written before it are all indexed now (index complete"
                     " in %.2f s)", (double)(apr_time_now() - started) / APR_USEC_PER_SEC);
    }
    /* SQLite: apr's driver runs one statement at a time in a process, so
     * this child's requests wait for a batch; they get half the time. */
    return rv == 0 || rv == 2 ? -1
         : rv == 1 ? (took / 2 > RC_BUILD_PAUSE ? took / 2 : RC_BUILD_PAUSE)
         : RC_BUILD_RETRY;
}

static void *APR_THREAD_FUNC build_thread(apr_thread_t *t, void *data)
{
    apr_pool_t *p = NULL;
    apr_interval_time_t wait = RC_BUILD_FIRST;
    int began = 0;

    (void)t;
    (void)data;
    if (apr_pool_create(&p, B.h.pool) != APR_SUCCESS) {
        return NULL;
    }
    while (wait >= 0 && !wait_or_quit(wait)) {
        wait = step(p, &began);
        apr_pool_clear(p);
    }
    /* A plain return (see helper_thread.h); p goes with B.h.pool. */
    return NULL;
}

void rc_search_build_child_init(apr_pool_t *pchild, server_rec *s)
{
    char host[256];
    apr_status_t rv;

    memset(&B, 0, sizeof(B));
    if (rc_helper_init(&B.h, pchild)) {
        return;
    }
    if (gethostname(host, sizeof(host)) != 0) {
        strcpy(host, "?");
    }
    host[sizeof(host) - 1] = '\0';
    B.s = s;
    B.owner = apr_psprintf(B.h.pool, "%s/%ld", host, (long)getpid());
    rv = rc_helper_start(&B.h, build_thread, NULL);
    if (rv != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_ERR, rv, s, "RC0109: the search index builder thread"
                     " could not start: rows written before the search are not indexed");
        return;
    }
}
