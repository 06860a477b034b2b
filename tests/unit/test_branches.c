/* Conversation branches: parents from metadata, versions, the branch shown. */
#include "unit.h"
#include "branches.h"

#include <apr_general.h>
#include <apr_strings.h>
#include <stdio.h>

#define MAXN 40

typedef struct {
    rc_branch_node n[MAXN];
    int count;
} conv;

static void add(conv *c, const char *id, const char *meta, const char *created)
{
    rc_branch_node *x = &c->n[c->count++];
    memset(x, 0, sizeof(*x));
    x->id = id;
    x->metadata = meta;
    x->created = created;
}

/* The ids of the branch shown, joined by spaces. */
static const char *path_ids(apr_pool_t *p, conv *c)
{
    apr_array_header_t *path = rc_branches_path(p, c->n, c->count);
    const char *s = "";
    int i;

    for (i = 0; i < path->nelts; i++) {
        s = apr_pstrcat(p, s, i ? " " : "", c->n[APR_ARRAY_IDX(path, i, int)].id, NULL);
    }
    return s;
}

static const char *chain_ids(apr_pool_t *p, conv *c, int i)
{
    apr_array_header_t *ch = rc_branches_chain(p, c->n, i);
    const char *s = "";
    int k;

    for (k = 0; k < ch->nelts; k++) {
        s = apr_pstrcat(p, s, k ? " " : "", c->n[APR_ARRAY_IDX(ch, k, int)].id, NULL);
    }
    return s;
}

static void test_legacy(apr_pool_t *p)
{
    conv c = { .count = 0 };

    /* Steps another app wrote: a chain in time order, no versions. */
    add(&c, "u1", "{}", "2026-01-01T00:00:01.000000Z");
    add(&c, "a1", NULL, "2026-01-01T00:00:02.000000Z");
    add(&c, "u2", "not json", "2026-01-01T00:00:03.000000Z");
    add(&c, "a2", "{\"stopped\":true}", "2026-01-01T00:00:04.000000Z");
    rc_branches_resolve(p, c.n, c.count);
    CHECK_STR(path_ids(p, &c), "u1 a1 u2 a2");
    CHECK(c.n[0].parent == -1 && c.n[3].parent == 2);
    CHECK(c.n[2].nversions == 1 && c.n[2].version == 0);
    CHECK_STR(chain_ids(p, &c, 2), "u1 a1 u2");
    CHECK_STR(chain_ids(p, &c, -1), "");
    CHECK(rc_branches_find(c.n, c.count, "a2") == 3);
    CHECK(rc_branches_find(c.n, c.count, "zz") == -1);
}

static void test_regenerate_and_edit(apr_pool_t *p)
{
    conv c = { .count = 0 };

    add(&c, "u1", "{\"after\":null}", "2026-01-01T00:00:01.000000Z");
    add(&c, "a1", "{\"after\":\"u1\"}", "2026-01-01T00:00:02.000000Z");
    add(&c, "u2", "{\"after\":\"a1\"}", "2026-01-01T00:00:03.000000Z");
    add(&c, "a2", "{\"after\":\"u2\"}", "2026-01-01T00:00:04.000000Z");
    /* a1 regenerated: the new version is shown, without what followed a1 */
    add(&c, "a1b", "{\"after\":\"u1\"}", "2026-01-01T00:00:05.000000Z");
    rc_branches_resolve(p, c.n, c.count);
    CHECK_STR(path_ids(p, &c), "u1 a1b");
    CHECK(c.n[4].nversions == 2 && c.n[4].version == 1 && c.n[1].version == 0);
    CHECK(c.n[4].first_version == 1 && c.n[1].next_version == 4);
    CHECK(c.n[0].nversions == 1);

    /* the user picks the first version again: its branch is shown whole */
    c.n[1].metadata = "{\"after\":\"u1\",\"shown\":\"2026-01-01T00:00:06.000000Z\"}";
    rc_branches_resolve(p, c.n, c.count);
    CHECK_STR(path_ids(p, &c), "u1 a1 u2 a2");

    /* u2 edited: a new question after a1, with its answer */
    add(&c, "u2b", "{\"after\":\"a1\"}", "2026-01-01T00:00:07.000000Z");
    add(&c, "a3", "{\"after\":\"u2b\"}", "2026-01-01T00:00:08.000000Z");
    rc_branches_resolve(p, c.n, c.count);
    CHECK_STR(path_ids(p, &c), "u1 a1 u2b a3");
    CHECK(c.n[5].nversions == 2 && c.n[5].version == 1);
    CHECK_STR(chain_ids(p, &c, 6), "u1 a1 u2b a3");
    CHECK_STR(chain_ids(p, &c, 3), "u1 a1 u2 a2");

    /* the first question edited: two starts */
    add(&c, "u1b", "{\"after\":null}", "2026-01-01T00:00:09.000000Z");
    rc_branches_resolve(p, c.n, c.count);
    CHECK_STR(path_ids(p, &c), "u1b");
    CHECK(c.n[0].nversions == 2 && c.n[7].version == 1);
}

static void test_bad_data(apr_pool_t *p)
{
    conv c = { .count = 0 };

    /* a later or unknown step named: the one before it in time instead */
    add(&c, "u1", "{\"after\":\"a1\"}", "2026-01-01T00:00:01.000000Z");
    add(&c, "a1", "{\"after\":\"gone\"}", "2026-01-01T00:00:02.000000Z");
    add(&c, "u2", "{\"after\":42}", "2026-01-01T00:00:03.000000Z");
    add(&c, "x", "[]", NULL);
    rc_branches_resolve(p, c.n, c.count);
    CHECK(c.n[0].parent == -1);
    CHECK(c.n[1].parent == 0 && c.n[2].parent == 1);
    CHECK_STR(path_ids(p, &c), "u1 a1 u2 x");
    rc_branches_resolve(p, c.n, 0);
}

/* The quick reading of {"after": ...} alone agrees with the parser's. */
static void test_simple_after(apr_pool_t *p)
{
    static const char *const spellings[] = {
        "{\"after\":\"u1\"}", " { \"after\" :\t\"u1\" }\n", "{\"after\": \"u1\", \"x\": 1}",
        "{\"after\": \"u\\u0031\"}", "{\"x\": \"}\", \"after\": \"u1\"}"
    };
    static const char *const starts[] = {
        "{\"after\":null}", " {\"after\": null } ", "{\"after\": nullx}", "{\"after\":\"\"}"
    };
    size_t i;

    for (i = 0; i < sizeof(spellings) / sizeof(spellings[0]); i++) {
        conv c = { .count = 0 };
        add(&c, "u0", "{}", "2026-01-01T00:00:00.000000Z");
        add(&c, "u1", "{\"after\":\"u0\"}", "2026-01-01T00:00:01.000000Z");
        add(&c, "u2", "{\"after\":null}", "2026-01-01T00:00:02.000000Z");
        add(&c, "a", spellings[i], "2026-01-01T00:00:03.000000Z");
        rc_branches_resolve(p, c.n, c.count);
        CHECK(c.n[3].parent == 1);
        CHECK_STR(path_ids(p, &c), "u2");
    }
    for (i = 0; i < sizeof(starts) / sizeof(starts[0]); i++) {
        conv c = { .count = 0 };
        add(&c, "u0", "{}", "2026-01-01T00:00:00.000000Z");
        add(&c, "a", starts[i], "2026-01-01T00:00:01.000000Z");
        rc_branches_resolve(p, c.n, c.count);
        /* invalid JSON (another app's step) or an unknown id: after the one before it */
        CHECK(c.n[1].parent == (i >= 2 ? 0 : -1));
    }
}

/* A step following a distant one (past the nearest few compared first), and
 * an id written twice: the latest earlier one is followed. */
static void test_distant(apr_pool_t *p)
{
    conv c = { .count = 0 };
    static char ids[30][16], metas[30][48], times[30][48];
    int i;

    for (i = 0; i < 30; i++) {
        snprintf(ids[i], sizeof(ids[i]), "s%d", i);
        snprintf(metas[i], sizeof(metas[i]), i ? "{\"after\":\"s%d\"}" : "{\"after\":null}", i - 1);
        snprintf(times[i], sizeof(times[i]), "2026-01-01T00:00:%02d.000000Z", i);
        add(&c, ids[i], metas[i], times[i]);
    }
    c.n[12].id = "s3";                               /* a second "s3" */
    add(&c, "far", "{\"after\":\"s1\"}", "2026-01-01T00:01:00.000000Z");
    add(&c, "dup", "{\"after\":\"s3\"}", "2026-01-01T00:01:01.000000Z");
    add(&c, "near", "{\"after\":\"far\"}", "2026-01-01T00:01:02.000000Z");
    rc_branches_resolve(p, c.n, c.count);
    CHECK(c.n[30].parent == 1 && c.n[31].parent == 12 && c.n[32].parent == 30);
    CHECK(c.n[30].nversions == 2 && c.n[30].version == 1);
    CHECK(c.n[29].parent == 28 && c.n[13].parent == 12);
}

static void test_meta(apr_pool_t *p)
{
    CHECK_STR(rc_branches_meta_after(p, "{\"stopped\":true}", "x"),
              "{\"stopped\":true,\"after\":\"x\"}");
    CHECK_STR(rc_branches_meta_after(p, NULL, NULL), "{\"after\":null}");
    CHECK_STR(rc_branches_meta_after(p, "[1]", "y"), "{\"after\":\"y\"}");
    CHECK_STR(rc_branches_meta_shown(p, "{\"after\":\"x\",\"shown\":\"1\"}", "2"),
              "{\"after\":\"x\",\"shown\":\"2\"}");
}

int main(void)
{
    apr_pool_t *p;

    apr_initialize();
    apr_pool_create(&p, NULL);
    test_legacy(p);
    test_regenerate_and_edit(p);
    test_bad_data(p);
    test_simple_after(p);
    test_distant(p);
    test_meta(p);
    apr_pool_destroy(p);
    apr_terminate();
    return UNIT_REPORT("branches");
}
