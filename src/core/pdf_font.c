/* Fonts of the PDF engine: which face draws each character (the standard
 * fonts, the embedded TrueType files or the fallback font) and how wide text
 * is.  Faces load on first use; a font that cannot load is skipped. */
#include "pdf_internal.h"

#include <string.h>
#include <unistd.h>

static const char *const std_font_name[F_N] = {
    "Helvetica", "Helvetica-Bold", "Helvetica-Oblique", "Helvetica-BoldOblique",
    "Courier", "Symbol", NULL
};

#define DEJAVU "/usr/share/fonts/truetype/dejavu/"
static const char *const ttf_default[F_FALL] = {
    DEJAVU "DejaVuSans.ttf", DEJAVU "DejaVuSans-Bold.ttf", DEJAVU "DejaVuSans-Oblique.ttf",
    DEJAVU "DejaVuSans-BoldOblique.ttf", DEJAVU "DejaVuSansMono.ttf", NULL
};

/* Makes face i usable (loading a TrueType file on first use).  0 if it cannot be. */
int rc_pdf_face_ready(doc *d, int i)
{
    face *f = &d->f[i];

    if (f->tried) {
        return f->ok;
    }
    f->tried = 1;
    if (d->unicode) {
        /* its PDF font is made when it first draws (rc_pdf_face_font) */
        f->ok = f->path && rc_pdf_hb_open(d, f);
        return f->ok;
    }
    f->font = HPDF_GetFont(d->pdf, std_font_name[i], i == F_SYM ? NULL : "WinAnsiEncoding");
    if (!f->font && d->err) {
        /* A font that will not load (unreadable, not embeddable) is skipped. */
        HPDF_ResetError(d->pdf);
        d->err = 0;
    }
    f->ok = f->font != NULL;
    return f->ok;
}

static int base_face(int style)
{
    return (style & S_CODE) ? F_MONO
         : (style & S_BOLD) ? ((style & S_ITAL) ? F_BI : F_BOLD)
         : (style & S_ITAL) ? F_ITAL : F_REG;
}

static int covered(doc *d, int i, apr_uint32_t c)
{
    return rc_pdf_face_ready(d, i) && rc_pdf_has_glyph(&d->f[i], c);
}

/* Standard fonts: WinAnsi, the Symbol font, else '?'. */
static int resolve_standard(doc *d, int base, apr_uint32_t c, char *out, int *outn)
{
    int b;

    *outn = 1;
    if ((b = rc_pdf_winansi(c)) != 0) {
        out[0] = (char)b;
    }
    else if ((b = rc_pdf_symbol_code(c)) != 0 && rc_pdf_face_ready(d, F_SYM)) {
        out[0] = (char)b;
        return F_SYM;
    }
    else {
        out[0] = '?';
    }
    return rc_pdf_face_ready(d, base) ? base : F_REG;
}

/* The face a character of this style is drawn in: a script's preferred font,
 * the style's face, the regular face, the fallback chain; else the style's
 * face, which draws a visible replacement mark for it (rc_pdf_shape), never
 * a silent drop, while text extraction still gets c. */
int rc_pdf_resolve(doc *d, int style, apr_uint32_t c, char *out, int *outn)
{
    int base = base_face(style), fi;

    if (!d->unicode) {
        return resolve_standard(d, base, c, out, outn);
    }
    *outn = 0;
    if ((fi = rc_pdf_chain_find(d, style, c, 1)) >= 0) {
        return fi;
    }
    if (covered(d, base, c)) {
        return base;
    }
    if (covered(d, F_REG, c)) {
        return F_REG;
    }
    if ((fi = rc_pdf_chain_find(d, style, c, 0)) >= 0) {
        return fi;
    }
    /* shaping gives the replacement mark's glyph; the text stays c */
    return rc_pdf_face_ready(d, base) ? base : F_REG;
}

void rc_pdf_winansi_widths(HPDF_Font font, unsigned short *w)
{
    int i;

    for (i = 0; i < 256; i++) {
        HPDF_BYTE ch = (HPDF_BYTE)i;
        w[i] = i < 32 ? 0 : (unsigned short)HPDF_Font_TextWidth(font, &ch, 1).width;
    }
}

/* Width in 1/1000 em: standard fonts by their byte widths, TrueType faces
 * by shaping. */
float rc_pdf_text_units(doc *d, int fi, const char *s, int n)
{
    face *f = &d->f[fi];
    float w = 0;
    int i;

    if (!f->ok) {
        return 0;
    }
    if (!d->unicode) {
        if (!f->wa) {
            f->wa = d->cache ? rc_pdf_cache_widths(d->cache, fi, f->font) : NULL;
        }
        if (!f->wa) {
            unsigned short *wa = apr_palloc(d->keep, 256 * sizeof(unsigned short));
            rc_pdf_winansi_widths(f->font, wa);
            f->wa = wa;
        }
        for (i = 0; i < n; i++) {
            w += f->wa[(unsigned char)s[i]];
        }
        return w;
    }
    rc_pdf_shape(d, fi, s, n, -1);
    for (i = 0; i < d->ngl; i++) {
        w += d->gl[i].ax;
    }
    return w;
}

/* Does text need more than WinAnsi + Symbol? (U+FFFD alone does not: '?' shows it.) */
int rc_pdf_needs_unicode(const char *s, apr_size_t n)
{
    const unsigned char *u = (const unsigned char *)s;
    apr_size_t i = 0, used;
    if (!s) {
        return 0;
    }
    while (i < n) {
        apr_uint32_t c;
        if (u[i] < 0x80) {
            i++;
            continue;
        }
        c = rc_utf8_next(u + i, n - i, &used);
        i += used;
        if (c != 0xFFFD && !rc_pdf_winansi(c) && !rc_pdf_symbol_code(c) && !rc_pdf_invisible(c)) {
            return 1;
        }
    }
    return 0;
}

/* The faces of a document: the standard fonts, or (unicode) TrueType files,
 * given or default, and the fallback chain; the standard fonts again when no
 * TrueType font loads.  0 once the regular face is ready. */
int rc_pdf_fonts_open(doc *d, int unicode, const rc_pdf_fonts *fonts)
{
    int i;

    d->f = apr_pcalloc(d->keep, sizeof(face) * F_N);
    d->unicode = unicode;
    d->cache = fonts ? fonts->cache : NULL;
    if (unicode) {
        const char *given[F_FALL];
        given[F_REG] = fonts ? fonts->regular : NULL;
        given[F_BOLD] = fonts ? fonts->bold : NULL;
        given[F_ITAL] = fonts ? fonts->italic : NULL;
        given[F_BI] = fonts ? fonts->bold_italic : NULL;
        given[F_MONO] = fonts ? fonts->mono : NULL;
        given[F_SYM] = NULL;
        for (i = 0; i < F_FALL; i++) {
            d->f[i].path = given[i] && *given[i] ? given[i] : ttf_default[i];
        }
        rc_pdf_chain_open(d, fonts ? fonts->fallback : NULL);
        if (!rc_pdf_face_ready(d, F_REG)) {
            /* No usable TrueType font: the standard fonts, with '?' for the rest. */
            d->unicode = 0;
            d->nchain = 0;
            memset(d->f, 0, sizeof(face) * F_N);
        }
    }
    return rc_pdf_face_ready(d, F_REG) ? 0 : -1;
}
