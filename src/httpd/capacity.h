/* How many answers the server can stream at once, against what the site
 * says it needs (RagChatStreams): a warning at startup when the MPM or the
 * open-file limit cannot hold them. */
#ifndef RC_CAPACITY_H
#define RC_CAPACITY_H

#include "httpd.h"
#include "http_config.h"

/* RagChatStreams N: the concurrent answers the server should hold. */
const char *rc_capacity_set_streams(cmd_parms *cmd, void *cfg, const char *arg);
/* pre_config: forgets the previous configuration's RagChatStreams. */
void rc_capacity_pre_config(void);
/* post_config: logs RC0009 when MaxRequestWorkers (every streaming answer
 * holds a worker thread for its whole length) is below RagChatStreams, and
 * RC0010 when a child's open-file limit is below what its threads' streams
 * need (two sockets each: the browser's and the backend's). */
void rc_capacity_check(server_rec *s);

#endif
