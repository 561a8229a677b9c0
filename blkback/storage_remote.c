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

#include "log.h"
#include "loop.h"

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

/* ---- the store every remote driver embeds ---- */

void *pv_remote_store_new(size_t size, const struct pv_storage_params *p, const char *peer,
                          char *err, size_t errlen)
{
    struct pv_remote_store *r = calloc(1, size);
    if (!r) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    r->poll.epfd = r->poll.timerfd = r->poll.sock = -1;
    pv_url_redact(p->path, r->name, sizeof(r->name));
    r->peer = peer;
    r->timeout_s = pv_remote_timeout(p->reconnect_timeout);
    return r;
}

int pv_remote_store_ready(struct pv_remote_store *r, int efd, unsigned int depth, size_t cmd_size,
                          char *err, size_t errlen)
{
    r->cmds = calloc(depth, cmd_size);
    if (!r->cmds) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    r->cmd_size = cmd_size;
    r->ncmds = depth;
    for (unsigned int i = depth; i-- > 0;)
        pv_remote_cmd_put(r, pv_remote_cmd_at(r, i));
    return pv_remote_poll_init(&r->poll, efd, err, errlen);
}

void pv_remote_store_free(struct pv_remote_store *r)
{
    pv_remote_poll_fini(&r->poll);
    free(r->cmds);
    free(r);
}

void *pv_remote_cmd_at(struct pv_remote_store *r, unsigned int i)
{
    return i < r->ncmds ? r->cmds + i * r->cmd_size : NULL;
}

void *pv_remote_cmd_get(struct pv_remote_store *r)
{
    struct pv_remote_link *l = r->free_cmds;
    if (l)
        r->free_cmds = l->next;
    return l;
}

void pv_remote_cmd_put(struct pv_remote_store *r, void *cmd)
{
    struct pv_remote_link *l = cmd;
    l->next = r->free_cmds;
    r->free_cmds = l;
}

int pv_remote_store_poll_fd(struct pv_storage *s)
{
    return ((struct pv_remote_store *)s)->poll.epfd;
}

void pv_remote_store_begin_reap(struct pv_remote_store *r, int *sock_revents, bool *tick)
{
    r->completed = 0;
    pv_remote_poll_check(&r->poll, sock_revents, tick);
}

bool pv_remote_store_refused(struct pv_remote_store *r, struct pv_storage_req *req)
{
    if (!r->gave_up)
        return false;
    pv_storage_defer(&r->base, req, -EIO);
    return true;
}

/* ---- a lost session ---- */

void pv_remote_session_lost(struct pv_remote_store *r, const char *why)
{
    if (r->down_since_ms)
        return;
    r->down_since_ms = pv_now_ms();
    pv_warn("%s: session lost (%s); reconnecting", r->name,
            why && *why ? why : "the library gave no reason");
}

void pv_remote_session_back(struct pv_remote_store *r)
{
    if (!r->down_since_ms)
        return;
    r->down_since_ms = 0;
    r->gave_up = false;
    r->attempt_window_ms = 0;
    pv_info("%s: session re-established", r->name);
}

bool pv_remote_session_expired(struct pv_remote_store *r)
{
    if (r->gave_up || !r->down_since_ms || pv_now_ms() - r->down_since_ms < r->timeout_s * 1000ull)
        return false;
    pv_err("%s: no session for %u s: failing requests until the %s is back", r->name, r->timeout_s,
           r->peer);
    r->gave_up = true;
    return true;
}

bool pv_remote_retry_due(struct pv_remote_store *r, bool attempting)
{
    uint64_t now = pv_now_ms();
    if (!r->attempt_window_ms)
        r->attempt_window_ms = PV_REMOTE_RETRY_MS;
    if (attempting) {
        if (now - r->attempt_ms < r->attempt_window_ms)
            return false;
        /* Abandoned: this server (or this process) may just be slow, so the
         * next attempt gets longer. A redo every window forever would never
         * let a login that takes longer than the window succeed. */
        r->attempt_window_ms = r->attempt_window_ms * 2 < PV_REMOTE_RETRY_MAX_MS
                                   ? r->attempt_window_ms * 2
                                   : PV_REMOTE_RETRY_MAX_MS;
        pv_debug("%s: reconnect attempt silent for %llu ms: redone, now with %u ms", r->name,
                 (unsigned long long)(now - r->attempt_ms), r->attempt_window_ms);
    }
    r->attempt_ms = now;
    return true;
}

void pv_remote_park(struct pv_remote_store *r, struct pv_remote_link *l)
{
    l->next = r->parked;
    r->parked = l;
}

void pv_remote_unpark(struct pv_remote_store *r, void (*again)(struct pv_remote_link *l, bool fail))
{
    struct pv_remote_link *l = r->parked;
    r->parked = NULL;
    while (l) {
        struct pv_remote_link *next = l->next;
        again(l, r->gave_up);
        l = next;
    }
}
