/* Group commit: the write transactions of concurrent requests of one child
 * process, run together in one transaction by the child's writer thread. */
#ifndef RC_WRITER_H
#define RC_WRITER_H

#include "db.h"

/* A request's writes, run inside the writer's transaction on db (its pool is
 * the batch's: what must outlive the call is copied to the request's pool).
 * Returns 0, or non-zero to have the request's writes rolled back. A job
 * may run more than once (after a rollback of a batch it was in): its
 * writes and results must depend only on its inputs (what it found in a
 * rolled-back transaction is gone). */
typedef int (*rc_write_fn)(rc_db *db, void *baton);

/* Per child process: the queue, its lock and the writer's pool. */
void rc_writer_child_init(apr_pool_t *pchild);

/* Runs fn(db, baton) in a transaction on r's database, committed together
 * with the other requests' that are waiting at that moment; returns when it
 * has committed (0) or failed (non-zero, logged). Without a writer thread
 * (it could not start) the transaction runs on a connection of the request. */
int rc_writer_run(request_rec *r, const char *order, rc_write_fn fn, void *baton);

/* The same write, queued for the writer while the request goes on (a chat's
 * question is committed while its answer already streams). baton must live
 * in r's pool, and fn must not allocate from r's pool: it runs on the
 * writer's thread. Whatever happens, the write has ended before r's pool
 * goes (a cleanup waits for it). Without a writer thread it runs at once. */
typedef struct rc_write_ticket rc_write_ticket;
rc_write_ticket *rc_writer_submit(request_rec *r, const char *order, rc_write_fn fn,
                                  void *baton);
/* -1 while the write is under way; then 0 (committed) or 1 (failed). */
int rc_writer_result(rc_write_ticket *t);
/* Waits for the write's end: 0 (committed) or 1 (failed). */
int rc_writer_wait(rc_write_ticket *t);

#endif
