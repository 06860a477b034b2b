/* The app's cookies (see cookie.h); parsing is login_rules.c's. */
#include "cookie.h"
#include "login_rules.h"

#include "http_protocol.h"
#include "apr_strings.h"

typedef struct {
    apr_pool_t *p;
    const char *name;
    apr_array_header_t *out;
} cookie_ctx;

static int collect_cookie(void *data, const char *key, const char *val)
{
    cookie_ctx *c = data;

    (void)key;
    rc_cookie_parse(c->p, val, c->name, c->out);
    return 1;
}

apr_array_header_t *rc_cookie_values(request_rec *r, const char *name)
{
    cookie_ctx c;

    c.p = r->pool;
    c.name = name;
    c.out = apr_array_make(r->pool, 2, sizeof(const char *));
    apr_table_do(collect_cookie, &c, r->headers_in, "Cookie", NULL);
    return c.out;
}

const char *rc_cookie_path(rc_req *q, const char *sub)
{
    return apr_pstrcat(q->r->pool, q->base, sub ? sub : "", (*q->base || sub) ? "" : "/",
                       NULL);
}

void rc_cookie_set(rc_req *q, const char *name, const char *value, const char *path,
                   long max_age)
{
    request_rec *r = q->r;
    int mode = rc_conf_cookie_secure(q->conf);
    int secure = mode == RC_SECURE_ON
                 || (mode == RC_SECURE_AUTO && strcasecmp(ap_http_scheme(r), "https") == 0);

    apr_table_addn(r->err_headers_out, "Set-Cookie",
                   apr_psprintf(r->pool, "%s=%s; Path=%s%s; HttpOnly; SameSite=Lax%s",
                                name, value, path,
                                max_age >= 0 ? apr_psprintf(r->pool, "; Max-Age=%ld", max_age)
                                             : "",
                                secure ? "; Secure" : ""));
}
