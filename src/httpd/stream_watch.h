/* Stop requests for the running answers of this node, read by one thread per
 * child process, one query per node every 250 ms (stream_watch.c). */
#ifndef RC_STREAM_WATCH_H
#define RC_STREAM_WATCH_H

#include "httpd.h"

typedef struct rc_stream_watch rc_stream_watch;

/* In the parent, before the children: the memory they share. */
void rc_stream_watch_post_config(apr_pool_t *pconf, server_rec *s);
/* Per child process, after mod_dbd's child_init. */
void rc_stream_watch_child_init(apr_pool_t *pchild);

/* Watches the running answer step_id of r (its ragchat_streams row) until
 * rc_stream_watch_remove or the end of r. NULL when the watcher cannot run
 * (logged): the caller then reads the flag itself. */
rc_stream_watch *rc_stream_watch_add(request_rec *r, const char *step_id);
/* 1 once a stop was requested for the answer (on any node), else 0. */
int rc_stream_watch_stopped(rc_stream_watch *w);
void rc_stream_watch_remove(rc_stream_watch *w);

#endif
