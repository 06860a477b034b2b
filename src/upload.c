/* Upload (placeholder until the upload issue lands). */
#include "upload.h"
#include "http_protocol.h"

int rc_handle_upload(rc_req *q)
{
    return rc_send_error(q->r, HTTP_NOT_IMPLEMENTED, "not_implemented", "uploads are not available yet");
}
