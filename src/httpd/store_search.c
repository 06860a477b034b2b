/* The thread search: ragchat_search_docs (a thread's name, each message),
 * kept by the database's triggers (schema.c, version 4), found through a
 * trigram index: SQLite FTS5's trigram tokenizer, PostgreSQL's pg_trgm.
 *
 * Ranking: a thread's best document (the shortest matching one; a name
 * counts twice), newest first among equals, among the newest
 * RC_SEARCH_WINDOW + … matching documents of the user. A rare word has
 * fewer matches than that and is ranked among all of them; a word in
 * every thread is ranked among the most recent ones, which keeps its search
 * as quick as a rare word's (both indexes give the matches newest first). */
#include "store.h"
#include "search_query.h"
#include "snippet.h"

#include "apr_strings.h"

#define RC_SEARCH_WINDOW 500      /* matching documents ranked, at least */
#define RC_BACKFILL_BATCH 200     /* rows indexed per transaction */

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
    " SELECT d.\"threadId\" AS tid, d.id AS did, d.kind AS kind," \
    " (CASE WHEN d.kind = 0 THEN 2.0 ELSE 1.0 END) / (length(d.text) + 200) AS score" \
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
    const char *args[RC_SEARCH_TERMS_MAX + 6];
    int n = st->terms->nelts, i, k = 0;

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
    char *marked;
    int found = 0;

    if (!db->sqlite) {
        /* PostgreSQL's regular expressions fold the case of any script. */
        return rc_db_value(db, "search_mark",
                           "SELECT regexp_replace(text, %s, chr(2) || '\\&' || chr(3), 'gi')"
                           " FROM ragchat_search_docs WHERE id = %lld",
                           RC_DB_ARGS(rc_search_regex(db->pool, st), doc), failed);
    }
    /* Marked here: FTS5's highlight() runs the whole MATCH again per
     * document, 2 ms each for common words. Its own case folding is asked
     * only when ours found nothing (a script ours does not fold). */
    text = rc_db_value(db, "search_doc", "SELECT text FROM ragchat_search_docs WHERE id = %lld",
                       RC_DB_ARGS(doc), failed);
    marked = text ? rc_search_mark_terms(db->pool, text, st, &found) : NULL;
    if (found || !text || st->short_only) {
        return marked;
    }
    return rc_db_value(db, "search_highlight",
                       "SELECT highlight(ragchat_search, 0, char(2), char(3))"
                       " FROM ragchat_search WHERE ragchat_search MATCH %s"
                       " AND rowid = %lld", RC_DB_ARGS(rc_search_fts5(db->pool, st), doc),
                       failed);
}

/* SQLite: one batch of the rows of kind (0 threads, 1 steps) left in
 * [next, upto], the oldest first: the documents' ids follow the rows' order,
 * which the search's window of the newest matches relies on. */
static int batch_sqlite(rc_db *db, int kind, apr_int64_t next, apr_int64_t upto)
{
    static const char *const sql[2] = {
        "INSERT INTO ragchat_search_docs (kind, ref, \"threadId\", text)"
        " SELECT 0, id, id, name FROM threads WHERE rowid >= %lld AND rowid <= %lld"
        " AND COALESCE(name, '') <> '' ORDER BY rowid ON CONFLICT (ref, kind) DO NOTHING",
        "INSERT INTO ragchat_search_docs (kind, ref, \"threadId\", text)"
        " SELECT 1, id, \"threadId\", output FROM steps WHERE rowid >= %lld AND rowid <= %lld"
        " AND type IN ('user_message', 'assistant_message') AND COALESCE(output, '') <> ''"
        " ORDER BY rowid ON CONFLICT (ref, kind) DO NOTHING"
    };
    apr_int64_t to = next + RC_BACKFILL_BATCH - 1;
    const char *k = rc_db_int(db, kind);

    to = to > upto ? upto : to;
    return rc_db_exec(db, kind ? "backfill_steps" : "backfill_threads", sql[kind ? 1 : 0], NULL,
                      RC_DB_ARGS(rc_db_int(db, next), rc_db_int(db, to)))
        || (to >= upto
            ? rc_db_exec(db, "backfill_done", "DELETE FROM ragchat_search_backfill"
                         " WHERE kind = %d", NULL, RC_DB_ARGS(k))
            : rc_db_exec(db, "backfill_next", "UPDATE ragchat_search_backfill SET next = %lld"
                         " WHERE kind = %d", NULL, RC_DB_ARGS(rc_db_int(db, to + 1), k)));
}

/* PostgreSQL: one batch of the rows of kind after (at, after), in the order
 * of their "createdAt" and id. */
#define PG_KEY "(COALESCE(\"createdAt\", ''), id)"
static int batch_pgsql(rc_db *db, int kind, const char *at, const char *after)
{
    static const char *const last[2] = {
        "SELECT k, i FROM (SELECT COALESCE(\"createdAt\", '') AS k, id AS i FROM threads"
        " WHERE " PG_KEY " > (%s, %s) ORDER BY " PG_KEY " LIMIT %d) AS b"
        " ORDER BY k DESC, i DESC LIMIT 1",
        "SELECT k, i FROM (SELECT COALESCE(\"createdAt\", '') AS k, id AS i FROM steps"
        " WHERE " PG_KEY " > (%s, %s) ORDER BY " PG_KEY " LIMIT %d) AS b"
        " ORDER BY k DESC, i DESC LIMIT 1"
    };
    /* The LIMIT (twice the batch, never reached) keeps the generic plan of
     * the prepared statement on the index, not a scan of the table. */
    static const char *const sql[2] = {
        "INSERT INTO ragchat_search_docs (kind, ref, \"threadId\", text)"
        " SELECT 0, id, id, name FROM (SELECT id, name FROM threads"
        " WHERE " PG_KEY " > (%s, %s) AND " PG_KEY " <= (%s, %s)"
        " ORDER BY " PG_KEY " LIMIT %d) AS b WHERE COALESCE(name, '') <> ''"
        " ON CONFLICT (ref, kind) DO NOTHING",
        "INSERT INTO ragchat_search_docs (kind, ref, \"threadId\", text)"
        " SELECT 1, id, \"threadId\", output FROM (SELECT id, \"threadId\", output, type"
        " FROM steps WHERE " PG_KEY " > (%s, %s) AND " PG_KEY " <= (%s, %s)"
        " ORDER BY " PG_KEY " LIMIT %d) AS b"
        " WHERE type IN ('user_message', 'assistant_message') AND COALESCE(output, '') <> ''"
        " ON CONFLICT (ref, kind) DO NOTHING"
    };
    const char *k = rc_db_int(db, kind), *to_at = NULL, *to_id = NULL;
    apr_dbd_results_t *res;
    apr_dbd_row_t *row = NULL;

    if (rc_db_select(db, kind ? "backfill_last1" : "backfill_last0", last[kind ? 1 : 0], &res,
                     RC_DB_ARGS(at, after, rc_db_int(db, RC_BACKFILL_BATCH)))) {
        return -1;
    }
    while (rc_db_next(db, res, &row) == 0) {
        to_at = apr_pstrdup(db->pool, rc_db_col(db, row, 0));
        to_id = apr_pstrdup(db->pool, rc_db_col(db, row, 1));
    }
    if (!to_id) {
        return rc_db_exec(db, "backfill_done", "DELETE FROM ragchat_search_backfill"
                          " WHERE kind = %d", NULL, RC_DB_ARGS(k));
    }
    return rc_db_exec(db, kind ? "backfill_steps" : "backfill_threads", sql[kind ? 1 : 0], NULL,
                      RC_DB_ARGS(at, after, to_at, to_id,
                                 rc_db_int(db, 2 * RC_BACKFILL_BATCH)))
        || rc_db_exec(db, "backfill_after", "UPDATE ragchat_search_backfill SET at = %s,"
                      " after = %s WHERE kind = %d", NULL, RC_DB_ARGS(to_at, to_id, k));
}
#undef PG_KEY

/* The next batch left: 1 and done, 0 when none is left, -1 on error. */
static int next_batch(rc_db *db)
{
    apr_dbd_results_t *res;
    apr_dbd_row_t *row = NULL;
    const char *kind = NULL, *a = NULL, *b = NULL;

    if (rc_db_select(db, "backfill_get", db->sqlite
                     ? "SELECT kind, next, upto FROM ragchat_search_backfill ORDER BY kind LIMIT 1"
                     : "SELECT kind, at, after FROM ragchat_search_backfill ORDER BY kind"
                       " LIMIT 1", &res, 0, NULL)) {
        return -1;
    }
    while (rc_db_next(db, res, &row) == 0) {
        kind = apr_pstrdup(db->pool, rc_db_col(db, row, 0));
        a = apr_pstrdup(db->pool, rc_db_col(db, row, 1));
        b = apr_pstrdup(db->pool, rc_db_col(db, row, 2));
    }
    if (!kind) {
        return 0;
    }
    if (db->sqlite ? batch_sqlite(db, atoi(kind), apr_atoi64(a), apr_atoi64(b))
                   : batch_pgsql(db, atoi(kind), a ? a : "", b ? b : "")) {
        return -1;
    }
    return 1;
}

int rc_store_search_build(rc_db *db, const char *owner, apr_time_t now,
                          apr_interval_time_t stale, apr_time_t *started)
{
    apr_dbd_transaction_t *tx;
    const char *t, *at = rc_db_int(db, now);
    int n = 0, rv, failed = 0;

    /* Nothing left (the usual case): no write at all. */
    if (!rc_db_value(db, "backfill_any", "SELECT kind FROM ragchat_search_backfill LIMIT 1",
                     0, NULL, &failed)) {
        return failed ? -1 : 0;
    }
    if (rc_db_begin(db, &tx)) {
        return -1;
    }
    rv = rc_db_exec(db, "build_claim", "UPDATE ragchat_search_builder SET owner = %s,"
                    " beat = %lld, started = CASE WHEN started = 0 THEN %lld ELSE started END"
                    " WHERE one = 1 AND (owner = %s OR owner = '' OR beat < %lld)", &n,
                    RC_DB_ARGS(owner, at, at, owner, rc_db_int(db, now - stale)));
    if (!rv && n == 1) {
        rv = next_batch(db) < 0;
        t = rv ? NULL : rc_db_value(db, "build_started", "SELECT started FROM"
                                    " ragchat_search_builder WHERE one = 1", 0, NULL, &failed);
        *started = t ? apr_atoi64(t) : now;
    }
    if (rc_db_end(db, tx, rv) || rv) {
        return -1;
    }
    if (n != 1) {
        return 3;
    }
    if (rc_db_value(db, "backfill_any", "SELECT kind FROM ragchat_search_backfill LIMIT 1",
                    0, NULL, &failed) || failed) {
        return failed ? -1 : 1;
    }
    /* The last batch: the claim goes, for a later build (and on PostgreSQL
     * the indexes that the build read by). */
    if (!db->sqlite && (rc_db_run(db, "DROP INDEX IF EXISTS ragchat_backfill_threads")
                        || rc_db_run(db, "DROP INDEX IF EXISTS ragchat_backfill_steps"))) {
        return -1;
    }
    return rc_db_exec(db, "build_release", "UPDATE ragchat_search_builder SET owner = '',"
                      " beat = 0, started = 0 WHERE one = 1 AND owner = %s", NULL,
                      RC_DB_ARGS(owner)) ? -1 : 2;
}
