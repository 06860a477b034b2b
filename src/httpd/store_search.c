/* The thread search: ragchat_search_docs (a thread's name, each message),
 * kept by the database's triggers (schema.c, version 4), found through a
 * trigram index: SQLite FTS5's trigram tokenizer, PostgreSQL's pg_trgm.
 *
 * Ranking: a thread's best document (SQLite: the shortest matching one,
 * PostgreSQL: word similarity; a name counts twice), newest first among
 * equals, among the newest RC_SEARCH_WINDOW + … matching documents of the user. A rare word
 * has fewer matches than that and is ranked among all of them; a word in
 * every thread is ranked among the most recent ones, which keeps its search
 * as quick as a rare word's (both indexes give the matches newest first). */
#include "store.h"
#include "search_query.h"
#include "snippet.h"

#include "apr_strings.h"

#define RC_SEARCH_WINDOW 500      /* matching documents ranked, at least */
#define RC_BACKFILL_BATCH 2000    /* rows indexed per transaction */

/* Documents ranked for a page that ends at offset + limit. */
static const char *window_of(rc_db *db, int offset, int limit)
{
    return rc_db_int(db, RC_SEARCH_WINDOW + 8 * (apr_int64_t)(offset + limit));
}

#define OWNED "(t.\"userId\" = %s OR t.\"userIdentifier\" = %s)" \
              " AND (t.\"ragchatApp\" IS NULL OR t.\"ragchatApp\" = %s)"

static int search_sqlite(rc_db *db, const char *uid, const char *ident, const char *app,
                         const rc_search_terms *st, int offset, int limit,
                         apr_dbd_results_t **res)
{
    const char *lim = rc_db_int(db, limit), *off = rc_db_int(db, offset);

    if (st->short_only) {
        /* Under three characters the trigrams find nothing: a scan, newest first. */
        const char *like = rc_like_contains(db->pool, APR_ARRAY_IDX(st->terms, 0, const char *));
        return rc_db_select(db, "search_scan",
            "SELECT t.id, t.name, t.\"createdAt\", t.\"ragchatApp\", h.did, h.kind FROM ("
            " SELECT d.\"threadId\" AS tid, MAX(d.id) AS did, d.kind AS kind"
            " FROM ragchat_search_docs d"
            " JOIN threads t ON t.id = d.\"threadId\""
            " WHERE d.text LIKE %s ESCAPE '\\' AND " OWNED
            " GROUP BY d.\"threadId\" ORDER BY MAX(d.id) DESC LIMIT %d) AS h"
            " JOIN threads t ON t.id = h.tid ORDER BY t.\"createdAt\" DESC, t.id DESC"
            " LIMIT %d OFFSET %d",
            res, RC_DB_ARGS(like, uid, ident, app, window_of(db, offset, limit), lim, off));
    }
    /* The score is the document's own, shorter first (a name counts
     * twice): bm25 would read every matching row of the index for its
     * rarity weights, 13 ms for a word in every thread, 130 ms for four.
     * SQLite's bare columns of a MIN() come from the row of the minimum:
     * h.did is the best document's. */
    return rc_db_select(db, "search_fts",
        "SELECT t.id, t.name, t.\"createdAt\", t.\"ragchatApp\", h.did, h.kind, MIN(h.score)"
        " FROM (SELECT d.\"threadId\" AS tid, f.rowid AS did, d.kind AS kind,"
        " -(CASE WHEN d.kind = 0 THEN 2.0 ELSE 1.0 END) / (length(d.text) + 200) AS score"
        " FROM ragchat_search f JOIN ragchat_search_docs d ON d.id = f.rowid"
        " JOIN threads t ON t.id = d.\"threadId\""
        " WHERE ragchat_search MATCH %s AND " OWNED
        " ORDER BY f.rowid DESC LIMIT %d) AS h"
        " JOIN threads t ON t.id = h.tid GROUP BY t.id"
        " ORDER BY MIN(h.score), t.\"createdAt\" DESC, t.id DESC LIMIT %d OFFSET %d",
        res, RC_DB_ARGS(rc_search_fts5(db->pool, st), uid, ident, app,
                        window_of(db, offset, limit), lim, off));
}

static const char *const pg_search_sql[RC_SEARCH_TERMS_MAX] = {
#define PG_SEARCH(COND) \
    "SELECT t.id, t.name, t.\"createdAt\", t.\"ragchatApp\", h.did, h.kind FROM (" \
    " SELECT DISTINCT ON (w.tid) w.tid, w.did, w.kind, w.score FROM (" \
    " SELECT d.\"threadId\" AS tid, d.id AS did, d.kind AS kind, (CASE WHEN d.kind = 0 THEN 2 ELSE 1 END)" \
    " * word_similarity(%s, d.text) AS score" \
    " FROM ragchat_search_docs d JOIN threads t ON t.id = d.\"threadId\"" \
    " WHERE " COND " AND " OWNED " ORDER BY d.id DESC LIMIT %d) AS w" \
    " ORDER BY w.tid, w.score DESC, w.did DESC) AS h JOIN threads t ON t.id = h.tid" \
    " ORDER BY h.score DESC, t.\"createdAt\" DESC, t.id DESC LIMIT %d OFFSET %d"
#define LIKE1 "d.text ILIKE %s"
    PG_SEARCH(LIKE1),
    PG_SEARCH(LIKE1 " AND " LIKE1),
    PG_SEARCH(LIKE1 " AND " LIKE1 " AND " LIKE1),
    PG_SEARCH(LIKE1 " AND " LIKE1 " AND " LIKE1 " AND " LIKE1),
#undef LIKE1
#undef PG_SEARCH
};

static int search_pgsql(rc_db *db, const char *uid, const char *ident, const char *app,
                        const rc_search_terms *st, int offset, int limit,
                        apr_dbd_results_t **res)
{
    const char *args[2 + RC_SEARCH_TERMS_MAX + 6], *whole = "";
    int n = st->terms->nelts, i, k = 0;

    for (i = 0; i < n; i++) {
        whole = apr_pstrcat(db->pool, whole, i ? " " : "",
                            APR_ARRAY_IDX(st->terms, i, const char *), NULL);
    }
    args[k++] = whole;
    for (i = 0; i < n; i++) {
        args[k++] = rc_like_contains(db->pool, APR_ARRAY_IDX(st->terms, i, const char *));
    }
    args[k++] = uid;
    args[k++] = ident;
    args[k++] = app;
    args[k++] = window_of(db, offset, limit);
    args[k++] = rc_db_int(db, limit);
    args[k++] = rc_db_int(db, offset);
    return rc_db_select(db, apr_psprintf(db->pool, "search_pg%d", n), pg_search_sql[n - 1],
                        res, k, args);
}

apr_array_header_t *rc_store_threads_search(rc_db *db, const char *user_id,
                                            const char *user_ident, const char *app,
                                            const rc_search_terms *st, int offset, int limit)
{
    apr_dbd_results_t *res;
    apr_dbd_row_t *row = NULL;
    apr_array_header_t *out;
    int rv = db->sqlite
        ? search_sqlite(db, user_id, user_ident, app, st, offset, limit, &res)
        : search_pgsql(db, user_id, user_ident, app, st, offset, limit, &res);

    if (rv) {
        return NULL;
    }
    out = apr_array_make(db->pool, limit > 0 ? limit : 1, sizeof(rc_search_hit));
    while (rc_db_next(db, res, &row) == 0) {
        rc_search_hit *h = apr_array_push(out);
        const char *v;
        h->thread = apr_pcalloc(db->pool, sizeof(rc_thread));
        h->thread->id = apr_pstrdup(db->pool, rc_db_col(db, row, 0));
        v = rc_db_col(db, row, 1);
        h->thread->name = apr_pstrdup(db->pool, v ? v : "");
        v = rc_db_col(db, row, 2);
        h->thread->created = apr_pstrdup(db->pool, v ? v : "");
        v = rc_db_col(db, row, 3);
        h->thread->app = v ? apr_pstrdup(db->pool, v) : NULL;
        v = rc_db_col(db, row, 4);
        h->doc = apr_pstrdup(db->pool, v ? v : "0");
        v = rc_db_col(db, row, 5);
        h->in_name = v && atoi(v) == 0;
    }
    return out;
}

const char *rc_store_search_marked(rc_db *db, const char *doc, const rc_search_terms *st,
                                   int *failed)
{
    const char *text;

    if (db->sqlite && !st->short_only) {
        return rc_db_value(db, "search_highlight",
                           "SELECT highlight(ragchat_search, 0, char(2), char(3))"
                           " FROM ragchat_search WHERE ragchat_search MATCH %s"
                           " AND rowid = %lld", RC_DB_ARGS(rc_search_fts5(db->pool, st), doc),
                           failed);
    }
    if (!db->sqlite) {
        /* PostgreSQL's regular expressions fold the case of any script. */
        return rc_db_value(db, "search_mark",
                           "SELECT regexp_replace(text, %s, chr(2) || '\\&' || chr(3), 'gi')"
                           " FROM ragchat_search_docs WHERE id = %lld",
                           RC_DB_ARGS(rc_search_regex(db->pool, st), doc), failed);
    }
    text = rc_db_value(db, "search_doc", "SELECT text FROM ragchat_search_docs WHERE id = %lld",
                       RC_DB_ARGS(doc), failed);
    return text ? rc_search_mark(db->pool, text, APR_ARRAY_IDX(st->terms, 0, const char *))
                : NULL;
}

/* One batch of the rows of kind (0 threads, 1 steps) from rowid next on, in
 * its own transaction; 1 when more is left, 0 when none, -1 on error. */
static int backfill_batch(rc_db *db, int kind, apr_int64_t next, apr_int64_t upto)
{
    static const char *const sql[2] = {
        "INSERT INTO ragchat_search_docs (kind, ref, \"threadId\", text)"
        " SELECT 0, id, id, name FROM threads WHERE rowid >= %lld AND rowid < %lld"
        " AND COALESCE(name, '') <> '' ORDER BY rowid ON CONFLICT (ref, kind) DO NOTHING",
        "INSERT INTO ragchat_search_docs (kind, ref, \"threadId\", text)"
        " SELECT 1, id, \"threadId\", output FROM steps WHERE rowid >= %lld AND rowid < %lld"
        " AND type IN ('user_message', 'assistant_message') AND COALESCE(output, '') <> ''"
        " ORDER BY rowid ON CONFLICT (ref, kind) DO NOTHING"
    };
    apr_int64_t end = next + RC_BACKFILL_BATCH;
    const char *k = rc_db_int(db, kind);
    apr_dbd_transaction_t *tx;
    int rv;

    if (end > upto + 1) {
        end = upto + 1;
    }
    if (rc_db_begin(db, &tx)) {
        return -1;
    }
    rv = rc_db_exec(db, kind ? "backfill_steps" : "backfill_threads", sql[kind ? 1 : 0], NULL,
                    RC_DB_ARGS(rc_db_int(db, next), rc_db_int(db, end)))
      || (end > upto
          ? rc_db_exec(db, "backfill_done", "DELETE FROM ragchat_search_backfill WHERE kind = %d",
                       NULL, RC_DB_ARGS(k))
          : rc_db_exec(db, "backfill_next", "UPDATE ragchat_search_backfill SET next = %lld"
                       " WHERE kind = %d", NULL, RC_DB_ARGS(rc_db_int(db, end), k)));
    if (rc_db_end(db, tx, rv) && !rv) {
        rv = -1;
    }
    return rv ? -1 : 1;
}

int rc_store_search_backfill(rc_db *db, apr_interval_time_t budget)
{
    apr_time_t until = apr_time_now() + budget;
    apr_dbd_results_t *res;
    apr_dbd_row_t *row;
    int did = 0;

    if (!db->sqlite) {
        return 0;          /* PostgreSQL indexes them in the upgrade */
    }
    for (;;) {
        apr_int64_t kind = -1, next = 0, upto = 0;
        row = NULL;
        if (rc_db_select(db, "backfill_get", "SELECT kind, next, upto FROM"
                         " ragchat_search_backfill ORDER BY kind LIMIT 1", &res, 0, NULL)) {
            return -1;
        }
        while (rc_db_next(db, res, &row) == 0) {
            kind = apr_atoi64(rc_db_col(db, row, 0));
            next = apr_atoi64(rc_db_col(db, row, 1));
            upto = apr_atoi64(rc_db_col(db, row, 2));
        }
        if (kind < 0) {
            return did ? 2 : 0;
        }
        if (did && apr_time_now() >= until) {
            return 1;
        }
        if (backfill_batch(db, (int)kind, next, upto) < 0) {
            return -1;
        }
        did = 1;
    }
}
