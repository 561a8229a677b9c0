/* The per-process status socket: each backend process answers on
 *   <run dir>/<type>-<domid>.sock      (e.g. vbd-3.sock, vif-3.sock; "all"
 *                                       for a process serving every domain)
 * with a plain-text report of itself and of the devices it registered, then
 * closes the connection. `pvback-ctl status` reads every socket of the run
 * directory. The run directory is $PVBACK_RUN_DIR, else <XENSIM_DIR>/pvback
 * on xensim, else /run/pvback.
 *
 * A backend registers each device once and updates the counters in place
 * (plain increments in its data path: the loop is single-threaded and the
 * report is built from the same thread):
 *
 *   probe:   v->st = pv_status_dev_add(status, dev, &v->counters);
 *   data:    v->counters.requests++; v->counters.bytes += len; ...
 *   connect: v->counters.rings = nr_rings;   disconnect: ... = 0;
 *   remove:  pv_status_dev_remove(v->st);
 *
 * The device's name ("vbd/3/51712") and its backend and frontend states are
 * read from the xenbus device at report time; the process's uid and seccomp
 * mode are read from the kernel then too, so they are never stale.
 *
 * The report, one record per line, fields separated by single spaces:
 *   process type=vbd domid=3 pid=1234 uid=0 seccomp=0 uptime=12
 *   device name=vbd/3/51712 state=4 fe-state=4 rings=1 requests=10 bytes=40960 errors=0
 *   end
 * "end" marks a complete report. A client that does not read never blocks the
 * backend: the report is sent at once without waiting (it is a few hundred
 * bytes per device, far below a socket buffer), and cut if it does not fit. */
#ifndef PVBACK_STATUS_H
#define PVBACK_STATUS_H

#include <stddef.h>
#include <stdint.h>

#include "loop.h"

struct pv_xenbus_dev;
struct pv_status;
struct pv_status_dev;

/* What a backend counts per device. It owns the struct (usually inside its
 * per-device data) and must keep it alive until pv_status_dev_remove. */
struct pv_status_counters {
    uint32_t rings;    /* rings (queues) currently mapped */
    uint64_t requests; /* blk: ring requests; net: packets (both directions) */
    uint64_t bytes;    /* payload bytes moved (both directions) */
    uint64_t errors;   /* requests answered with an error, packets dropped */
};

/* The run directory (see above) into buf; 0, or -1 with ENAMETOOLONG. */
int pv_run_dir(char *buf, size_t len);

/* A listening, non-blocking Unix stream socket at path, mode 0600 (only its
 * owner, root, may connect), replacing a stale one left by a crashed
 * predecessor. The fd, or -1 with errno. Also pvback-watch's control socket. */
int pv_unix_listen(const char *path);

/* Opens the socket <run dir>/<type>-<domid>.sock (domid < 0: "all"),
 * creating the run directory if needed and replacing a stale socket left by
 * a crashed predecessor. Returns NULL with errno set (and a message logged).
 * The status keeps serving from loop until pv_status_close. */
struct pv_status *pv_status_open(struct pv_loop *loop, const char *type, int domid);
/* Closes and unlinks the socket; devices still registered are dropped. */
void pv_status_close(struct pv_status *st);

/* Registers a device. st may be NULL (a backend run without a status socket),
 * then this returns NULL and pv_status_dev_remove(NULL) does nothing. */
struct pv_status_dev *pv_status_dev_add(struct pv_status *st, const struct pv_xenbus_dev *dev,
                                        const struct pv_status_counters *counters);
/* The same for a device that is not a xenbus device (or in tests): the
 * report shows name and "-" for both states. */
struct pv_status_dev *pv_status_dev_add_named(struct pv_status *st, const char *name,
                                              const struct pv_status_counters *counters);
void pv_status_dev_remove(struct pv_status_dev *sd);

/* The report as it would be sent now, NUL-terminated, malloc'ed (free it);
 * NULL with errno on allocation failure. For tests and diagnostics. */
char *pv_status_report(const struct pv_status *st);

#endif
