/* The remote drivers' private epoll set and settings: see storage_remote.h. */
#include "storage_remote.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <unistd.h>

/* epoll_event.data.u32 tags. */
enum { TAG_EFD = 1, TAG_TIMER, TAG_SOCK };

int pv_remote_poll_init(struct pv_remote_poll *p, int efd, char *err, size_t errlen)
{
    p->sock = -1;
    p->sock_events = 0;
    p->epfd = epoll_create1(EPOLL_CLOEXEC);
    p->timerfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
    struct itimerspec its = {
        .it_value = {.tv_sec = PV_REMOTE_TICK_MS / 1000},
        .it_interval = {.tv_sec = PV_REMOTE_TICK_MS / 1000},
    };
    struct epoll_event ev_efd = {.events = EPOLLIN, .data.u32 = TAG_EFD};
    struct epoll_event ev_tim = {.events = EPOLLIN, .data.u32 = TAG_TIMER};
    if (p->epfd < 0 || p->timerfd < 0 || timerfd_settime(p->timerfd, 0, &its, NULL) < 0 ||
        epoll_ctl(p->epfd, EPOLL_CTL_ADD, efd, &ev_efd) < 0 ||
        epoll_ctl(p->epfd, EPOLL_CTL_ADD, p->timerfd, &ev_tim) < 0) {
        snprintf(err, errlen, "cannot set up the event set: %s", strerror(errno));
        pv_remote_poll_fini(p);
        return -1;
    }
    return 0;
}

void pv_remote_poll_fini(struct pv_remote_poll *p)
{
    if (p->epfd >= 0)
        close(p->epfd);
    if (p->timerfd >= 0)
        close(p->timerfd);
    p->epfd = p->timerfd = p->sock = -1;
}

void pv_remote_poll_set_socket(struct pv_remote_poll *p, int fd, int poll_events)
{
    uint32_t events = 0;
    if (poll_events & POLLIN)
        events |= EPOLLIN;
    if (poll_events & POLLOUT)
        events |= EPOLLOUT;
    if (p->sock >= 0 && (fd != p->sock || !events))
        epoll_ctl(p->epfd, EPOLL_CTL_DEL, p->sock, NULL);
    /* No events wanted (a library waiting to reconnect): out of the set, or
     * a hung-up socket would keep it readable (EPOLLHUP is always reported)
     * and the loop would spin. */
    if (!events)
        fd = -1;
    /* Always MOD (or ADD): a library that reconnects may close its socket and
     * get the same fd number back for the new one, which epoll then no longer
     * holds; one epoll_ctl per service round is cheap next to the I/O. */
    struct epoll_event ev = {.events = events, .data.u32 = TAG_SOCK};
    if (fd >= 0 && epoll_ctl(p->epfd, EPOLL_CTL_MOD, fd, &ev) < 0 && errno == ENOENT)
        epoll_ctl(p->epfd, EPOLL_CTL_ADD, fd, &ev);
    p->sock = fd;
    p->sock_events = events;
}

void pv_remote_poll_check(struct pv_remote_poll *p, int *sock_revents, bool *tick)
{
    struct epoll_event evs[4];
    *sock_revents = 0;
    *tick = false;
    int n = epoll_wait(p->epfd, evs, 4, 0);
    for (int i = 0; i < n; i++) {
        if (evs[i].data.u32 == TAG_TIMER) {
            uint64_t expirations;
            (void)!read(p->timerfd, &expirations, sizeof(expirations));
            *tick = true;
        } else if (evs[i].data.u32 == TAG_SOCK) {
            uint32_t e = evs[i].events;
            *sock_revents = (e & EPOLLIN ? POLLIN : 0) | (e & EPOLLOUT ? POLLOUT : 0) |
                            (e & EPOLLERR ? POLLERR : 0) | (e & EPOLLHUP ? POLLHUP : 0);
        }
        /* TAG_EFD: storage.c reads the eventfd itself. */
    }
}

unsigned int pv_remote_timeout(unsigned int configured)
{
    if (configured)
        return configured;
    const char *env = getenv("PVBACK_REMOTE_TIMEOUT");
    if (env && *env) {
        char *end;
        unsigned long v = strtoul(env, &end, 10);
        if (!*end && v > 0 && v < 86400)
            return (unsigned int)v;
    }
    return PV_REMOTE_DEFAULT_TIMEOUT;
}

/* One address: a non-blocking connect, waited for with poll. 0 or errno. */
static int try_connect(const struct addrinfo *ai)
{
    int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol);
    if (fd < 0)
        return errno;
    int rc = 0;
    if (connect(fd, ai->ai_addr, ai->ai_addrlen) < 0) {
        rc = errno;
        if (rc == EINPROGRESS) {
            struct pollfd pfd = {.fd = fd, .events = POLLOUT};
            int n = poll(&pfd, 1, PV_REMOTE_CONNECT_TIMEOUT * 1000);
            socklen_t len = sizeof(rc);
            if (n == 0)
                rc = ETIMEDOUT;
            else if (n < 0 || getsockopt(fd, SOL_SOCKET, SO_ERROR, &rc, &len) < 0)
                rc = errno;
        }
    }
    close(fd);
    return rc;
}

int pv_remote_probe(const char *host, uint16_t port, char *err, size_t errlen)
{
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *res;
    char service[8];
    snprintf(service, sizeof(service), "%u", port);
    int g = getaddrinfo(host, service, &hints, &res);
    if (g) {
        snprintf(err, errlen, "cannot resolve host '%s': %s", host, gai_strerror(g));
        return -1;
    }
    int rc = ENOENT;
    for (struct addrinfo *ai = res; ai && rc; ai = ai->ai_next)
        rc = try_connect(ai);
    freeaddrinfo(res);
    if (rc) {
        snprintf(err, errlen, "cannot reach %s port %u: %s", host, port, strerror(rc));
        return -1;
    }
    return 0;
}
