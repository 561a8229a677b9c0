/* Xenstore helpers over the real libxenstore (xs_open honours XENSTORED_PATH,
 * so the same code runs on Xen and on xensim).
 *
 * Paths are given as (dir, key): the node is "dir/key", or dir itself when
 * key is NULL or "". This is the shape of Linux's xenbus_scanf(t, dir, node):
 * reading a key of the other end is pv_xs_read_uint(xs, t, frontend_path,
 * "ring-page-order", ...).
 *
 * Errors: every function returns 0 on success and -1 with errno set on
 * failure, and leaves a message naming the path (and the offending value)
 * in pv_xs_error(xs), e.g.
 *   "/local/domain/0/backend/vbd/3/51712/sectors: 'abc' is not a number".
 * A missing node is errno ENOENT; callers with optional keys set their
 * default first and accept ENOENT. Values from guests are shown truncated
 * and with unprintable bytes replaced, so a message is always safe to log.
 *
 * Watches: pv_xs_watch_add() registers a callback per watch; events are read
 * from the xs fd inside the pv_loop and dispatched there. An event for a
 * path+watch that is already queued and not yet dispatched is dropped (the
 * callback re-reads the node anyway), and each watch queues at most
 * PV_XS_WATCH_QUEUE_MAX distinct paths: past that its queue collapses into a
 * single event for the watched path itself, meaning "something below changed,
 * re-read everything". A guest flooding a watched key therefore costs a
 * bounded amount of memory (XSA-349).
 *
 * Single-threaded: use a pv_xs from the thread running its loop only. */
#ifndef PVBACK_XS_H
#define PVBACK_XS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <xenstore.h>

#include "loop.h"

/* Distinct paths one watch may have queued before it collapses (see above). */
#define PV_XS_WATCH_QUEUE_MAX 64u

struct pv_xs;
struct pv_xs_watch;

/* Opens a connection (xs_open(0)). loop may be NULL when no watch is used.
 * Returns NULL with errno set. */
struct pv_xs *pv_xs_open(struct pv_loop *loop);
/* Removes every watch and closes the connection. Not from a watch callback. */
void pv_xs_close(struct pv_xs *xs);
/* The underlying libxenstore handle, for anything not wrapped here. */
struct xs_handle *pv_xs_handle(struct pv_xs *xs);
struct pv_loop *pv_xs_loop(struct pv_xs *xs);
/* The message of the last failed call on this handle ("" if none). */
const char *pv_xs_error(const struct pv_xs *xs);

/* --- reading: out is only written on success ---------------------------- */
/* A string value; *out is malloc'ed, free() it. */
int pv_xs_read_str(struct pv_xs *xs, xs_transaction_t t, const char *dir, const char *key,
                   char **out);
/* Decimal numbers, checked against [min, max] (ERANGE outside, EINVAL when not a
 * number: digits only, no sign for unsigned, no spaces, no leading '+'). */
int pv_xs_read_uint(struct pv_xs *xs, xs_transaction_t t, const char *dir, const char *key,
                    unsigned int min, unsigned int max, unsigned int *out);
int pv_xs_read_u64(struct pv_xs *xs, xs_transaction_t t, const char *dir, const char *key,
                   uint64_t min, uint64_t max, uint64_t *out);
int pv_xs_read_int(struct pv_xs *xs, xs_transaction_t t, const char *dir, const char *key, int min,
                   int max, int *out);
/* "0" or "1"; anything else is EINVAL. */
int pv_xs_read_bool(struct pv_xs *xs, xs_transaction_t t, const char *dir, const char *key,
                    bool *out);
/* 1 if the node exists, 0 if not, -1 on another error. */
int pv_xs_exists(struct pv_xs *xs, xs_transaction_t t, const char *dir, const char *key);
/* The names of dir's children: a malloc'ed array (free() it once) and its
 * length in *num. A missing dir is ENOENT. */
char **pv_xs_directory(struct pv_xs *xs, xs_transaction_t t, const char *dir, unsigned int *num);

/* --- writing -------------------------------------------------------------- */
int pv_xs_write_str(struct pv_xs *xs, xs_transaction_t t, const char *dir, const char *key,
                    const char *value);
int pv_xs_printf(struct pv_xs *xs, xs_transaction_t t, const char *dir, const char *key,
                 const char *fmt, ...) __attribute__((format(printf, 5, 6)));
/* Creates dir/key (and missing parents) and, if nperms > 0, sets its
 * permissions: perms[0] is the owner and the access of everyone else, the
 * rest are per-domain grants (see xs_set_permissions in xenstore.h). */
int pv_xs_mkdir(struct pv_xs *xs, xs_transaction_t t, const char *dir, const char *key,
                const struct xs_permissions *perms, unsigned int nperms);
/* Removes the node and its children; a node already gone is success. */
int pv_xs_rm(struct pv_xs *xs, xs_transaction_t t, const char *dir, const char *key);

/* --- transactions ----------------------------------------------------------
 * Runs fn inside a transaction and commits. fn returns 0 to commit or -1
 * (errno set) to abort; a conflict at commit (EAGAIN), or fn failing with
 * EAGAIN, reruns fn in a fresh transaction, up to PV_XS_TXN_RETRIES times.
 * fn must therefore only read and write xenstore and its own state that it
 * resets on each run. Returns 0, or -1 with errno (EAGAIN when retries ran
 * out). */
#define PV_XS_TXN_RETRIES 64
typedef int (*pv_xs_txn_fn)(struct pv_xs *xs, xs_transaction_t t, void *arg);
int pv_xs_transaction(struct pv_xs *xs, pv_xs_txn_fn fn, void *arg);

/* --- watches ----------------------------------------------------------------
 * cb gets the path that changed (the watched path or one below it, or the
 * watched path itself after a collapse). xenstored fires every new watch
 * once right away. A callback may add and remove watches, its own included;
 * a removed watch gets no further callback. Returns NULL with errno. */
typedef void (*pv_xs_watch_cb)(struct pv_xs *xs, const char *path, void *arg);
struct pv_xs_watch *pv_xs_watch_add(struct pv_xs *xs, const char *path, pv_xs_watch_cb cb,
                                    void *arg);
void pv_xs_watch_remove(struct pv_xs_watch *w);
/* Events read from xenstore and not dispatched yet, over all watches (for
 * diagnostics and tests of the bound). */
unsigned int pv_xs_queued_events(const struct pv_xs *xs);

/* --- pure helpers (no connection) ------------------------------------------ */
/* Strict decimal parsing: 0, or -1 with errno EINVAL (not a number) or ERANGE
 * (outside [min, max]). */
int pv_parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out);
int pv_parse_int(const char *s, int min, int max, int *out);
/* pv_parse_int for a command-line option: on failure prints
 * "PROG: OPT 'S': expected a number from MIN to MAX" to stderr. */
int pv_parse_int_option(const char *prog, const char *opt, const char *s, int min, int max,
                        int *out);
/* Joins dir and key into buf ("dir/key", or dir when key is NULL or "").
 * Returns 0, or -1 with ENAMETOOLONG when it does not fit. */
int pv_xs_join(char *buf, size_t len, const char *dir, const char *key);
/* Copies a value for a log message: at most 64 bytes, unprintable bytes as
 * '?', "..." when cut. out must hold PV_XS_SHOWN_MAX bytes. */
#define PV_XS_SHOWN_MAX 72
void pv_xs_show_value(char *out, const char *value);

#endif
