/* The null engine, for benchmarks of everything but the storage: every read,
 * write and flush completes at once and successfully; nothing is stored and
 * reads leave the buffers as they are. Selected only explicitly
 * (pvback-blk --engine null); the file is still opened for its size. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "storage.h"

static struct pv_storage *null_open(int fd, int efd, unsigned int depth, char *err, size_t errlen)
{
    (void)fd;
    (void)efd;
    (void)depth;
    struct pv_storage *s = calloc(1, sizeof(*s));
    if (!s)
        snprintf(err, errlen, "out of memory");
    return s;
}

static void null_close(struct pv_storage *s)
{
    free(s);
}

static int null_submit(struct pv_storage *s, struct pv_storage_req *req)
{
    pv_storage_defer(s, req, req->op == PV_STORAGE_FLUSH ? 0 : (int64_t)req->length);
    return 0;
}

static int null_kick(struct pv_storage *s)
{
    (void)s;
    return 0;
}

static int null_reap(struct pv_storage *s)
{
    (void)s;
    return 0;
}

const struct pv_storage_ops pv_storage_null_ops = {
    .name = "null",
    .open = null_open,
    .close = null_close,
    .submit = null_submit,
    .kick = null_kick,
    .reap = null_reap,
};
