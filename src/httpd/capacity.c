/* The capacity warning (see capacity.h). An answer holds its worker thread
 * (prefork: its process) from the question to the last token, so the MPM's
 * MaxRequestWorkers is the most answers that stream at once: the next wait in
 * the listen queue, their first token as late as the earliest answer's end.
 * Nothing in the configuration says how many answers a site expects, so the
 * check against the MPM runs only when RagChatStreams says it; the open-file
 * limit is checked always, against the threads of one child (each streaming
 * answer has two sockets open, the browser's and the backend's), as running
 * out of descriptors fails answers instead of delaying them. */
#include "capacity.h"

#include "ap_mpm.h"
#include "http_log.h"
#include "apr_strings.h"

#include <sys/resource.h>

APLOG_USE_MODULE(ragchat);

/* Descriptors a child needs besides its streams: listeners, logs, the
 * database, the modules' files. */
#define RC_FILES_BASE 64

static int streams_wanted;

const char *rc_capacity_set_streams(cmd_parms *cmd, void *cfg, const char *arg)
{
    const char *err = ap_check_cmd_context(cmd, GLOBAL_ONLY);
    char *end;
    long v;

    (void)cfg;
    if (err) {
        return err;
    }
    v = strtol(arg, &end, 10);
    if (*end || end == arg || v < 1 || v > 10000000L) {
        return apr_psprintf(cmd->pool, "RagChatStreams: '%s' is not a count (a whole number "
                            ">= 1)", arg);
    }
    streams_wanted = (int)v;
    return NULL;
}

void rc_capacity_pre_config(void)
{
    streams_wanted = 0;
}

static int mpm_value(int what, int dflt)
{
    int v = 0;

    return ap_mpm_query(what, &v) == APR_SUCCESS && v > 0 ? v : dflt;
}

void rc_capacity_check(server_rec *s)
{
    int threads = mpm_value(AP_MPMQ_MAX_THREADS, 1);
    int daemons = mpm_value(AP_MPMQ_MAX_DAEMONS, 1);
    long workers = (long)threads * daemons;
    struct rlimit rl;

    if (streams_wanted && workers < streams_wanted) {
        ap_log_error(APLOG_MARK, APLOG_WARNING, 0, s, "RC0009: RagChatStreams is %d but "
                     "MaxRequestWorkers is %ld (%d processes x %d threads): each streaming "
                     "answer holds a worker until its end, so at most %ld stream at once and "
                     "the next wait for one to end; raise MaxRequestWorkers (with ServerLimit, "
                     "ThreadsPerChild, ThreadLimit) to at least %d",
                     streams_wanted, workers, daemons, threads, workers, streams_wanted);
    }
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY
        && rl.rlim_cur < (rlim_t)(2 * threads + RC_FILES_BASE)) {
        ap_log_error(APLOG_MARK, APLOG_WARNING, 0, s, "RC0010: the open-file limit is %lu "
                     "but a child of %d threads streaming an answer on each needs %d (two "
                     "sockets per answer): answers will fail with 'too many open files'; "
                     "raise it (ulimit -n, APACHE_ULIMIT_MAX_FILES in envvars, or "
                     "LimitNOFILE in the service unit)", (unsigned long)rl.rlim_cur, threads,
                     2 * threads + RC_FILES_BASE);
    }
}
