/* pvback-watch's daemon state, shared by its parts:
 *   watch_xs.c    the xenstore side: which domains have devices, which died;
 *   watch_proc.c  the per-guest backend processes: start, stop, restart;
 *   watch_taps.c  removing a dead guest's taps;
 *   watch_ctl.c   the control socket (pvback-ctl upgrade);
 *   watch_main.c  options, start-up, the loop.
 * One process per (kind, domain): pvback-blk --type vbd, pvback-blk --type
 * vbd3 and pvback-net, each with --frontend-domid N. */
#ifndef PVBACK_WATCH_H
#define PVBACK_WATCH_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "loop.h"
#include "watch_config.h"
#include "watch_restart.h"
#include "xs.h"

enum watch_proc_state {
    PROC_RUNNING,  /* started (or adopted) and not seen exiting */
    PROC_STOPPING, /* SIGTERM sent; SIGKILL when stop-timeout runs out */
    PROC_BACKOFF,  /* crashed; restarts when its timer fires */
    PROC_FAILED,   /* crash loop: not restarted until its devices go away */
};

struct watch_proc {
    struct watch_proc *next;
    struct watch *w;
    enum watch_kind kind;
    uint32_t domid;
    pid_t pid;    /* 0 when not running */
    bool adopted; /* left running by an earlier pvback-watch: polled, not waited for */
    enum watch_proc_state state;
    struct watch_restart restart;
    uint64_t kill_at_ms;    /* STOPPING: when SIGKILL follows SIGTERM */
    struct pv_timer *timer; /* restart (BACKOFF), SIGKILL (STOPPING), poll (adopted) */
};

/* The argument of a backend directory's watch. */
struct watch_kind_watch {
    struct watch *w;
    enum watch_kind kind;
};

struct watch {
    struct watch_config cfg;
    struct pv_loop *loop;
    struct pv_xs *xs;
    uint32_t self_domid;
    unsigned claims;   /* 1u << kind */
    char home[64];     /* /local/domain/<self> */
    char run_dir[200]; /* pid files, status sockets, .failed markers */
    char blk_command[256];
    char net_command[256];
    struct watch_proc *procs;
    struct watch_kind_watch kind_watch[WATCH_NKINDS];
    bool stopping; /* the daemon is exiting: start nothing */
    bool seccomp;  /* the backends get --seccomp */
    int ctl_fd;    /* the control socket, -1 when closed */
    struct pv_watch *ctl_watch;
};

/* --- watch_xs.c ----------------------------------------------------------- */
/* Watches the claimed backend directories and @releaseDomain, and cleans up
 * after domains that died while no pvback-watch ran. 0 or -1. */
int watch_xs_start(struct watch *w);
/* Whether domain domid still exists (is introduced to xenstore). */
bool watch_domain_alive(struct watch *w, uint32_t domid);
/* Whether domid has devices of kind, i.e. needs its backend process. */
bool watch_domain_has_devices(struct watch *w, enum watch_kind kind, uint32_t domid);
/* Crash loop: marks every device of (kind, domid) failed: an error node as
 * xenbus_dev_fatal writes it, and state Closed so that the frontend and the
 * toolstack stop waiting. */
void watch_fail_devices(struct watch *w, enum watch_kind kind, uint32_t domid, const char *why);

/* --- watch_proc.c --------------------------------------------------------- */
struct watch_proc *watch_proc_find(struct watch *w, enum watch_kind kind, uint32_t domid);
/* Starts the process of (kind, domid) unless it runs, waits to restart or
 * has failed. */
void watch_proc_ensure(struct watch *w, enum watch_kind kind, uint32_t domid);
/* Stops it (SIGTERM, then SIGKILL) and forgets it once it exited. */
void watch_proc_stop(struct watch *w, enum watch_kind kind, uint32_t domid);
/* Upgrade: stops p's process like watch_proc_stop, and since its guest
 * still has devices, starts it again from its command (the binary installed
 * now) as soon as it exited. Returns the pid being stopped, or 0 when p
 * runs nothing (waiting to restart, failed, already stopping). */
pid_t watch_proc_restart(struct watch *w, struct watch_proc *p);
/* SIGCHLD: reaps every exited child and restarts the ones still needed. */
void watch_proc_reap(struct watch *w);
/* Adopts the processes an earlier pvback-watch left running (pid files in
 * the run directory whose process is still the backend of that domain). */
void watch_proc_adopt(struct watch *w);
/* Removes the run-directory files of (kind, domid): pid file, status socket,
 * failure marker. */
void watch_proc_forget_files(struct watch *w, enum watch_kind kind, uint32_t domid);
/* Removes the in-flight journals of (kind, domid) (docs/hardening.md): only
 * for a domain that is gone, whose rings no successor will ever attach. */
void watch_proc_forget_journal(struct watch *w, enum watch_kind kind, uint32_t domid);
/* Frees the table (the processes keep running: a restarted pvback-watch
 * adopts them, so that an upgrade does not disturb the guests). */
void watch_proc_free_all(struct watch *w);

/* --- watch_ctl.c ---------------------------------------------------------- */
/* Opens <run dir>/watch.sock in the loop; 0, or -1 (logged). */
int watch_ctl_open(struct watch *w);
/* Closes and removes it (nothing if not open). */
void watch_ctl_close(struct watch *w);

/* --- watch_taps.c --------------------------------------------------------- */
/* The domain of a vif interface name "vif<domid>.<n>", optionally with a
 * suffix ("vif3.0-emu"); false for any other name. */
bool watch_tap_domid(const char *ifname, uint32_t *domid);
/* Whether ifname is one of domid's vifs. */
bool watch_is_guest_tap(const char *ifname, uint32_t domid);
/* Calls cb for the domain of every vif interface present (repeats possible). */
void watch_tap_domains(void (*cb)(uint32_t domid, void *arg), void *arg);
/* Deletes every such interface; returns how many were deleted. */
int watch_delete_taps(uint32_t domid);

#endif
