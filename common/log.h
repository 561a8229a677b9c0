/* Logging for every pvback binary: one line per message on stderr, with the
 * program name, a level, and an optional per-device prefix so that the log of
 * a process serving several devices can be read device by device. */
#ifndef PVBACK_LOG_H
#define PVBACK_LOG_H

#include <stdarg.h>

enum pv_log_level { PV_LOG_ERR = 0, PV_LOG_WARN, PV_LOG_INFO, PV_LOG_DEBUG };

/* Sets the program name and reads PVBACK_LOG (err|warn|info|debug; default info). */
void pv_log_init(const char *progname);
void pv_log_set_level(enum pv_log_level level);
enum pv_log_level pv_log_get_level(void);

/* A device's log context: the prefix is printed before each message, for
 * example "vbd/3/51712". */
struct pv_logctx {
    char prefix[96];
};

void pv_logctx_set(struct pv_logctx *ctx, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

void pv_vlog(const struct pv_logctx *ctx, enum pv_log_level level, const char *fmt, va_list ap);
void pv_log(enum pv_log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void pv_dlog(const struct pv_logctx *ctx, enum pv_log_level level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#define pv_err(...)   pv_log(PV_LOG_ERR, __VA_ARGS__)
#define pv_warn(...)  pv_log(PV_LOG_WARN, __VA_ARGS__)
#define pv_info(...)  pv_log(PV_LOG_INFO, __VA_ARGS__)
#define pv_debug(...) pv_log(PV_LOG_DEBUG, __VA_ARGS__)

#endif
