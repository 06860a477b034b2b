/* JSON routes: B/api/me, B/api/threads…, B/api/steps/{id}/feedback. */
#ifndef RC_API_H
#define RC_API_H

#include "http.h"
#include "store.h"

int rc_handle_me(rc_req *q);
int rc_handle_threads(rc_req *q);                       /* B/api/threads */
int rc_handle_thread(rc_req *q, const char *id);        /* B/api/threads/{id} */
int rc_handle_feedback(rc_req *q, const char *step_id); /* B/api/steps/{id}/feedback */
/* POST B/api/steps/{id}/show: that version is shown (and continued from);
 * answers the thread as GET B/api/threads/{id} does. */
int rc_handle_step_show(rc_req *q, const char *step_id);

/* The thread of this user (or NULL after sending 404/503). */
rc_thread *rc_api_owned_thread(rc_req *q, rc_db *db, const char *id);
/* The step of this user (or NULL after sending 404/503). */
rc_step *rc_api_owned_step(rc_req *q, rc_db *db, const char *id);
/* The request's database connection and user row, or NULL after sending 503. */
rc_db *rc_api_db(rc_req *q);

#endif
