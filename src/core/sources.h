/* Sources of an answer. RAG backends put their retrieval metadata in a
 * leading ```json block (the reference app strips it and throws it away);
 * this finds that block and reads the sources or citations it names, in the
 * common shapes: a list of file names, or of objects with a title, file,
 * page, score, url and text, directly or under "metadata" (LangChain's
 * source_documents, LlamaIndex's source_nodes). No httpd types. */
#ifndef RC_SOURCES_H
#define RC_SOURCES_H

#include <apr_pools.h>
#include <jansson.h>
#include <stddef.h>

#define RC_SOURCES_MAX 50            /* sources kept of one answer */

/* The object of a leading ```json {…} ``` block of an answer (the block that
 * rc_clean_display removes), or NULL when there is none or it is not a JSON
 * object. A new reference. */
json_t *rc_sources_preamble(const char *text, size_t len);

/* The sources named by a preamble object, as a new array of objects with
 * "title" (always) and, when known, "file", "page" (string), "passage"
 * (integer), "score" (number), "url" (http or https) and "snippet"; NULL when
 * it names none. */
json_t *rc_sources_from(const json_t *preamble);

/* The sources as a markdown section ("**Sources**" and a numbered list, every
 * value quoted literally), for exports; "" when sources is not a non-empty
 * array. In p. */
char *rc_sources_markdown(apr_pool_t *p, const json_t *sources);

#endif
