/* The font cache: what every document would otherwise load again, loaded
 * once and shared by the documents made with the cache.  An httpd child
 * makes one in its own pool (it lives as long as the child) and every export
 * of every thread of the child uses it:
 *
 *  - HarfBuzz faces and fonts of the TrueType files (the file mapped, its
 *    tables parsed, the shaper's lookups built on first use), made immutable
 *    so that threads shape with them at the same time;
 *  - for the fonts of up to PREPARE_MAX that documents keep subsetting, the
 *    face prepared for the subsetter (hb_subset_preprocess: the same subset,
 *    made in about half the time);
 *  - the widths of the standard fonts' WinAnsi bytes;
 *  - fontconfig's answers: the TrueType files that have a character.
 *
 * Entries are added on first use under one mutex and never change or go
 * away afterwards, so a document reads what it got without the lock.  The
 * cache does not grow with the number of documents: faces are bounded by the
 * font files there are (at most CACHE_FACES), fontconfig answers by
 * CACHE_LOOKUPS characters; past those a document loads for itself, as it
 * does without a cache. */
#include "pdf_internal.h"

#include <apr_hash.h>
#include <apr_strings.h>
#include <apr_thread_mutex.h>
#include <hb.h>
#include <hb-subset.h>
#include <stdlib.h>
#include <string.h>

#define CACHE_FACES   256
#define CACHE_LOOKUPS 512
/* Prepared for the subsetter: a font file up to this size (the prepared copy
 * and its tables cost a few times the file), from its second subset on (a
 * font a child subsets once is not worth it). */
#define PREPARE_MAX   (1536 * 1024)
#define PREPARE_AFTER 2

typedef struct {
    int ok;                      /* an embeddable TrueType face */
    hb_face_t *face;
    hb_font_t *font;
    unsigned size;               /* bytes of the font file */
    int subsets;                 /* documents that subset it so far */
    hb_face_t *prepared;         /* for the subsetter (PREPARE_*), or NULL */
} cached_face;

/* malloc'd (freed by the pool's cleanup with the HarfBuzz objects): leak
 * checkers see the faces it holds from a process's globals, which they do
 * not through a pool's memory. */
struct rc_pdf_cache {
    apr_pool_t *p;
#if APR_HAS_THREADS
    apr_thread_mutex_t *lock;
#endif
    cached_face face[CACHE_FACES];
    apr_hash_t *faces;           /* "index:path" -> one of face[] */
    apr_hash_t *lookups;         /* code point -> rc_pdf_fc_fonts */
    const unsigned short *widths[F_FALL];
};

static void lock(rc_pdf_cache *c)
{
#if APR_HAS_THREADS
    apr_thread_mutex_lock(c->lock);
#else
    (void)c;
#endif
}

static void unlock(rc_pdf_cache *c)
{
#if APR_HAS_THREADS
    apr_thread_mutex_unlock(c->lock);
#else
    (void)c;
#endif
}

static apr_status_t free_cache(void *data)
{
    rc_pdf_cache *c = data;
    int i;

    for (i = 0; i < CACHE_FACES; i++) {
        hb_font_destroy(c->face[i].font);
        hb_face_destroy(c->face[i].face);
        hb_face_destroy(c->face[i].prepared);
    }
    free(c);
    return APR_SUCCESS;
}

rc_pdf_cache *rc_pdf_cache_create(apr_pool_t *p)
{
    rc_pdf_cache *c = calloc(1, sizeof(*c));

    if (!c) {
        return NULL;
    }
    apr_pool_cleanup_register(p, c, free_cache, apr_pool_cleanup_null);
    c->p = p;
#if APR_HAS_THREADS
    if (apr_thread_mutex_create(&c->lock, APR_THREAD_MUTEX_DEFAULT, p) != APR_SUCCESS) {
        return NULL;
    }
#endif
    c->faces = apr_hash_make(p);
    c->lookups = apr_hash_make(p);
    return c;
}

int rc_pdf_cache_face(rc_pdf_cache *c, const char *path, unsigned index, face *f)
{
    char stack[512];
    const char *key = stack;
    apr_size_t klen;
    cached_face *cf;
    int found;

    klen = (apr_size_t)apr_snprintf(stack, sizeof(stack), "%u:%s", index, path);
    if (klen >= sizeof(stack) - 1) {
        return -1;               /* a path this long is not cached */
    }
    lock(c);
    cf = apr_hash_get(c->faces, key, (apr_ssize_t)klen);
    if (!cf && apr_hash_count(c->faces) < CACHE_FACES) {
        cf = &c->face[apr_hash_count(c->faces)];
        cf->ok = rc_pdf_hb_load(path, index, &cf->face, &cf->font);
        if (cf->ok) {
            hb_blob_t *blob = hb_face_reference_blob(cf->face);
            cf->size = hb_blob_get_length(blob);
            hb_blob_destroy(blob);
            hb_face_make_immutable(cf->face);
            hb_font_make_immutable(cf->font);
        }
        apr_hash_set(c->faces, apr_pstrmemdup(c->p, key, klen), (apr_ssize_t)klen, cf);
    }
    found = cf ? cf->ok : -1;
    unlock(c);
    if (found > 0) {
        f->hbface = cf->face;
        f->hb = cf->font;
        f->shared = cf;
    }
    return found;
}

hb_face_t *rc_pdf_subset_source(doc *d, const face *f)
{
    cached_face *cf = f->shared;
    hb_face_t *prepared;

    if (!cf || !d->cache) {
        return f->hbface;
    }
    lock(d->cache);
    if (!cf->prepared && ++cf->subsets == PREPARE_AFTER && cf->size <= PREPARE_MAX) {
        cf->prepared = hb_subset_preprocess(cf->face);
    }
    prepared = cf->prepared;
    unlock(d->cache);
    return prepared ? prepared : f->hbface;
}

const unsigned short *rc_pdf_cache_widths(rc_pdf_cache *c, int fi, HPDF_Font font)
{
    const unsigned short *w;

    if (fi < 0 || fi >= F_FALL) {
        return NULL;
    }
    lock(c);
    if (!(w = c->widths[fi])) {
        unsigned short *made = apr_palloc(c->p, 256 * sizeof(unsigned short));
        rc_pdf_winansi_widths(font, made);
        c->widths[fi] = w = made;
    }
    unlock(c);
    return w;
}

const rc_pdf_fc_fonts *rc_pdf_cache_lookup(rc_pdf_cache *c, apr_uint32_t ch)
{
    const rc_pdf_fc_fonts *r;

    lock(c);
    r = apr_hash_get(c->lookups, &ch, sizeof(ch));
    if (!r && apr_hash_count(c->lookups) < CACHE_LOOKUPS) {
        apr_uint32_t *key = apr_palloc(c->p, sizeof(*key));
        *key = ch;
        r = rc_pdf_fontconfig_list(c->p, ch);
        apr_hash_set(c->lookups, key, sizeof(*key), r);
    }
    unlock(c);
    return r;
}

void rc_pdf_cache_counts(rc_pdf_cache *c, int *faces, int *lookups)
{
    lock(c);
    *faces = (int)apr_hash_count(c->faces);
    *lookups = (int)apr_hash_count(c->lookups);
    unlock(c);
}
