/* Exports (placeholder until the export issue lands). */
#include "export.h"
#include "http_protocol.h"

int rc_handle_export(rc_req *q, const char *kind, const char *id, const char *format)
{
    (void)kind; (void)id; (void)format;
    return rc_send_error(q->r, HTTP_NOT_IMPLEMENTED, "not_implemented", "exports are not available yet");
}
