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

/* TrueType-outline fonts only: libharu cannot embed CFF (.otf) fonts. */
static const char *const fallback_default[] = {
    "/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/truetype/arphic/uming.ttc",
    NULL
};

static int covered(const doc *d, int i, apr_uint32_t c)
{
    return rc_ttf_covers(d->f[i].cov, d->f[i].ncov, c);
}

/* Makes face i usable (loading a TrueType file on first use).  0 if it cannot be. */
static int face_ready(doc *d, int i)
{
    face *f = &d->f[i];

    if (f->tried) {
        return f->ok;
    }
    f->tried = 1;
    if (!d->unicode) {
        f->font = HPDF_GetFont(d->pdf, std_font_name[i], i == F_SYM ? NULL : "WinAnsiEncoding");
    }
    else if (f->path && rc_ttf_coverage(d->keep, f->path, &f->cov, &f->ncov, &f->ttc)) {
        const char *name = f->ttc ? HPDF_LoadTTFontFromFile2(d->pdf, f->path, 0, HPDF_TRUE)
                                  : HPDF_LoadTTFontFromFile(d->pdf, f->path, HPDF_TRUE);
        f->font = name ? HPDF_GetFont(d->pdf, name, "UTF-8") : NULL;
    }
    if (!f->font && d->err) {
        /* A font that will not load (unreadable, not embeddable) is skipped. */
        HPDF_ResetError(d->pdf);
        d->err = 0;
    }
    f->ok = f->font != NULL;
    return f->ok;
}

/* The face a character of this style is drawn in, with its encoded bytes. */
int rc_pdf_resolve(doc *d, int style, apr_uint32_t c, char *out, int *outn)
{
    int base = (style & S_CODE) ? F_MONO
             : (style & S_BOLD) ? ((style & S_ITAL) ? F_BI : F_BOLD)
             : (style & S_ITAL) ? F_ITAL : F_REG;
    int b;

    if (!d->unicode) {
        if ((b = rc_pdf_winansi(c)) != 0) {
            out[0] = (char)b;
        }
        else if ((b = rc_pdf_symbol_code(c)) != 0 && face_ready(d, F_SYM)) {
            out[0] = (char)b;
            *outn = 1;
            return F_SYM;
        }
        else {
            out[0] = '?';
        }
        *outn = 1;
        return face_ready(d, base) ? base : F_REG;
    }
    if (c <= 0xFFFF) {
        if (face_ready(d, base) && covered(d, base, c)) {
            *outn = rc_utf8_put(c, out);
            return base;
        }
        if (face_ready(d, F_REG) && covered(d, F_REG, c)) {
            *outn = rc_utf8_put(c, out);
            return F_REG;
        }
        if (d->f[F_FALL].path && face_ready(d, F_FALL) && covered(d, F_FALL, c)) {
            *outn = rc_utf8_put(c, out);
            return F_FALL;
        }
    }
    /* No font has it: a visible replacement mark, never a silent drop. */
    if (face_ready(d, F_REG) && covered(d, F_REG, 0xFFFD)) {
        *outn = rc_utf8_put(0xFFFD, out);
        return F_REG;
    }
    out[0] = '?';
    *outn = 1;
    return face_ready(d, base) ? base : F_REG;
}

/* Width of encoded text in 1/1000 em. */
float rc_pdf_text_units(doc *d, int fi, const char *s, int n)
{
    face *f = &d->f[fi];
    float w = 0;
    int i;

    if (!f->ok) {
        return 0;
    }
    if (!d->unicode) {
        if (!f->wa_ok) {
            for (i = 0; i < 256; i++) {
                HPDF_BYTE ch = (HPDF_BYTE)i;
                f->wa[i] = i < 32 ? 0 : (unsigned short)HPDF_Font_TextWidth(f->font, &ch, 1).width;
            }
            f->wa_ok = 1;
        }
        for (i = 0; i < n; i++) {
            w += f->wa[(unsigned char)s[i]];
        }
        return w;
    }
    return (float)HPDF_Font_TextWidth(f->font, (const HPDF_BYTE *)s, (HPDF_UINT)n).width;
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

static const char *pick_fallback(const rc_pdf_fonts *fonts)
{
    int i;
    if (fonts && fonts->fallback) {
        return *fonts->fallback ? fonts->fallback : NULL;
    }
    for (i = 0; fallback_default[i]; i++) {
        if (access(fallback_default[i], R_OK) == 0) {
            return fallback_default[i];
        }
    }
    return NULL;
}

/* The faces of a document: the standard fonts, or (unicode) TrueType files,
 * given or default; the standard fonts again when no TrueType font loads.
 * 0 once the regular face is ready. */
int rc_pdf_fonts_open(doc *d, int unicode, const rc_pdf_fonts *fonts)
{
    int i;

    d->unicode = unicode;
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
        d->f[F_FALL].path = pick_fallback(fonts);
        HPDF_UseUTFEncodings(d->pdf);
        HPDF_SetCurrentEncoder(d->pdf, "UTF-8");
        if (!face_ready(d, F_REG)) {
            /* No usable TrueType font: the standard fonts, with '?' for the rest. */
            d->unicode = 0;
            memset(d->f, 0, sizeof(d->f));
        }
    }
    return face_ready(d, F_REG) ? 0 : -1;
}
