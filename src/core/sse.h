/* The backend's event stream: the SSE parser and the decoding of the OpenAI
 * chunks it carries, in one include for the glue (chat.c). */
#ifndef RC_SSE_H
#define RC_SSE_H

#include "openai_chunk.h"
#include "sse_parse.h"

#endif
