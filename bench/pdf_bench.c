/* pdf_bench FILE.md N OUT.pdf [transcript]: renders FILE.md N times with
 * rc_pdf_from_markdown, writes the last PDF to OUT.pdf and prints
 * "mean_ms=<ms> size=<bytes>".  Used by bench/pdf_bench.py. */
#include "markdown.h"
#include "pdf.h"

#include <apr_general.h>
#include <apr_time.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv)
{
    apr_pool_t *root, *p;
    FILE *fp;
    char *md;
    long n;
    int i, iters;
    apr_time_t t0, total = 0;
    const char *out = NULL, *err = NULL;
    apr_size_t outlen = 0;
    rc_pdf_meta meta = { "Benchmark", "bench", 0 };

    if (argc < 4 || (iters = atoi(argv[2])) <= 0) {
        fprintf(stderr, "usage: %s FILE.md N OUT.pdf\n", argv[0]);
        return 2;
    }
    if (!(fp = fopen(argv[1], "rb"))) {
        perror(argv[1]);
        return 1;
    }
    fseek(fp, 0, SEEK_END);
    n = ftell(fp);
    fseek(fp, 0, SEEK_SET);
    md = n >= 0 ? malloc((size_t)n + 1) : NULL;
    if (!md || fread(md, 1, (size_t)n, fp) != (size_t)n) {
        fprintf(stderr, "cannot read %s\n", argv[1]);
        fclose(fp);
        free(md);
        return 1;
    }
    md[n] = '\0';
    fclose(fp);
    apr_initialize();
    rc_markdown_init();
    apr_pool_create(&root, NULL);
    meta.created = apr_time_now();
    for (i = 0; i < iters; i++) {
        apr_pool_create(&p, root);
        t0 = apr_time_now();
        if (rc_pdf_from_markdown(p, md, (apr_size_t)n, NULL, &meta, &out, &outlen, &err) != 0) {
            fprintf(stderr, "render failed: %s\n", err ? err : "?");
            return 1;
        }
        total += apr_time_now() - t0;
        if (i == iters - 1) {
            if (!(fp = fopen(argv[3], "wb"))) {
                perror(argv[3]);
                return 1;
            }
            if (fwrite(out, 1, outlen, fp) != outlen) {
                perror(argv[3]);
                fclose(fp);
                return 1;
            }
            fclose(fp);
        }
        apr_pool_destroy(p);
    }
    printf("mean_ms=%.3f size=%lu\n", (double)total / iters / 1000.0, (unsigned long)outlen);
    apr_pool_destroy(root);
    free(md);
    apr_terminate();
    return 0;
}
