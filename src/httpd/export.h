/* Exports: B/api/steps/{id}/export.pdf|.md and B/api/threads/{id}/export.pdf|.md. */
#ifndef RC_EXPORT_H
#define RC_EXPORT_H

#include "http.h"

/* The child's font cache (fonts loaded once per child, shared by its threads'
 * PDF exports), made in the child's pool. */
void rc_export_child_init(apr_pool_t *pchild, server_rec *s);

/* kind is "steps" or "threads"; format is "pdf" or "md". */
int rc_handle_export(rc_req *q, const char *kind, const char *id, const char *format);

#endif
