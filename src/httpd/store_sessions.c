/* The store's session and login-failure tables (ragchat_sessions,
 * ragchat_login_failures). Times are epoch seconds, bound as decimal text. */
#include "store.h"
#include "ids.h"

#include "apr_strings.h"

static const char *i64(apr_pool_t *p, apr_int64_t v)
{
    return apr_psprintf(p, "%" APR_INT64_T_FMT, v);
}

static apr_int64_t col_i64(rc_db *db, apr_dbd_row_t *row, int col)
{
    const char *v = rc_db_col(db, row, col);

    return v ? apr_atoi64(v) : 0;
}

int rc_store_session_get(rc_db *db, const char *row_id, rc_session_row *s)
{
    apr_dbd_results_t *res;
    apr_dbd_row_t *row;
    int found = 0;

    if (rc_db_select(db, "session_get",
                     "SELECT \"userIdentifier\", csrf, provider, \"createdAt\", \"lastSeen\","
                     " \"expiresAt\", \"checkedAt\" FROM ragchat_sessions WHERE id = %s LIMIT 1",
                     &res, RC_DB_ARGS(row_id))) {
        return -1;
    }
    while (rc_db_next(db, res, &row) == 0) {
        const char *user = rc_db_col(db, row, 0), *csrf = rc_db_col(db, row, 1);
        const char *provider = rc_db_col(db, row, 2);
        if (found || !user || !csrf || !provider) {
            continue;
        }
        s->user = apr_pstrdup(db->pool, user);
        s->csrf = apr_pstrdup(db->pool, csrf);
        s->provider = apr_pstrdup(db->pool, provider);
        s->created = col_i64(db, row, 3);
        s->last_seen = col_i64(db, row, 4);
        s->expires = col_i64(db, row, 5);
        s->checked = col_i64(db, row, 6);
        found = 1;
    }
    return found;
}

int rc_store_session_insert(rc_db *db, const char *row_id, const rc_session_row *s,
                            const char *address)
{
    apr_pool_t *p = db->pool;

    return rc_db_exec(db, "session_add",
                      "INSERT INTO ragchat_sessions (id, \"userIdentifier\", csrf, provider,"
                      " \"createdAt\", \"lastSeen\", \"expiresAt\", \"checkedAt\", address)"
                      " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)", NULL,
                      RC_DB_ARGS(row_id, s->user, s->csrf, s->provider, i64(p, s->created),
                                 i64(p, s->last_seen), i64(p, s->expires), i64(p, s->checked),
                                 address));
}

int rc_store_session_touch(rc_db *db, const char *row_id, apr_int64_t last_seen,
                           apr_int64_t checked)
{
    return rc_db_exec(db, "session_touch",
                      "UPDATE ragchat_sessions SET \"lastSeen\" = %s, \"checkedAt\" = %s"
                      " WHERE id = %s", NULL,
                      RC_DB_ARGS(i64(db->pool, last_seen), i64(db->pool, checked), row_id));
}

int rc_store_session_delete(rc_db *db, const char *row_id)
{
    return rc_db_exec(db, "session_del", "DELETE FROM ragchat_sessions WHERE id = %s",
                      NULL, RC_DB_ARGS(row_id));
}

int rc_store_sessions_delete_user(rc_db *db, const char *user, int *n)
{
    return rc_db_exec(db, "session_del_user",
                      "DELETE FROM ragchat_sessions WHERE \"userIdentifier\" = %s", n,
                      RC_DB_ARGS(user));
}

int rc_store_sessions_prune(rc_db *db, apr_int64_t now)
{
    return rc_db_exec(db, "session_prune",
                      "DELETE FROM ragchat_sessions WHERE \"expiresAt\" <= %s", NULL,
                      RC_DB_ARGS(i64(db->pool, now)));
}

int rc_store_failures_count(rc_db *db, const char *key, apr_int64_t since, int limit,
                            apr_int64_t *oldest)
{
    apr_dbd_results_t *res;
    apr_dbd_row_t *row;
    int n = 0;

    if (rc_db_select(db, "login_failures",
                     "SELECT \"createdAt\" FROM ragchat_login_failures WHERE \"key\" = %s"
                     " AND \"createdAt\" > %s ORDER BY \"createdAt\" DESC LIMIT %s", &res,
                     RC_DB_ARGS(key, i64(db->pool, since), i64(db->pool, limit)))) {
        return -1;
    }
    *oldest = 0;
    while (rc_db_next(db, res, &row) == 0) {
        n++;
        *oldest = col_i64(db, row, 0);
    }
    return n;
}

int rc_store_failure_add(rc_db *db, const char *key, apr_int64_t at)
{
    return rc_db_exec(db, "login_fail_add",
                      "INSERT INTO ragchat_login_failures (id, \"key\", \"createdAt\")"
                      " VALUES (%s, %s, %s)", NULL,
                      RC_DB_ARGS(rc_uuid4(db->pool), key, i64(db->pool, at)));
}

int rc_store_failures_prune(rc_db *db, apr_int64_t before)
{
    return rc_db_exec(db, "login_fail_prune",
                      "DELETE FROM ragchat_login_failures WHERE \"createdAt\" < %s", NULL,
                      RC_DB_ARGS(i64(db->pool, before)));
}

int rc_store_failures_trim_key(rc_db *db, const char *key, int keep)
{
    return rc_db_exec(db, "login_fail_trim",
                      "DELETE FROM ragchat_login_failures WHERE \"key\" = %s AND id NOT IN"
                      " (SELECT id FROM ragchat_login_failures WHERE \"key\" = %s"
                      " ORDER BY \"createdAt\" DESC, id LIMIT %s)", NULL,
                      RC_DB_ARGS(key, key, i64(db->pool, keep)));
}

int rc_store_failures_cap(rc_db *db, int max)
{
    int failed = 0;
    const char *n = rc_db_value(db, "login_fail_total",
                                "SELECT COUNT(*) FROM ragchat_login_failures", 0, NULL, &failed);
    apr_int64_t over = n ? apr_atoi64(n) - max : 0;

    if (failed) {
        return -1;
    }
    if (over <= 0) {
        return 0;
    }
    return rc_db_exec(db, "login_fail_cap",
                      "DELETE FROM ragchat_login_failures WHERE id IN (SELECT id FROM"
                      " ragchat_login_failures ORDER BY \"createdAt\", id LIMIT %s)", NULL,
                      RC_DB_ARGS(i64(db->pool, over)));
}

int rc_store_failures_clear(rc_db *db, const char *key)
{
    return rc_db_exec(db, "login_fail_clear",
                      "DELETE FROM ragchat_login_failures WHERE \"key\" = %s", NULL,
                      RC_DB_ARGS(key));
}
