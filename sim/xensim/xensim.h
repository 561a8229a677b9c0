/* The xensim program: one binary that is both the daemon (`start`) and the
 * CLI that talks to it over DIR/ctl.sock (see ctl_proto.h).
 *   main.c        argument parsing and dispatch
 *   daemon.c      start: daemonize, run xenstored + hv + ctl, stop
 *   ctl_server.c  the daemon's side of ctl.sock
 *   procs.c       processes that run as a domain (xensim exec)
 *   ctl_client.c  the CLI's side of ctl.sock
 *   cmd_domain.c  create, destroy, shutdown, list
 *   netns.c       guests' network namespaces xs-<name>
 *   cmd_misc.c    stop, dump, exec */
#ifndef XENSIM_XENSIM_H
#define XENSIM_XENSIM_H

#include "ctl_proto.h"
#include "hv/hv_pidref.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct pv_loop;
struct pv_watch;
struct pv_timer;
struct hv;
struct xsd;
struct ctl_conn;
struct xs_handle;

/* --- daemon side --- */

struct xsim;
struct xsim_proc {
    struct xsim *x;
    struct hv_pidref ref;
    unsigned domid;
    struct pv_watch *w; /* on the pidfd; NULL when polled by proc_timer */
    struct xsim_proc *next;
};

struct xsim {
    struct pv_loop *loop;
    struct hv *hv;
    struct xsd *xsd;
    char dir[200];
    int ctl_fd;
    struct pv_watch *ctl_w;
    struct ctl_conn *ctl_conns; /* CLI connections not yet answered */
    unsigned domid_rover;       /* last domid handed out: Xen picks the next free */
    struct xsim_proc *procs;
    struct pv_timer *proc_timer; /* polls processes that have no pidfd */
    /* stop in progress: the connection to answer once processes are gone */
    int stop_conn;
    struct pv_timer *stop_timer;
};

/* daemon.c: runs the daemon. Without foreground, returns in the CLI process
 * once the daemon is ready (0) or failed (-1, message printed). */
int xsim_start(const char *dir, bool foreground);

/* ctl_server.c */
int xsim_ctl_listen(struct xsim *x);
void xsim_ctl_close(struct xsim *x);

/* procs.c */
int xsim_proc_adopt(struct xsim *x, pid_t pid, unsigned domid);
/* Sends sig to the processes of domid (-1: all). Returns how many. */
unsigned xsim_proc_signal(struct xsim *x, int domid, int sig);
/* Forgets the processes of domid (-1: all); callers signal them first. */
void xsim_proc_forget(struct xsim *x, int domid);
/* Fills at most max pids of domid's processes; returns how many it has. */
unsigned xsim_proc_pids(const struct xsim *x, unsigned domid, int32_t *pids, unsigned max);
unsigned xsim_proc_count(const struct xsim *x);
unsigned xsim_proc_count_dom(const struct xsim *x, unsigned domid);
/* Called when the last adopted process is gone (set by the stop logic). */
extern void (*xsim_proc_all_gone)(struct xsim *x);

/* --- CLI side --- */

/* The xensim directory: --dir, else $XENSIM_DIR; NULL (message printed). */
const char *xsim_cli_dir(const char *opt_dir);
/* One request to the daemon. items/fd may be NULL. Returns 0, or -1 after
 * printing why (the daemon's message, or that it is not running). */
int xsim_ctl_call(const char *dir, const struct ctl_req *req, struct ctl_rep *rep, void *items,
                  size_t items_len, int *fd);
/* True when a daemon answers on DIR/ctl.sock. */
bool xsim_ctl_alive(const char *dir);
/* The same, sending the nfdin descriptors of fdin along with the request. */
int xsim_ctl_call_fds(const char *dir, const struct ctl_req *req, const int *fdin, unsigned nfdin,
                      struct ctl_rep *rep, void *items, size_t items_len, int *fd);

int xsim_cmd_create(const char *dir, int argc, char **argv);
/* A dom0 xenstore connection to the simulator in dir (sets XENSTORED_PATH);
 * NULL after a message. */
struct xs_handle *xsim_xs_dom0(const char *dir);
/* NAME or DOMID -> domid, or -1 after a message. */
int xsim_resolve(struct xs_handle *xs, const char *name);
/* Keeps the domain's config as given to create, for a migration, as xl
 * keeps it: in /libxl/<domid>/xensim-config (the file's text) and
 * xensim-args (the overrides, one a line), which go with the domain
 * (cmd_migrate.c). */
int xsim_cfg_record(struct xs_handle *xs, unsigned domid, const char *path, int nargs, char **args,
                    char *err, size_t errlen);
int xsim_cmd_destroy(const char *dir, const char *name);
/* xl shutdown: poweroff request, then (in a detached child unless wait) the
 * guest's halt and the domain's destruction. */
int xsim_cmd_shutdown(const char *dir, const char *name, bool wait);
/* xl migrate: NAME DIR2 [--netns NS] (cmd_migrate.c). */
int xsim_cmd_migrate(const char *dir, int nargs, char **args);
int xsim_cmd_list(const char *dir);
int xsim_cmd_stop(const char *dir);
int xsim_cmd_dump(const char *dir);
int xsim_cmd_exec(const char *dir, const char *name, char **cmd);
/* Writes dom0's own keys (what xen-init-dom0 writes); run by the daemon. */
int xsim_cmd_init_dom0(const char *dir);

#endif
