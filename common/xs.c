/* Xenstore helpers: see xs.h. The watch queue is kept per watch, and the
 * watches with something queued form a round-robin ready list, so that a
 * guest flooding one watch neither grows memory nor starves the others. */
#include "xs.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xen/io/xs_wire.h>

#include "log.h"

#define PATH_BUF (XENSTORE_ABS_PATH_MAX + 1)

struct xs_event {
    struct xs_event *next;
    char path[];
};

struct pv_xs_watch {
    struct pv_xs *xs;
    struct pv_xs_watch *next;       /* all watches of the handle */
    struct pv_xs_watch *ready_next; /* ready list, while queued > 0 */
    bool in_ready;
    char *path;
    char token[24];
    pv_xs_watch_cb cb;
    void *arg;
    struct xs_event *head, *tail;
    unsigned int queued;
    bool collapsed; /* the queue holds only the "re-read all" event */
};

struct pv_xs {
    struct xs_handle *h;
    struct pv_loop *loop;
    struct pv_watch *fdw;
    struct pv_xs_watch *watches;
    struct pv_xs_watch *ready_head, *ready_tail;
    unsigned int queued;
    unsigned long long next_token;
    char err[512];
};

/* ---- pure helpers ---------------------------------------------------- */

int pv_parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
    uint64_t v = 0;
    bool overflow = false; /* ERANGE, but only once the whole value is digits */

    if (!s || !*s) {
        errno = EINVAL;
        return -1;
    }
    for (const char *p = s; *p; p++) {
        unsigned d;
        if (*p < '0' || *p > '9') {
            errno = EINVAL;
            return -1;
        }
        d = (unsigned)(*p - '0');
        overflow |= v > (UINT64_MAX - d) / 10;
        v = v * 10 + d;
    }
    if (overflow || v < min || v > max) {
        errno = ERANGE;
        return -1;
    }
    *out = v;
    return 0;
}

int pv_parse_int(const char *s, int min, int max, int *out)
{
    bool neg = s && *s == '-';
    uint64_t mag;
    int64_t v;

    /* The magnitude is bounded first so that negating it cannot overflow. */
    if (pv_parse_u64(neg ? s + 1 : s, 0, (uint64_t)INT_MAX + 1, &mag) < 0)
        return -1;
    v = neg ? -(int64_t)mag : (int64_t)mag;
    if (v < min || v > max) {
        errno = ERANGE;
        return -1;
    }
    *out = (int)v;
    return 0;
}

int pv_parse_int_option(const char *prog, const char *opt, const char *s, int min, int max,
                        int *out)
{
    if (pv_parse_int(s, min, max, out) < 0) {
        fprintf(stderr, "%s: %s '%s': expected a number from %d to %d\n", prog, opt, s, min, max);
        return -1;
    }
    return 0;
}

int pv_xs_join(char *buf, size_t len, const char *dir, const char *key)
{
    int n;

    if (key && *key)
        n = snprintf(buf, len, "%s/%s", dir, key);
    else
        n = snprintf(buf, len, "%s", dir);
    if (n < 0 || (size_t)n >= len) {
        errno = ENAMETOOLONG;
        return -1;
    }
    return 0;
}

void pv_xs_show_value(char *out, const char *value)
{
    size_t i;

    for (i = 0; value[i] && i < 64; i++)
        out[i] = isprint((unsigned char)value[i]) ? value[i] : '?';
    if (value[i]) {
        memcpy(out + i, "...", 3);
        i += 3;
    }
    out[i] = '\0';
}

/* ---- errors ----------------------------------------------------------- */

static void set_err(struct pv_xs *xs, int e, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Records a message for pv_xs_error() and sets errno = e. */
static void set_err(struct pv_xs *xs, int e, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(xs->err, sizeof(xs->err), fmt, ap);
    va_end(ap);
    errno = e;
}

const char *pv_xs_error(const struct pv_xs *xs)
{
    return xs->err;
}

static int join_or_err(struct pv_xs *xs, char *buf, const char *dir, const char *key)
{
    if (pv_xs_join(buf, PATH_BUF, dir, key) == 0)
        return 0;
    set_err(xs, ENAMETOOLONG, "%.64s.../%.64s: path too long", dir, key ? key : "");
    return -1;
}

/* ---- connection ------------------------------------------------------- */

static void on_xs_fd(int fd, uint32_t events, void *arg);

struct pv_xs *pv_xs_open(struct pv_loop *loop)
{
    struct pv_xs *xs = calloc(1, sizeof(*xs));

    if (!xs)
        return NULL;
    xs->h = xs_open(0);
    if (!xs->h) {
        int e = errno;
        free(xs);
        errno = e;
        return NULL;
    }
    xs->loop = loop;
    return xs;
}

struct xs_handle *pv_xs_handle(struct pv_xs *xs)
{
    return xs->h;
}

struct pv_loop *pv_xs_loop(struct pv_xs *xs)
{
    return xs->loop;
}

/* ---- reading ---------------------------------------------------------- */

int pv_xs_read_str(struct pv_xs *xs, xs_transaction_t t, const char *dir, const char *key,
                   char **out)
{
    char path[PATH_BUF];
    unsigned int len;
    char *v;

    if (join_or_err(xs, path, dir, key) < 0)
        return -1;
    v = xs_read(xs->h, t, path, &len);
    if (!v) {
        int e = errno;
        set_err(xs, e, "%s: %s", path, e == ENOENT ? "missing" : strerror(e));
        return -1;
    }
    if (strlen(v) != len) {
        /* An embedded NUL would make the value mean two things. */
        free(v);
        set_err(xs, EINVAL, "%s: value contains a NUL byte", path);
        return -1;
    }
    *out = v;
    return 0;
}

/* Reads and parses one number; the range check and the message are shared by
 * every integer type. */
static int read_number(struct pv_xs *xs, xs_transaction_t t, const char *dir, const char *key,
                       bool is_signed, int64_t smin, int64_t smax, uint64_t umin, uint64_t umax,
                       int64_t *sout, uint64_t *uout)
{
    char path[PATH_BUF], shown[PV_XS_SHOWN_MAX];
    char *v;
    int r;

    if (pv_xs_read_str(xs, t, dir, key, &v) < 0)
        return -1;
    if (is_signed) {
        int i;
        r = pv_parse_int(v, (int)smin, (int)smax, &i);
        if (r == 0)
            *sout = i;
    } else {
        r = pv_parse_u64(v, umin, umax, uout);
    }
    if (r < 0) {
        int e = errno;
        pv_xs_join(path, sizeof(path), dir, key);
        pv_xs_show_value(shown, v);
        if (e == EINVAL)
            set_err(xs, e, "%s: '%s' is not a number", path, shown);
        else if (is_signed)
            set_err(xs, e, "%s: '%s' is out of range %lld..%lld", path, shown, (long long)smin,
                    (long long)smax);
        else
            set_err(xs, e, "%s: '%s' is out of range %llu..%llu", path, shown,
                    (unsigned long long)umin, (unsigned long long)umax);
    }
    free(v);
    return r;
}

int pv_xs_read_u64(struct pv_xs *xs, xs_transaction_t t, const char *dir, const char *key,
                   uint64_t min, uint64_t max, uint64_t *out)
{
    uint64_t v;

    if (read_number(xs, t, dir, key, false, 0, 0, min, max, NULL, &v) < 0)
        return -1;
    *out = v;
    return 0;
}

int pv_xs_read_uint(struct pv_xs *xs, xs_transaction_t t, const char *dir, const char *key,
                    unsigned int min, unsigned int max, unsigned int *out)
{
    uint64_t v;

    if (read_number(xs, t, dir, key, false, 0, 0, min, max, NULL, &v) < 0)
        return -1;
    *out = (unsigned int)v;
    return 0;
}

int pv_xs_read_int(struct pv_xs *xs, xs_transaction_t t, const char *dir, const char *key, int min,
                   int max, int *out)
{
    int64_t v;

    if (read_number(xs, t, dir, key, true, min, max, 0, 0, &v, NULL) < 0)
        return -1;
    *out = (int)v;
    return 0;
}

int pv_xs_read_bool(struct pv_xs *xs, xs_transaction_t t, const char *dir, const char *key,
                    bool *out)
{
    char path[PATH_BUF], shown[PV_XS_SHOWN_MAX];
    char *v;

    if (pv_xs_read_str(xs, t, dir, key, &v) < 0)
        return -1;
    if (strcmp(v, "0") && strcmp(v, "1")) {
        pv_xs_join(path, sizeof(path), dir, key);
        pv_xs_show_value(shown, v);
        set_err(xs, EINVAL, "%s: '%s' is not 0 or 1", path, shown);
        free(v);
        return -1;
    }
    *out = v[0] == '1';
    free(v);
    return 0;
}

int pv_xs_exists(struct pv_xs *xs, xs_transaction_t t, const char *dir, const char *key)
{
    char *v;

    if (pv_xs_read_str(xs, t, dir, key, &v) == 0) {
        free(v);
        return 1;
    }
    return errno == ENOENT ? 0 : (errno == EINVAL ? 1 : -1);
}

char **pv_xs_directory(struct pv_xs *xs, xs_transaction_t t, const char *dir, unsigned int *num)
{
    char **list = xs_directory(xs->h, t, dir, num);

    if (!list) {
        int e = errno;
        set_err(xs, e, "%s: %s", dir, e == ENOENT ? "missing" : strerror(e));
    }
    return list;
}

/* ---- writing ---------------------------------------------------------- */

int pv_xs_write_str(struct pv_xs *xs, xs_transaction_t t, const char *dir, const char *key,
                    const char *value)
{
    char path[PATH_BUF];

    if (join_or_err(xs, path, dir, key) < 0)
        return -1;
    if (!xs_write(xs->h, t, path, value, (unsigned int)strlen(value))) {
        set_err(xs, errno, "%s: cannot write: %s", path, strerror(errno));
        return -1;
    }
    return 0;
}

int pv_xs_printf(struct pv_xs *xs, xs_transaction_t t, const char *dir, const char *key,
                 const char *fmt, ...)
{
    char value[XENSTORE_PAYLOAD_MAX];
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(value, sizeof(value), fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= sizeof(value)) {
        set_err(xs, E2BIG, "%s/%s: value too long", dir, key ? key : "");
        return -1;
    }
    return pv_xs_write_str(xs, t, dir, key, value);
}

int pv_xs_mkdir(struct pv_xs *xs, xs_transaction_t t, const char *dir, const char *key,
                const struct xs_permissions *perms, unsigned int nperms)
{
    char path[PATH_BUF];

    if (join_or_err(xs, path, dir, key) < 0)
        return -1;
    if (!xs_mkdir(xs->h, t, path)) {
        set_err(xs, errno, "%s: cannot create: %s", path, strerror(errno));
        return -1;
    }
    /* libxenstore takes a non-const array but does not modify it. */
    if (nperms && !xs_set_permissions(xs->h, t, path, (struct xs_permissions *)perms, nperms)) {
        set_err(xs, errno, "%s: cannot set permissions: %s", path, strerror(errno));
        return -1;
    }
    return 0;
}

int pv_xs_rm(struct pv_xs *xs, xs_transaction_t t, const char *dir, const char *key)
{
    char path[PATH_BUF];

    if (join_or_err(xs, path, dir, key) < 0)
        return -1;
    if (!xs_rm(xs->h, t, path) && errno != ENOENT) {
        set_err(xs, errno, "%s: cannot remove: %s", path, strerror(errno));
        return -1;
    }
    return 0;
}

/* ---- transactions ----------------------------------------------------- */

int pv_xs_transaction(struct pv_xs *xs, pv_xs_txn_fn fn, void *arg)
{
    for (int attempt = 0; attempt < PV_XS_TXN_RETRIES; attempt++) {
        xs_transaction_t t = xs_transaction_start(xs->h);
        int e;

        if (t == XBT_NULL) {
            set_err(xs, errno, "cannot start a transaction: %s", strerror(errno));
            return -1;
        }
        if (fn(xs, t, arg) < 0) {
            e = errno;
            xs_transaction_end(xs->h, t, true);
            if (e == EAGAIN)
                continue;
            errno = e; /* fn's message stays in xs->err */
            return -1;
        }
        if (xs_transaction_end(xs->h, t, false))
            return 0;
        if (errno != EAGAIN) {
            set_err(xs, errno, "cannot commit a transaction: %s", strerror(errno));
            return -1;
        }
    }
    set_err(xs, EAGAIN, "transaction still conflicting after %d attempts", PV_XS_TXN_RETRIES);
    return -1;
}

/* ---- watches ---------------------------------------------------------- */

static void ready_push(struct pv_xs *xs, struct pv_xs_watch *w)
{
    if (w->in_ready)
        return;
    w->in_ready = true;
    w->ready_next = NULL;
    if (xs->ready_tail)
        xs->ready_tail->ready_next = w;
    else
        xs->ready_head = w;
    xs->ready_tail = w;
}

static void ready_unlink(struct pv_xs *xs, struct pv_xs_watch *w)
{
    struct pv_xs_watch **pp = &xs->ready_head, *prev = NULL;

    if (!w->in_ready)
        return;
    while (*pp != w) {
        prev = *pp;
        pp = &(*pp)->ready_next;
    }
    *pp = w->ready_next;
    if (xs->ready_tail == w)
        xs->ready_tail = prev;
    w->in_ready = false;
}

static void drop_queue(struct pv_xs_watch *w)
{
    while (w->head) {
        struct xs_event *ev = w->head;
        w->head = ev->next;
        free(ev);
    }
    w->tail = NULL;
    w->xs->queued -= w->queued;
    w->queued = 0;
    w->collapsed = false;
}

static void queue_append(struct pv_xs_watch *w, const char *path)
{
    size_t len = strlen(path) + 1;
    struct xs_event *ev = malloc(sizeof(*ev) + len);

    if (!ev) {
        pv_err("xenstore watch %s: out of memory, event for %s lost", w->path, path);
        return;
    }
    memcpy(ev->path, path, len);
    ev->next = NULL;
    if (w->tail)
        w->tail->next = ev;
    else
        w->head = ev;
    w->tail = ev;
    w->queued++;
    w->xs->queued++;
    ready_push(w->xs, w);
}

static void enqueue(struct pv_xs_watch *w, const char *path)
{
    if (w->collapsed)
        return; /* the pending "re-read all" covers this path */
    for (struct xs_event *ev = w->head; ev; ev = ev->next) {
        if (!strcmp(ev->path, path))
            return;
    }
    if (w->queued >= PV_XS_WATCH_QUEUE_MAX) {
        pv_debug("xenstore watch %s: %u events queued, collapsing", w->path, w->queued);
        drop_queue(w);
        queue_append(w, w->path);
        w->collapsed = true;
        return;
    }
    queue_append(w, path);
}

static struct pv_xs_watch *find_token(struct pv_xs *xs, const char *token)
{
    for (struct pv_xs_watch *w = xs->watches; w; w = w->next) {
        if (!strcmp(w->token, token))
            return w;
    }
    return NULL;
}

/* Reads every event libxenstore has, then dispatches round-robin. */
static void on_xs_fd(int fd, uint32_t events, void *arg)
{
    struct pv_xs *xs = arg;
    char **ev;

    (void)fd;
    (void)events;
    while ((ev = xs_check_watch(xs->h))) {
        struct pv_xs_watch *w = find_token(xs, ev[XS_WATCH_TOKEN]);
        if (w) /* stale events of removed watches have unknown tokens */
            enqueue(w, ev[XS_WATCH_PATH]);
        free(ev);
    }
    if (errno != EAGAIN) {
        pv_err("xenstore connection lost: %s; stopping", strerror(errno));
        pv_watch_remove(xs->fdw);
        xs->fdw = NULL;
        pv_loop_stop(xs->loop);
    }
    while (xs->ready_head) {
        struct pv_xs_watch *w = xs->ready_head;
        struct xs_event *e = w->head;

        xs->ready_head = w->ready_next;
        if (!xs->ready_head)
            xs->ready_tail = NULL;
        w->in_ready = false;
        w->head = e->next;
        if (!w->head)
            w->tail = NULL;
        w->queued--;
        xs->queued--;
        if (!w->queued)
            w->collapsed = false;
        else
            ready_push(xs, w);
        /* The callback may free w; e is ours until after it returns. */
        w->cb(xs, e->path, w->arg);
        free(e);
    }
}

struct pv_xs_watch *pv_xs_watch_add(struct pv_xs *xs, const char *path, pv_xs_watch_cb cb,
                                    void *arg)
{
    struct pv_xs_watch *w;

    if (!xs->loop) {
        set_err(xs, EINVAL, "%s: cannot watch without an event loop", path);
        return NULL;
    }
    if (!xs->fdw) {
        int fd = xs_fileno(xs->h);
        if (fd < 0) {
            set_err(xs, errno, "cannot get the xenstore watch fd: %s", strerror(errno));
            return NULL;
        }
        xs->fdw = pv_loop_add_fd(xs->loop, fd, EPOLLIN, on_xs_fd, xs);
        if (!xs->fdw) {
            set_err(xs, errno, "cannot poll the xenstore watch fd: %s", strerror(errno));
            return NULL;
        }
    }
    w = calloc(1, sizeof(*w));
    if (!w || !(w->path = strdup(path))) {
        free(w);
        set_err(xs, ENOMEM, "%s: cannot watch: out of memory", path);
        return NULL;
    }
    w->xs = xs;
    w->cb = cb;
    w->arg = arg;
    /* Tokens are never reused, so a stale event of a removed watch can
     * never reach a newer one. */
    snprintf(w->token, sizeof(w->token), "pvxs%llu", xs->next_token++);
    if (!xs_watch(xs->h, path, w->token)) {
        set_err(xs, errno, "%s: cannot watch: %s", path, strerror(errno));
        free(w->path);
        free(w);
        return NULL;
    }
    w->next = xs->watches;
    xs->watches = w;
    return w;
}

void pv_xs_watch_remove(struct pv_xs_watch *w)
{
    struct pv_xs *xs;
    struct pv_xs_watch **pp;

    if (!w)
        return;
    xs = w->xs;
    /* A failure here (xenstored gone) leaves only a watch whose token no
     * longer matches anything. */
    xs_unwatch(xs->h, w->path, w->token);
    ready_unlink(xs, w);
    drop_queue(w);
    for (pp = &xs->watches; *pp; pp = &(*pp)->next) {
        if (*pp == w) {
            *pp = w->next;
            break;
        }
    }
    free(w->path);
    free(w);
}

unsigned int pv_xs_queued_events(const struct pv_xs *xs)
{
    return xs->queued;
}

void pv_xs_close(struct pv_xs *xs)
{
    if (!xs)
        return;
    while (xs->watches)
        pv_xs_watch_remove(xs->watches);
    if (xs->fdw)
        pv_watch_remove(xs->fdw);
    xs_close(xs->h);
    free(xs);
}
