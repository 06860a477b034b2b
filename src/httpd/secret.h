/* RagChatSecret: whether it is set, and the HMACs made with it (session
 * cookies, the login form's token, throttling keys). */
#ifndef RC_SECRET_H
#define RC_SECRET_H

#include "http.h"

/* 1 when the app has RagChatSecret; else 0 after logging the mistake once
 * per process (the caller answers 500). */
int rc_secret_ok(rc_req *q);
/* base64url HMAC-SHA256 with RagChatSecret of purpose, base path and value:
 * a MAC made for one purpose or app is worth nothing for another. */
const char *rc_secret_mac(rc_req *q, const char *purpose, const char *value);

#endif
