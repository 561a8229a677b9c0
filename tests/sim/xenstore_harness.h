/* Shared by the tests/sim/test_xenstore*.c programs: xensim's xenstored
 * running in this process (on its own thread, so valgrind sees the daemon
 * too) in a fresh directory, and libxenstore clients connected to it as
 * dom0 or as a guest. Daemon calls (introduce, release, quota changes) run
 * on the daemon's thread through xsh_on_loop. */
#ifndef PVBACK_TEST_XENSTORE_HARNESS_H
#define PVBACK_TEST_XENSTORE_HARNESS_H

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <xenstore.h>

#include "common/loop.h"
#include "xenstored/xsd.h"
#include "xenstored/xsd_quota.h"

struct xsh {
    char dir[64];
    struct pv_loop *loop;
    struct xsd *xsd;
    pthread_t thread;
    int pipe[2]; /* calls to run on the daemon's thread */
    struct pv_watch *pipe_w;
    sem_t done;
};

struct xsh_call {
    void (*fn)(struct xsh *h, void *arg);
    void *arg;
};

static inline void xsh_pipe_ready(int fd, uint32_t events, void *arg)
{
    struct xsh *h = arg;
    struct xsh_call call;

    (void)events;
    if (read(fd, &call, sizeof(call)) == sizeof(call)) {
        call.fn(h, call.arg);
        sem_post(&h->done);
    }
}

static inline void *xsh_thread(void *arg)
{
    struct xsh *h = arg;

    pv_loop_run(h->loop);
    return NULL;
}

/* Runs fn(h, arg) on the daemon's thread and waits for it. */
static inline void xsh_on_loop(struct xsh *h, void (*fn)(struct xsh *h, void *arg), void *arg)
{
    struct xsh_call call = {fn, arg};

    if (write(h->pipe[1], &call, sizeof(call)) != sizeof(call))
        abort();
    while (sem_wait(&h->done) < 0 && errno == EINTR)
        ;
}

static inline struct xsh *xsh_start(void)
{
    struct xsh *h = calloc(1, sizeof(*h));

    snprintf(h->dir, sizeof(h->dir), "/tmp/pvback-xsd.XXXXXX");
    if (!h || !mkdtemp(h->dir) || pipe(h->pipe) < 0 || sem_init(&h->done, 0, 0) < 0)
        abort();
    h->loop = pv_loop_new();
    h->xsd = xsd_new(h->loop, h->dir, NULL);
    if (!h->loop || !h->xsd)
        abort();
    h->pipe_w = pv_loop_add_fd(h->loop, h->pipe[0], EPOLLIN, xsh_pipe_ready, h);
    if (pthread_create(&h->thread, NULL, xsh_thread, h) != 0)
        abort();
    return h;
}

static inline void xsh_stop_loop(struct xsh *h, void *arg)
{
    (void)arg;
    pv_loop_stop(h->loop);
}

static inline void xsh_stop(struct xsh *h)
{
    char cmd[128];

    xsh_on_loop(h, xsh_stop_loop, NULL);
    pthread_join(h->thread, NULL);
    xsd_free(h->xsd);
    pv_watch_remove(h->pipe_w);
    pv_loop_free(h->loop);
    close(h->pipe[0]);
    close(h->pipe[1]);
    sem_destroy(&h->done);
    snprintf(cmd, sizeof(cmd), "rm -rf %s", h->dir);
    if (system(cmd) != 0)
        abort();
    free(h);
}

static inline void xsh_introduce_loop(struct xsh *h, void *arg)
{
    if (xsd_introduce(h->xsd, (unsigned)(uintptr_t)arg) < 0)
        abort();
}

static inline void xsh_release_loop(struct xsh *h, void *arg)
{
    if (xsd_release(h->xsd, (unsigned)(uintptr_t)arg) < 0)
        abort();
}

static inline void xsh_introduce(struct xsh *h, unsigned domid)
{
    xsh_on_loop(h, xsh_introduce_loop, (void *)(uintptr_t)domid);
}

static inline void xsh_release(struct xsh *h, unsigned domid)
{
    xsh_on_loop(h, xsh_release_loop, (void *)(uintptr_t)domid);
}

/* The socket path a domain's clients use. */
static inline void xsh_sock(const struct xsh *h, unsigned domid, char *buf, size_t len)
{
    if (domid == 0)
        snprintf(buf, len, "%s/xenstored.sock", h->dir);
    else
        snprintf(buf, len, "%s/dom%u.sock", h->dir, domid);
}

/* A libxenstore handle acting as domid, exactly as a program given
 * XENSTORED_PATH would open it. */
static inline struct xs_handle *xsh_open(const struct xsh *h, unsigned domid)
{
    char path[128];
    struct xs_handle *xs;

    xsh_sock(h, domid, path, sizeof(path));
    setenv("XENSTORED_PATH", path, 1);
    xs = xs_open(0);
    unsetenv("XENSTORED_PATH");
    return xs;
}

/* Reads key as a string (NULL with errno when it fails); caller frees. */
static inline char *xsh_read(struct xs_handle *xs, const char *key)
{
    unsigned len;

    return xs_read(xs, XBT_NULL, key, &len);
}

/* The next watch event within timeout_ms: path and token into the buffers;
 * false when none came. */
static inline bool xsh_event(struct xs_handle *xs, int timeout_ms, char *path, size_t plen,
                             char *token, size_t tlen)
{
    struct pollfd p = {.fd = xs_fileno(xs), .events = POLLIN};
    unsigned n;
    char **v;

    /* libxenstore signals a queued event on its fileno. */
    if (poll(&p, 1, timeout_ms) <= 0)
        return false;
    v = xs_check_watch(xs);
    if (!v)
        return false;
    (void)n;
    snprintf(path, plen, "%s", v[XS_WATCH_PATH]);
    snprintf(token, tlen, "%s", v[XS_WATCH_TOKEN]);
    free(v);
    return true;
}

/* Waits for an event with this path and token, skipping others. */
static inline bool xsh_expect_event(struct xs_handle *xs, const char *path, const char *token)
{
    char p[4096], t[256];

    while (xsh_event(xs, 2000, p, sizeof(p), t, sizeof(t)))
        if (strcmp(p, path) == 0 && strcmp(t, token) == 0)
            return true;
    return false;
}

/* True when no event arrives within timeout_ms. */
static inline bool xsh_no_event(struct xs_handle *xs, int timeout_ms)
{
    char p[4096], t[256];

    return !xsh_event(xs, timeout_ms, p, sizeof(p), t, sizeof(t));
}

/* Raw wire access, for what libxenstore would never send. */
#include <sys/socket.h>
#include <sys/un.h>
#include <xen/io/xs_wire.h>

static inline int xsh_raw_connect(const struct xsh *h, unsigned domid)
{
    struct sockaddr_un addr = {.sun_family = AF_UNIX};
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

    xsh_sock(h, domid, addr.sun_path, sizeof(addr.sun_path));
    if (fd < 0 || connect(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0)
        abort();
    return fd;
}

static inline bool xsh_raw_send(int fd, uint32_t type, uint32_t len_field, const void *data,
                                size_t len)
{
    struct xsd_sockmsg hdr = {.type = type, .req_id = 7, .tx_id = 0, .len = len_field};

    return send(fd, &hdr, sizeof(hdr), MSG_NOSIGNAL) == sizeof(hdr) &&
           (len == 0 || send(fd, data, len, MSG_NOSIGNAL) == (ssize_t)len);
}

/* Reads exactly len bytes within timeout_ms; false on EOF, error or timeout. */
static inline bool xsh_raw_read(int fd, void *buf, size_t len, int timeout_ms)
{
    size_t got = 0;

    while (got < len) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        ssize_t n;

        if (poll(&p, 1, timeout_ms) <= 0)
            return false;
        n = recv(fd, (char *)buf + got, len - got, 0);
        if (n <= 0)
            return false;
        got += (size_t)n;
    }
    return true;
}

/* Reads one message; its payload (nul-terminated) into buf. */
static inline bool xsh_raw_recv(int fd, struct xsd_sockmsg *hdr, char *buf, size_t blen)
{
    if (!xsh_raw_read(fd, hdr, sizeof(*hdr), 2000) || hdr->len >= blen)
        return false;
    if (!xsh_raw_read(fd, buf, hdr->len, 2000))
        return false;
    buf[hdr->len] = '\0';
    return true;
}

/* True when the daemon closed fd (EOF within timeout_ms, after any data). */
static inline bool xsh_raw_closed(int fd, int timeout_ms)
{
    char buf[4096];

    for (;;) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        ssize_t n;

        if (poll(&p, 1, timeout_ms) <= 0)
            return false;
        n = recv(fd, buf, sizeof(buf), 0);
        if (n <= 0)
            return true;
    }
}

#endif
