/* The history sent to the backend with a question: the newest part of the
 * question's branch within the RagChatHistoryMax / RagChatHistoryChars
 * budget, oldest first, always ending with the question itself. */
#ifndef RC_HISTORY_H
#define RC_HISTORY_H

#include "conversation.h"

#include <jansson.h>

typedef struct {
    int max_messages;            /* RagChatHistoryMax, the question included */
    int max_chars;               /* RagChatHistoryChars (characters, not bytes) */
} rc_history_budget;

/* The messages ({"role","content"}, a new JSON array) of chain (node indexes
 * of c, from the conversation's start) then question; question NULL: chain's
 * last step is the question (an answer regenerated). Only the steps sent are
 * read, newest first, a few at a time. User messages and the non-empty
 * answers count; the question is always sent, older messages while both
 * budgets allow, and the history starts with a user's message. *dropped is
 * how many messages the budget left out. NULL on a database error. db may be
 * NULL when chain is (a new thread: nothing to read). */
json_t *rc_history_messages(rc_db *db, const rc_conversation *c,
                            const apr_array_header_t *chain, const char *question,
                            const rc_history_budget *budget, int *dropped);

#endif
