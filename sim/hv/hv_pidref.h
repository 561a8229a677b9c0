/* A reference to one process that a recycled pid cannot fool: a pidfd where
 * the kernel (and valgrind, which lacks pidfd_open before 3.20) allow it,
 * else the pid plus its start time from /proc/<pid>/stat. */
#ifndef XENSIM_HV_PIDREF_H
#define XENSIM_HV_PIDREF_H

#include <stdbool.h>
#include <sys/types.h>

struct hv_pidref {
    pid_t pid;
    int pidfd;                     /* -1 when pidfd_open is not available */
    unsigned long long start_time; /* in clock ticks since boot */
};

/* 0, or -1 with errno (ESRCH: no such process). */
int hv_pidref_open(struct hv_pidref *r, pid_t pid);
void hv_pidref_close(struct hv_pidref *r);
/* True while that very process exists (a zombie counts as gone). */
bool hv_pidref_alive(const struct hv_pidref *r);
/* Sends sig to the process if it is still that process. 0 or -1. */
int hv_pidref_signal(const struct hv_pidref *r, int sig);
/* Waits up to ms for the process to go; true when it did. */
bool hv_pidref_wait_gone(const struct hv_pidref *r, int ms);

#endif
