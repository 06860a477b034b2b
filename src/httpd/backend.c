/* Which backend answers: RagChatBackend builtin, or a RAG backend's URL. */
#include "backend.h"

const rc_backend *rc_backend_of(const rc_dir_conf *conf)
{
    return rc_conf_is_builtin(conf) ? &rc_backend_builtin : &rc_backend_remote;
}
