/* The backend's history within its budget (see history.h). */
#include "history.h"
#include "json.h"

#include "apr_strings.h"

/* Steps read per statement when walking back through the chain. */
#define RC_HISTORY_READ 32

/* Characters (code points) of UTF-8 text: continuation bytes do not count. */
static long utf8_chars(const char *s)
{
    long n = 0;

    for (; *s; s++) {
        n += ((unsigned char)*s & 0xC0) != 0x80;
    }
    return n;
}

/* 1 when the step is sent: a user's message, or an answer with text (one
 * that failed before any text adds nothing). */
static int is_sent(const rc_step *m)
{
    return m->output && (rc_step_kind(m) == 1 || *m->output);
}

typedef struct {
    const rc_history_budget *budget;
    json_t *newest_first;        /* the messages taken, newest first */
    long chars;
    int full;                    /* the budget is spent: older ones are dropped */
    int dropped;
} walk;

/* Takes a message if the budget allows (the first one always). */
static void take(walk *w, const char *role, const char *text)
{
    long n = utf8_chars(text);
    int count = (int)json_array_size(w->newest_first);

    if (w->full || (count > 0 && (count >= w->budget->max_messages
                                  || w->chars + n > w->budget->max_chars))) {
        w->full = 1;
        w->dropped++;
        return;
    }
    w->chars += n;
    json_array_append_new(w->newest_first, json_pack("{s:s,s:o}", "role", role,
                                                     "content", rc_json_string(text)));
}

/* Reads the chain's steps [lo, hi) and takes them newest first. */
static int take_piece(walk *w, rc_db *db, const rc_conversation *c,
                      const apr_array_header_t *chain, int lo, int hi)
{
    apr_pool_t *p;
    apr_array_header_t *steps;
    int i;

    if (!db) {
        return -1;    /* a new thread's history (its question) is read from nothing */
    }
    apr_pool_create(&p, db->pool);
    steps = rc_conversation_read(rc_db_scratch(db, p), c, &APR_ARRAY_IDX(chain, lo, int),
                                 hi - lo);
    for (i = steps ? steps->nelts - 1 : -1; i >= 0; i--) {
        const rc_step *m = APR_ARRAY_IDX(steps, i, rc_step *);
        if (is_sent(m)) {
            take(w, rc_step_kind(m) == 1 ? "user" : "assistant", m->output);
        }
    }
    apr_pool_destroy(p);
    return steps ? 0 : -1;
}

json_t *rc_history_messages(rc_db *db, const rc_conversation *c,
                            const apr_array_header_t *chain, const char *question,
                            const rc_history_budget *budget, int *dropped)
{
    walk w;
    json_t *out;
    int hi = chain ? chain->nelts : 0, i;

    memset(&w, 0, sizeof(w));
    w.budget = budget;
    w.newest_first = json_array();
    if (question) {
        take(&w, "user", question);
    }
    /* Once the budget is spent the rest is only counted, never read. */
    while (hi > 0 && !w.full) {
        int lo = hi > RC_HISTORY_READ ? hi - RC_HISTORY_READ : 0;
        if (take_piece(&w, db, c, chain, lo, hi)) {
            json_decref(w.newest_first);
            return NULL;
        }
        hi = lo;
    }
    /* A history that would start with an answer starts with its question. */
    i = (int)json_array_size(w.newest_first) - 1;
    if (i > 0 && strcmp(json_string_value(json_object_get(
                            json_array_get(w.newest_first, i), "role")), "assistant") == 0) {
        json_array_remove(w.newest_first, i);
        w.dropped++;
    }
    out = json_array();
    for (i = (int)json_array_size(w.newest_first) - 1; i >= 0; i--) {
        json_array_append(out, json_array_get(w.newest_first, i));
    }
    json_decref(w.newest_first);
    if (dropped) {
        *dropped = w.dropped + (w.full ? hi : 0);
    }
    return out;
}
