/* Files of RagChatHtdocs: the app page, its assets, and templated pages. */
#ifndef RC_STATIC_H
#define RC_STATIC_H

#include "http.h"

/* GET/HEAD B/static/<path>: only files inside htdocs, with types and caching. */
int rc_handle_static(rc_req *q, const char *path);
/* GET B/: index.html with the app's security headers. */
int rc_handle_index(rc_req *q);
/* Sends htdocs/<file> as text/html after replacing each {{KEY}} of vars
 * (key, value pairs, NULL-terminated) by the HTML-escaped value. */
int rc_send_template(rc_req *q, int status, const char *file, const char *const *vars);

#endif
