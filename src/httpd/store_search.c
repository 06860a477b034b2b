/* The thread search: ragchat_search_docs (a thread's name, each message),
 * kept by the database's triggers (schema.c, version 4), found through a
 * trigram index: SQLite FTS5's trigram tokenizer, PostgreSQL's pg_trgm.
 *
 * Ranking: a thread's best document (the shortest matching one; a name
 * counts twice), then the thread with the newest match, among the threads
 * of the user's newest matching documents (collect_matches: read in
 * batches until enough threads are found). A rare word has fewer matches
 * than that and is ranked among all of them; a word in every thread is
 * ranked among the most recent threads, which keeps its search as quick as
 * a rare word's (both indexes give the matches newest first). */
#include "store.h"
#include "search_query.h"
#include "snippet.h"

#include "apr_strings.h"

#define RC_SEARCH_WINDOW 500      /* matching documents ranked, at least */
#define RC_BACKFILL_BATCH 200     /* rows indexed per transaction */

/* Documents ranked for a page that ends at offset + limit (the scan of
 * short terms). */
static const char *window_of(rc_db *db, int offset, int limit)
{
    return rc_db_int(db, RC_SEARCH_WINDOW + 8 * (apr_int64_t)(offset + limit));
}

#define OWNED "(t.\"userId\" = %s OR t.\"userIdentifier\" = %s)" \
              " AND (t.\"ragchatApp\" IS NULL OR t.\"ragchatApp\" = %s)"

/* The matching documents are read newest first (on PostgreSQL in batches
 * of RC_SEARCH_BATCH), until RC_SEARCH_THREADS + 2 × (offset + limit)
 * threads are found or RC_SEARCH_SCAN_MAX documents read: a long thread
 * whose recent messages all hold the word does not hide the others. */
#define RC_SEARCH_BATCH 500
#define RC_SEARCH_THREADS 100
#define RC_SEARCH_SCAN_MAX 20000

/* PostgreSQL, one batch: tid, did, kind, length of the user's matching
 * documents with an id below the cursor, newest first. */
static const char *const pg_batch_sql[RC_SEARCH_TERMS_MAX] = {
#define PG_BATCH(COND) \
    "SELECT d.\"threadId\", d.id, d.kind, length(d.text)" \
    " FROM ragchat_search_docs d JOIN threads t ON t.id = d.\"threadId\"" \
    " WHERE " COND " AND d.id < %lld AND " OWNED \
    " ORDER BY d.id DESC LIMIT %d"
#define LIKE1 "d.text ILIKE %s"
    PG_BATCH(LIKE1),
    PG_BATCH(LIKE1 " AND " LIKE1),
    PG_BATCH(LIKE1 " AND " LIKE1 " AND " LIKE1),
    PG_BATCH(LIKE1 " AND " LIKE1 " AND " LIKE1 " AND " LIKE1),
#undef LIKE1
#undef PG_BATCH
};

static int search_batch_pgsql(rc_db *db, const char *uid, const char *ident,
                              const char *app, const rc_search_terms *st,
                              const char *below, int size, apr_dbd_results_t **res)
{
    const char *args[RC_SEARCH_TERMS_MAX + 5];
    int n = st->terms->nelts, i, k = 0;

    for (i = 0; i < n; i++) {
        args[k++] = rc_like_contains(db->pool, APR_ARRAY_IDX(st->terms, i, const char *));
    }
    args[k++] = below;
    args[k++] = uid;
    args[k++] = ident;
    args[k++] = app;
    args[k++] = rc_db_int(db, size);
    return rc_db_select(db, apr_psprintf(db->pool, "search_pg%d", n), pg_batch_sql[n - 1],
                        res, k, args);
}

/* A thread found: its best document (the shortest; a name counts twice)
 * and its newest matching one. */
typedef struct {
    const char *tid;
    apr_int64_t did, newest;
    int kind;
    double score;
} found_thread;

/* Best first, then the thread with the newest match. */
static int found_order(const void *a, const void *b)
{
    const found_thread *x = *(found_thread *const *)a, *y = *(found_thread *const *)b;

    if (x->score != y->score) {
        return x->score > y->score ? -1 : 1;
    }
    return x->newest == y->newest ? 0 : x->newest > y->newest ? -1 : 1;
}

/* What collect_matches gathers. */
typedef struct {
    rc_db *db;
    apr_hash_t *threads;         /* tid → found_thread */
    int wanted, scanned;
    apr_int64_t below;           /* the oldest document read */
} match_reader;

/* One matching document (tid, did, kind, length); nonzero when enough. */
static int add_match(void *ctx, const char *const *cols, int ncols)
{
    match_reader *m = ctx;
    found_thread *f;
    apr_int64_t did;
    double score;
    int kind;

    m->scanned++;
    if (ncols < 4 || !cols[0] || !cols[1]) {
        return 0;
    }
    did = apr_atoi64(cols[1]);
    m->below = did;
    kind = cols[2] ? atoi(cols[2]) : 1;
    score = (kind == 0 ? 2.0 : 1.0) / ((cols[3] ? atof(cols[3]) : 0) + 200);
    f = apr_hash_get(m->threads, cols[0], APR_HASH_KEY_STRING);
    if (!f) {
        f = apr_pcalloc(m->db->pool, sizeof(*f));
        f->tid = apr_pstrdup(m->db->pool, cols[0]);
        f->newest = did;
        f->score = -1;
        apr_hash_set(m->threads, f->tid, APR_HASH_KEY_STRING, f);
    }
    if (score > f->score) {
        f->score = score;
        f->did = did;
        f->kind = kind;
    }
    return (int)apr_hash_count(m->threads) >= m->wanted || m->scanned >= RC_SEARCH_SCAN_MAX;
}

/* SQLite: one pass over the matches, newest first, row by row from the
 * connection's handle, ended as soon as enough are read. */
static int collect_sqlite(match_reader *m, const char *uid, const char *ident,
                          const char *app, const rc_search_terms *st)
{
    const char *args[] = { rc_search_fts5(m->db->pool, st), uid, ident, app };

    return rc_db_sqlite_each(m->db, "search_fts",
        "SELECT d.\"threadId\", f.rowid, d.kind, length(d.text)"
        " FROM ragchat_search f JOIN ragchat_search_docs d ON d.id = f.rowid"
        " JOIN threads t ON t.id = d.\"threadId\""
        " WHERE ragchat_search MATCH %s AND " OWNED " ORDER BY f.rowid DESC",
        4, args, add_match, m);
}

/* PostgreSQL: batches, each below the last one read, the first of
 * RC_SEARCH_BATCH and each next one four times larger (every batch runs
 * the trigram match again: a few large ones cost less than many small). */
static int collect_pgsql(match_reader *m, const char *uid, const char *ident,
                         const char *app, const rc_search_terms *st)
{
    rc_db *db = m->db;
    int size = RC_SEARCH_BATCH;

    m->below = APR_INT64_MAX;
    while (m->scanned < RC_SEARCH_SCAN_MAX && (int)apr_hash_count(m->threads) < m->wanted) {
        apr_dbd_results_t *res;
        apr_dbd_row_t *row = NULL;
        int rows = 0, enough = 0;

        if (search_batch_pgsql(db, uid, ident, app, st, rc_db_int(db, m->below), size, &res)) {
            return -1;
        }
        while (rc_db_next(db, res, &row) == 0) {
            const char *cols[4];
            int c;
            for (c = 0; c < 4; c++) {
                cols[c] = rc_db_col(db, row, c);
            }
            rows++;
            if (!enough) {
                enough = add_match(m, cols, 4);
            }
        }
        if (rows < size) {
            break;               /* every match read */
        }
        size = size * 4 < RC_SEARCH_SCAN_MAX ? size * 4 : RC_SEARCH_SCAN_MAX;
    }
    return 0;
}

/* Reads the user's matches into threads. 0, or -1 on error. */
static int collect_matches(rc_db *db, const char *uid, const char *ident, const char *app,
                           const rc_search_terms *st, int wanted, apr_hash_t *threads)
{
    match_reader m;

    memset(&m, 0, sizeof(m));
    m.db = db;
    m.threads = threads;
    m.wanted = wanted;
    return db->sqlite ? collect_sqlite(&m, uid, ident, app, st)
                      : collect_pgsql(&m, uid, ident, app, st);
}

/* The page [offset, offset + limit) of the threads found, best first. */
static apr_array_header_t *rank_page(rc_db *db, apr_hash_t *threads, int offset, int limit)
{
    apr_array_header_t *all = apr_array_make(db->pool, (int)apr_hash_count(threads) + 1,
                                             sizeof(found_thread *));
    apr_array_header_t *page = apr_array_make(db->pool, limit > 0 ? limit : 1,
                                              sizeof(found_thread *));
    apr_hash_index_t *hi;
    int i;

    for (hi = apr_hash_first(db->pool, threads); hi; hi = apr_hash_next(hi)) {
        APR_ARRAY_PUSH(all, found_thread *) = apr_hash_this_val(hi);
    }
    qsort(all->elts, all->nelts, sizeof(found_thread *), found_order);
    for (i = offset; i < all->nelts && i < offset + limit; i++) {
        APR_ARRAY_PUSH(page, found_thread *) = APR_ARRAY_IDX(all, i, found_thread *);
    }
    return page;
}

/* The short terms' scan (under three characters the trigrams find nothing),
 * newest first. */
static apr_array_header_t *search_scan(rc_db *db, const char *uid, const char *ident,
                                       const char *app, const rc_search_terms *st,
                                       int offset, int limit)
{
    apr_dbd_results_t *res;
    apr_dbd_row_t *row = NULL;
    apr_array_header_t *out;
    const char *like = rc_like_contains(db->pool, APR_ARRAY_IDX(st->terms, 0, const char *));

#define SCAN_SQL(LIKE) \
            "SELECT t.id, t.name, t.\"createdAt\", t.\"ragchatApp\", h.did, dd.kind FROM (" \
            " SELECT d.\"threadId\" AS tid, MAX(d.id) AS did" \
            " FROM ragchat_search_docs d" \
            " JOIN threads t ON t.id = d.\"threadId\"" \
            " WHERE d.text " LIKE " %s ESCAPE '\\' AND " OWNED \
            " GROUP BY d.\"threadId\" ORDER BY MAX(d.id) DESC LIMIT %d) AS h" \
            " JOIN threads t ON t.id = h.tid JOIN ragchat_search_docs dd ON dd.id = h.did" \
            " ORDER BY t.\"createdAt\" DESC, t.id DESC LIMIT %d OFFSET %d"
    /* SQLite's LIKE ignores the case of ASCII letters; PostgreSQL's ILIKE */
    if (rc_db_select(db, db->sqlite ? "search_scan" : "search_scan_pg",
            db->sqlite ? SCAN_SQL("LIKE") : SCAN_SQL("ILIKE"),
            &res, RC_DB_ARGS(like, uid, ident, app, window_of(db, offset, limit),
                             rc_db_int(db, limit), rc_db_int(db, offset)))) {
        return NULL;
    }
#undef SCAN_SQL
    out = apr_array_make(db->pool, limit > 0 ? limit : 1, sizeof(rc_search_hit));
    while (rc_db_next(db, res, &row) == 0) {
        rc_search_hit *h = apr_array_push(out);
        const char *v;
        h->thread = rc_store_thread_from_row(db, row);
        v = rc_db_col(db, row, 4);
        h->doc = apr_pstrdup(db->pool, v ? v : "0");
        v = rc_db_col(db, row, 5);
        h->in_name = v && atoi(v) == 0;
    }
    return out;
}

/* The thread row of a hit; 0, or -1 on error (a thread deleted meanwhile
 * is left out: 1). */
static int hit_thread(rc_db *db, const found_thread *f, rc_search_hit *h)
{
    apr_dbd_results_t *res;
    apr_dbd_row_t *row = NULL;

    if (rc_db_select(db, "search_thread",
                     "SELECT id, name, \"createdAt\", \"ragchatApp\" FROM threads WHERE id = %s",
                     &res, RC_DB_ARGS(f->tid))) {
        return -1;
    }
    if (rc_db_next(db, res, &row) != 0) {
        return 1;
    }
    h->thread = rc_store_thread_from_row(db, row);
    h->doc = apr_psprintf(db->pool, "%" APR_INT64_T_FMT, f->did);
    h->in_name = f->kind == 0;
    while (rc_db_next(db, res, &row) == 0) {
        /* drain (apr's drivers want a result read to its end) */
    }
    return 0;
}

apr_array_header_t *rc_store_threads_search(rc_db *db, const char *user_id,
                                            const char *user_ident, const char *app,
                                            const rc_search_terms *st, int offset, int limit)
{
    apr_hash_t *threads;
    apr_array_header_t *page, *out;
    int i;

    if (st->short_only) {
        return search_scan(db, user_id, user_ident, app, st, offset, limit);
    }
    threads = apr_hash_make(db->pool);
    if (collect_matches(db, user_id, user_ident, app, st,
                        RC_SEARCH_THREADS + 2 * (offset + limit), threads)) {
        return NULL;
    }
    page = rank_page(db, threads, offset, limit);
    out = apr_array_make(db->pool, page->nelts + 1, sizeof(rc_search_hit));
    for (i = 0; i < page->nelts; i++) {
        rc_search_hit h;
        int rv = hit_thread(db, APR_ARRAY_IDX(page, i, found_thread *), &h);
        if (rv < 0) {
            return NULL;
        }
        if (rv == 0) {
            APR_ARRAY_PUSH(out, rc_search_hit) = h;
        }
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
