/* Stop requests for the running answers of this child process, read by one
 * thread for all of them (stream_watch.c). */
#ifndef RC_STREAM_WATCH_H
#define RC_STREAM_WATCH_H

#include "httpd.h"

typedef struct rc_stream_watch rc_stream_watch;

/* Per child process, after mod_dbd's child_init. */
void rc_stream_watch_child_init(apr_pool_t *pchild);

/* Watches the running answer step_id of r (its ragchat_streams row, written
 * at or after `since`) until rc_stream_watch_remove or the end of r. NULL
 * when the watcher cannot run (logged): the caller then reads the flag itself. */
rc_stream_watch *rc_stream_watch_add(request_rec *r, const char *step_id, apr_time_t since);
/* 1 once a stop was requested for the answer (on any node), else 0. */
int rc_stream_watch_stopped(rc_stream_watch *w);
void rc_stream_watch_remove(rc_stream_watch *w);

#endif
