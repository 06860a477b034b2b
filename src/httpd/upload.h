/* POST B/api/upload: documents streamed to the backend as they arrive. */
#ifndef RC_UPLOAD_H
#define RC_UPLOAD_H

#include "http.h"

int rc_handle_upload(rc_req *q);

#endif
