/* ragchat-migrate: copies a SQLite chat_history.db (mod_ragchat's, or one the
 * reference Chainlit app wrote) into a PostgreSQL database, then checks that
 * every table holds the same rows on both sides.
 *
 *   ragchat-migrate [--check] [--skip-orphans] SQLITE_FILE 'PGSQL_PARAMS'
 *
 * PGSQL_PARAMS are those of `DBDParams` for `DBDriver pgsql` (a libpq conninfo
 * string). The destination gets the module's schema (src/core/schema.c, the
 * same code the module runs) and must hold no rows yet; everything is copied
 * in one transaction. The source is opened read-only with SQLite itself (APR's
 * driver would load whole tables into memory); the destination goes through
 * APR's pgsql driver, as the module's connections do.
 *
 * The check: per table, the number of rows and an order-independent digest of
 * their contents (the sum of a SHA-256 of each row's values), computed on both
 * sides from what each database returns; any difference fails the command.
 * With --check only the check runs (after a copy made earlier).
 *
 * Rows the source holds whose parent row is missing (SQLite does not enforce
 * foreign keys; PostgreSQL does) stop the copy, or are left out and counted
 * with --skip-orphans. Running answers (ragchat_streams) are not copied.
 * Exit status: 0 copied and identical, 1 failure, 2 usage. */
#include "schema.h"
#include "crypto.h"

#include <apr_general.h>
#include <apr_tables.h>
#include <apr_hash.h>
#include <apr_strings.h>
#include <apr_dbd.h>

#include <sqlite3.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define BATCH "1000"

typedef struct {
    const char *name;
    /* Rows kept (SQL condition on the source), or NULL for all. */
    const char *keep;
} table_def;

/* In an order that satisfies the foreign keys (threads -> users, steps ->
 * threads). */
static const table_def tables[] = {
    { "users", NULL },
    { "threads", "\"userId\" IS NULL OR \"userId\" IN (SELECT id FROM users)" },
    { "steps", "\"threadId\" IN (SELECT id FROM threads WHERE \"userId\" IS NULL"
               " OR \"userId\" IN (SELECT id FROM users))" },
    { "feedbacks", NULL },
    { "elements", NULL },
    { "ragchat_documents", NULL },
    { "ragchat_chunks", NULL },
    { "ragchat_sessions", NULL },
    { "ragchat_login_failures", NULL },
    { NULL, NULL }
};

typedef struct {
    apr_pool_t *pool;
    sqlite3 *src;
    const apr_dbd_driver_t *drv;
    apr_dbd_t *dst;
    int skip_orphans;
} ctx;

typedef struct {
    int n;
    const char **names;     /* quoted for SQL */
    const char **raw;
    const char **pgtype;    /* "integer", "bigint", "text", ... */
} columns;

typedef struct {
    long long rows;
    uint64_t sum;
} digest;

static void fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void fail(const char *fmt, ...)
{
    va_list ap;

    fputs("ragchat-migrate: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

static const char *pg_error(ctx *c, int rv)
{
    const char *m = apr_dbd_error(c->drv, c->dst, rv);
    return m && *m ? m : "error";
}

static int pg_run(ctx *c, const char *sql)
{
    int n = 0, rv = apr_dbd_query(c->drv, c->dst, &n, sql);

    if (rv) {
        fail("PostgreSQL: %s (in: %.80s)", pg_error(c, rv), sql);
    }
    return rv;
}

/* ---- the digest of a row ------------------------------------------------- */

/* Each value as a tag, its length and its bytes, so that no two rows of
 * different values serialise alike; NULL has a tag of its own. */
static void add_value(apr_pool_t *p, char **buf, size_t *len, size_t *cap, const char *v)
{
    size_t n = v ? strlen(v) : 0, need = *len + 1 + 8 + n;
    uint64_t l = n;

    if (need > *cap) {
        size_t ncap = need * 2 + 256;
        char *nb = apr_palloc(p, ncap);
        memcpy(nb, *buf, *len);
        *buf = nb;
        *cap = ncap;
    }
    (*buf)[(*len)++] = v ? 'V' : 'N';
    memcpy(*buf + *len, &l, 8);
    *len += 8;
    if (n) {
        memcpy(*buf + *len, v, n);
        *len += n;
    }
}

static uint64_t row_hash(const char *buf, size_t len)
{
    unsigned char h[32];
    uint64_t v;

    rc_sha256(buf, len, h);
    memcpy(&v, h, 8);
    return v;
}

/* ---- the source ------------------------------------------------------------ */

static int src_has_table(ctx *c, const char *t)
{
    sqlite3_stmt *st;
    int found = 0;

    if (sqlite3_prepare_v2(c->src, "SELECT 1 FROM sqlite_master WHERE name = ?"
                           " AND type = 'table'", -1, &st, NULL) != SQLITE_OK) {
        return -1;
    }
    sqlite3_bind_text(st, 1, t, -1, SQLITE_STATIC);
    found = sqlite3_step(st) == SQLITE_ROW;
    sqlite3_finalize(st);
    return found;
}

/* The source's column names of t. */
static apr_array_header_t *src_columns(ctx *c, const char *t)
{
    apr_array_header_t *a = apr_array_make(c->pool, 24, sizeof(const char *));
    sqlite3_stmt *st;
    char *sql = sqlite3_mprintf("PRAGMA table_info(\"%w\")", t);

    if (sqlite3_prepare_v2(c->src, sql, -1, &st, NULL) != SQLITE_OK) {
        sqlite3_free(sql);
        return NULL;
    }
    sqlite3_free(sql);
    while (sqlite3_step(st) == SQLITE_ROW) {
        APR_ARRAY_PUSH(a, const char *) = apr_pstrdup(c->pool,
                                                     (const char *)sqlite3_column_text(st, 1));
    }
    sqlite3_finalize(st);
    return a;
}

static long long src_count(ctx *c, const char *t, const char *where)
{
    sqlite3_stmt *st;
    long long n = -1;
    char *sql = sqlite3_mprintf("SELECT COUNT(*) FROM \"%w\"%s%s%s", t,
                                where ? " WHERE NOT (" : "", where ? where : "",
                                where ? ")" : "");

    if (sqlite3_prepare_v2(c->src, sql, -1, &st, NULL) == SQLITE_OK
        && sqlite3_step(st) == SQLITE_ROW) {
        n = sqlite3_column_int64(st, 0);
    }
    else {
        fail("SQLite: %s", sqlite3_errmsg(c->src));
    }
    sqlite3_finalize(st);
    sqlite3_free(sql);
    return n;
}

/* ---- the destination ----------------------------------------------------- */

/* The destination's columns of t that the source has too, in the
 * destination's order (generated columns left out); fails when the source
 * has a column the destination lacks (it would be lost). */
static columns *common_columns(ctx *c, const char *t, apr_array_header_t *src)
{
    columns *cols = apr_pcalloc(c->pool, sizeof(*cols));
    apr_hash_t *have = apr_hash_make(c->pool), *dest = apr_hash_make(c->pool);
    apr_dbd_results_t *res = NULL;
    apr_dbd_row_t *row = NULL;
    int i, rv, cap = 32;
    const char *sql = apr_psprintf(c->pool, "SELECT column_name, data_type FROM"
                                   " information_schema.columns WHERE table_schema ="
                                   " current_schema() AND table_name = '%s'"
                                   " AND is_generated = 'NEVER' ORDER BY ordinal_position", t);

    for (i = 0; i < src->nelts; i++) {
        apr_hash_set(have, APR_ARRAY_IDX(src, i, const char *), APR_HASH_KEY_STRING, "");
    }
    rv = apr_dbd_select(c->drv, c->pool, c->dst, &res, sql, 1);
    if (rv) {
        fail("PostgreSQL: %s", pg_error(c, rv));
        return NULL;
    }
    cols->names = apr_pcalloc(c->pool, cap * sizeof(char *));
    cols->raw = apr_pcalloc(c->pool, cap * sizeof(char *));
    cols->pgtype = apr_pcalloc(c->pool, cap * sizeof(char *));
    while (apr_dbd_get_row(c->drv, c->pool, res, &row, -1) == 0) {
        const char *name = apr_pstrdup(c->pool, apr_dbd_get_entry(c->drv, row, 0));
        const char *type = apr_pstrdup(c->pool, apr_dbd_get_entry(c->drv, row, 1));
        apr_hash_set(dest, name, APR_HASH_KEY_STRING, "");
        if (!apr_hash_get(have, name, APR_HASH_KEY_STRING) || cols->n >= cap) {
            continue;
        }
        cols->raw[cols->n] = name;
        cols->names[cols->n] = apr_psprintf(c->pool, "\"%s\"", name);
        cols->pgtype[cols->n] = type;
        cols->n++;
    }
    for (i = 0; i < src->nelts; i++) {
        const char *name = APR_ARRAY_IDX(src, i, const char *);
        if (!apr_hash_get(dest, name, APR_HASH_KEY_STRING)) {
            fail("the source's column %s.%s has no place in the destination: it would be "
                 "lost (nothing copied)", t, name);
            return NULL;
        }
    }
    return cols;
}

static const char *placeholder(const char *pgtype)
{
    if (strcmp(pgtype, "integer") == 0 || strcmp(pgtype, "smallint") == 0) {
        return "%d";
    }
    if (strcmp(pgtype, "bigint") == 0) {
        return "%lld";
    }
    return "%s";
}

static const char *column_list(apr_pool_t *p, const columns *cols)
{
    const char *s = "";
    int i;

    for (i = 0; i < cols->n; i++) {
        s = apr_pstrcat(p, s, i ? ", " : "", cols->names[i], NULL);
    }
    return s;
}

static long long dst_count(ctx *c, const char *t)
{
    apr_dbd_results_t *res = NULL;
    apr_dbd_row_t *row = NULL;
    long long n = -1;
    int rv = apr_dbd_select(c->drv, c->pool, c->dst, &res,
                            apr_psprintf(c->pool, "SELECT COUNT(*) FROM %s", t), 1);

    if (rv) {
        fail("PostgreSQL: %s", pg_error(c, rv));
        return -1;
    }
    while (apr_dbd_get_row(c->drv, c->pool, res, &row, -1) == 0) {
        n = apr_atoi64(apr_dbd_get_entry(c->drv, row, 0));
    }
    return n;
}

/* ---- copy and check -------------------------------------------------------- */

static sqlite3_stmt *src_select(ctx *c, const char *t, const columns *cols, const char *keep)
{
    sqlite3_stmt *st;
    char *sql = sqlite3_mprintf("SELECT %s FROM \"%w\"%s%s", column_list(c->pool, cols), t,
                                keep ? " WHERE " : "", keep ? keep : "");

    if (sqlite3_prepare_v2(c->src, sql, -1, &st, NULL) != SQLITE_OK) {
        fail("SQLite: %s", sqlite3_errmsg(c->src));
        st = NULL;
    }
    sqlite3_free(sql);
    return st;
}

/* Copies the kept rows of t; 0 or -1. */
static int copy_table(ctx *c, const char *t, const columns *cols, const char *keep,
                      long long *copied)
{
    apr_dbd_prepared_t *ins = NULL;
    sqlite3_stmt *st;
    const char *sql = apr_psprintf(c->pool, "INSERT INTO %s (%s) VALUES (", t,
                                   column_list(c->pool, cols));
    const char **vals = apr_pcalloc(c->pool, (cols->n + 1) * sizeof(char *));
    apr_pool_t *row;
    int i, rv = 0, step;

    for (i = 0; i < cols->n; i++) {
        sql = apr_pstrcat(c->pool, sql, i ? ", " : "", placeholder(cols->pgtype[i]), NULL);
    }
    sql = apr_pstrcat(c->pool, sql, ")", NULL);
    if ((rv = apr_dbd_prepare(c->drv, c->pool, c->dst, sql,
                              apr_psprintf(c->pool, "copy_%s", t), &ins)) != 0) {
        fail("PostgreSQL: %s", pg_error(c, rv));
        return -1;
    }
    if (!(st = src_select(c, t, cols, keep))) {
        return -1;
    }
    *copied = 0;
    apr_pool_create(&row, c->pool);
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        int n = 0;
        for (i = 0; i < cols->n; i++) {
            const unsigned char *v = sqlite3_column_text(st, i);
            vals[i] = v ? apr_pstrdup(row, (const char *)v) : NULL;
        }
        rv = apr_dbd_pquery(c->drv, row, c->dst, &n, ins, cols->n, vals);
        if (rv) {
            fail("PostgreSQL refused row %lld of %s (%s = %s): %s", *copied + 1, t,
                 cols->raw[0], vals[0] ? vals[0] : "NULL", pg_error(c, rv));
            break;
        }
        apr_pool_clear(row);
        (*copied)++;
    }
    apr_pool_destroy(row);
    if (rv) {
        sqlite3_finalize(st);
        return -1;
    }
    if (step != SQLITE_DONE) {
        fail("SQLite: reading %s: %s", t, sqlite3_errmsg(c->src));
        rv = -1;
    }
    sqlite3_finalize(st);
    return rv ? -1 : 0;
}

static void hash_row(apr_pool_t *p, digest *d, const columns *cols, const char **v)
{
    size_t len = 0, cap = 0;
    char *buf = NULL;
    int i;

    for (i = 0; i < cols->n; i++) {
        add_value(p, &buf, &len, &cap, v[i]);
    }
    d->rows++;
    d->sum += row_hash(buf ? buf : "", len);
}

static int src_digest(ctx *c, const char *t, const columns *cols, const char *keep,
                      digest *d)
{
    sqlite3_stmt *st = src_select(c, t, cols, keep);
    const char **v = apr_pcalloc(c->pool, (cols->n + 1) * sizeof(char *));
    apr_pool_t *row;
    int i, step;

    memset(d, 0, sizeof(*d));
    if (!st) {
        return -1;
    }
    apr_pool_create(&row, c->pool);
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        for (i = 0; i < cols->n; i++) {
            v[i] = (const char *)sqlite3_column_text(st, i);
        }
        hash_row(row, d, cols, v);
        apr_pool_clear(row);
    }
    apr_pool_destroy(row);
    sqlite3_finalize(st);
    if (step != SQLITE_DONE) {
        fail("SQLite: reading %s: %s", t, sqlite3_errmsg(c->src));
        return -1;
    }
    return 0;
}

/* Read through a cursor, BATCH rows at a time, inside a read-only transaction. */
static int dst_digest(ctx *c, const char *t, const columns *cols, digest *d)
{
    const char **v = apr_pcalloc(c->pool, (cols->n + 1) * sizeof(char *));
    apr_pool_t *batch;
    int i, rv, got;

    memset(d, 0, sizeof(*d));
    if (pg_run(c, "BEGIN READ ONLY")
        || pg_run(c, apr_psprintf(c->pool, "DECLARE rc_check NO SCROLL CURSOR FOR SELECT %s"
                                  " FROM %s", column_list(c->pool, cols), t))) {
        pg_run(c, "ROLLBACK");
        return -1;
    }
    apr_pool_create(&batch, c->pool);
    do {
        apr_dbd_results_t *res = NULL;
        apr_dbd_row_t *row = NULL;
        got = 0;
        rv = apr_dbd_select(c->drv, batch, c->dst, &res,
                            "FETCH FORWARD " BATCH " FROM rc_check", 1);
        if (rv) {
            fail("PostgreSQL: %s", pg_error(c, rv));
            break;
        }
        while (apr_dbd_get_row(c->drv, batch, res, &row, -1) == 0) {
            for (i = 0; i < cols->n; i++) {
                const char *s = NULL;
                v[i] = apr_dbd_datum_get(c->drv, row, i, APR_DBD_TYPE_STRING, &s)
                       == APR_SUCCESS ? s : NULL;
            }
            hash_row(batch, d, cols, v);
            got++;
        }
        apr_pool_clear(batch);
    } while (got == atoi(BATCH));
    apr_pool_destroy(batch);
    pg_run(c, rv ? "ROLLBACK" : "COMMIT");
    return rv ? -1 : 0;
}

/* ---- the command ----------------------------------------------------------- */

static int usage(void)
{
    fputs("usage: ragchat-migrate [--check] [--skip-orphans] SQLITE_FILE 'PGSQL_PARAMS'\n"
          "  Copies a chat_history.db (mod_ragchat's or the Chainlit app's) into an empty\n"
          "  PostgreSQL database and checks that both hold the same rows.\n"
          "  PGSQL_PARAMS: as DBDParams of DBDriver pgsql, e.g.\n"
          "    'host=/run/postgresql dbname=ragchat user=ragchat'\n"
          "  --check         only compare the two databases (after an earlier copy)\n"
          "  --skip-orphans  leave out rows whose parent row is missing (counted)\n", stderr);
    return 2;
}

typedef struct {
    const table_def *def;
    columns *cols;
    long long source, orphans, copied;
} plan;

int main(int argc, const char *const *argv)
{
    ctx c;
    const char *src_path = NULL, *params = NULL, *err = NULL;
    int check_only = 0, i, nt, failed = 0;
    plan plans[sizeof(tables) / sizeof(tables[0])];
    rc_schema_state st;
    long long total = 0;

    memset(&c, 0, sizeof(c));
    for (i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--check") == 0) {
            check_only = 1;
        }
        else if (strcmp(argv[i], "--skip-orphans") == 0) {
            c.skip_orphans = 1;
        }
        else if (argv[i][0] == '-' && argv[i][1]) {
            return usage();
        }
        else if (!src_path) {
            src_path = argv[i];
        }
        else if (!params) {
            params = argv[i];
        }
        else {
            return usage();
        }
    }
    if (!src_path || !params) {
        return usage();
    }
    apr_app_initialize(&argc, &argv, NULL);
    atexit(apr_terminate);
    apr_pool_create(&c.pool, NULL);
    apr_dbd_init(c.pool);

    if (access(src_path, R_OK) != 0
        || sqlite3_open_v2(src_path, &c.src, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK
        || sqlite3_exec(c.src, "SELECT COUNT(*) FROM sqlite_master", NULL, NULL, NULL)
           != SQLITE_OK) {
        fail("%s: cannot read it as a SQLite database%s%s", src_path, c.src ? ": " : "",
             c.src ? sqlite3_errmsg(c.src) : "");
        return 1;
    }
    sqlite3_busy_timeout(c.src, 10000);
    if (apr_dbd_get_driver(c.pool, "pgsql", &c.drv) != APR_SUCCESS) {
        fail("APR's pgsql driver is missing (Debian: apt install libaprutil1-dbd-pgsql)");
        return 1;
    }
    if (apr_dbd_open_ex(c.drv, c.pool, params, &c.dst, &err) != APR_SUCCESS) {
        fail("cannot connect to PostgreSQL: %s", err ? err : "unknown error");
        return 1;
    }
    if (rc_schema_upgrade(c.pool, c.drv, c.dst, &st, &err)) {
        fail("the schema: %s", err);
        return 1;
    }
    printf("ragchat-migrate: %s -> PostgreSQL (schema version %d%s)\n", src_path, st.to,
           st.to > st.from ? ", created now" : "");

    /* What there is, and whether it can go. */
    for (nt = 0, i = 0; tables[i].name; i++) {
        plan *pl = &plans[nt];
        apr_array_header_t *sc;
        int has = src_has_table(&c, tables[i].name);
        if (has < 0) {
            fail("SQLite: %s", sqlite3_errmsg(c.src));
            return 1;
        }
        if (!has) {
            printf("  %-24s not in the source\n", tables[i].name);
            continue;
        }
        memset(pl, 0, sizeof(*pl));
        pl->def = &tables[i];
        if (!(sc = src_columns(&c, tables[i].name))
            || !(pl->cols = common_columns(&c, tables[i].name, sc))) {
            return 1;
        }
        pl->source = src_count(&c, tables[i].name, NULL);
        pl->orphans = tables[i].keep ? src_count(&c, tables[i].name, tables[i].keep) : 0;
        if (pl->source < 0 || pl->orphans < 0) {
            return 1;
        }
        if (pl->orphans && !c.skip_orphans && !check_only) {
            fail("%lld of the %lld rows of %s have no parent row (%s): copy the others with "
                 "--skip-orphans", pl->orphans, pl->source, tables[i].name,
                 strcmp(tables[i].name, "threads") == 0 ? "their user is missing"
                                                        : "their thread is missing");
            return 1;
        }
        if (!check_only) {
            long long n = dst_count(&c, tables[i].name);
            if (n != 0) {
                if (n > 0) {
                    fail("the destination's %s already holds %lld rows: migrate into an empty "
                         "database (or compare with --check)", tables[i].name, n);
                }
                return 1;
            }
        }
        nt++;
    }

    if (!check_only) {
        if (pg_run(&c, "BEGIN")) {
            return 1;
        }
        for (i = 0; i < nt; i++) {
            if (copy_table(&c, plans[i].def->name, plans[i].cols,
                           c.skip_orphans ? plans[i].def->keep : NULL, &plans[i].copied)) {
                pg_run(&c, "ROLLBACK");
                fail("nothing was copied");
                return 1;
            }
        }
        if (pg_run(&c, "COMMIT")) {
            fail("nothing was copied");
            return 1;
        }
    }

    /* The check: rows and contents on both sides. */
    for (i = 0; i < nt; i++) {
        const plan *pl = &plans[i];
        const char *keep = c.skip_orphans || check_only ? pl->def->keep : NULL;
        digest ds, dd;
        if (src_digest(&c, pl->def->name, pl->cols, keep, &ds)
            || dst_digest(&c, pl->def->name, pl->cols, &dd)) {
            return 1;
        }
        total += dd.rows;
        if (ds.rows != dd.rows || ds.sum != dd.sum) {
            printf("  %-24s DIFFERENT: source %lld rows, destination %lld rows%s\n",
                   pl->def->name, ds.rows, dd.rows,
                   ds.rows == dd.rows ? ", other contents" : "");
            failed = 1;
            continue;
        }
        printf("  %-24s %8lld row%s%s, identical (%d columns)", pl->def->name, dd.rows,
               dd.rows == 1 ? "" : "s", check_only ? "" : " copied", pl->cols->n);
        if (pl->orphans && (c.skip_orphans || check_only)) {
            printf(", %lld without a parent left out", pl->orphans);
        }
        putchar('\n');
    }
    printf("  %-24s not copied (running answers)\n", "ragchat_streams");
    if (failed) {
        fail("the databases differ");
        return 1;
    }
    printf("done: %lld rows in %d tables, the same on both sides\n", total, nt);
    apr_dbd_close(c.drv, c.dst);
    sqlite3_close(c.src);
    return 0;
}
