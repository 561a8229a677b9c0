/* The start-up and run of a backend daemon (pvback-blk, pvback-net), written
 * once: command line (the options every backend has plus the daemon's own),
 * logging, platform, xenstore, status socket, in-flight journal directory,
 * sandbox, the xenbus backend and the loop, then the orderly shutdown.
 *
 * A daemon describes itself in a struct pv_backend_main and calls
 * pv_backend_main_run() from main(). Options every backend has:
 *   --platform xen|sim:DIR   --frontend-domid N   --help
 *   --user SPEC  --seccomp  --sandbox-selftest   (sandbox.h)
 * Exit status: 0 after SIGTERM/SIGINT, 2 for a bad command line, 1 when
 * start-up fails or the loop does. */
#ifndef PVBACK_BACKEND_MAIN_H
#define PVBACK_BACKEND_MAIN_H

#include <getopt.h>

struct pv_status;
struct pv_xenbus_ops;

/* What the common start-up opened, handed to the daemon before the sandbox
 * is entered. */
struct pv_backend_env {
    int fe_domid;             /* --frontend-domid, or -1: every domain */
    const char *journal_dir;  /* in-flight journals (journal.h), NULL: none */
    struct pv_status *status; /* the status socket (status.h), or NULL */
};

struct pv_backend_main {
    const char *prog; /* "pvback-blk": log tag and prefix of messages */
    /* The daemon's own options for the usage line, e.g. "[--max-queues N]";
     * may hold "\n" and indentation to wrap. */
    const char *usage;
    /* The daemon's own long options, ended by a zeroed entry. Their codes
     * must differ from 'p', 'd', 'h' and the PV_SANDBOX_OPT_* codes. */
    const struct option *options;
    /* One of those options was given: 0, or -1 after printing a message
     * naming the option and the value (the process exits with 2). */
    int (*option)(void *daemon, int code, const char *arg);
    /* The xenbus device class; its type names the status socket and the
     * journal directory. Read after the options (one may change it). */
    const struct pv_xenbus_ops *(*xenbus_ops)(void *daemon);
    /* A capability kept across the --user switch (CAP_*), or -1. */
    int keep_cap;
    /* Optional: called once xenstore, the status socket and the journal
     * directory are open, before the sandbox: the daemon takes what it needs
     * into the context it gives the xenbus backend. 0, or -1 to exit with 1
     * (after logging why). */
    int (*prepare)(void *daemon, const struct pv_backend_env *env);
    /* Optional: the context of the xenbus backend (pv_xenbus_dev_ctx());
     * NULL: daemon itself. */
    void *(*xenbus_ctx)(void *daemon);
};

/* Runs the daemon described by m (daemon is its own state, handed to every
 * callback) until SIGTERM or SIGINT. Returns the exit status. */
int pv_backend_main_run(const struct pv_backend_main *m, void *daemon, int argc, char **argv);

#endif
