/* The built-in backend's documents (ragchat_documents) and their passages
 * (ragchat_chunks): on SQLite an FTS5 table ranked by bm25, on PostgreSQL a
 * table with a tsvector column and its GIN index, ranked by ts_rank. Both
 * mark the matched words of a passage with RC_STORE_MARK_ON/OFF. */
#include "store.h"

#include "apr_strings.h"

#include <stdlib.h>

int rc_store_doc_remove_named(rc_db *db, const char *user_ident, const char *name)
{
    return rc_db_exec(db, "builtin_replace_chunks",
                      "DELETE FROM ragchat_chunks WHERE \"userIdentifier\" = %s AND document IN"
                      " (SELECT id FROM ragchat_documents WHERE \"userIdentifier\" = %s"
                      " AND name = %s)", NULL, RC_DB_ARGS(user_ident, user_ident, name))
        || rc_db_exec(db, "builtin_replace_doc",
                      "DELETE FROM ragchat_documents WHERE \"userIdentifier\" = %s AND name = %s",
                      NULL, RC_DB_ARGS(user_ident, name));
}

int rc_store_doc_insert(rc_db *db, const rc_doc *d)
{
    return rc_db_exec(db, "builtin_doc_insert",
                      "INSERT INTO ragchat_documents (id, \"userIdentifier\", name, mime, size,"
                      " chunks, \"createdAt\") VALUES (%s, %s, %s, %s, %lld, %d, %s)", NULL,
                      RC_DB_ARGS(d->id, d->user_ident, d->name, d->mime, d->size, d->chunks,
                                 d->created));
}

int rc_store_passage_insert(rc_db *db, const rc_doc *d, const char *ordinal,
                            const char *text)
{
    return rc_db_exec(db, "builtin_chunk_insert",
                      "INSERT INTO ragchat_chunks (document, \"userIdentifier\", name, ordinal,"
                      " text) VALUES (%s, %s, %s, %d, %s)", NULL,
                      RC_DB_ARGS(d->id, d->user_ident, d->name, ordinal, text));
}

int rc_store_doc_count(rc_db *db, const char *user_ident)
{
    apr_dbd_results_t *res;
    apr_dbd_row_t *row = NULL;
    int n = 0;

    if (rc_db_select(db, "builtin_doc_count",
                     "SELECT COUNT(*) FROM (SELECT 1 FROM ragchat_documents"
                     " WHERE \"userIdentifier\" = %s LIMIT 1000) AS d",
                     &res, RC_DB_ARGS(user_ident))) {
        return -1;
    }
    while (rc_db_next(db, res, &row) == 0) {
        const char *v = rc_db_col(db, row, 0);
        n = v ? atoi(v) : 0;
    }
    return n;
}

static const char *col_or(rc_db *db, apr_dbd_row_t *row, int col, const char *dflt)
{
    const char *v = rc_db_col(db, row, col);
    return apr_pstrdup(db->pool, v ? v : dflt);
}

apr_array_header_t *rc_store_passages_search(rc_db *db, const char *user_ident,
                                             const char *query)
{
    apr_array_header_t *hits = apr_array_make(db->pool, RC_STORE_PASSAGE_HITS,
                                              sizeof(rc_passage));
    apr_dbd_results_t *res;
    apr_dbd_row_t *row = NULL;

    const char *hits_max = rc_db_int(db, RC_STORE_PASSAGE_HITS);
    int rv;

    if (rc_db_is_sqlite(db)) {
        rv = rc_db_select(db, "builtin_search",
                          "SELECT name, ordinal, highlight(ragchat_chunks, 4, char(2), char(3)),"
                          " rank FROM ragchat_chunks"
                          " WHERE ragchat_chunks MATCH %s AND \"userIdentifier\" = %s"
                          " ORDER BY rank LIMIT %d",
                          &res, RC_DB_ARGS(query, user_ident, hits_max));
    }
    else {
        /* The rank is negated, lower is better as with bm25; the headline of
         * the few best only (HighlightAll: the whole passage). */
        rv = rc_db_select(db, "builtin_search",
                          "SELECT name, ordinal, ts_headline('english'::regconfig, text, q,"
                          " 'HighlightAll=true, StartSel=' || chr(2) || ', StopSel=' || chr(3)),"
                          " -rank FROM (SELECT c.name, c.ordinal, c.text, c.document, q,"
                          " ts_rank(c.tsv, q, 1) AS rank"
                          " FROM ragchat_chunks c, to_tsquery('english'::regconfig, %s) AS q"
                          " WHERE c.\"userIdentifier\" = %s AND c.tsv @@ q"
                          " ORDER BY rank DESC, c.document, c.ordinal"
                          " LIMIT %d) AS h ORDER BY rank DESC, document, ordinal",
                          &res, RC_DB_ARGS(query, user_ident, hits_max));
    }
    if (rv) {
        return NULL;
    }
    while (rc_db_next(db, res, &row) == 0) {
        rc_passage *h = apr_array_push(hits);
        const char *rank = rc_db_col(db, row, 3);
        h->name = col_or(db, row, 0, "?");
        h->ordinal = col_or(db, row, 1, "0");
        h->text = col_or(db, row, 2, "");
        h->rank = rank ? atof(rank) : 0;
    }
    return hits;
}
