/* Exports: B/api/steps/{id}/export.pdf|.md and B/api/threads/{id}/export.pdf|.md. */
#ifndef RC_EXPORT_H
#define RC_EXPORT_H

#include "http.h"

/* kind is "steps" or "threads"; format is "pdf" or "md". */
int rc_handle_export(rc_req *q, const char *kind, const char *id, const char *format);

#endif
