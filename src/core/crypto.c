/* SHA-256, HMAC-SHA256 and constant-time comparison from OpenSSL's libcrypto
 * (already in the process through libcurl): no hand-written cryptography. */
#include "crypto.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <string.h>

int rc_ct_streq(const char *a, const char *b)
{
    size_t n = strlen(a);

    if (n != strlen(b)) {
        return 0;
    }
    return CRYPTO_memcmp(a, b, n) == 0;
}

void rc_sha256(const void *data, size_t len, unsigned char out[32])
{
    unsigned int n = 32;

    /* Only fails on allocation failure: then the digest is zeros, which no
     * stored value or MAC equals. */
    if (!EVP_Digest(data, len, out, &n, EVP_sha256(), NULL)) {
        memset(out, 0, 32);
    }
}

void rc_hmac_sha256(const void *key, size_t keylen, const void *msg, size_t msglen,
                    unsigned char out[32])
{
    unsigned int n = 32;

    if (!HMAC(EVP_sha256(), key, (int)keylen, msg, msglen, out, &n)) {
        memset(out, 0, 32);
    }
}
