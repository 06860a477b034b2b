/* Font fallback by coverage: for a character the document's own faces
 * (DejaVu, or the configured fonts) lack, the first font of a chain that has
 * it.  The chain: the configured fallback font, then Noto fonts per script
 * (Arabic and Hebrew are preferred even over DejaVu, which has only basic
 * forms of them), CJK fonts with Hangul, symbol and emoji fonts; last,
 * whatever TrueType font fontconfig finds.  A font is opened only when a
 * character of its script needs it, so it is embedded only then. */
#include "pdf_internal.h"

#include <apr_strings.h>
#include <fontconfig/fontconfig.h>
#include <stdlib.h>
#include <string.h>

#define NOTO "/usr/share/fonts/truetype/noto/"
#define MAX_RANGES 5
#define FC_MAX_LOOKUPS 8   /* fontconfig searches per document */

typedef struct {
    const char *regular, *bold;   /* bold: NULL when the family has none */
    int preferred;                /* before the document's faces for these ranges */
    rc_crange r[MAX_RANGES];      /* none: any character */
} chain_font;

#define NOTO2(n) NOTO n "-Regular.ttf", NOTO n "-Bold.ttf"
#define NOTO1(n) NOTO n "-Regular.ttf", NULL
#define CJK { { 0x1100, 0x11FF }, { 0x2E80, 0x9FFF }, { 0xA960, 0xD7FF }, { 0xF900, 0xFFEF }, \
              { 0x20000, 0x3FFFF } }

static const chain_font chain_default[] = {
    { NOTO2("NotoSansArabic"), 1, { { 0x0600, 0x06FF }, { 0x0750, 0x077F }, { 0x08A0, 0x08FF },
                                    { 0xFB50, 0xFDFF }, { 0xFE70, 0xFEFF } } },
    { NOTO2("NotoSansHebrew"), 1, { { 0x0590, 0x05FF }, { 0xFB1D, 0xFB4F } } },
    { NOTO2("NotoSansDevanagari"), 0, { { 0x0900, 0x097F }, { 0xA8E0, 0xA8FF }, { 0x1CD0, 0x1CFF } } },
    { NOTO2("NotoSansBengali"), 0, { { 0x0980, 0x09FF } } },
    { NOTO2("NotoSansGurmukhi"), 0, { { 0x0A00, 0x0A7F } } },
    { NOTO2("NotoSansGujarati"), 0, { { 0x0A80, 0x0AFF } } },
    { NOTO2("NotoSansOriya"), 0, { { 0x0B00, 0x0B7F } } },
    { NOTO2("NotoSansTamil"), 0, { { 0x0B80, 0x0BFF } } },
    { NOTO2("NotoSansTelugu"), 0, { { 0x0C00, 0x0C7F } } },
    { NOTO2("NotoSansKannada"), 0, { { 0x0C80, 0x0CFF } } },
    { NOTO2("NotoSansMalayalam"), 0, { { 0x0D00, 0x0D7F } } },
    { NOTO2("NotoSansSinhala"), 0, { { 0x0D80, 0x0DFF } } },
    { NOTO2("NotoSansThai"), 0, { { 0x0E00, 0x0E7F } } },
    { NOTO2("NotoSansLao"), 0, { { 0x0E80, 0x0EFF } } },
    { NOTO2("NotoSansMyanmar"), 0, { { 0x1000, 0x109F } } },
    { NOTO2("NotoSansGeorgian"), 0, { { 0x10A0, 0x10FF }, { 0x2D00, 0x2D2F } } },
    { NOTO2("NotoSansEthiopic"), 0, { { 0x1200, 0x139F }, { 0x2D80, 0x2DDF } } },
    { NOTO2("NotoSansCherokee"), 0, { { 0x13A0, 0x13FF } } },
    { NOTO2("NotoSansKhmer"), 0, { { 0x1780, 0x17FF } } },
    { NOTO1("NotoSansMongolian"), 0, { { 0x1800, 0x18AF } } },
    { NOTO2("NotoSansArmenian"), 0, { { 0x0530, 0x058F } } },
    { NOTO1("NotoSansSyriac"), 0, { { 0x0700, 0x074F } } },
    { NOTO2("NotoSansThaana"), 0, { { 0x0780, 0x07BF } } },
    { NOTO1("NotoSansNKo"), 0, { { 0x07C0, 0x07FF } } },
    { NOTO1("NotoSansTifinagh"), 0, { { 0x2D30, 0x2D7F } } },
    /* CJK, Hangul included; TrueType outlines only (libharu's and ours) */
    { "/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf", NULL, 0, CJK },
    { "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc", NULL, 0, CJK },
    { "/usr/share/fonts/truetype/nanum/NanumGothic.ttf",
      "/usr/share/fonts/truetype/nanum/NanumGothicBold.ttf", 0, CJK },
    { "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc", NULL, 0, CJK },
    { "/usr/share/fonts/truetype/arphic/uming.ttc", NULL, 0, CJK },
    /* anything else: Latin extensions, symbols, math, monochrome emoji */
    { NOTO2("NotoSans"), 0, { { 0 } } },
    { NOTO2("NotoSansSymbols"), 0, { { 0 } } },
    { NOTO1("NotoSansSymbols2"), 0, { { 0 } } },
    { NOTO1("NotoSansMath"), 0, { { 0 } } },
    { "/usr/share/fonts/truetype/ancient-scripts/Symbola_hint.ttf", NULL, 0, { { 0 } } },
};

#define NCHAIN ((int)(sizeof(chain_default) / sizeof(chain_default[0])))
/* Two slots (regular, bold) per chain font, then the fonts fontconfig found. */
#define FC_FIRST (F_CHAIN + 2 * NCHAIN)
typedef char chain_fits_in_faces[FC_FIRST + FC_MAX_LOOKUPS <= F_N ? 1 : -1];

static int in_ranges(const chain_font *cf, apr_uint32_t c)
{
    int i;
    if (!cf->r[0].hi) {
        return 1;
    }
    for (i = 0; i < MAX_RANGES && cf->r[i].hi; i++) {
        if (c >= cf->r[i].lo && c <= cf->r[i].hi) {
            return 1;
        }
    }
    return 0;
}

static int has(doc *d, int i, apr_uint32_t c)
{
    return d->f[i].path && rc_pdf_face_ready(d, i) && rc_pdf_has_glyph(&d->f[i], c);
}

void rc_pdf_chain_open(doc *d, const char *fallback)
{
    int k;

    d->nchain = 0;
    if (fallback && !*fallback) {
        return;                 /* no fallback at all */
    }
    d->f[F_FALL].path = fallback;
    for (k = 0; k < NCHAIN; k++) {
        d->f[F_CHAIN + 2 * k].path = chain_default[k].regular;
        d->f[F_CHAIN + 2 * k + 1].path = chain_default[k].bold;
    }
    d->nchain = FC_FIRST;
}

static int by_file(const void *a, const void *b)
{
    FcChar8 *fa = NULL, *fb = NULL;
    FcPatternGetString(*(FcPattern *const *)a, FC_FILE, 0, &fa);
    FcPatternGetString(*(FcPattern *const *)b, FC_FILE, 0, &fb);
    return strcmp(fa ? (const char *)fa : "", fb ? (const char *)fb : "");
}

/* The TrueType fonts fontconfig knows of with c, by file name (a stable order). */
const rc_pdf_fc_fonts *rc_pdf_fontconfig_list(apr_pool_t *p, apr_uint32_t c)
{
    rc_pdf_fc_fonts *l = apr_pcalloc(p, sizeof(*l));
    FcPattern *pat = FcPatternCreate();
    FcCharSet *cs = FcCharSetCreate();
    FcObjectSet *os = FcObjectSetBuild(FC_FILE, FC_INDEX, NULL);
    FcFontSet *fs;
    int i;

    FcCharSetAddChar(cs, c);
    FcPatternAddCharSet(pat, FC_CHARSET, cs);
    FcPatternAddString(pat, FC_FONTFORMAT, (const FcChar8 *)"TrueType");
    fs = FcFontList(NULL, pat, os);
    FcObjectSetDestroy(os);
    FcCharSetDestroy(cs);
    FcPatternDestroy(pat);
    if (!fs) {
        return l;
    }
    if (fs->nfont > 1) {
        qsort(fs->fonts, (size_t)fs->nfont, sizeof(FcPattern *), by_file);
    }
    l->files = apr_palloc(p, sizeof(*l->files) * (apr_size_t)(fs->nfont + 1));
    l->index = apr_palloc(p, sizeof(*l->index) * (apr_size_t)(fs->nfont + 1));
    for (i = 0; i < fs->nfont; i++) {
        FcChar8 *file;
        int index = 0;
        if (FcPatternGetString(fs->fonts[i], FC_FILE, 0, &file) != FcResultMatch) {
            continue;
        }
        FcPatternGetInteger(fs->fonts[i], FC_INDEX, 0, &index);
        l->files[l->n] = apr_pstrdup(p, (const char *)file);
        l->index[l->n++] = (unsigned)index;
    }
    FcFontSetDestroy(fs);
    return l;
}

/* A TrueType font with c that fontconfig knows of (the font cache's answer
 * when the document has one), opened in a new slot; -1 when there is none
 * (or the look-ups of this document are used up). */
static int fontconfig_find(doc *d, apr_uint32_t c)
{
    const rc_pdf_fc_fonts *l = NULL;
    int i, found = -1;

    if (d->fc_lookups >= FC_MAX_LOOKUPS || d->nchain >= F_N) {
        return -1;
    }
    d->fc_lookups++;
    if (d->cache) {
        l = rc_pdf_cache_lookup(d->cache, c);
    }
    if (!l) {
        l = rc_pdf_fontconfig_list(d->keep, c);
    }
    for (i = 0; i < l->n && found < 0 && d->nchain < F_N; i++) {
        d->f[d->nchain].path = l->files[i];
        d->f[d->nchain].index = l->index[i];
        if (has(d, d->nchain, c)) {
            found = d->nchain;
        }
        d->nchain++;
    }
    return found;
}

int rc_pdf_chain_find(doc *d, int style, apr_uint32_t c, int preferred)
{
    int k, bold = (style & S_BOLD) && !(style & S_CODE);

    if (!d->nchain) {
        return -1;
    }
    if (!preferred && has(d, F_FALL, c)) {
        return F_FALL;
    }
    for (k = 0; k < NCHAIN; k++) {
        const chain_font *cf = &chain_default[k];
        int slot = F_CHAIN + 2 * k;
        if (cf->preferred != preferred || !in_ranges(cf, c)) {
            continue;
        }
        if (bold && has(d, slot + 1, c)) {
            return slot + 1;
        }
        if (has(d, slot, c)) {
            return slot;
        }
    }
    for (k = FC_FIRST; !preferred && k < d->nchain; k++) {
        if (has(d, k, c)) {
            return k;
        }
    }
    return preferred ? -1 : fontconfig_find(d, c);
}
