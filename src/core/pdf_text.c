/* Text helpers of the PDF engine: the WinAnsi and Symbol encodings of the
 * standard fonts, and the code point coverage of a TrueType file. */
#include "pdf_text.h"

#include <apr_tables.h>
#include <stdio.h>
#include <string.h>

/* Invisible format characters: dropped, they have nothing to show. */
int rc_pdf_invisible(apr_uint32_t c)
{
    return (c >= 0x200B && c <= 0x200F) || c == 0x2060 || c == 0xFEFF || c == 0x00AD
        || (c >= 0xFE00 && c <= 0xFE0F) || (c >= 0x202A && c <= 0x202E)
        || (c >= 0x2066 && c <= 0x2069) || (c < 0x20 && c != '\t' && c != '\n')
        || (c >= 0x7F && c < 0xA0);
}

/* The WinAnsi (cp1252) byte of c, 0 if none. */
int rc_pdf_winansi(apr_uint32_t c)
{
    static const unsigned short hi[32] = {
        0x20AC, 0, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021, 0x02C6, 0x2030,
        0x0160, 0x2039, 0x0152, 0, 0x017D, 0, 0, 0x2018, 0x2019, 0x201C, 0x201D,
        0x2022, 0x2013, 0x2014, 0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0, 0x017E, 0x0178
    };
    int i;

    if ((c >= 0x20 && c < 0x7F) || (c >= 0xA0 && c <= 0xFF)) {
        return (int)c;
    }
    if (c >= 0x152 && c <= 0x2122) {
        for (i = 0; i < 32; i++) {
            if (hi[i] == c) {
                return 0x80 + i;
            }
        }
    }
    return 0;
}

/* The Symbol font's code for the arrows, math operators and Greek letters an
 * English technical answer uses, so they need no embedded font. */
int rc_pdf_symbol_code(apr_uint32_t c)
{
    static const unsigned short map[][2] = {
        { 0x0391, 0x41 }, { 0x0392, 0x42 }, { 0x0393, 0x47 }, { 0x0394, 0x44 },
        { 0x0398, 0x51 }, { 0x039B, 0x4C }, { 0x039E, 0x58 }, { 0x03A0, 0x50 },
        { 0x03A3, 0x53 }, { 0x03A6, 0x46 }, { 0x03A8, 0x59 }, { 0x03A9, 0x57 },
        { 0x03B1, 0x61 }, { 0x03B2, 0x62 }, { 0x03B3, 0x67 }, { 0x03B4, 0x64 },
        { 0x03B5, 0x65 }, { 0x03B6, 0x7A }, { 0x03B7, 0x68 }, { 0x03B8, 0x71 },
        { 0x03B9, 0x69 }, { 0x03BA, 0x6B }, { 0x03BB, 0x6C }, { 0x03BC, 0x6D },
        { 0x03BD, 0x6E }, { 0x03BE, 0x78 }, { 0x03BF, 0x6F }, { 0x03C0, 0x70 },
        { 0x03C1, 0x72 }, { 0x03C2, 0x56 }, { 0x03C3, 0x73 }, { 0x03C4, 0x74 },
        { 0x03C5, 0x75 }, { 0x03C6, 0x66 }, { 0x03C7, 0x63 }, { 0x03C8, 0x79 },
        { 0x03C9, 0x77 }, { 0x2032, 0xA2 }, { 0x2033, 0xB2 }, { 0x2111, 0xC1 },
        { 0x2118, 0xC3 }, { 0x211C, 0xC2 }, { 0x2135, 0xC0 }, { 0x2190, 0xAC },
        { 0x2191, 0xAD }, { 0x2192, 0xAE }, { 0x2193, 0xAF }, { 0x2194, 0xAB },
        { 0x21B5, 0xBF }, { 0x21D0, 0xDC }, { 0x21D1, 0xDD }, { 0x21D2, 0xDE },
        { 0x21D3, 0xDF }, { 0x21D4, 0xDB }, { 0x2200, 0x22 }, { 0x2202, 0xB6 },
        { 0x2203, 0x24 }, { 0x2205, 0xC6 }, { 0x2207, 0xD1 }, { 0x2208, 0xCE },
        { 0x2209, 0xCF }, { 0x220B, 0x27 }, { 0x220F, 0xD5 }, { 0x2211, 0xE5 },
        { 0x2212, 0x2D }, { 0x2217, 0x2A }, { 0x221A, 0xD6 }, { 0x221D, 0xB5 },
        { 0x221E, 0xA5 }, { 0x2220, 0xD0 }, { 0x2227, 0xD9 }, { 0x2228, 0xDA },
        { 0x2229, 0xC7 }, { 0x222A, 0xC8 }, { 0x222B, 0xF2 }, { 0x2234, 0x5C },
        { 0x223C, 0x7E }, { 0x2245, 0x40 }, { 0x2248, 0xBB }, { 0x2260, 0xB9 },
        { 0x2261, 0xBA }, { 0x2264, 0xA3 }, { 0x2265, 0xB3 }, { 0x2282, 0xCC },
        { 0x2283, 0xC9 }, { 0x2284, 0xCB }, { 0x2286, 0xCD }, { 0x2287, 0xCA },
        { 0x2295, 0xC5 }, { 0x2297, 0xC4 }, { 0x22A5, 0x5E }, { 0x22C5, 0xD7 },
        { 0x25CA, 0xE0 }, { 0x2660, 0xAA }, { 0x2663, 0xA7 }, { 0x2665, 0xA9 },
        { 0x2666, 0xA8 }
    };
    int lo = 0, hi = (int)(sizeof(map) / sizeof(map[0])) - 1;

    while (lo <= hi) {
        int mid = (lo + hi) / 2;
        if (map[mid][0] == c) {
            return map[mid][1];
        }
        if (map[mid][0] < c) { lo = mid + 1; } else { hi = mid - 1; }
    }
    return 0;
}

/* ---- TrueType cmap: which code points a font file has ----------------------- */

static apr_uint32_t be16(const unsigned char *b) { return ((apr_uint32_t)b[0] << 8) | b[1]; }
static apr_uint32_t be32(const unsigned char *b)
{
    return ((apr_uint32_t)b[0] << 24) | ((apr_uint32_t)b[1] << 16) | ((apr_uint32_t)b[2] << 8) | b[3];
}

static int read_at(FILE *fp, long off, void *buf, size_t n)
{
    return fseek(fp, off, SEEK_SET) == 0 && fread(buf, 1, n, fp) == n;
}

static void cov_add(apr_array_header_t *a, apr_uint32_t lo, apr_uint32_t hi)
{
    rc_crange *last = a->nelts ? &APR_ARRAY_IDX(a, a->nelts - 1, rc_crange) : NULL;
    if (last && lo <= last->hi + 1 && lo >= last->lo) {
        if (hi > last->hi) {
            last->hi = hi;
        }
        return;
    }
    APR_ARRAY_PUSH(a, rc_crange).lo = lo;
    APR_ARRAY_IDX(a, a->nelts - 1, rc_crange).hi = hi;
}

/* Reads the BMP coverage of the font's Unicode cmap (format 4, or 12 for the
 * BMP part).  Returns 0 when the file is not a usable TrueType font. */
int rc_ttf_coverage(apr_pool_t *p, const char *path, rc_crange **cov, int *ncov, int *ttc)
{
    FILE *fp = fopen(path, "rb");
    unsigned char hdr[12], rec[16], *cm = NULL;
    apr_uint32_t base = 0, ntab, i, cmoff = 0, cmlen = 0, best = 0, bestfmt = 0;
    apr_array_header_t *a;
    int ok = 0;

    if (!fp) {
        return 0;
    }
    if (!read_at(fp, 0, hdr, 12)) {
        goto leave;
    }
    if (memcmp(hdr, "ttcf", 4) == 0) {
        unsigned char o[4];
        if (!read_at(fp, 12, o, 4)) {
            goto leave;
        }
        base = be32(o);
        *ttc = 1;
        if (!read_at(fp, (long)base, hdr, 12)) {
            goto leave;
        }
    }
    if (be32(hdr) != 0x00010000 && memcmp(hdr, "true", 4) != 0) {
        goto leave;                 /* CFF ('OTTO') or not a font at all */
    }
    ntab = be16(hdr + 4);
    for (i = 0; i < ntab && i < 64; i++) {
        if (!read_at(fp, (long)(base + 12 + 16 * i), rec, 16)) {
            goto leave;
        }
        if (memcmp(rec, "cmap", 4) == 0) {
            cmoff = be32(rec + 8);
            cmlen = be32(rec + 12);
        }
    }
    if (!cmoff || cmlen < 4 || cmlen > (8u << 20)) {
        goto leave;
    }
    cm = apr_palloc(p, cmlen);
    if (!read_at(fp, (long)cmoff, cm, cmlen)) {
        goto leave;
    }
    for (i = 0; i < be16(cm + 2) && 4 + 8 * i + 8 <= cmlen; i++) {
        const unsigned char *r = cm + 4 + 8 * i;
        apr_uint32_t plat = be16(r), enc = be16(r + 2), off = be32(r + 4), fmt;
        if (off + 8 > cmlen || !((plat == 3 && (enc == 1 || enc == 10)) || plat == 0)) {
            continue;
        }
        fmt = be16(cm + off);
        if ((fmt == 12 && bestfmt != 12) || (fmt == 4 && !bestfmt)) {
            best = off;
            bestfmt = fmt;
        }
    }
    if (!bestfmt) {
        goto leave;
    }
    a = apr_array_make(p, 256, sizeof(rc_crange));
    if (bestfmt == 4) {
        const unsigned char *t = cm + best;
        apr_uint32_t tlen = be16(t + 2), segx2 = be16(t + 6), s;
        if (best + tlen > cmlen || 16 + 4 * segx2 > tlen) {
            goto leave;
        }
        for (s = 0; s < segx2 / 2; s++) {
            apr_uint32_t end = be16(t + 14 + 2 * s);
            apr_uint32_t start = be16(t + 16 + segx2 + 2 * s);
            apr_uint32_t delta = be16(t + 16 + 2 * segx2 + 2 * s);
            apr_uint32_t roff_at = 16 + 3 * segx2 + 2 * s, roff = be16(t + roff_at), c;
            if (start > end || start == 0xFFFF) {
                continue;
            }
            if (roff == 0) {
                cov_add(a, start, end);
                continue;
            }
            for (c = start; c <= end; c++) {
                apr_uint32_t at = roff_at + roff + 2 * (c - start);
                if (at + 2 <= tlen && ((be16(t + at) + delta) & 0xFFFF) != 0 && be16(t + at)) {
                    cov_add(a, c, c);
                }
            }
        }
    }
    else {
        const unsigned char *t = cm + best;
        apr_uint32_t n = be32(t + 12), g;
        if (16 + (apr_uint64_t)12 * n > cmlen - best) {
            goto leave;
        }
        for (g = 0; g < n; g++) {
            apr_uint32_t lo = be32(t + 16 + 12 * g), hi = be32(t + 20 + 12 * g);
            if (lo > 0xFFFF || lo > hi) {
                continue;
            }
            cov_add(a, be32(t + 24 + 12 * g) ? lo : lo + 1, hi > 0xFFFF ? 0xFFFF : hi);
        }
    }
    *cov = (rc_crange *)a->elts;
    *ncov = a->nelts;
    ok = *ncov > 0;
leave:
    fclose(fp);
    return ok;
}

int rc_ttf_covers(const rc_crange *cov, int ncov, apr_uint32_t c)
{
    int lo = 0, hi = ncov - 1;
    while (lo <= hi) {
        int mid = (lo + hi) / 2;
        if (c < cov[mid].lo) { hi = mid - 1; }
        else if (c > cov[mid].hi) { lo = mid + 1; }
        else { return 1; }
    }
    return 0;
}
