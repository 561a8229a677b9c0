/* The per-process status socket (see status.h). */
#include "status.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "log.h"
#include "xenbus.h"

struct pv_status_dev {
    struct pv_status_dev *next;
    struct pv_status *st;
    const struct pv_xenbus_dev *dev; /* NULL for a named device */
    const struct pv_status_counters *counters;
    char name[64];
};

struct pv_status {
    struct pv_loop *loop;
    struct pv_watch *watch;
    int fd;
    char type[16];
    int domid;
    uint64_t started_ms;
    char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
    struct pv_status_dev *devs;
};

int pv_run_dir(char *buf, size_t len)
{
    const char *env = getenv("PVBACK_RUN_DIR");
    const char *sim = getenv("XENSIM_DIR");
    int n;

    if (env && *env)
        n = snprintf(buf, len, "%s", env);
    else if (sim && *sim)
        n = snprintf(buf, len, "%s/pvback", sim);
    else
        n = snprintf(buf, len, "/run/pvback");
    if (n < 0 || (size_t)n >= len) {
        errno = ENAMETOOLONG;
        return -1;
    }
    return 0;
}

/* The kernel's seccomp mode of this process (0 off, 1 strict, 2 filter),
 * -1 when the kernel does not say. */
static int seccomp_mode(void)
{
    FILE *f = fopen("/proc/self/status", "re");
    char line[256];
    int mode = -1;

    if (!f)
        return -1;
    while (fgets(line, sizeof(line), f)) {
        if (!strncmp(line, "Seccomp:", 8)) {
            mode = atoi(line + 8);
            break;
        }
    }
    fclose(f);
    return mode;
}

/* A growing text buffer; on allocation failure it stays failed. */
struct textbuf {
    char *s;
    size_t len, cap;
    bool failed;
};

static void tb_printf(struct textbuf *tb, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void tb_printf(struct textbuf *tb, const char *fmt, ...)
{
    va_list ap;
    int n;

    if (tb->failed)
        return;
    for (;;) {
        va_start(ap, fmt);
        n = vsnprintf(tb->s + tb->len, tb->cap - tb->len, fmt, ap);
        va_end(ap);
        if (n < 0) {
            tb->failed = true;
            return;
        }
        if ((size_t)n < tb->cap - tb->len) {
            tb->len += (size_t)n;
            return;
        }
        size_t cap = tb->cap * 2 + (size_t)n + 1;
        char *s = realloc(tb->s, cap);
        if (!s) {
            tb->failed = true;
            return;
        }
        tb->s = s;
        tb->cap = cap;
    }
}

char *pv_status_report(const struct pv_status *st)
{
    struct textbuf tb = {.cap = 512};

    tb.s = malloc(tb.cap);
    if (!tb.s)
        return NULL;
    tb.s[0] = '\0';
    char domid[16];
    if (st->domid < 0)
        snprintf(domid, sizeof(domid), "all");
    else
        snprintf(domid, sizeof(domid), "%d", st->domid);
    tb_printf(&tb, "process type=%s domid=%s pid=%ld uid=%ld seccomp=%d uptime=%llu\n", st->type,
              domid, (long)getpid(), (long)getuid(), seccomp_mode(),
              (unsigned long long)((pv_now_ms() - st->started_ms) / 1000));
    for (const struct pv_status_dev *sd = st->devs; sd; sd = sd->next) {
        const struct pv_status_counters *c = sd->counters;
        char be[12] = "-", fe[12] = "-";
        if (sd->dev) {
            snprintf(be, sizeof(be), "%d", (int)pv_xenbus_dev_state(sd->dev));
            snprintf(fe, sizeof(fe), "%d", (int)pv_xenbus_dev_fe_state(sd->dev));
        }
        tb_printf(&tb,
                  "device name=%s state=%s fe-state=%s rings=%u requests=%llu bytes=%llu "
                  "errors=%llu\n",
                  sd->name, be, fe, (unsigned)c->rings, (unsigned long long)c->requests,
                  (unsigned long long)c->bytes, (unsigned long long)c->errors);
    }
    tb_printf(&tb, "end\n");
    if (tb.failed) {
        free(tb.s);
        errno = ENOMEM;
        return NULL;
    }
    return tb.s;
}

static void on_client(int fd, uint32_t events, void *arg)
{
    struct pv_status *st = arg;
    (void)events;

    int c = accept4(fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
    if (c < 0)
        return; /* EAGAIN or a client that went away: nothing to do */
    char *r = pv_status_report(st);
    if (r) {
        size_t len = strlen(r);
        ssize_t n = send(c, r, len, MSG_DONTWAIT | MSG_NOSIGNAL);
        if (n >= 0 && (size_t)n < len)
            pv_warn("status: report cut at %zd of %zu bytes", n, len);
        free(r);
    }
    close(c);
}

int pv_unix_listen(const char *path)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};

    if (strlen(path) >= sizeof(sa.sun_path)) {
        errno = ENAMETOOLONG;
        return -1;
    }
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0)
        return -1;
    memcpy(sa.sun_path, path, strlen(path) + 1);
    unlink(path);
    if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || chmod(path, 0600) < 0 ||
        listen(fd, 8) < 0) {
        int e = errno;
        close(fd);
        unlink(path);
        errno = e;
        return -1;
    }
    return fd;
}

struct pv_status *pv_status_open(struct pv_loop *loop, const char *type, int domid)
{
    struct pv_status *st = calloc(1, sizeof(*st));
    char dir[sizeof(st->path)];
    int n;

    if (!st)
        return NULL;
    st->fd = -1;
    st->loop = loop;
    st->domid = domid;
    st->started_ms = pv_now_ms();
    snprintf(st->type, sizeof(st->type), "%s", type);
    if (pv_run_dir(dir, sizeof(dir)) < 0)
        goto fail;
    if (domid < 0)
        n = snprintf(st->path, sizeof(st->path), "%s/%s-all.sock", dir, type);
    else
        n = snprintf(st->path, sizeof(st->path), "%s/%s-%d.sock", dir, type, domid);
    if (n < 0 || (size_t)n >= sizeof(st->path)) {
        errno = ENAMETOOLONG;
        goto fail;
    }
    /* Only root (or the backend's own user) may read the counters. */
    if (mkdir(dir, 0755) < 0 && errno != EEXIST)
        goto fail;
    st->fd = pv_unix_listen(st->path);
    if (st->fd < 0)
        goto fail;
    st->watch = pv_loop_add_fd(loop, st->fd, EPOLLIN, on_client, st);
    if (!st->watch)
        goto fail;
    return st;
fail:;
    int e = errno;
    pv_err("status socket %s: %s", st->path[0] ? st->path : dir, strerror(e));
    if (st->fd >= 0) {
        close(st->fd);
        unlink(st->path);
    }
    free(st);
    errno = e;
    return NULL;
}

void pv_status_close(struct pv_status *st)
{
    if (!st)
        return;
    while (st->devs) {
        struct pv_status_dev *sd = st->devs;
        st->devs = sd->next;
        free(sd);
    }
    pv_watch_remove(st->watch);
    close(st->fd);
    unlink(st->path);
    free(st);
}

static struct pv_status_dev *dev_add(struct pv_status *st, const struct pv_xenbus_dev *dev,
                                     const char *name, const struct pv_status_counters *counters)
{
    if (!st)
        return NULL;
    struct pv_status_dev *sd = calloc(1, sizeof(*sd));
    if (!sd)
        return NULL; /* the device still works, it is just not listed */
    sd->st = st;
    sd->dev = dev;
    sd->counters = counters;
    snprintf(sd->name, sizeof(sd->name), "%.*s", (int)sizeof(sd->name) - 1, name);
    /* Append, so that the report lists devices in the order they came. */
    struct pv_status_dev **pp = &st->devs;
    while (*pp)
        pp = &(*pp)->next;
    *pp = sd;
    return sd;
}

struct pv_status_dev *pv_status_dev_add(struct pv_status *st, const struct pv_xenbus_dev *dev,
                                        const struct pv_status_counters *counters)
{
    return dev_add(st, dev, pv_xenbus_dev_log(dev)->prefix, counters);
}

struct pv_status_dev *pv_status_dev_add_named(struct pv_status *st, const char *name,
                                              const struct pv_status_counters *counters)
{
    return dev_add(st, NULL, name, counters);
}

void pv_status_dev_remove(struct pv_status_dev *sd)
{
    if (!sd)
        return;
    for (struct pv_status_dev **pp = &sd->st->devs; *pp; pp = &(*pp)->next) {
        if (*pp == sd) {
            *pp = sd->next;
            break;
        }
    }
    free(sd);
}
