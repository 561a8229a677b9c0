/* Applying plans, waiting for nodes and cleaning paths (see ts_xs.h). */
#include "toolstack/ts_xs.h"

#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "loop.h"

/* A transaction that keeps conflicting is given up after this many tries. */
#define TS_TRANSACTION_TRIES 50

char *ts_read(struct xs_handle *xs, xs_transaction_t t, const char *path)
{
    unsigned len;
    char *v = xs_read(xs, t, path, &len);
    if (!v)
        return NULL;
    /* libxenstore NUL-terminates; a value with an embedded NUL is cut there */
    return v;
}

static int apply_step(struct xs_handle *xs, xs_transaction_t t, const struct ts_step *s)
{
    switch (s->op) {
    case TS_RM:
        if (!xs_rm(xs, t, s->path) && errno != ENOENT)
            return -1;
        return 0;
    case TS_MKDIR:
        if (!xs_mkdir(xs, t, s->path))
            return -1;
        break;
    case TS_WRITE:
        if (!xs_write(xs, t, s->path, s->value, (unsigned)strlen(s->value)))
            return -1;
        break;
    }
    if (s->nperms &&
        !xs_set_permissions(xs, t, s->path, (struct xs_permissions *)s->perms, s->nperms))
        return -1;
    return 0;
}

int ts_plan_apply(struct xs_handle *xs, const struct ts_plan *p, char *err, size_t errlen)
{
    static const char *const opname[] = {"remove", "mkdir", "write"};
    if (p->failed) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    for (int tries = 0; tries < TS_TRANSACTION_TRIES; tries++) {
        xs_transaction_t t = xs_transaction_start(xs);
        if (t == XBT_NULL) {
            snprintf(err, errlen, "xs_transaction_start failed: %s", strerror(errno));
            return -1;
        }
        for (size_t i = 0; i < p->n; i++) {
            if (apply_step(xs, t, &p->steps[i]) < 0) {
                int e = errno;
                xs_transaction_end(xs, t, true);
                if (e == EAGAIN)
                    goto retry;
                snprintf(err, errlen, "xenstore %s %s failed: %s", opname[p->steps[i].op],
                         p->steps[i].path, strerror(e));
                return -1;
            }
        }
        if (xs_transaction_end(xs, t, false))
            return 0;
        if (errno != EAGAIN) {
            snprintf(err, errlen, "xs transaction failed: %s", strerror(errno));
            return -1;
        }
    retry:
        pv_debug("toolstack: transaction conflict, retrying");
    }
    snprintf(err, errlen, "xs transaction failed: conflicts on %d tries", TS_TRANSACTION_TRIES);
    return -1;
}

int ts_wait_nodes(struct xs_handle *xs, size_t n, const char *const *paths, ts_node_ok ok,
                  unsigned timeout_ms, bool *done, char **values, char *err, size_t errlen)
{
    char token[48];
    static unsigned long seq;
    size_t watched = 0, ndone = 0;
    int rc = -1;
    snprintf(token, sizeof(token), "xensim-ts-%lu", ++seq);
    for (size_t i = 0; i < n; i++) {
        done[i] = false;
        if (values)
            values[i] = NULL;
    }
    for (; watched < n; watched++) {
        if (!xs_watch(xs, paths[watched], token)) {
            snprintf(err, errlen, "unable to watch %s: %s", paths[watched], strerror(errno));
            goto out;
        }
    }
    uint64_t deadline = pv_now_ms() + timeout_ms;
    for (;;) {
        /* Re-read every pending node on each wake-up: the events only say
         * "something changed", and the initial check covers values that
         * were already there. */
        ndone = 0;
        for (size_t i = 0; i < n; i++) {
            if (!done[i]) {
                char *v = ts_read(xs, XBT_NULL, paths[i]);
                done[i] = ok(v);
                if (values) {
                    free(values[i]);
                    values[i] = v;
                } else {
                    free(v);
                }
            }
            ndone += done[i];
        }
        uint64_t now = pv_now_ms();
        if (ndone == n || now >= deadline)
            break;
        struct pollfd pfd = {.fd = xs_fileno(xs), .events = POLLIN};
        int r = poll(&pfd, 1, (int)(deadline - now));
        if (r < 0 && errno != EINTR) {
            snprintf(err, errlen, "poll: %s", strerror(errno));
            goto out;
        }
        char **ev;
        while ((ev = xs_check_watch(xs)))
            free(ev);
    }
    rc = (int)ndone;
out:
    for (size_t i = 0; i < watched; i++)
        xs_unwatch(xs, paths[i], token);
    /* drop the events of our watches still queued */
    char **ev;
    while ((ev = xs_check_watch(xs)))
        free(ev);
    return rc;
}

/* How many '/'-separated components path has. */
static int depth(const char *path)
{
    int d = 0;
    for (const char *p = path; *p; p++)
        d += *p == '/';
    return d;
}

int ts_path_cleanup(struct xs_handle *xs, xs_transaction_t t, const char *path)
{
    char *p = strdup(path);
    if (!p)
        return -1;
    int rc = 0;
    if (!xs_rm(xs, t, p) && errno != ENOENT)
        rc = -1;
    for (char *slash = strrchr(p, '/'); rc == 0 && slash; slash = strrchr(p, '/')) {
        *slash = '\0';
        /* /local/domain/N, /libxl/N and /vm/UUID are removed by domain
         * destroy, never as a side effect of removing a device */
        bool local = !strncmp(p, "/local/", 7);
        if (depth(p) <= (local ? 3 : 2))
            break;
        char *v = ts_read(xs, t, p);
        bool empty = v && !*v;
        free(v);
        if (!empty)
            break;
        unsigned num;
        char **dir = xs_directory(xs, t, p, &num);
        free(dir);
        if (!dir || num)
            break;
        if (!xs_rm(xs, t, p) && errno != ENOENT)
            rc = -1;
    }
    free(p);
    return rc;
}
