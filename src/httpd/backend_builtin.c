/* RagChatBackend builtin: extractive retrieval over each user's uploaded
 * documents, with the database's own full-text search (SQLite FTS5, or
 * PostgreSQL's tsvector), answered through the chat stream like a real
 * backend (but saying plainly that no language model is involved).
 *
 * Uploads: the file is buffered (up to the upload limit), its text extracted
 * (PDF with poppler, from memory; HTML and JSON through retrieval_text.c), cut
 * into overlapping passages and stored in ragchat_documents + ragchat_chunks,
 * in one transaction. A new upload of the same name replaces the user's
 * earlier document of that name.
 *
 * Questions: the last user message (the previous one weighs half, as context)
 * becomes a quoted, ORed query (FTS5's MATCH syntax, or to_tsquery's), bound
 * as a parameter; the best passages of this user's documents (bm25, or
 * ts_rank) are quoted in a markdown answer streamed in word-sized tokens,
 * the matched words in bold, after a ```json block naming them as its
 * sources.
 *
 * The tables are created with the schema and their statements are in
 * store_docs.c. On a driver with neither (not sqlite3 nor pgsql) the builtin
 * backend answers 501. */
#include "backend.h"
#include "json.h"
#include "schema.h"
#include "store.h"
#include "retrieval_text.h"
#include "buf.h"
#include "ids.h"

#include "http_log.h"
#include "http_protocol.h"
#include "apr_strings.h"

#include <poppler.h>

APLOG_USE_MODULE(ragchat);

#define RC_BUILTIN_QUOTED   3        /* of which quoted at most */
#define RC_BUILTIN_TERMS    32       /* terms of a question */
#define RC_BUILTIN_MAX_CHUNKS 20000  /* passages of one document */
#define RC_BUILTIN_READS    "PDF, plain text, Markdown, CSV, HTML and JSON"

#define NO_SEARCH_MSG "the built-in backend needs the full-text search of SQLite or " \
                      "PostgreSQL: set DBDriver sqlite3 or pgsql, or point RagChatBackend " \
                      "at a RAG backend"

/* ---- the document tables ------------------------------------------------ */

/* The document tables are created with the rest of the schema when a
 * connection opens, on SQLite (FTS5) and PostgreSQL (tsvector). 0, or 501
 * with *err set on another driver. */
static int builtin_schema_ready(rc_db *db, const char **err)
{
    rc_driver_kind kind = rc_driver_of(db->dbd->driver);

    if (kind == RC_DRIVER_SQLITE || kind == RC_DRIVER_PGSQL) {
        return 0;
    }
    ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, db->r, "RC0701: RagChatBackend builtin "
                  "with DBDriver %s: %s", apr_dbd_name(db->dbd->driver), NO_SEARCH_MSG);
    *err = NO_SEARCH_MSG;
    return HTTP_NOT_IMPLEMENTED;
}

/* ---- ingestion ----------------------------------------------------------- */

typedef enum { KIND_TEXT, KIND_MARKDOWN, KIND_CSV, KIND_HTML, KIND_JSON, KIND_PDF } doc_kind;

typedef struct {
    rc_req *q;
    apr_pool_t *p;
    const char *name, *mime;
    doc_kind kind;
    rc_buf *data;
    apr_off_t limit;
    int over;                    /* more than limit was written */
} builtin_doc;

/* Totals of the upload's ingested documents, for its message. */
typedef struct {
    int docs, chunks;
} ingest_totals;

static const struct {
    const char *ext, *mime;
    doc_kind kind;
} known_types[] = {
    { ".txt", "text/plain", KIND_TEXT }, { ".text", NULL, KIND_TEXT },
    { ".log", NULL, KIND_TEXT }, { ".md", "text/markdown", KIND_MARKDOWN },
    { ".markdown", "text/x-markdown", KIND_MARKDOWN }, { ".csv", "text/csv", KIND_CSV },
    { ".tsv", "text/tab-separated-values", KIND_CSV }, { ".html", "text/html", KIND_HTML },
    { ".htm", "application/xhtml+xml", KIND_HTML }, { ".xhtml", NULL, KIND_HTML },
    { ".json", "application/json", KIND_JSON }, { ".pdf", "application/pdf", KIND_PDF },
    { NULL, NULL, KIND_TEXT }
};

/* What a type the builtin backend cannot read is, for the 415 message. */
static const char *type_label(apr_pool_t *p, const char *ext, const char *mime)
{
    static const struct { const char *ext, *what; } labels[] = {
        { ".docx", "Word documents" }, { ".doc", "Word documents" },
        { ".pptx", "PowerPoint presentations" }, { ".ppt", "PowerPoint presentations" },
        { ".xlsx", "Excel workbooks" }, { ".xls", "Excel workbooks" },
        { ".odt", "OpenDocument texts" }, { ".rtf", "RTF documents" },
        { NULL, NULL }
    };
    int i;

    for (i = 0; ext && labels[i].ext; i++) {
        if (strcasecmp(ext, labels[i].ext) == 0) {
            return apr_psprintf(p, "%s (%s)", labels[i].what, ext);
        }
    }
    if (ext) {
        return apr_psprintf(p, "%s files%s%s%s", ext, mime ? " (" : "", mime ? mime : "",
                            mime ? ")" : "");
    }
    return apr_psprintf(p, "files of type %s", mime ? mime : "unknown");
}

static int kind_of(apr_pool_t *p, const char *name, const char *mime, doc_kind *kind)
{
    const char *ext = name ? strrchr(name, '.') : NULL;
    char *mt = NULL;
    int i;

    if (mime) {
        mt = apr_pstrdup(p, mime);
        mt[strcspn(mt, "; \t")] = '\0';
    }
    for (i = 0; ext && known_types[i].ext; i++) {
        if (strcasecmp(ext, known_types[i].ext) == 0) {
            *kind = known_types[i].kind;
            return 1;
        }
    }
    for (i = 0; mt && known_types[i].ext; i++) {
        if (known_types[i].mime && strcasecmp(mt, known_types[i].mime) == 0) {
            *kind = known_types[i].kind;
            return 1;
        }
    }
    return 0;
}

/* NULL with *status (415 for a type it cannot read) and *err set. */
static builtin_doc *doc_begin(rc_req *q, apr_pool_t *p, const char *name, const char *mime,
                              int *status, const char **err)
{
    builtin_doc *d;
    doc_kind kind;
    apr_pool_t *tmp;
    rc_db *db;
    int rv;

    if (!kind_of(p, name, mime, &kind)) {
        const char *ext = name ? strrchr(name, '.') : NULL;
        *status = HTTP_UNSUPPORTED_MEDIA_TYPE;
        *err = apr_psprintf(p, "the built-in backend cannot read %s; it reads "
                            RC_BUILTIN_READS " (save the file as PDF or text first)",
                            type_label(p, ext, mime));
        return NULL;
    }
    /* Fail before the upload is read when the store cannot exist here. */
    apr_pool_create(&tmp, p);
    db = rc_db_open(q->r, tmp);
    if (!db) {
        apr_pool_destroy(tmp);
        *status = HTTP_SERVICE_UNAVAILABLE;
        *err = "the database is unavailable";
        return NULL;
    }
    rv = builtin_schema_ready(db, err);
    rc_db_release(db);
    apr_pool_destroy(tmp);
    if (rv) {
        *status = rv;
        return NULL;
    }
    d = apr_pcalloc(p, sizeof(*d));
    d->q = q;
    d->p = p;
    d->name = apr_pstrdup(p, name && *name ? name : "document");
    d->mime = mime ? apr_pstrdup(p, mime) : NULL;
    d->kind = kind;
    d->data = rc_buf_make(p, 64 * 1024);
    d->limit = rc_conf_upload_max_size(q->conf);
    *status = 0;
    return d;
}

/* Buffers at most the upload limit. */
static int doc_write(builtin_doc *d, const char *buf, apr_size_t len)
{
    if (!d || d->over) {
        return -1;
    }
    if ((apr_off_t)(d->data->len + len) > d->limit) {
        d->over = 1;
        return -1;
    }
    return rc_buf_append(d->data, buf, len);
}

/* The text of a PDF held in memory: the pages' text, a blank line between
 * pages. NULL with *err set when poppler cannot open it. */
static char *pdf_text(builtin_doc *d, size_t *outlen, const char **err)
{
    GBytes *bytes = g_bytes_new_static(d->data->data, d->data->len);
    GError *gerr = NULL;
    PopplerDocument *doc = poppler_document_new_from_bytes(bytes, NULL, &gerr);
    apr_pool_t *tmp;
    rc_buf *b;
    char *text;
    int i, pages;

    if (!doc) {
        int encrypted = gerr && gerr->domain == POPPLER_ERROR
                        && gerr->code == POPPLER_ERROR_ENCRYPTED;
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, d->q->r, "RC0703: %s is not a readable PDF: %s",
                      d->name, gerr ? gerr->message : "unknown error");
        *err = encrypted ? "this PDF is password-protected: upload it without the password"
                         : apr_psprintf(d->p, "this file could not be read as a PDF (%s)",
                                        gerr ? gerr->message : "unknown error");
        if (gerr) {
            g_error_free(gerr);
        }
        g_bytes_unref(bytes);
        return NULL;
    }
    apr_pool_create(&tmp, d->p);
    b = rc_buf_make(tmp, d->data->len / 4 + 1024);
    pages = poppler_document_get_n_pages(doc);
    for (i = 0; i < pages; i++) {
        PopplerPage *page = poppler_document_get_page(doc, i);
        char *t = page ? poppler_page_get_text(page) : NULL;
        if (t) {
            rc_buf_appends(b, t);
            rc_buf_appends(b, "\n\n");
            g_free(t);
        }
        if (page) {
            g_object_unref(page);
        }
    }
    g_object_unref(doc);
    g_bytes_unref(bytes);
    text = rc_text_normalize(d->p, b->data, b->len, outlen);
    apr_pool_destroy(tmp);
    return text;
}

/* The document's normalised text, or NULL with *err and *status set. */
static char *document_text(builtin_doc *d, size_t *len, int *status, const char **err)
{
    const char *raw = d->data->data;
    size_t n = d->data->len;
    char *text;

    *status = HTTP_UNSUPPORTED_MEDIA_TYPE;
    switch (d->kind) {
    case KIND_PDF:
        return pdf_text(d, len, err);
    case KIND_HTML:
        return rc_text_from_html(d->p, raw, n, len);
    case KIND_JSON:
        text = rc_text_from_json(d->p, raw, n, len);
        if (!text) {
            *err = "this file is not valid JSON";
        }
        return text;
    case KIND_TEXT:
    case KIND_MARKDOWN:
    case KIND_CSV:
    default:
        if (n >= 5 && memcmp(raw, "%PDF-", 5) == 0) {
            return pdf_text(d, len, err);   /* a PDF under another name */
        }
        return rc_text_normalize(d->p, raw, n, len);
    }
}

static int store_document(builtin_doc *d, rc_db *db, const char *text,
                          apr_array_header_t *chunks, int nchunks)
{
    rc_doc doc;
    apr_dbd_transaction_t *tx;
    apr_pool_t *row;
    int i, rv;

    doc.id = rc_uuid4(d->p);
    doc.user_ident = d->q->user;
    doc.name = d->name;
    doc.mime = d->mime;
    doc.size = apr_psprintf(d->p, "%lu", (unsigned long)d->data->len);
    doc.chunks = apr_itoa(d->p, nchunks);
    doc.created = rc_timestamp(d->p, apr_time_now());
    if (rc_db_begin(db, &tx)) {
        return -1;
    }
    /* The same name again replaces the user's earlier document. */
    rv = rc_store_doc_remove_named(db, doc.user_ident, doc.name)
      || rc_store_doc_insert(db, &doc);
    apr_pool_create(&row, d->p);
    for (i = 0; !rv && i < nchunks; i++) {
        rc_text_chunk *c = &APR_ARRAY_IDX(chunks, i, rc_text_chunk);
        rv = rc_store_passage_insert(db, &doc, apr_itoa(row, i),
                                     apr_pstrmemdup(row, text + c->off, c->len));
        apr_pool_clear(row);
    }
    apr_pool_destroy(row);
    if (rc_db_end(db, tx, rv) && !rv) {
        rv = -1;
    }
    return rv;
}

/* Extracts the text, cuts it into passages and stores them for this user,
 * counted in totals. 0, or an HTTP status with *err set. */
static int doc_end(builtin_doc *d, ingest_totals *totals, const char **err)
{
    request_rec *r;
    apr_array_header_t *chunks;
    size_t len = 0;
    char *text;
    rc_db *db;
    int status, nchunks, rv;

    if (!d) {
        *err = "no document";
        return HTTP_BAD_REQUEST;
    }
    r = d->q->r;
    if (d->over) {
        *err = "the document is larger than the upload limit";
        return HTTP_REQUEST_ENTITY_TOO_LARGE;
    }
    text = document_text(d, &len, &status, err);
    if (!text) {
        return status;
    }
    if (len == 0) {
        *err = d->kind == KIND_PDF ? "this PDF contains no text to search (a scanned PDF "
                                     "needs OCR first)"
                                   : "this document contains no text to search";
        return HTTP_BAD_REQUEST;
    }
    chunks = rc_text_chunks(d->p, text, len, RC_TEXT_CHUNK_TARGET, RC_TEXT_CHUNK_OVERLAP);
    nchunks = chunks->nelts;
    if (nchunks > RC_BUILTIN_MAX_CHUNKS) {
        ap_log_rerror(APLOG_MARK, APLOG_NOTICE, 0, r, "RC0704: %s has %d passages: only "
                      "the first %d are indexed", d->name, nchunks, RC_BUILTIN_MAX_CHUNKS);
        nchunks = RC_BUILTIN_MAX_CHUNKS;
    }
    db = rc_db_open(r, d->p);
    if (!db) {
        *err = "the database is unavailable";
        return HTTP_SERVICE_UNAVAILABLE;
    }
    if ((status = builtin_schema_ready(db, err)) != 0) {
        rc_db_release(db);
        return status;
    }
    rv = store_document(d, db, text, chunks, nchunks);
    rc_db_release(db);
    rc_buf_clear(d->data);
    if (rv) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, "RC0705: could not store %s for %s",
                      d->name, d->q->user);
        *err = "the document could not be stored";
        return HTTP_SERVICE_UNAVAILABLE;
    }
    ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, "RC0706: ingested %s for %s: %lu bytes of "
                  "text, %d passages", d->name, d->q->user, (unsigned long)len, nchunks);
    totals->docs++;
    totals->chunks += nchunks;
    return 0;
}

/* ---- answering ------------------------------------------------------------- */

/* A passage's score: higher is better (bm25's rank is lower for better). */
static double score(const rc_passage *h)
{
    return -h->rank;
}

/* The leading ```json block a RAG backend sends with its answer, naming the
 * passages found (the chat keeps it as the answer's sources). bm25 is only
 * comparable within one search (and tiny in a small collection): the score is
 * relative to the best passage. A backtick would end the block early: JSON
 * writes it \u0060. */
static const char *sources_preamble(apr_pool_t *p, apr_array_header_t *hits)
{
    const rc_passage *best = &APR_ARRAY_IDX(hits, 0, rc_passage);
    json_t *list = json_array();
    rc_buf *b = rc_buf_make(p, 1024);
    const char *json, *c;
    int i;

    for (i = 0; i < hits->nelts; i++) {
        const rc_passage *h = &APR_ARRAY_IDX(hits, i, rc_passage);
        double rel = score(best) > 0 ? score(h) / score(best) : 1.0;
        json_array_append_new(list, json_pack("{s:o,s:o,s:i,s:f}",
                                              "title", rc_json_string(h->name),
                                              "file", rc_json_string(h->name),
                                              "passage", atoi(h->ordinal) + 1,
                                              "score", (double)(int)(rel * 1000 + 0.5) / 1000));
    }
    json = rc_json_dump(p, rc_json_pool(p, json_pack("{s:o}", "sources", list)));
    rc_buf_appends(b, "```json\n");
    for (c = json; *c; c++) {
        if (*c == '`') {
            rc_buf_appends(b, "\\u0060");
        }
        else {
            rc_buf_append(b, c, 1);
        }
    }
    rc_buf_appends(b, "\n```\n");
    return rc_buf_pstrdup(p, b);
}

/* Sends text in word-sized tokens (a word and the whitespace after it), each
 * appended to the answer. */
static void stream_text(rc_sse_out *out, rc_buf *answer, const char *s)
{
    size_t n = strlen(s), i = 0;

    while (i < n) {
        size_t j = i;
        while (j < n && s[j] != ' ' && s[j] != '\n') {
            j++;
        }
        while (j < n && (s[j] == ' ' || s[j] == '\n')) {
            j++;
        }
        rc_buf_append(answer, s + i, j - i);
        rc_sse_out_token(out, s + i, j - i);
        i = j;
    }
}

/* The last user message and the one before it, from the history. */
static void last_questions(json_t *history, const char **last, const char **prev)
{
    size_t i = json_is_array(history) ? json_array_size(history) : 0;

    *last = *prev = NULL;
    while (i-- > 0 && !*prev) {
        json_t *m = json_array_get(history, i);
        const char *role = rc_json_get_str(m, "role"), *content = rc_json_get_str(m, "content");
        if (!role || strcmp(role, "user") || !content) {
            continue;
        }
        if (!*last) {
            *last = content;
        }
        else {
            *prev = content;
        }
    }
}

static const char *passage_no(apr_pool_t *p, const rc_passage *h)
{
    return apr_itoa(p, atoi(h->ordinal) + 1);
}

/* A passage quoted on one line, markdown made inert, the words the search
 * matched (between the store's marks) in bold. */
static const char *quote_passage(apr_pool_t *p, const char *text)
{
    const char *q = rc_text_md_inline(p, text, strlen(text)), *s;
    rc_buf *b = rc_buf_make(p, strlen(q) + 64);

    for (s = q; *s; s++) {
        if (*s == RC_STORE_MARK_ON || *s == RC_STORE_MARK_OFF) {
            rc_buf_appends(b, "**");
        }
        else {
            rc_buf_append(b, s, 1);
        }
    }
    return rc_buf_pstrdup(p, b);
}

static const char *compose_hits(apr_pool_t *p, apr_array_header_t *hits)
{
    const rc_passage *best = &APR_ARRAY_IDX(hits, 0, rc_passage);
    rc_buf *b = rc_buf_make(p, 4096);
    int i, quoted;

    rc_buf_appends(b, "*Built-in retrieval, no language model: these are the passages of "
                      "your documents that best match your question, quoted as written "
                      "(the matching words in bold).*\n\n");
    for (i = 0, quoted = 0; i < hits->nelts && quoted < RC_BUILTIN_QUOTED; i++) {
        const rc_passage *h = &APR_ARRAY_IDX(hits, i, rc_passage);
        int j, dup = 0;
        /* A passage far weaker than the best is listed, not quoted. */
        if (i > 0 && score(h) < score(best) * 0.4) {
            break;
        }
        for (j = 0; j < i && !dup; j++) {
            dup = strcmp(APR_ARRAY_IDX(hits, j, rc_passage).text, h->text) == 0;
        }
        if (dup) {
            continue;      /* the same text again (a repeated section) */
        }
        quoted++;
        rc_buf_appends(b, apr_psprintf(p, "> **%s**, passage %s\n>\n> %s\n\n",
                                       rc_text_md_inline(p, h->name, strlen(h->name)),
                                       passage_no(p, h), quote_passage(p, h->text)));
    }
    /* the sources before the answer, as a RAG backend sends them */
    return apr_pstrcat(p, sources_preamble(p, hits), rc_buf_pstrdup(p, b), NULL);
}

static const char *compose_no_documents(void)
{
    return "You have not uploaded any documents yet. This is the built-in retrieval "
           "backend (no language model): it answers by quoting the passages of your "
           "documents that match your question.\n\n"
           "Upload one with the paperclip button (Attach files) next to the message box, "
           "or drag and drop "
           "files onto the chat (" RC_BUILTIN_READS "), then ask me about them.";
}

static const char *compose_no_match(apr_pool_t *p, int ndocs)
{
    return apr_psprintf(p, "I found nothing that matches your question in your %d "
                        "document%s. This is the built-in retrieval backend (no language "
                        "model): it only finds passages that share words with the question, "
                        "so try other words, or upload a document that covers it.",
                        ndocs, ndocs == 1 ? "" : "s");
}

/* What the chat says of a failed answer (what was streamed is kept). */
static rc_answer_outcome answer_failed(rc_answer *a)
{
    a->error = "The document store could not be searched right now. Try again in a minute.";
    return RC_ANSWER_BROKEN;
}

/* Answers the last user message of the history (the one before it weighs
 * half, as context), quoting the best passages of the user's documents. */
static rc_answer_outcome builtin_answer(rc_answer *a)
{
    rc_req *q = a->q;
    request_rec *r = a->r;
    rc_sse_out *out = a->out;
    rc_buf *answer = a->answer;
    const char *last, *prev, *query, *text, *err = NULL;
    apr_array_header_t *hits = NULL;
    apr_pool_t *p;
    rc_db *db;
    int ndocs, rv = 0;

    /* Nothing can fail before the answer: the stream opens at once. */
    a->open(a);
    apr_pool_create(&p, r->pool);
    last_questions(a->history, &last, &prev);
    db = rc_db_open(r, p);
    if (!db) {
        stream_text(out, answer, "The document store is unavailable right now (database "
                                 "error); please try again.");
        apr_pool_destroy(p);
        return answer_failed(a);
    }
    if (builtin_schema_ready(db, &err)) {
        rc_db_release(db);
        stream_text(out, answer, apr_pstrcat(p, "The built-in backend cannot answer here: ",
                                             err, ".", NULL));
        apr_pool_destroy(p);
        return RC_ANSWER_DONE;
    }
    ndocs = rc_store_doc_count(db, q->user);
    query = !last ? NULL : rc_db_is_sqlite(db) ? rc_text_fts_query(p, last, prev, RC_BUILTIN_TERMS)
                                               : rc_text_tsquery(p, last, prev, RC_BUILTIN_TERMS);
    if (ndocs > 0 && query) {
        hits = rc_store_passages_search(db, q->user, query);
        if (!hits) {
            ndocs = -1;
        }
    }
    rc_db_release(db);

    if (ndocs < 0) {
        text = "The document store could not be searched (database error); please try again.";
        rv = -1;
    }
    else if (ndocs == 0) {
        text = compose_no_documents();
    }
    else if (!hits || hits->nelts == 0) {
        text = compose_no_match(p, ndocs);
    }
    else {
        text = compose_hits(p, hits);
    }
    /* Never the query: its terms are the user's words. */
    ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r, "RC0707: builtin answer for %s: %s, "
                  "%d documents, %d passages", ap_escape_logitem(r->pool, q->user),
                  query ? "searched" : "no search terms", ndocs, hits ? hits->nelts : 0);
    stream_text(out, answer, text);
    apr_pool_destroy(p);
    return rv ? answer_failed(a) : RC_ANSWER_DONE;
}

/* ---- uploads ----------------------------------------------------------------- */

static int builtin_upload_start(rc_upload *u)
{
    u->backend = apr_pcalloc(u->r->pool, sizeof(ingest_totals));
    return 0;
}

static int builtin_file_begin(rc_upload *u, rc_upload_file *f)
{
    int status = HTTP_INTERNAL_SERVER_ERROR;
    const char *err = NULL;

    f->doc = doc_begin(u->q, u->r->pool, f->name, f->mime, &status, &err);
    if (!f->doc) {
        return rc_upload_fail(u, status, status == HTTP_UNSUPPORTED_MEDIA_TYPE
                                         ? "unsupported_type" : "ingestion",
                              "%s: %s", f->name, err ? err : "the document cannot be ingested");
    }
    return 0;
}

static int builtin_file_write(rc_upload *u, rc_upload_file *f, const char *data, size_t len)
{
    if (doc_write(f->doc, data, len)) {
        return rc_upload_fail(u, HTTP_REQUEST_ENTITY_TOO_LARGE, "too_large",
                              "%s: the document is too large to ingest", f->name);
    }
    return 0;
}

static int builtin_body_end(rc_upload *u)
{
    (void)u;
    return 0;
}

/* The files are buffered: the rest of the body is read before any is stored. */
static int builtin_send(rc_upload *u)
{
    while (!u->status && !u->eos) {
        u->read(u, APR_BLOCK_READ);
    }
    return u->status ? -1 : 0;
}

/* Stores the documents, like a real backend's {"message"}: e.g. "Ingested 2
 * documents (14 passages)". */
static const char *builtin_finish(rc_upload *u)
{
    ingest_totals *totals = u->backend;
    int i;

    for (i = 0; i < u->files->nelts; i++) {
        rc_upload_file *f = APR_ARRAY_IDX(u->files, i, rc_upload_file *);
        const char *err = NULL;
        int st = doc_end(f->doc, totals, &err);
        if (st) {
            rc_upload_fail(u, st, "ingestion", "%s: %s", f->name,
                           err ? err : "the document could not be ingested");
            return NULL;
        }
    }
    if (totals->docs <= 0) {
        return "No document was ingested.";
    }
    return apr_psprintf(u->r->pool, "Ingested %d document%s (%d passage%s). Ask me about %s.",
                        totals->docs, totals->docs == 1 ? "" : "s", totals->chunks,
                        totals->chunks == 1 ? "" : "s", totals->docs == 1 ? "it" : "them");
}

const rc_backend rc_backend_builtin = {
    "builtin", builtin_answer, builtin_upload_start, builtin_file_begin, builtin_file_write,
    builtin_body_end, builtin_send, builtin_finish
};
