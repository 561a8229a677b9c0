/* The storage layer in front of the drivers: opening, request validation,
 * discards, the count of requests in flight, and completion delivery. */
#include "storage.h"

#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "storage_file.h"
#include "storage_url.h"

#define DEFAULT_DEPTH 256u

/* The default engine: libaio, which bench/blk_storage_bench and
 * bench/blk-fio measured faster here (see docs/blkback.md for the figures),
 * but the split engine where reads and writes are page-cache copies
 * (storage_split.c says why). */
static const struct pv_storage_ops *default_ops(const struct pv_storage_info *info)
{
    return info->page_cache ? &pv_storage_split_ops : &pv_storage_aio_ops;
}

/* NULL for the default, which depends on the store (default_ops). */
static const struct pv_storage_ops *engine_by_name(const char *name)
{
    if (!strcmp(name, pv_storage_aio_ops.name))
        return &pv_storage_aio_ops;
    if (!strcmp(name, pv_storage_uring_ops.name))
        return &pv_storage_uring_ops;
    if (!strcmp(name, pv_storage_split_ops.name))
        return &pv_storage_split_ops;
    if (!strcmp(name, pv_storage_null_ops.name))
        return &pv_storage_null_ops;
    return NULL;
}

void pv_storage_init(struct pv_storage *s, const struct pv_storage_ops *ops, int fd, int efd,
                     unsigned int depth)
{
    s->ops = ops;
    s->info.engine = ops->name;
    s->fd = fd;
    s->efd = efd;
    s->depth = depth;
    s->in_flight = 0;
    s->done_head = s->done_tail = NULL;
    s->parent = NULL;
}

/* iscsi:// and nfs:// URLs go to the remote drivers, which connect themselves. */
static struct pv_storage *open_remote(const struct pv_storage_ops *ops,
                                      const struct pv_storage_params *p, unsigned int depth,
                                      char *err, size_t errlen)
{
    int efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (efd < 0) {
        snprintf(err, errlen, "eventfd: %s", strerror(errno));
        return NULL;
    }
    struct pv_storage *s = ops->open_url(p, efd, depth, err, errlen);
    if (!s) {
        close(efd);
        return NULL;
    }
    pv_storage_init(s, ops, -1, efd, depth);
    return s;
}

struct pv_storage *pv_storage_open(const struct pv_storage_params *p, char *err, size_t errlen)
{
    bool named = p->engine && *p->engine;
    const struct pv_storage_ops *ops = named ? engine_by_name(p->engine) : NULL;
    struct pv_storage_info info;
    unsigned int depth = p->depth ? p->depth : DEFAULT_DEPTH;

    switch (pv_url_scheme(p->path)) {
    case PV_URL_ISCSI:
        return open_remote(&pv_storage_iscsi_ops, p, depth, err, errlen);
    case PV_URL_NFS:
        return open_remote(&pv_storage_nfs_ops, p, depth, err, errlen);
    case PV_URL_NONE:
        break;
    }
    if (named && !ops) {
        snprintf(err, errlen,
                 "unknown storage engine '%s' (expected aio, uring, aio+uring or null)", p->engine);
        return NULL;
    }
    int fd = pv_storage_file_open(p->path, p->read_only, p->buffered, &info, err, errlen);
    if (fd < 0)
        return NULL;
    if (!ops)
        ops = default_ops(&info);
    int efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (efd < 0) {
        snprintf(err, errlen, "%s: eventfd: %s", p->path, strerror(errno));
        close(fd);
        return NULL;
    }
    struct pv_storage *s = ops->open(fd, efd, depth, err, errlen);
    if (!s) {
        close(efd);
        close(fd);
        return NULL;
    }
    s->info = info;
    pv_storage_init(s, ops, fd, efd, depth);
    return s;
}

void pv_storage_close(struct pv_storage *s)
{
    if (!s)
        return;
    pv_storage_kick(s);
    while (s->in_flight) {
        struct pollfd pfd = {.fd = pv_storage_fd(s), .events = POLLIN};
        if (poll(&pfd, 1, 1000) < 0 && errno != EINTR)
            break;
        if (pv_storage_reap(s) < 0)
            break;
    }
    int fd = s->fd, efd = s->efd;
    s->ops->close(s);
    close(efd);
    if (fd >= 0)
        close(fd);
}

const struct pv_storage_info *pv_storage_info(const struct pv_storage *s)
{
    return &s->info;
}

int pv_storage_refresh_size(struct pv_storage *s)
{
    uint64_t size;
    int rc =
        s->ops->refresh_size ? s->ops->refresh_size(s, &size) : pv_storage_file_size(s->fd, &size);
    if (rc == 0)
        s->info.size = size;
    return rc;
}

static uint64_t iov_bytes(const struct iovec *iov, int n)
{
    uint64_t total = 0;
    for (int i = 0; i < n; i++)
        total += iov[i].iov_len;
    return total;
}

/* O_DIRECT needs offset, every length and every buffer aligned. */
static bool iov_aligned(const struct iovec *iov, int n, uint32_t align)
{
    for (int i = 0; i < n; i++)
        if ((uintptr_t)iov[i].iov_base % align || iov[i].iov_len % align)
            return false;
    return true;
}

void pv_storage_defer(struct pv_storage *s, struct pv_storage_req *req, int64_t result)
{
    req->result_ = result;
    req->next_ = NULL;
    if (s->done_tail)
        s->done_tail->next_ = req;
    else
        s->done_head = req;
    s->done_tail = req;
    uint64_t one = 1;
    /* Cannot fail short of a counter overflow; the loop also polls reap. */
    (void)!write(s->efd, &one, sizeof(one));
}

int pv_storage_submit(struct pv_storage *s, struct pv_storage_req *req)
{
    const struct pv_storage_info *in = &s->info;
    const uint32_t align = in->logical_block;

    if (s->in_flight >= s->depth)
        return -EAGAIN;
    if (req->op != PV_STORAGE_READ && in->read_only)
        return -EROFS;
    switch (req->op) {
    case PV_STORAGE_READ:
    case PV_STORAGE_WRITE:
        if (req->iovcnt <= 0 || req->iovcnt > IOV_MAX)
            return -EINVAL;
        req->length = iov_bytes(req->iov, req->iovcnt);
        if (req->length == 0 || req->offset % align ||
            (in->direct && !iov_aligned(req->iov, req->iovcnt, align)))
            return -EINVAL;
        break;
    case PV_STORAGE_FLUSH:
        req->length = 0;
        break;
    case PV_STORAGE_DISCARD:
    case PV_STORAGE_SECURE_DISCARD:
        if (req->length == 0 || req->offset % align || req->length % align)
            return -EINVAL;
        break;
    default:
        return -EINVAL;
    }
    if (req->op != PV_STORAGE_FLUSH &&
        (req->offset > in->size || req->length > in->size - req->offset))
        return -EINVAL;

    s->in_flight++;
    if (s->ops->discard &&
        (req->op == PV_STORAGE_DISCARD || req->op == PV_STORAGE_SECURE_DISCARD)) {
        int rc = req->op == PV_STORAGE_DISCARD ? s->ops->discard(s, req) : -EOPNOTSUPP;
        if (rc < 0)
            s->in_flight--;
        return rc;
    }
    if (req->op == PV_STORAGE_DISCARD || req->op == PV_STORAGE_SECURE_DISCARD) {
        /* Hole punching and BLKDISCARD have no asynchronous form in libaio;
         * they are quick metadata operations, done here and reported later
         * so that callbacks never run inside submit. */
        pv_storage_defer(s, req,
                         pv_storage_file_discard(s->fd, in, req->offset, req->length,
                                                 req->op == PV_STORAGE_SECURE_DISCARD));
        return 0;
    }
    int rc = s->ops->submit(s, req);
    if (rc < 0)
        s->in_flight--;
    return rc;
}

int pv_storage_kick(struct pv_storage *s)
{
    return s->ops->kick(s);
}

int pv_storage_fd(struct pv_storage *s)
{
    return s->ops->poll_fd ? s->ops->poll_fd(s) : s->efd;
}

unsigned int pv_storage_in_flight(struct pv_storage *s)
{
    return s->in_flight;
}

void pv_storage_complete(struct pv_storage *s, struct pv_storage_req *req, int64_t result)
{
    if (result >= 0 && (req->op == PV_STORAGE_READ || req->op == PV_STORAGE_WRITE) &&
        (uint64_t)result != req->length)
        result = -EIO; /* a short transfer inside the store is an I/O error */
    s->in_flight--;
    if (s->parent)
        s->parent->in_flight--;
    req->cb(req, result);
}

int pv_storage_reap(struct pv_storage *s)
{
    uint64_t count;
    /* Clear the wakeup first: completions after this point signal again. */
    (void)!read(s->efd, &count, sizeof(count));

    int n = s->ops->reap(s);
    if (n < 0)
        return n;
    /* Detach the list first: callbacks may submit and defer again. */
    struct pv_storage_req *req = s->done_head;
    s->done_head = s->done_tail = NULL;
    while (req) {
        struct pv_storage_req *next = req->next_;
        pv_storage_complete(s, req, req->result_);
        req = next;
        n++;
    }
    return n;
}
