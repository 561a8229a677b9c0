/* The split engine ("aio+uring"), the default for page-cache stores (no
 * O_DIRECT, or tmpfs, whose O_DIRECT is a page-cache copy too): requests of
 * SPLIT_LARGE bytes or more go through io_uring, smaller ones and flushes
 * through libaio.
 *
 * Why: on such a store libaio's io_submit makes the copy itself, in
 * pvback-blk's one thread, so a 1 MiB read holds up every other request;
 * io_uring hands such copies to its kernel workers. For small requests the
 * inline copy is cheap and libaio is the faster of the two. On xensim with
 * the image in /dev/shm (ratio to fio on the same file), libaio / io_uring:
 * 4 KiB randread 0.70 / 0.65, 16 KiB read 0.50 / 0.50, 64 KiB 0.57 / 0.87,
 * 1 MiB 0.54 / 0.88 (docs/blkback.md, "Page-cache stores").
 *
 * Both halves are the ordinary drivers, opened on the same fd and eventfd,
 * each with its own struct pv_storage whose parent is the split store, so
 * that pv_storage_complete() counts a finished request on both. */
#include <stdio.h>
#include <stdlib.h>

#include "storage.h"

#define SPLIT_LARGE (64u * 1024)

struct split_store {
    struct pv_storage base; /* first: storage.c casts */
    struct pv_storage *small, *large;
};

static struct split_store *to_split(struct pv_storage *s)
{
    return (struct split_store *)s;
}

static struct pv_storage *open_half(const struct pv_storage_ops *ops, int fd, int efd,
                                    unsigned int depth, char *err, size_t errlen)
{
    struct pv_storage *h = ops->open(fd, efd, depth, err, errlen);
    if (!h)
        return NULL;
    pv_storage_init(h, ops, fd, efd, depth); /* parent: set by split_open */
    return h;
}

static struct pv_storage *split_open(int fd, int efd, unsigned int depth, char *err, size_t errlen)
{
    struct split_store *sp = calloc(1, sizeof(*sp));
    if (!sp) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    sp->small = open_half(&pv_storage_aio_ops, fd, efd, depth, err, errlen);
    if (sp->small)
        sp->large = open_half(&pv_storage_uring_ops, fd, efd, depth, err, errlen);
    if (!sp->large) {
        if (sp->small)
            sp->small->ops->close(sp->small);
        free(sp);
        return NULL;
    }
    sp->small->parent = sp->large->parent = &sp->base;
    return &sp->base;
}

/* storage.c has waited for every request before this. */
static void split_close(struct pv_storage *s)
{
    struct split_store *sp = to_split(s);
    sp->small->ops->close(sp->small);
    sp->large->ops->close(sp->large);
    free(sp);
}

static int split_submit(struct pv_storage *s, struct pv_storage_req *req)
{
    struct split_store *sp = to_split(s);
    bool large =
        (req->op == PV_STORAGE_READ || req->op == PV_STORAGE_WRITE) && req->length >= SPLIT_LARGE;
    struct pv_storage *h = large ? sp->large : sp->small;
    int rc = h->ops->submit(h, req);
    if (rc == 0)
        h->in_flight++;
    return rc;
}

static int split_kick(struct pv_storage *s)
{
    struct split_store *sp = to_split(s);
    int a = sp->small->ops->kick(sp->small);
    int b = sp->large->ops->kick(sp->large);
    return a < 0 ? a : b;
}

/* Each half's completions, and the results it deferred (pv_storage_reap on
 * a half also reads the shared eventfd; a count already read by storage.c
 * just reads as nothing). */
static int split_reap(struct pv_storage *s)
{
    struct split_store *sp = to_split(s);
    int a = pv_storage_reap(sp->small);
    int b = pv_storage_reap(sp->large);
    if (a < 0 || b < 0)
        return a < 0 ? a : b;
    return a + b;
}

const struct pv_storage_ops pv_storage_split_ops = {
    .name = "aio+uring",
    .open = split_open,
    .close = split_close,
    .submit = split_submit,
    .kick = split_kick,
    .reap = split_reap,
};
