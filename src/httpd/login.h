/* RagChatAuth form: the login page (GET/POST B/login) and logout
 * (POST B/logout). */
#ifndef RC_LOGIN_H
#define RC_LOGIN_H

#include "http.h"

int rc_handle_login(rc_req *q);     /* GET, POST B/login */
int rc_handle_logout(rc_req *q);    /* POST B/logout */

#endif
