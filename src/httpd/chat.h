/* POST B/api/chat (streamed answers) and POST B/api/chat/{step}/stop. */
#ifndef RC_CHAT_H
#define RC_CHAT_H

#include "http.h"

int rc_handle_chat(rc_req *q);
int rc_handle_chat_stop(rc_req *q, const char *step_id);

#endif
