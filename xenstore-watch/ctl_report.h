/* pvback-ctl's model of the run directory and the status reports, and the
 * table it prints. Pure: no sockets, no xenstore (tested in
 * tests/unit/watch). */
#ifndef PVBACK_CTL_REPORT_H
#define PVBACK_CTL_REPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* A backend process: its kind ("vbd", "vbd3", "vif") and domain (-1: all). */
struct ctl_key {
    char kind[16];
    int domid;
};

struct ctl_dev {
    char name[64];
    int state, fe_state; /* xenbus states, -1 when not a xenbus device */
    unsigned rings;
    uint64_t requests, bytes, errors;
};

struct ctl_proc {
    struct ctl_key key;
    char name[64];        /* the guest's name, "" when unknown */
    long pid;             /* from the report, else from the pid file; 0 unknown */
    long uid;             /* -1 unknown */
    int seccomp;          /* 0 off, 1 strict, 2 filter, -1 unknown */
    unsigned long uptime; /* seconds */
    bool has_socket, answered;
    bool denied;  /* the socket refused us (not root) */
    char *failed; /* pvback-watch's crash-loop message, or NULL */
    struct ctl_dev *devs;
    size_t ndevs;
};

struct ctl_procs {
    struct ctl_proc *v;
    size_t n, cap;
};

/* "vbd-3.sock" -> kind vbd, domid 3, ext "sock"; "vif-all.sock" -> domid -1.
 * -1 for any other name. ext points into name. */
int ctl_parse_run_file(const char *name, struct ctl_key *key, const char **ext);
/* Calls cb for every run file of dir that ctl_parse_run_file accepts (name,
 * its key and extension), until cb returns false. Does nothing when dir
 * cannot be read. */
void ctl_scan_run_dir(const char *dir,
                      bool (*cb)(const char *name, const struct ctl_key *key, const char *ext,
                                 void *arg),
                      void *arg);
/* The entry for key, created if new; NULL on allocation failure. */
struct ctl_proc *ctl_procs_get(struct ctl_procs *ps, const struct ctl_key *key);
void ctl_procs_free(struct ctl_procs *ps);
/* Fills p from a status report (format in common/status.h). -1 when the
 * report is cut (no "end") or a line is malformed. */
int ctl_parse_report(struct ctl_proc *p, const char *report);
/* The xenbus state's name ("Connected"), or "-" for -1. */
const char *ctl_state_name(int state);
/* The status table, by domain then kind. */
void ctl_print_status(FILE *out, struct ctl_procs *ps);

#endif
