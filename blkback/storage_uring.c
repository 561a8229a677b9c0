/* The io_uring engine: reads, writes and flushes as SQEs, queued by submit and
 * handed to the kernel in one io_uring_submit() per kick; the ring's
 * registered eventfd signals completions. */
#include <errno.h>
#include <liburing.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "storage.h"

struct uring_store {
    struct pv_storage base; /* first: storage.c casts */
    struct io_uring ring;
    unsigned int queued; /* SQEs prepared since the last kick */
};

static struct uring_store *to_uring(struct pv_storage *s)
{
    return (struct uring_store *)s;
}

static struct pv_storage *uring_open(int fd, int efd, unsigned int depth, char *err, size_t errlen)
{
    (void)fd;
    struct uring_store *u = calloc(1, sizeof(*u));
    if (!u) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    /* The completion queue is twice the submission queue by default, so
     * depth requests in flight never overflow it. */
    int rc = io_uring_queue_init(depth, &u->ring, 0);
    if (rc == 0) {
        rc = io_uring_register_eventfd(&u->ring, efd);
        if (rc < 0)
            io_uring_queue_exit(&u->ring);
    }
    if (rc < 0) {
        snprintf(err, errlen, "io_uring setup (depth %u): %s", depth, strerror(-rc));
        free(u);
        return NULL;
    }
    return &u->base;
}

static void uring_close(struct pv_storage *s)
{
    struct uring_store *u = to_uring(s);
    io_uring_queue_exit(&u->ring);
    free(u);
}

static int uring_submit(struct pv_storage *s, struct pv_storage_req *req)
{
    struct uring_store *u = to_uring(s);
    if (req->op != PV_STORAGE_READ && req->op != PV_STORAGE_WRITE && req->op != PV_STORAGE_FLUSH)
        return -EINVAL; /* storage.c performs discards itself */
    struct io_uring_sqe *sqe = io_uring_get_sqe(&u->ring);
    if (!sqe)
        return -EAGAIN;
    if (req->op == PV_STORAGE_READ)
        io_uring_prep_readv(sqe, s->fd, req->iov, (unsigned int)req->iovcnt, req->offset);
    else if (req->op == PV_STORAGE_WRITE)
        io_uring_prep_writev(sqe, s->fd, req->iov, (unsigned int)req->iovcnt, req->offset);
    else
        io_uring_prep_fsync(sqe, s->fd, IORING_FSYNC_DATASYNC);
    io_uring_sqe_set_data(sqe, req);
    u->queued++;
    return 0;
}

static int uring_kick(struct pv_storage *s)
{
    struct uring_store *u = to_uring(s);
    if (!u->queued)
        return 0;
    int rc = io_uring_submit(&u->ring);
    if (rc == -EAGAIN || rc == -EBUSY || rc == -EINTR)
        return 0; /* the SQEs stay in the ring; retried on the next kick */
    if (rc < 0)
        return rc;
    u->queued = 0;
    return 0;
}

static int uring_reap(struct pv_storage *s)
{
    struct uring_store *u = to_uring(s);
    struct io_uring_cqe *cqe;
    int total = 0;
    while (io_uring_peek_cqe(&u->ring, &cqe) == 0) {
        struct pv_storage_req *req = io_uring_cqe_get_data(cqe);
        int64_t res = cqe->res;
        io_uring_cqe_seen(&u->ring, cqe);
        if (req) {
            pv_storage_complete(s, req, res);
            total++;
        }
    }
    return total;
}

const struct pv_storage_ops pv_storage_uring_ops = {
    .name = "uring",
    .open = uring_open,
    .close = uring_close,
    .submit = uring_submit,
    .kick = uring_kick,
    .reap = uring_reap,
};
