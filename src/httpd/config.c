/* Per-directory configuration: the RagChat* directives and their merging.
 * Every handler returns an error string or NULL, so a bad httpd.conf fails
 * `apachectl configtest` with a message naming the directive. */
#include "config.h"
#include "capacity.h"
#include "pdf_text.h"

#include "http_log.h"
#include "apr_file_io.h"
#include "apr_lib.h"
#include "apr_strings.h"
#include "apr_uri.h"

#include <stdlib.h>


void *rc_create_dir_conf(apr_pool_t *p, char *dir)
{
    rc_dir_conf *c = apr_pcalloc(p, sizeof(*c));

    c->base = dir ? apr_pstrdup(p, dir) : NULL;
    c->connect_timeout = c->idle_timeout = RC_UNSET;
    c->session_timeout = c->session_max_age = RC_UNSET;
    c->login_limit = c->login_window = c->login_rows = RC_UNSET;
    c->cookie_secure = c->csrf_lifetime = RC_UNSET;
    c->session_recheck = RC_UNSET;
    c->max_request = RC_UNSET;
    c->upload_max_size = RC_UNSET;
    c->upload_max_files = RC_UNSET;
    c->history_max = c->history_chars = RC_UNSET;
    return c;
}

#define MERGE_PTR(f)  (n->f = add->f ? add->f : base->f)
#define MERGE_INT(f)  (n->f = add->f != RC_UNSET ? add->f : base->f)

void *rc_merge_dir_conf(apr_pool_t *p, void *basev, void *addv)
{
    rc_dir_conf *base = basev, *add = addv;
    rc_dir_conf *n = apr_pcalloc(p, sizeof(*n));
    int i;

    /* The app is mounted where its backend is set: a nested section that
     * changes other directives (a title for <Location /chat/api>, a Header
     * for /chat/static) keeps the app's base path. */
    n->base = add->base;
    n->mount = add->backend ? add->mount : base->mount;

    MERGE_PTR(backend);
    MERGE_PTR(backend_key);
    MERGE_PTR(model);
    MERGE_INT(connect_timeout);
    MERGE_INT(idle_timeout);
    n->auth = add->auth != RC_AUTH_UNSET ? add->auth : base->auth;
    MERGE_PTR(providers);
    MERGE_PTR(secret);
    MERGE_INT(session_timeout);
    MERGE_INT(session_max_age);
    MERGE_INT(login_limit);
    MERGE_INT(login_window);
    MERGE_INT(login_rows);
    MERGE_INT(cookie_secure);
    MERGE_INT(csrf_lifetime);
    MERGE_INT(session_recheck);
    MERGE_PTR(htdocs);
    MERGE_PTR(title);
    MERGE_PTR(welcome);
    MERGE_PTR(assistant_name);
    MERGE_PTR(logout_url);
    MERGE_PTR(app_name);
    MERGE_INT(max_request);
    MERGE_INT(upload_max_size);
    MERGE_INT(upload_max_files);
    MERGE_INT(history_max);
    MERGE_INT(history_chars);
    MERGE_PTR(upload_types);
    for (i = 0; i < 6; i++) {
        MERGE_PTR(pdf_font[i]);
    }
    MERGE_PTR(starters);
    MERGE_PTR(readme);
    return n;
}

/* "env:NAME" and "file:PATH" values are resolved when the config is read, so a
 * missing secret stops the server at startup instead of failing later. */
static const char *resolve_value(cmd_parms *cmd, const char *arg, const char **out)
{
    if (strncmp(arg, "env:", 4) == 0) {
        const char *v = getenv(arg + 4);
        if (!arg[4]) {
            return apr_psprintf(cmd->pool, "%s: env: needs a variable name",
                                cmd->cmd->name);
        }
        if (!v || !*v) {
            return apr_psprintf(cmd->pool, "%s: environment variable %s is not set",
                                cmd->cmd->name, arg + 4);
        }
        *out = apr_pstrdup(cmd->pool, v);
        return NULL;
    }
    if (strncmp(arg, "file:", 5) == 0) {
        const char *path = ap_server_root_relative(cmd->pool, arg + 5);
        apr_file_t *f;
        char buf[4096];
        apr_size_t n = sizeof(buf) - 1;

        if (!path || apr_file_open(&f, path, APR_FOPEN_READ, 0, cmd->pool) != APR_SUCCESS) {
            return apr_psprintf(cmd->pool, "%s: cannot read %s", cmd->cmd->name, arg + 5);
        }
        apr_file_read(f, buf, &n);
        apr_file_close(f);
        while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r' || buf[n - 1] == ' ')) {
            n--;
        }
        if (n == 0) {
            return apr_psprintf(cmd->pool, "%s: %s is empty", cmd->cmd->name, arg + 5);
        }
        *out = apr_pstrmemdup(cmd->pool, buf, n);
        return NULL;
    }
    *out = arg;
    return NULL;
}

static const char *parse_seconds(cmd_parms *cmd, const char *arg, int min, int *out)
{
    char *end;
    long v = strtol(arg, &end, 10);

    if (*end || end == arg || v < min || v > 365L * 24 * 3600) {
        return apr_psprintf(cmd->pool, "%s: '%s' is not a number of seconds (>= %d)",
                            cmd->cmd->name, arg, min);
    }
    *out = (int)v;
    return NULL;
}

static const char *parse_count(cmd_parms *cmd, const char *arg, int min, int *out)
{
    char *end;
    long v = strtol(arg, &end, 10);

    if (*end || end == arg || v < min || v > 100000000L) {
        return apr_psprintf(cmd->pool, "%s: '%s' is not a count (a whole number >= %d)",
                            cmd->cmd->name, arg, min);
    }
    *out = (int)v;
    return NULL;
}

/* Sizes take an optional K, M or G suffix (powers of 1024). */
static const char *parse_size(cmd_parms *cmd, const char *arg, apr_off_t *out)
{
    char *end;
    apr_int64_t v = apr_strtoi64(arg, &end, 10);
    apr_int64_t mult = 1;

    if (end != arg && *end) {
        switch (apr_toupper(*end)) {
        case 'K': mult = 1024; break;
        case 'M': mult = 1024 * 1024; break;
        case 'G': mult = 1024 * 1024 * 1024; break;
        default: mult = 0;
        }
        if (end[1] && !(apr_toupper(end[1]) == 'B' && !end[2])) {
            mult = 0;
        }
    }
    if (end == arg || v <= 0 || mult == 0 || v > APR_INT64_MAX / mult) {
        return apr_psprintf(cmd->pool, "%s: '%s' is not a size (bytes, or with K, M, G)",
                            cmd->cmd->name, arg);
    }
    *out = v * mult;
    return NULL;
}

static const char *set_backend(cmd_parms *cmd, void *cfg, const char *arg)
{
    rc_dir_conf *c = cfg;
    apr_uri_t uri;
    char *url;
    apr_size_t n;

    c->mount = c->base;
    if (strcasecmp(arg, "builtin") == 0) {
        c->backend = "builtin";
        return NULL;
    }
    if (apr_uri_parse(cmd->pool, arg, &uri) != APR_SUCCESS || !uri.scheme || !uri.hostname
        || (strcasecmp(uri.scheme, "http") && strcasecmp(uri.scheme, "https"))) {
        return apr_psprintf(cmd->pool, "RagChatBackend: '%s' is not an http(s) URL or "
                            "'builtin'", arg);
    }
    url = apr_pstrdup(cmd->pool, arg);
    n = strlen(url);
    while (n > 0 && url[n - 1] == '/') {
        url[--n] = '\0';
    }
    c->backend = url;
    return NULL;
}

static const char *set_backend_key(cmd_parms *cmd, void *cfg, const char *arg)
{
    return resolve_value(cmd, arg, &((rc_dir_conf *)cfg)->backend_key);
}

static const char *set_model(cmd_parms *cmd, void *cfg, const char *arg)
{
    (void)cmd;
    ((rc_dir_conf *)cfg)->model = arg;
    return NULL;
}

static const char *set_timeout(cmd_parms *cmd, void *cfg, const char *conn, const char *idle)
{
    rc_dir_conf *c = cfg;
    const char *err = parse_seconds(cmd, conn, 1, &c->connect_timeout);

    if (!err) {
        err = parse_seconds(cmd, idle ? idle : conn, 1, &c->idle_timeout);
    }
    return err;
}

static const char *set_auth(cmd_parms *cmd, void *cfg, const char *arg)
{
    rc_dir_conf *c = cfg;

    if (strcasecmp(arg, "apache") == 0) {
        c->auth = RC_AUTH_APACHE;
    }
    else if (strcasecmp(arg, "form") == 0) {
        c->auth = RC_AUTH_FORM;
    }
    else {
        return apr_psprintf(cmd->pool, "RagChatAuth: '%s' is neither 'apache' nor 'form'", arg);
    }
    return NULL;
}

static const char *add_provider(cmd_parms *cmd, void *cfg, const char *arg)
{
    rc_dir_conf *c = cfg;

    if (!c->providers) {
        c->providers = apr_array_make(cmd->pool, 2, sizeof(const char *));
    }
    APR_ARRAY_PUSH(c->providers, const char *) = arg;
    return NULL;
}

static const char *set_secret(cmd_parms *cmd, void *cfg, const char *arg)
{
    rc_dir_conf *c = cfg;
    const char *err = resolve_value(cmd, arg, &c->secret);

    if (!err && strlen(c->secret) < 32) {
        return "RagChatSecret: the secret must be at least 32 bytes long";
    }
    return err;
}

static const char *set_session_timeout(cmd_parms *cmd, void *cfg, const char *arg)
{
    return parse_seconds(cmd, arg, 60, &((rc_dir_conf *)cfg)->session_timeout);
}

static const char *set_session_max_age(cmd_parms *cmd, void *cfg, const char *arg)
{
    return parse_seconds(cmd, arg, 60, &((rc_dir_conf *)cfg)->session_max_age);
}

static const char *set_session_recheck(cmd_parms *cmd, void *cfg, const char *arg)
{
    return parse_seconds(cmd, arg, 0, &((rc_dir_conf *)cfg)->session_recheck);
}

static const char *set_login_limit(cmd_parms *cmd, void *cfg, const char *n,
                                   const char *window, const char *rows)
{
    rc_dir_conf *c = cfg;
    const char *err = parse_count(cmd, n, 1, &c->login_limit);

    if (!err && window) {
        err = parse_seconds(cmd, window, 1, &c->login_window);
    }
    if (!err && rows) {
        err = parse_count(cmd, rows, 10, &c->login_rows);
    }
    return err;
}

static const char *set_cookie_secure(cmd_parms *cmd, void *cfg, const char *arg)
{
    rc_dir_conf *c = cfg;

    if (strcasecmp(arg, "on") == 0) {
        c->cookie_secure = RC_SECURE_ON;
    }
    else if (strcasecmp(arg, "off") == 0) {
        c->cookie_secure = RC_SECURE_OFF;
    }
    else if (strcasecmp(arg, "auto") == 0) {
        c->cookie_secure = RC_SECURE_AUTO;
    }
    else {
        return apr_psprintf(cmd->pool, "RagChatCookieSecure: '%s' is not On, Off or Auto", arg);
    }
    return NULL;
}

static const char *set_csrf_lifetime(cmd_parms *cmd, void *cfg, const char *arg)
{
    return parse_seconds(cmd, arg, 1, &((rc_dir_conf *)cfg)->csrf_lifetime);
}

const char *rc_conf_htdocs_missing(apr_pool_t *p, const char *dir)
{
    static const char *const needed[] = { "index.html", "login.html", NULL };
    int i;

    for (i = 0; needed[i]; i++) {
        apr_finfo_t fi;
        const char *f = apr_pstrcat(p, dir, "/", needed[i], NULL);
        if (apr_stat(&fi, f, APR_FINFO_TYPE, p) != APR_SUCCESS || fi.filetype != APR_REG) {
            return needed[i];
        }
    }
    return NULL;
}

static const char *set_htdocs(cmd_parms *cmd, void *cfg, const char *arg)
{
    rc_dir_conf *c = cfg;
    const char *path = ap_server_root_relative(cmd->pool, arg), *err;
    apr_finfo_t fi;

    if (!path || apr_stat(&fi, path, APR_FINFO_TYPE, cmd->pool) != APR_SUCCESS
        || fi.filetype != APR_DIR) {
        return apr_psprintf(cmd->pool, "RagChatHtdocs: '%s' is not a directory", arg);
    }
    if ((err = rc_conf_htdocs_missing(cmd->pool, path)) != NULL) {
        return apr_psprintf(cmd->pool, "RagChatHtdocs: '%s' does not hold the app's files "
                            "(%s is missing)", arg, err);
    }
    c->htdocs = path;
    return NULL;
}

static const char *set_string(cmd_parms *cmd, void *cfg, const char *arg)
{
    rc_dir_conf *c = cfg;
    int off = (int)(apr_uintptr_t)cmd->info;

    if (!*arg) {
        return apr_psprintf(cmd->pool, "%s: the value may not be empty", cmd->cmd->name);
    }
    *(const char **)((char *)c + off) = arg;
    return NULL;
}

static const char *set_max_request(cmd_parms *cmd, void *cfg, const char *arg)
{
    return parse_size(cmd, arg, &((rc_dir_conf *)cfg)->max_request);
}

static const char *set_upload_max_size(cmd_parms *cmd, void *cfg, const char *arg)
{
    return parse_size(cmd, arg, &((rc_dir_conf *)cfg)->upload_max_size);
}

static const char *set_history_max(cmd_parms *cmd, void *cfg, const char *arg)
{
    return parse_count(cmd, arg, 1, &((rc_dir_conf *)cfg)->history_max);
}

/* Fewer than a short question's characters would send no history at all. */
static const char *set_history_chars(cmd_parms *cmd, void *cfg, const char *arg)
{
    return parse_count(cmd, arg, RC_MIN_HISTORY_CHARS, &((rc_dir_conf *)cfg)->history_chars);
}

static const char *set_upload_max_files(cmd_parms *cmd, void *cfg, const char *arg)
{
    return parse_count(cmd, arg, 1, &((rc_dir_conf *)cfg)->upload_max_files);
}

/* ".ext", or "type/subtype" or "type/ *" (any subtype) with a registered top-level type. */
static int valid_upload_type(const char *t)
{
    static const char *const tops[] = { "application", "audio", "font", "image", "message",
                                        "model", "multipart", "text", "video", NULL };
    const char *slash = strchr(t, '/'), *s;
    int i;

    if (*t == '.') {
        for (s = t + 1; *s; s++) {
            if (!apr_isalnum(*s) && !strchr("-_+.", *s)) {
                return 0;
            }
        }
        return t[1] != '\0';
    }
    if (!slash || !slash[1] || strchr(slash + 1, '/')) {
        return 0;
    }
    for (i = 0; tops[i]; i++) {
        if ((size_t)(slash - t) == strlen(tops[i]) && strncmp(t, tops[i], slash - t) == 0) {
            break;
        }
    }
    if (!tops[i]) {
        return 0;
    }
    if (strcmp(slash + 1, "*") == 0) {
        return 1;
    }
    for (s = slash + 1; *s; s++) {
        if (!apr_isalnum(*s) && !strchr("!#$&^_.+-", *s)) {
            return 0;
        }
    }
    return 1;
}

static const char *add_upload_type(cmd_parms *cmd, void *cfg, const char *arg)
{
    rc_dir_conf *c = cfg;
    const char *t;

    if (!c->upload_types) {
        c->upload_types = apr_array_make(cmd->pool, 8, sizeof(const char *));
    }
    if (*arg == '.') {
        t = apr_pstrdup(cmd->pool, arg);
    }
    else if (strchr(arg, '/')) {
        t = apr_pstrdup(cmd->pool, arg);
    }
    else {
        t = apr_pstrcat(cmd->pool, ".", arg, NULL);
    }
    ap_str_tolower((char *)t);
    if (!valid_upload_type(t)) {
        return apr_psprintf(cmd->pool, "RagChatUploadTypes: '%s' is neither an extension "
                            "(.pdf) nor a MIME type or pattern (text/plain, image/*)", arg);
    }
    APR_ARRAY_PUSH(c->upload_types, const char *) = t;
    return NULL;
}

static const char *set_pdf_font(cmd_parms *cmd, void *cfg, const char *arg)
{
    rc_dir_conf *c = cfg;
    int idx = (int)(apr_uintptr_t)cmd->info;
    const char *path = ap_server_root_relative(cmd->pool, arg);
    apr_finfo_t fi;

    if (!path || apr_stat(&fi, path, APR_FINFO_TYPE, cmd->pool) != APR_SUCCESS
        || fi.filetype != APR_REG) {
        return apr_psprintf(cmd->pool, "%s: font file '%s' not found", cmd->cmd->name, arg);
    }
    {
        rc_crange *cov;
        int ncov, ttc;
        if (!rc_ttf_coverage(cmd->temp_pool, path, &cov, &ncov, &ttc)) {
            return apr_psprintf(cmd->pool, "%s: '%s' is not a usable font (a TrueType .ttf or "
                                ".ttc with a Unicode character map is needed)",
                                cmd->cmd->name, arg);
        }
    }
    c->pdf_font[idx] = path;
    return NULL;
}

/* RagChatStarter "label" ["message"]: a suggested prompt, in the order given. */
static const char *add_starter(cmd_parms *cmd, void *cfg, const char *label, const char *msg)
{
    rc_dir_conf *c = cfg;
    rc_starter *st;

    if (!*label || (msg && !*msg)) {
        return "RagChatStarter: the label and the message may not be empty";
    }
    if (strlen(label) > 200 || (msg && strlen(msg) > 4000)) {
        return "RagChatStarter: at most 200 bytes of label and 4000 of message";
    }
    if (!c->starters) {
        c->starters = apr_array_make(cmd->pool, 4, sizeof(rc_starter));
    }
    if (c->starters->nelts >= RC_STARTERS_MAX) {
        return apr_psprintf(cmd->pool, "RagChatStarter: at most %d starters", RC_STARTERS_MAX);
    }
    st = apr_array_push(c->starters);
    st->label = label;
    st->message = msg ? msg : label;
    return NULL;
}

/* RagChatReadme file:PATH (or env:NAME, or the text itself): markdown shown
 * on the empty chat, read whole at startup. */
static const char *set_readme(cmd_parms *cmd, void *cfg, const char *arg)
{
    rc_dir_conf *c = cfg;
    const char *path;
    apr_file_t *f;
    apr_finfo_t fi;
    apr_size_t n;
    char *text;

    if (strncmp(arg, "file:", 5) != 0) {
        return resolve_value(cmd, arg, &c->readme);
    }
    path = ap_server_root_relative(cmd->pool, arg + 5);
    if (!path || apr_file_open(&f, path, APR_FOPEN_READ, 0, cmd->temp_pool) != APR_SUCCESS
        || apr_file_info_get(&fi, APR_FINFO_SIZE, f) != APR_SUCCESS) {
        return apr_psprintf(cmd->pool, "RagChatReadme: cannot read %s", arg + 5);
    }
    if (fi.size > RC_README_MAX) {
        apr_file_close(f);
        return apr_psprintf(cmd->pool, "RagChatReadme: %s is larger than %d KB", arg + 5,
                            RC_README_MAX / 1024);
    }
    n = (apr_size_t)fi.size;
    text = apr_palloc(cmd->pool, n + 1);
    if (n && apr_file_read_full(f, text, n, &n) != APR_SUCCESS) {
        apr_file_close(f);
        return apr_psprintf(cmd->pool, "RagChatReadme: cannot read %s", arg + 5);
    }
    apr_file_close(f);
    text[n] = '\0';
    c->readme = text;
    return NULL;
}

#define OFF(f) ((void *)(apr_uintptr_t)APR_OFFSETOF(rc_dir_conf, f))
#define IDX(i) ((void *)(apr_uintptr_t)(i))

const command_rec rc_directives[] = {
    AP_INIT_TAKE1("RagChatStreams", rc_capacity_set_streams, NULL, RSRC_CONF,
                  "answers the server should stream at once (a startup warning when "
                  "MaxRequestWorkers is lower)"),
    AP_INIT_TAKE1("RagChatBackend", set_backend, NULL, RSRC_CONF | ACCESS_CONF,
                  "URL of the OpenAI-compatible RAG backend, or 'builtin'"),
    AP_INIT_TAKE1("RagChatBackendKey", set_backend_key, NULL, RSRC_CONF | ACCESS_CONF,
                  "Bearer key for the backend: a string, env:NAME or file:PATH"),
    AP_INIT_TAKE1("RagChatModel", set_model, NULL, RSRC_CONF | ACCESS_CONF,
                  "Model name sent to the backend as \"model\""),
    AP_INIT_TAKE12("RagChatBackendTimeout", set_timeout, NULL, RSRC_CONF | ACCESS_CONF,
                   "Backend connect timeout and idle timeout, in seconds"),
    AP_INIT_TAKE1("RagChatAuth", set_auth, NULL, RSRC_CONF | ACCESS_CONF,
                  "'apache' (trust r->user) or 'form' (the module's login page)"),
    AP_INIT_ITERATE("RagChatAuthProvider", add_provider, NULL, RSRC_CONF | ACCESS_CONF,
                    "Authn providers that check login passwords, tried in order"),
    AP_INIT_TAKE1("RagChatSecret", set_secret, NULL, RSRC_CONF | ACCESS_CONF,
                  "Session signing secret (>= 32 bytes): a string, env:NAME or file:PATH"),
    AP_INIT_TAKE1("RagChatSessionTimeout", set_session_timeout, NULL, RSRC_CONF | ACCESS_CONF,
                  "Idle seconds after which a session ends"),
    AP_INIT_TAKE1("RagChatSessionMaxAge", set_session_max_age, NULL, RSRC_CONF | ACCESS_CONF,
                  "Seconds after login after which a session ends"),
    AP_INIT_TAKE1("RagChatSessionRecheck", set_session_recheck, NULL, RSRC_CONF | ACCESS_CONF,
                  "Seconds between checks that a session's user still exists in its "
                  "authn provider (0: never)"),
    AP_INIT_TAKE123("RagChatLoginLimit", set_login_limit, NULL, RSRC_CONF | ACCESS_CONF,
                   "Failed logins allowed per address and per user and address, the window "
                   "in seconds, and the most failure rows kept"),
    AP_INIT_TAKE1("RagChatCookieSecure", set_cookie_secure, NULL, RSRC_CONF | ACCESS_CONF,
                  "Mark the app's cookies Secure: On (behind a TLS-terminating proxy), "
                  "Off, or Auto (when Apache sees https; the default)"),
    AP_INIT_TAKE1("RagChatCSRFLifetime", set_csrf_lifetime, NULL, RSRC_CONF | ACCESS_CONF,
                  "Seconds an apache-mode CSRF token is issued for (it is accepted for "
                  "twice as long)"),
    AP_INIT_TAKE1("RagChatHtdocs", set_htdocs, NULL, RSRC_CONF | ACCESS_CONF,
                  "Directory of the app's HTML, JavaScript and CSS"),
    AP_INIT_TAKE1("RagChatTitle", set_string, OFF(title), RSRC_CONF | ACCESS_CONF,
                  "Title shown in the app"),
    AP_INIT_TAKE1("RagChatWelcome", set_string, OFF(welcome), RSRC_CONF | ACCESS_CONF,
                  "Greeting shown in a new conversation"),
    AP_INIT_TAKE1("RagChatAssistantName", set_string, OFF(assistant_name), RSRC_CONF | ACCESS_CONF,
                  "Name stored on the assistant's steps"),
    AP_INIT_TAKE1("RagChatApp", set_string, OFF(app_name), RSRC_CONF | ACCESS_CONF,
                  "The app's name, stored with its threads: apps on one database see only "
                  "their own threads (default: the app's path)"),
    AP_INIT_TAKE1("RagChatLogoutURL", set_string, OFF(logout_url), RSRC_CONF | ACCESS_CONF,
                  "RagChatAuth apache: where Log out goes (e.g. mod_auth_form's "
                  "form-logout-handler location)"),
    AP_INIT_TAKE1("RagChatMaxRequestSize", set_max_request, NULL, RSRC_CONF | ACCESS_CONF,
                  "Largest JSON request body accepted (bytes, K, M)"),
    AP_INIT_TAKE1("RagChatUploadMaxSize", set_upload_max_size, NULL, RSRC_CONF | ACCESS_CONF,
                  "Largest upload request (bytes, K, M, G)"),
    AP_INIT_TAKE1("RagChatUploadMaxFiles", set_upload_max_files, NULL, RSRC_CONF | ACCESS_CONF,
                  "Most files in one upload"),
    AP_INIT_TAKE1("RagChatHistoryMax", set_history_max, NULL, RSRC_CONF | ACCESS_CONF,
                  "Most messages sent to the backend as a thread's history (the newest, "
                  "ending with the new question)"),
    AP_INIT_TAKE1("RagChatHistoryChars", set_history_chars, NULL, RSRC_CONF | ACCESS_CONF,
                  "Most characters of the history sent to the backend (the new question "
                  "is always sent)"),
    AP_INIT_ITERATE("RagChatUploadTypes", add_upload_type, NULL, RSRC_CONF | ACCESS_CONF,
                    "Allowed upload extensions (.pdf) and MIME types (text/plain)"),
    AP_INIT_TAKE1("RagChatPdfFont", set_pdf_font, IDX(0), RSRC_CONF | ACCESS_CONF, "TrueType font for PDF text"),
    AP_INIT_TAKE1("RagChatPdfFontBold", set_pdf_font, IDX(1), RSRC_CONF | ACCESS_CONF, "Bold PDF font"),
    AP_INIT_TAKE1("RagChatPdfFontItalic", set_pdf_font, IDX(2), RSRC_CONF | ACCESS_CONF, "Italic PDF font"),
    AP_INIT_TAKE1("RagChatPdfFontBoldItalic", set_pdf_font, IDX(3), RSRC_CONF | ACCESS_CONF,
                  "Bold italic PDF font"),
    AP_INIT_TAKE1("RagChatPdfFontMono", set_pdf_font, IDX(4), RSRC_CONF | ACCESS_CONF, "Monospace PDF font"),
    AP_INIT_TAKE1("RagChatPdfFontFallback", set_pdf_font, IDX(5), RSRC_CONF | ACCESS_CONF,
                  "Font for characters the others lack (CJK, emoji)"),
    AP_INIT_TAKE12("RagChatStarter", add_starter, NULL, RSRC_CONF | ACCESS_CONF,
                   "A suggested prompt on the empty chat: \"label\" [\"message\"]"),
    AP_INIT_TAKE1("RagChatReadme", set_readme, NULL, RSRC_CONF | ACCESS_CONF,
                  "Markdown shown on the empty chat: file:PATH, env:NAME or the text"),
    { NULL }
};

const char *rc_conf_title(const rc_dir_conf *c)
{
    return c->title ? c->title : RC_DEFAULT_TITLE;
}

const char *rc_conf_welcome(const rc_dir_conf *c)
{
    return c->welcome ? c->welcome : RC_DEFAULT_WELCOME;
}

const char *rc_conf_assistant(const rc_dir_conf *c)
{
    return c->assistant_name ? c->assistant_name : RC_DEFAULT_ASSISTANT;
}

rc_auth_mode rc_conf_auth(const rc_dir_conf *c)
{
    return c->auth != RC_AUTH_UNSET ? c->auth : RC_AUTH_APACHE;
}

#define INT_GETTER(name, field, def) \
    int name(const rc_dir_conf *c) { return c->field != RC_UNSET ? c->field : (def); }

INT_GETTER(rc_conf_connect_timeout, connect_timeout, RC_DEFAULT_CONNECT)
INT_GETTER(rc_conf_idle_timeout, idle_timeout, RC_DEFAULT_IDLE)
INT_GETTER(rc_conf_session_timeout, session_timeout, RC_DEFAULT_SESSION_IDLE)
INT_GETTER(rc_conf_session_max_age, session_max_age, RC_DEFAULT_SESSION_MAXAGE)
INT_GETTER(rc_conf_login_limit, login_limit, RC_DEFAULT_LOGIN_LIMIT)
INT_GETTER(rc_conf_login_window, login_window, RC_DEFAULT_LOGIN_WINDOW)
INT_GETTER(rc_conf_login_rows, login_rows, RC_DEFAULT_LOGIN_ROWS)
INT_GETTER(rc_conf_cookie_secure, cookie_secure, RC_SECURE_AUTO)
INT_GETTER(rc_conf_csrf_lifetime, csrf_lifetime, RC_DEFAULT_CSRF_LIFETIME)
INT_GETTER(rc_conf_session_recheck, session_recheck, RC_DEFAULT_SESSION_RECHECK)
INT_GETTER(rc_conf_upload_max_files, upload_max_files, RC_DEFAULT_UPLOAD_FILES)
INT_GETTER(rc_conf_history_max, history_max, RC_DEFAULT_HISTORY_MAX)
INT_GETTER(rc_conf_history_chars, history_chars, RC_DEFAULT_HISTORY_CHARS)

apr_off_t rc_conf_max_request(const rc_dir_conf *c)
{
    return c->max_request != RC_UNSET ? c->max_request : RC_DEFAULT_MAX_REQUEST;
}

apr_off_t rc_conf_upload_max_size(const rc_dir_conf *c)
{
    return c->upload_max_size != RC_UNSET ? c->upload_max_size : RC_DEFAULT_UPLOAD_MAX;
}

int rc_conf_is_builtin(const rc_dir_conf *c)
{
    return c->backend && strcmp(c->backend, "builtin") == 0;
}

/* The reference's document types: what users upload to a RAG backend. */
static const char *const default_upload_types[] = {
    ".pdf", ".txt", ".md", ".markdown", ".docx", ".pptx", ".xlsx", ".csv", ".html", ".htm",
    ".json", NULL
};

const char *const *rc_conf_upload_types(apr_pool_t *p, const rc_dir_conf *c)
{
    const char **list;
    int i;

    if (!c->upload_types) {
        return default_upload_types;
    }
    list = apr_pcalloc(p, (c->upload_types->nelts + 1) * sizeof(*list));
    for (i = 0; i < c->upload_types->nelts; i++) {
        list[i] = APR_ARRAY_IDX(c->upload_types, i, const char *);
    }
    return list;
}

static int type_matches(const char *allowed, const char *ext, const char *mime)
{
    if (*allowed == '.') {
        return ext && strcasecmp(allowed, ext) == 0;
    }
    return mime && strcasecmp(allowed, mime) == 0;
}

int rc_conf_upload_allowed(apr_pool_t *p, const rc_dir_conf *c, const char *filename,
                           const char *mime)
{
    const char *ext = filename ? strrchr(filename, '.') : NULL;
    const char *const *t;
    char *mt = NULL, *semi;

    if (mime) {
        /* "text/plain; charset=utf-8" compares as "text/plain" */
        mt = apr_pstrdup(p, mime);
        if ((semi = strchr(mt, ';'))) {
            *semi = '\0';
        }
        apr_collapse_spaces(mt, mt);
    }
    for (t = rc_conf_upload_types(p, c); *t; t++) {
        if (type_matches(*t, ext, mt)) {
            return 1;
        }
    }
    return 0;
}
