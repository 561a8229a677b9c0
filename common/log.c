/* Logging: see log.h. Messages are formatted into one buffer and written with
 * a single write(2) so that lines from several processes sharing a log file
 * do not interleave.
 *
 * A guest controls much of what a backend logs (every refused request, every
 * reconnect), so the log itself is bounded: a token bucket lets through
 * PV_LOG_RATE lines a second with bursts of PV_LOG_BURST, and a line counting
 * the suppressed ones follows once tokens are back. Without it a broken or
 * hostile frontend can fill dom0's disk through the backend's log. */
#include "log.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

static const char *log_prog = "pvback";
static enum pv_log_level log_level = PV_LOG_INFO;

static const char *const level_names[] = {"error", "warning", "info", "debug"};

#define PV_LOG_RATE  200  /* lines per second, sustained */
#define PV_LOG_BURST 2000 /* lines at once */

static double log_tokens = PV_LOG_BURST;
static uint64_t log_last_ns;
static unsigned long log_suppressed;

static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;

static bool log_take(uint64_t now)
{
    if (log_last_ns)
        log_tokens += (double)(now - log_last_ns) * PV_LOG_RATE / 1e9;
    log_last_ns = now;
    if (log_tokens > PV_LOG_BURST)
        log_tokens = PV_LOG_BURST;
    if (log_tokens < 1.0) {
        log_suppressed++;
        return false;
    }
    log_tokens -= 1.0;
    return true;
}

static uint64_t mono_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Takes a token; false when the line must be dropped. */
static bool log_admit(void)
{
    uint64_t now = mono_ns();
    bool ok;

    pthread_mutex_lock(&log_lock);
    ok = log_take(now);
    pthread_mutex_unlock(&log_lock);
    return ok;
}

void pv_log_init(const char *progname)
{
    const char *env = getenv("PVBACK_LOG");

    if (progname) {
        const char *slash = strrchr(progname, '/');
        log_prog = slash ? slash + 1 : progname;
    }
    if (!env)
        return;
    for (unsigned i = 0; i < sizeof(level_names) / sizeof(level_names[0]); i++) {
        if (!strcasecmp(env, level_names[i]) || (i == 0 && !strcasecmp(env, "err")) ||
            (i == 1 && !strcasecmp(env, "warn")))
            log_level = (enum pv_log_level)i;
    }
}

void pv_log_set_level(enum pv_log_level level)
{
    log_level = level;
}

enum pv_log_level pv_log_get_level(void)
{
    return log_level;
}

void pv_logctx_set(struct pv_logctx *ctx, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(ctx->prefix, sizeof(ctx->prefix), fmt, ap);
    va_end(ap);
}

void pv_vlog(const struct pv_logctx *ctx, enum pv_log_level level, const char *fmt, va_list ap)
{
    char buf[1024];
    struct timespec ts;
    unsigned long dropped;
    size_t n;
    int r;

    if (level > log_level || !log_admit())
        return;
    pthread_mutex_lock(&log_lock);
    dropped = log_suppressed;
    log_suppressed = 0;
    pthread_mutex_unlock(&log_lock);
    if (dropped) {
        pv_log(PV_LOG_WARN, "log: %lu lines suppressed (over %d lines/s)", dropped, PV_LOG_RATE);
    }
    clock_gettime(CLOCK_REALTIME, &ts);
    r = snprintf(buf, sizeof(buf), "%lld.%03ld %s[%d] %s: %s%s", (long long)ts.tv_sec,
                 ts.tv_nsec / 1000000, log_prog, (int)getpid(), level_names[level],
                 ctx && ctx->prefix[0] ? ctx->prefix : "", ctx && ctx->prefix[0] ? ": " : "");
    n = r < 0 ? 0 : ((size_t)r < sizeof(buf) ? (size_t)r : sizeof(buf) - 1);
    r = vsnprintf(buf + n, sizeof(buf) - n, fmt, ap);
    if (r > 0)
        n += (size_t)r < sizeof(buf) - n ? (size_t)r : sizeof(buf) - n - 1;
    if (n >= sizeof(buf) - 1)
        n = sizeof(buf) - 2;
    buf[n++] = '\n';
    if (write(STDERR_FILENO, buf, n) < 0) {
        /* Nowhere left to report a failed log write. */
    }
}

void pv_log(enum pv_log_level level, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    pv_vlog(NULL, level, fmt, ap);
    va_end(ap);
}

void pv_dlog(const struct pv_logctx *ctx, enum pv_log_level level, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    pv_vlog(ctx, level, fmt, ap);
    va_end(ap);
}
