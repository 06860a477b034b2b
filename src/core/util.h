/* The core's small helpers in one include, for the glue in src/httpd.  The
 * core itself includes the header of what it uses. */
#ifndef RC_UTIL_H
#define RC_UTIL_H

#include "buf.h"      /* rc_buf */
#include "crypto.h"   /* rc_sha256, rc_hmac_sha256, rc_ct_streq */
#include "encode.h"   /* rc_hex_*, rc_b64url */
#include "ids.h"      /* rc_uuid4, rc_is_uuid, rc_timestamp, rc_random_hex */
#include "utf8.h"     /* rc_utf8_* */

#endif
