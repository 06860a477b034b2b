/* pdf_bench FILE.md N OUT.pdf [transcript]: renders FILE.md N times and
 * writes the last PDF to OUT.pdf; prints "mean_ms=<ms> median_ms=<ms>
 * size=<bytes>", every render's time ("ms=<ms> <ms> ...") and the CPU time
 * of every render ("cpu_ms=...").
 * Plain: rc_pdf_from_markdown, one answer.  transcript: rc_pdf_transcript of
 * two turns, a question and FILE.md as its answer (what GET
 * B/api/threads/{id}/export.pdf renders).  The font cache lives as long as
 * the process, as it does in an httpd child.  Used by bench/pdf_bench.py. */
#include "markdown.h"
#include "pdf.h"

#include <apr_general.h>
#include <apr_time.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static char *read_file(const char *path, long *n)
{
    FILE *fp = fopen(path, "rb");
    char *md;

    if (!fp) {
        perror(path);
        return NULL;
    }
    fseek(fp, 0, SEEK_END);
    *n = ftell(fp);
    fseek(fp, 0, SEEK_SET);
    md = *n >= 0 ? malloc((size_t)*n + 1) : NULL;
    if (!md || fread(md, 1, (size_t)*n, fp) != (size_t)*n) {
        fprintf(stderr, "cannot read %s\n", path);
        fclose(fp);
        free(md);
        return NULL;
    }
    md[*n] = '\0';
    fclose(fp);
    return md;
}

static int write_file(const char *path, const char *out, apr_size_t outlen)
{
    FILE *fp = fopen(path, "wb");

    if (!fp || fwrite(out, 1, outlen, fp) != outlen) {
        perror(path);
        if (fp) {
            fclose(fp);
        }
        return -1;
    }
    fclose(fp);
    return 0;
}

static double cpu_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec * 1000.0 + (double)ts.tv_nsec / 1e6;
}

static void print_all(const char *name, const double *v, int n)
{
    int i;
    printf("%s=", name);
    for (i = 0; i < n; i++) {
        printf("%s%.3f", i ? " " : "", v[i]);
    }
    printf("\n");
}

static int by_value(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
    apr_pool_t *root, *p;
    char *md;
    long n;
    int i, iters, transcript;
    double *ms, *cpu, total = 0;
    const char *out = NULL, *err = NULL;
    apr_size_t outlen = 0;
    rc_pdf_meta meta = { "Benchmark", "bench", 0 };
    rc_pdf_fonts fonts = { NULL, NULL, NULL, NULL, NULL, NULL, NULL };
    rc_pdf_turn turns[2] = {
        { "user", "bench", "2026-11-26 18:09 UTC", "Reliability review please" },
        { "assistant", "Assistant", "2026-11-26 18:09 UTC", NULL },
    };

    if (argc < 4 || (iters = atoi(argv[2])) <= 0) {
        fprintf(stderr, "usage: %s FILE.md N OUT.pdf [transcript]\n", argv[0]);
        return 2;
    }
    transcript = argc > 4 && strcmp(argv[4], "transcript") == 0;
    if (!(md = read_file(argv[1], &n))) {
        return 1;
    }
    turns[1].markdown = md;
    apr_initialize();
    rc_markdown_init();
    apr_pool_create(&root, NULL);
    fonts.cache = rc_pdf_cache_create(root);
    ms = calloc((size_t)iters, sizeof(double));
    cpu = calloc((size_t)iters, sizeof(double));
    meta.created = apr_time_now();
    for (i = 0; i < iters && ms && cpu; i++) {
        apr_time_t t0;
        double c0;
        int rv;
        apr_pool_create(&p, root);
        c0 = cpu_ms();
        t0 = apr_time_now();
        rv = transcript
           ? rc_pdf_transcript(p, turns, 2, &fonts, &meta, &out, &outlen, &err)
           : rc_pdf_from_markdown(p, md, (apr_size_t)n, &fonts, &meta, &out, &outlen, &err);
        if (rv != 0) {
            fprintf(stderr, "render failed: %s\n", err ? err : "?");
            return 1;
        }
        ms[i] = (double)(apr_time_now() - t0) / 1000.0;
        cpu[i] = cpu_ms() - c0;
        total += ms[i];
        if (i == iters - 1 && write_file(argv[3], out, outlen) != 0) {
            return 1;
        }
        apr_pool_destroy(p);
    }
    if (!ms || !cpu) {
        return 1;
    }
    print_all("ms", ms, iters);
    print_all("cpu_ms", cpu, iters);
    qsort(ms, (size_t)iters, sizeof(double), by_value);
    printf("\nmean_ms=%.3f median_ms=%.3f size=%lu\n", total / iters,
           iters % 2 ? ms[iters / 2] : (ms[iters / 2 - 1] + ms[iters / 2]) / 2,
           (unsigned long)outlen);
    free(ms);
    free(cpu);
    apr_pool_destroy(root);
    free(md);
    apr_terminate();
    return 0;
}
