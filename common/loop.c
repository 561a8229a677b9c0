/* Event loop: see loop.h. Watchers removed during dispatch are only marked
 * dead and freed after the batch, because a later event of the same batch
 * may still point at them. */
#include "loop.h"
#include "log.h"

#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#define MAX_EVENTS  64
#define MAX_SIGNALS 16

struct pv_watch {
    struct pv_loop *loop;
    int fd;
    pv_fd_cb cb;
    void *arg;
    bool dead;
    struct pv_watch *next_dead;
    struct pv_watch *prev, *next; /* live watchers, so pv_loop_free can free them */
};

struct pv_timer {
    struct pv_loop *loop;
    int fd;
    struct pv_watch *watch;
    pv_timer_cb cb;
    void *arg;
};

struct signal_slot {
    int signo;
    pv_signal_cb cb;
    void *arg;
};

struct pv_loop {
    int epfd;
    bool stop;
    int dispatching;
    struct pv_watch *dead; /* freed after the current dispatch round */
    struct pv_watch *live;
    int sigfd;
    struct pv_watch *sigwatch;
    sigset_t sigmask;
    struct signal_slot sigs[MAX_SIGNALS];
    unsigned nsigs;
};

uint64_t pv_now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

struct pv_loop *pv_loop_new(void)
{
    struct pv_loop *loop = calloc(1, sizeof(*loop));

    if (!loop)
        return NULL;
    loop->epfd = epoll_create1(EPOLL_CLOEXEC);
    if (loop->epfd < 0) {
        free(loop);
        return NULL;
    }
    loop->sigfd = -1;
    sigemptyset(&loop->sigmask);
    return loop;
}

static void free_dead(struct pv_loop *loop)
{
    while (loop->dead) {
        struct pv_watch *w = loop->dead;
        loop->dead = w->next_dead;
        free(w);
    }
}

struct pv_watch *pv_loop_add_fd(struct pv_loop *loop, int fd, uint32_t events, pv_fd_cb cb,
                                void *arg)
{
    struct pv_watch *w = calloc(1, sizeof(*w));
    struct epoll_event ev = {.events = events};

    if (!w)
        return NULL;
    w->loop = loop;
    w->fd = fd;
    w->cb = cb;
    w->arg = arg;
    ev.data.ptr = w;
    if (epoll_ctl(loop->epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
        int e = errno;
        free(w);
        errno = e;
        return NULL;
    }
    w->next = loop->live;
    if (loop->live)
        loop->live->prev = w;
    loop->live = w;
    return w;
}

int pv_watch_modify(struct pv_watch *w, uint32_t events)
{
    struct epoll_event ev = {.events = events, .data.ptr = w};

    return epoll_ctl(w->loop->epfd, EPOLL_CTL_MOD, w->fd, &ev);
}

void pv_watch_remove(struct pv_watch *w)
{
    if (!w || w->dead)
        return;
    /* The fd may already be closed by the owner; ENOENT/EBADF are harmless. */
    epoll_ctl(w->loop->epfd, EPOLL_CTL_DEL, w->fd, NULL);
    w->dead = true;
    if (w->prev)
        w->prev->next = w->next;
    else
        w->loop->live = w->next;
    if (w->next)
        w->next->prev = w->prev;
    if (w->loop->dispatching) {
        w->next_dead = w->loop->dead;
        w->loop->dead = w;
    } else {
        free(w);
    }
}

static void timer_fired(int fd, uint32_t events, void *arg)
{
    struct pv_timer *t = arg;
    uint64_t expirations;

    (void)events;
    if (read(fd, &expirations, sizeof(expirations)) != sizeof(expirations))
        return;
    t->cb(t, t->arg);
}

struct pv_timer *pv_timer_new(struct pv_loop *loop, pv_timer_cb cb, void *arg)
{
    struct pv_timer *t = calloc(1, sizeof(*t));

    if (!t)
        return NULL;
    t->loop = loop;
    t->cb = cb;
    t->arg = arg;
    t->fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
    if (t->fd < 0)
        goto fail;
    t->watch = pv_loop_add_fd(loop, t->fd, EPOLLIN, timer_fired, t);
    if (!t->watch)
        goto fail;
    return t;
fail:
    if (t->fd >= 0)
        close(t->fd);
    free(t);
    return NULL;
}

static void ms_to_timespec(uint64_t ms, struct timespec *ts)
{
    ts->tv_sec = (time_t)(ms / 1000u);
    ts->tv_nsec = (long)(ms % 1000u) * 1000000L;
}

int pv_timer_arm(struct pv_timer *t, uint64_t first_ms, uint64_t interval_ms)
{
    struct itimerspec its;

    memset(&its, 0, sizeof(its));
    /* A zero it_value would disarm the timer; fire "now" as 1 ns instead. */
    ms_to_timespec(first_ms, &its.it_value);
    if (first_ms == 0)
        its.it_value.tv_nsec = 1;
    ms_to_timespec(interval_ms, &its.it_interval);
    return timerfd_settime(t->fd, 0, &its, NULL);
}

int pv_timer_disarm(struct pv_timer *t)
{
    struct itimerspec its;

    memset(&its, 0, sizeof(its));
    return timerfd_settime(t->fd, 0, &its, NULL);
}

void pv_timer_free(struct pv_timer *t)
{
    if (!t)
        return;
    pv_watch_remove(t->watch);
    close(t->fd);
    free(t);
}

static void signal_fired(int fd, uint32_t events, void *arg)
{
    struct pv_loop *loop = arg;
    struct signalfd_siginfo si;

    (void)events;
    while (read(fd, &si, sizeof(si)) == sizeof(si)) {
        for (unsigned i = 0; i < loop->nsigs; i++) {
            if (loop->sigs[i].signo == (int)si.ssi_signo)
                loop->sigs[i].cb((int)si.ssi_signo, loop->sigs[i].arg);
        }
    }
}

int pv_loop_add_signal(struct pv_loop *loop, int signo, pv_signal_cb cb, void *arg)
{
    int fd;

    if (loop->nsigs == MAX_SIGNALS) {
        errno = ENOSPC;
        return -1;
    }
    sigaddset(&loop->sigmask, signo);
    if (sigprocmask(SIG_BLOCK, &loop->sigmask, NULL) < 0)
        return -1;
    fd = signalfd(loop->sigfd, &loop->sigmask, SFD_NONBLOCK | SFD_CLOEXEC);
    if (fd < 0)
        return -1;
    if (loop->sigfd < 0) {
        loop->sigfd = fd;
        loop->sigwatch = pv_loop_add_fd(loop, fd, EPOLLIN, signal_fired, loop);
        if (!loop->sigwatch)
            return -1;
    }
    loop->sigs[loop->nsigs++] = (struct signal_slot){signo, cb, arg};
    return 0;
}

static void stop_on_signal(int signo, void *arg)
{
    pv_info("signal %d: stopping", signo);
    pv_loop_stop(arg);
}

int pv_loop_stop_on_signals(struct pv_loop *loop)
{
    if (pv_loop_add_signal(loop, SIGTERM, stop_on_signal, loop) < 0)
        return -1;
    return pv_loop_add_signal(loop, SIGINT, stop_on_signal, loop);
}

int pv_loop_run_once(struct pv_loop *loop, int timeout_ms)
{
    struct epoll_event evs[MAX_EVENTS];
    int n = epoll_wait(loop->epfd, evs, MAX_EVENTS, timeout_ms);

    if (n < 0)
        return errno == EINTR ? 0 : -1;
    loop->dispatching++;
    for (int i = 0; i < n; i++) {
        struct pv_watch *w = evs[i].data.ptr;
        if (!w->dead)
            w->cb(w->fd, evs[i].events, w->arg);
    }
    loop->dispatching--;
    if (!loop->dispatching)
        free_dead(loop);
    return n;
}

int pv_loop_run(struct pv_loop *loop)
{
    loop->stop = false;
    while (!loop->stop) {
        if (pv_loop_run_once(loop, -1) < 0)
            return -1;
    }
    return 0;
}

void pv_loop_stop(struct pv_loop *loop)
{
    loop->stop = true;
}

void pv_loop_free(struct pv_loop *loop)
{
    if (!loop)
        return;
    if (loop->sigwatch)
        pv_watch_remove(loop->sigwatch);
    if (loop->sigfd >= 0) {
        close(loop->sigfd);
        sigprocmask(SIG_UNBLOCK, &loop->sigmask, NULL);
    }
    free_dead(loop);
    while (loop->live) {
        struct pv_watch *w = loop->live;
        loop->live = w->next;
        free(w);
    }
    close(loop->epfd);
    free(loop);
}
