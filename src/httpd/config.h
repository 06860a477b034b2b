/* Per-directory configuration: the RagChat* directives and their merging. */
#ifndef RC_CONFIG_H
#define RC_CONFIG_H

#include "httpd.h"
#include "http_config.h"

#define RC_UNSET (-1)

typedef enum { RC_AUTH_UNSET = 0, RC_AUTH_APACHE, RC_AUTH_FORM } rc_auth_mode;
/* RagChatCookieSecure: Auto marks cookies Secure when Apache sees https. */
enum { RC_SECURE_OFF = 0, RC_SECURE_ON = 1, RC_SECURE_AUTO = 2 };

typedef struct {
    const char *base;            /* the path of this section (<Location>, <Directory>) */
    const char *mount;           /* the path of the section that set RagChatBackend:
                                    the app's base path */

    const char *backend;         /* URL without trailing slash, or "builtin" */
    const char *backend_key;
    const char *model;
    int connect_timeout;         /* seconds */
    int idle_timeout;            /* seconds */

    rc_auth_mode auth;
    apr_array_header_t *providers;   /* const char *: authn provider names */
    const char *secret;
    int session_timeout;         /* idle seconds */
    int session_max_age;         /* absolute seconds */
    int login_limit;             /* failures allowed in login_window */
    int login_window;            /* seconds */
    int login_rows;              /* failure rows kept at most, whatever the attack */
    int session_recheck;         /* seconds between provider re-checks, 0: never */
    int cookie_secure;           /* RC_SECURE_OFF, _ON or _AUTO */
    int csrf_lifetime;           /* seconds an apache-mode CSRF token is issued for */

    const char *htdocs;
    const char *title;
    const char *welcome;
    const char *assistant_name;
    const char *logout_url;      /* RagChatAuth apache: the site's own logout */
    const char *app_name;        /* RagChatApp: whose threads these are */
    apr_off_t max_request;       /* bytes of a JSON API body */

    apr_off_t upload_max_size;
    int upload_max_files;
    int history_max;             /* messages of history sent to the backend */
    int history_chars;           /* characters of history sent to the backend */
    apr_array_header_t *upload_types;    /* const char *: ".pdf" or "type/subtype" */

    const char *pdf_font[6];     /* regular, bold, italic, bold-italic, mono, fallback */

    /* The empty chat: suggested prompts (RagChatStarter) and a markdown text
     * shown above them (RagChatReadme). */
    apr_array_header_t *starters;        /* rc_starter */
    const char *readme;
} rc_dir_conf;

typedef struct {
    const char *label, *message;         /* the button's text, what it sends */
} rc_starter;

#define RC_STARTERS_MAX   12
#define RC_README_MAX     (256 * 1024)

/* Defaults, applied by the accessors below when a directive is unset. */
#ifndef RC_DEFAULT_HTDOCS
#define RC_DEFAULT_HTDOCS      "/usr/share/ragchat/htdocs"   /* where make install puts them */
#endif
#define RC_DEFAULT_TITLE       "RAG Chat"
#define RC_DEFAULT_WELCOME     "Hello! Upload documents (drag & drop) or ask me a question."
#define RC_DEFAULT_ASSISTANT   "Assistant"
#define RC_DEFAULT_CONNECT     10
#define RC_DEFAULT_IDLE        300
#define RC_DEFAULT_MAX_REQUEST (1024 * 1024)
#define RC_DEFAULT_SESSION_IDLE   (8 * 3600)
#define RC_DEFAULT_SESSION_MAXAGE (7 * 24 * 3600)
#define RC_DEFAULT_LOGIN_LIMIT 5
#define RC_DEFAULT_LOGIN_WINDOW (15 * 60)
#define RC_DEFAULT_LOGIN_ROWS 100000
#define RC_DEFAULT_SESSION_RECHECK 60
#define RC_DEFAULT_CSRF_LIFETIME (24 * 3600)
#define RC_DEFAULT_UPLOAD_MAX  (50 * 1000 * 1000)
#define RC_DEFAULT_UPLOAD_FILES 20
#define RC_DEFAULT_HISTORY_MAX 50
#define RC_DEFAULT_HISTORY_CHARS 100000
#define RC_MIN_HISTORY_CHARS 100
extern const command_rec rc_directives[];

void *rc_create_dir_conf(apr_pool_t *p, char *dir);
void *rc_merge_dir_conf(apr_pool_t *p, void *basev, void *addv);

const char *rc_conf_title(const rc_dir_conf *c);
const char *rc_conf_welcome(const rc_dir_conf *c);
const char *rc_conf_assistant(const rc_dir_conf *c);
rc_auth_mode rc_conf_auth(const rc_dir_conf *c);
int rc_conf_connect_timeout(const rc_dir_conf *c);
int rc_conf_idle_timeout(const rc_dir_conf *c);
apr_off_t rc_conf_max_request(const rc_dir_conf *c);
int rc_conf_session_timeout(const rc_dir_conf *c);
int rc_conf_session_max_age(const rc_dir_conf *c);
int rc_conf_login_limit(const rc_dir_conf *c);
int rc_conf_login_window(const rc_dir_conf *c);
int rc_conf_login_rows(const rc_dir_conf *c);
/* The first of the app's files missing from dir (index.html, login.html), or NULL. */
const char *rc_conf_htdocs_missing(apr_pool_t *p, const char *dir);
int rc_conf_cookie_secure(const rc_dir_conf *c);
int rc_conf_csrf_lifetime(const rc_dir_conf *c);
int rc_conf_session_recheck(const rc_dir_conf *c);
apr_off_t rc_conf_upload_max_size(const rc_dir_conf *c);
int rc_conf_upload_max_files(const rc_dir_conf *c);
int rc_conf_history_max(const rc_dir_conf *c);
int rc_conf_history_chars(const rc_dir_conf *c);
/* RagChatUploadTypes, or the default list: ".ext" and "type/subtype" entries,
 * NULL-terminated. */
const char *const *rc_conf_upload_types(apr_pool_t *p, const rc_dir_conf *c);
/* 1 when a file of this name and declared type is allowed by RagChatUploadTypes. */
int rc_conf_upload_allowed(apr_pool_t *p, const rc_dir_conf *c, const char *filename,
                           const char *mime);
int rc_conf_is_builtin(const rc_dir_conf *c);

#endif
