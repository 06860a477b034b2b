/* Sources of an answer: the preamble block and the shapes it takes. */
#include "unit.h"
#include "sources.h"
#include "json.h"

#include <apr_general.h>
#include <apr_strings.h>

/* The sources of a preamble written as JSON text, serialised compactly. */
static const char *sources_of(apr_pool_t *p, const char *json)
{
    json_t *j = json_loads(json, 0, NULL), *s;
    const char *out;

    s = rc_sources_from(j);
    out = s ? rc_json_dump(p, s) : "none";
    json_decref(s);
    json_decref(j);
    return out;
}

static void test_preamble(apr_pool_t *p)
{
    const char *a = "```json\n{\"sources\": [\"doc.pdf\"], \"score\": 0.5}\n```\nThe answer";
    const char *b = "  ```json {\"a\": {\"b\": 1}} ```Hi";
    json_t *j;

    j = rc_sources_preamble(a, strlen(a));
    CHECK(json_is_object(j));
    CHECK_STR(rc_json_dump(p, j), "{\"sources\":[\"doc.pdf\"],\"score\":0.5}");
    json_decref(j);
    j = rc_sources_preamble(b, strlen(b));
    CHECK_STR(j ? rc_json_dump(p, j) : "none", "{\"a\":{\"b\":1}}");
    json_decref(j);
    CHECK(rc_sources_preamble("No preamble", 11) == NULL);
    CHECK(rc_sources_preamble("```json\n{\"a\":", 13) == NULL);
    CHECK(rc_sources_preamble("```json\n{not json}\n```\nx", 24) == NULL);
    CHECK(rc_sources_preamble("Text\n```json\n{}\n```", 19) == NULL);
    CHECK(rc_sources_preamble(NULL, 0) == NULL);
}

static void test_shapes(apr_pool_t *p)
{
    /* file names */
    CHECK_STR(sources_of(p, "{\"sources\": [\"docs/report.pdf\", \"notes\"]}"),
              "[{\"file\":\"docs/report.pdf\",\"title\":\"report.pdf\"},{\"title\":\"notes\"}]");
    /* objects with the usual names */
    CHECK_STR(sources_of(p, "{\"citations\": [{\"title\": \"Lease\", \"file\": \"lease.pdf\","
                            " \"page\": 3, \"score\": 0.5, \"url\": \"https://x.org/l\","
                            " \"text\": \"  The  tenant\\nshall \"}]}"),
              "[{\"page\":\"3\",\"score\":0.5,\"snippet\":\"The tenant shall\","
              "\"url\":\"https://x.org/l\",\"file\":\"lease.pdf\",\"title\":\"Lease\"}]");
    /* LangChain */
    CHECK_STR(sources_of(p, "{\"source_documents\": [{\"page_content\": \"abc\", \"metadata\":"
                            " {\"source\": \"/data/a.pdf\", \"page\": \"7\"}}]}"),
              "[{\"page\":\"7\",\"snippet\":\"abc\",\"file\":\"/data/a.pdf\",\"title\":\"a.pdf\"}]");
    /* LlamaIndex */
    CHECK_STR(sources_of(p, "{\"source_nodes\": [{\"score\": 0.75, \"node\": {\"text\": \"t\","
                            " \"metadata\": {\"file_name\": \"b.txt\", \"page_label\": \"ii\"}}}]}"),
              "[{\"page\":\"ii\",\"score\":0.75,\"snippet\":\"t\","
              "\"file\":\"b.txt\",\"title\":\"b.txt\"}]");
    /* the built-in backend's */
    CHECK_STR(sources_of(p, "{\"sources\": [{\"title\": \"a.md\", \"file\": \"a.md\","
                            " \"passage\": 2, \"score\": 1}]}"),
              "[{\"passage\":2,\"score\":1.0,\"file\":\"a.md\",\"title\":\"a.md\"}]");
    /* nested, a single string, a url only */
    CHECK_STR(sources_of(p, "{\"rag\": {\"references\": [{\"link\": \"http://a.b/c\"}]}}"),
              "[{\"url\":\"http://a.b/c\",\"title\":\"http://a.b/c\"}]");
    CHECK_STR(sources_of(p, "{\"source\": \"manual.pdf\"}"),
              "[{\"file\":\"manual.pdf\",\"title\":\"manual.pdf\"}]");
    /* a javascript: url is not a url */
    CHECK_STR(sources_of(p, "{\"sources\": [{\"title\": \"x\", \"url\": \"javascript:alert(1)\"}]}"),
              "[{\"title\":\"x\"}]");
    /* nothing usable */
    CHECK_STR(sources_of(p, "{\"score\": 0.9}"), "none");
    CHECK_STR(sources_of(p, "{\"sources\": []}"), "none");
    CHECK_STR(sources_of(p, "{\"sources\": [1, null, {}]}"), "none");
    CHECK_STR(sources_of(p, "[1]"), "none");
}

static void test_long(apr_pool_t *p)
{
    char *big = apr_palloc(p, 2000), *json;
    const char *out;
    int i;

    for (i = 0; i < 1998; i += 2) {
        memcpy(big + i, i % 50 == 48 ? "  " : "\xC3\xA9", 2);
    }
    big[1998] = '\0';
    json = apr_psprintf(p, "{\"sources\": [{\"title\": \"t\", \"snippet\": \"%s\"}]}", big);
    out = sources_of(p, json);
    CHECK(strlen(out) < 600);
    CHECK(strstr(out, "\xE2\x80\xA6") != NULL);

    json = "{\"sources\": [";
    for (i = 0; i < 80; i++) {
        json = apr_pstrcat(p, json, i ? "," : "", "\"f\"", NULL);
    }
    json = apr_pstrcat(p, json, "]}", NULL);
    {
        json_t *j = json_loads(json, 0, NULL), *s = rc_sources_from(j);
        CHECK(json_array_size(s) == RC_SOURCES_MAX);
        json_decref(s);
        json_decref(j);
    }
}

static void test_markdown(apr_pool_t *p)
{
    json_t *s = json_loads("[{\"title\": \"Lease *draft*\", \"file\": \"lease.pdf\", \"page\": \"3\","
                           " \"score\": 0.91234, \"url\": \"https://x.org/a\"},"
                           " {\"title\": \"a.md\", \"file\": \"a.md\", \"passage\": 2}]", 0, NULL);

    CHECK_STR(rc_sources_markdown(p, s),
              "**Sources**\n\n"
              "1. Lease \\*draft\\* \xE2\x80\x94 lease.pdf, page 3 (score 0.91) <https://x.org/a>\n"
              "2. a.md, passage 2\n");
    json_decref(s);
    CHECK_STR(rc_sources_markdown(p, NULL), "");
}

int main(void)
{
    apr_pool_t *p;

    apr_initialize();
    apr_pool_create(&p, NULL);
    test_preamble(p);
    test_shapes(p);
    test_long(p);
    test_markdown(p);
    apr_pool_destroy(p);
    apr_terminate();
    return UNIT_REPORT("sources");
}
