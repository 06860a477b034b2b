/* RagChatSecret and the HMACs made with it. */
#include "secret.h"
#include "crypto.h"
#include "encode.h"

#include "http_log.h"
#include "apr_strings.h"

APLOG_USE_MODULE(ragchat);

/* A missing secret is found at request time (a section may inherit it), and
 * logged once per process. */
static volatile int warned_secret;

int rc_secret_ok(rc_req *q)
{
    if (q->conf->secret) {
        return 1;
    }
    if (!warned_secret) {
        warned_secret = 1;
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, q->r,
                      "RC0310: RagChatAuth form needs RagChatSecret (at least 32 bytes) "
                      "for %s: every request answers 500", *q->base ? q->base : "/");
    }
    return 0;
}

const char *rc_secret_mac(rc_req *q, const char *purpose, const char *value)
{
    unsigned char mac[32];
    const char *msg = apr_pstrcat(q->r->pool, "ragchat-", purpose, "\n", q->base, "\n",
                                  value, NULL);

    rc_hmac_sha256(q->conf->secret, strlen(q->conf->secret), msg, strlen(msg), mac);
    return rc_b64url(q->r->pool, mac, sizeof(mac));
}
