/* See hv_pidref.h. */
#include "hv_pidref.h"

#include "loop.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

/* Field 22 (starttime) of /proc/<pid>/stat, and whether it is a zombie. */
static int read_stat(pid_t pid, unsigned long long *start, bool *zombie)
{
    char path[64], buf[1024], *p;
    FILE *f;
    size_t n;
    char state;

    snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
    f = fopen(path, "re");
    if (!f)
        return -1;
    n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    buf[n] = 0;
    p = strrchr(buf, ')'); /* the command name may hold anything */
    if (!p || sscanf(p + 2,
                     "%c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %*u %*u %*d %*d %*d %*d "
                     "%*d %*d %llu",
                     &state, start) != 2)
        return -1;
    *zombie = state == 'Z' || state == 'X';
    return 0;
}

int hv_pidref_open(struct hv_pidref *r, pid_t pid)
{
    bool zombie;

    r->pid = pid;
    r->start_time = 0;
    r->pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
    if (r->pidfd >= 0)
        return 0;
    if (errno != ENOSYS)
        return -1;
    if (read_stat(pid, &r->start_time, &zombie) < 0) {
        errno = ESRCH;
        return -1;
    }
    return 0;
}

void hv_pidref_close(struct hv_pidref *r)
{
    if (r->pidfd >= 0)
        close(r->pidfd);
    r->pidfd = -1;
}

bool hv_pidref_alive(const struct hv_pidref *r)
{
    unsigned long long start;
    bool zombie;

    if (r->pidfd >= 0) {
        struct pollfd p = {.fd = r->pidfd, .events = POLLIN};
        return poll(&p, 1, 0) == 0;
    }
    return read_stat(r->pid, &start, &zombie) == 0 && start == r->start_time && !zombie;
}

int hv_pidref_signal(const struct hv_pidref *r, int sig)
{
    if (r->pidfd >= 0 && syscall(SYS_pidfd_send_signal, r->pidfd, sig, NULL, 0) == 0)
        return 0;
    if (r->pidfd >= 0 && errno != ENOSYS)
        return -1;
    if (!hv_pidref_alive(r)) {
        errno = ESRCH;
        return -1;
    }
    return kill(r->pid, sig);
}

bool hv_pidref_wait_gone(const struct hv_pidref *r, int ms)
{
    uint64_t end = pv_now_ms() + (uint64_t)ms;

    if (r->pidfd >= 0) {
        struct pollfd p = {.fd = r->pidfd, .events = POLLIN};
        return poll(&p, 1, ms) == 1;
    }
    while (hv_pidref_alive(r)) {
        if (pv_now_ms() >= end)
            return false;
        usleep(20000);
    }
    return true;
}
