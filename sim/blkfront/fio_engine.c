/* fio external ioengine "pvback-blkfront": real fio jobs on the simulated
 * guest's disk. The process must act as the guest (XENSIM_DIR and
 * XENSIM_DOMID=N on xensim):
 *
 *   [disk]
 *   ioengine=external:/path/to/pvback-blkfront-fio.so
 *   filename=xvda            ; any name: the engine serves the device below
 *   devid=51712 queues=4 ring_order=2 persistent=1 indirect=1
 *
 * One job per device (each job negotiates its own connection). Reads, writes,
 * fsync/fdatasync (a flush) and trim (a discard) are supported.
 *
 * When fio stops a job (a signal, the end of its runtime) while requests are
 * unanswered, as when the backend holds them for a lost server, the engine
 * waits for them TERMINATE_GRACE_MS at most, then closes the device
 * (blkfront_close gives the backend a bounded time more to answer) and
 * completes the rest with ECANCELED. A working backend answers long before:
 * a time-based job's last requests complete normally.
 * A job that waited on would be reaped by force after 300 s, and fio 3.33
 * then frees the engine's option struct twice: the parent freed its copy at
 * fork, and td->eo, which only the job's own teardown clears, is freed again
 * at exit (the "double free on forced exit" of issue #6). Closing here, in
 * getevents, also keeps blkfront from copying into buffers that fio frees
 * before it calls the engine's cleanup. */
#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdint.h>
#include <xen/io/blkif.h>

#include "fio.h"
#include "optgroup.h"

#include "blkfront.h"
#include "loop.h"
#include "platform.h"

struct engine_opts {
    void *pad; /* fio's convention: the first member is the thread_data pointer */
    unsigned int devid;
    unsigned int queues;
    unsigned int ring_order;
    unsigned int persistent;
    unsigned int indirect;
};

#define TERMINATE_GRACE_MS 20000 /* well within fio's 300 s before a forced reap */

struct req;

struct engine {
    struct blkfront *f;   /* NULL once closed early (see the top) */
    struct io_u **events; /* completed, not yet reaped by fio */
    unsigned int nr_events, cap;
    struct req *busy;      /* submitted, not answered */
    uint64_t terminate_ms; /* when getevents first saw fio stopping the job; 0: not yet */
};

/* One per io_u: the blkfront request that carries it. */
struct req {
    struct blkfront_io io;
    struct io_u *io_u;
    struct engine *e;
    struct req *prev, *next; /* on e->busy while submitted */
};

static struct fio_option options[] = {
    {.name = "devid",
     .lname = "virtual device",
     .type = FIO_OPT_INT,
     .off1 = offsetof(struct engine_opts, devid),
     .help = "virtual-device number (51712: xvda)",
     .def = "51712",
     .category = FIO_OPT_C_ENGINE,
     .group = FIO_OPT_G_INVALID},
    {.name = "queues",
     .lname = "queues",
     .type = FIO_OPT_INT,
     .off1 = offsetof(struct engine_opts, queues),
     .help = "blkif queues to ask for",
     .def = "1",
     .category = FIO_OPT_C_ENGINE,
     .group = FIO_OPT_G_INVALID},
    {.name = "ring_order",
     .lname = "ring page order",
     .type = FIO_OPT_INT,
     .off1 = offsetof(struct engine_opts, ring_order),
     .help = "log2 of the ring pages to ask for",
     .def = "0",
     .category = FIO_OPT_C_ENGINE,
     .group = FIO_OPT_G_INVALID},
    {.name = "persistent",
     .lname = "persistent grants",
     .type = FIO_OPT_BOOL,
     .off1 = offsetof(struct engine_opts, persistent),
     .help = "offer feature-persistent",
     .def = "1",
     .category = FIO_OPT_C_ENGINE,
     .group = FIO_OPT_G_INVALID},
    {.name = "indirect",
     .lname = "indirect descriptors",
     .type = FIO_OPT_BOOL,
     .off1 = offsetof(struct engine_opts, indirect),
     .help = "use indirect descriptors",
     .def = "1",
     .category = FIO_OPT_C_ENGINE,
     .group = FIO_OPT_G_INVALID},
    {.name = NULL},
};

/* r is answered (error: 0 or an errno): off the busy list, an event for fio.
 * At most iodepth requests are busy, and events is emptied at every
 * getevents, so it cannot overflow. */
static void complete(struct req *r, int error)
{
    struct engine *e = r->e;
    if (r->prev)
        r->prev->next = r->next;
    else
        e->busy = r->next;
    if (r->next)
        r->next->prev = r->prev;
    r->prev = r->next = NULL;
    r->io_u->error = error;
    r->io_u->resid = 0;
    if (e->nr_events < e->cap)
        e->events[e->nr_events++] = r->io_u;
}

static void on_done(struct blkfront_io *io, int status)
{
    complete(io->arg, status == BLKIF_RSP_OKAY         ? 0
                      : status == BLKIF_RSP_EOPNOTSUPP ? EOPNOTSUPP
                                                       : EIO);
}

/* Closes the device now; what it did not answer completes with ECANCELED. */
static void close_early(struct engine *e)
{
    blkfront_close(e->f);
    e->f = NULL;
    while (e->busy)
        complete(e->busy, ECANCELED);
}

static int engine_init(struct thread_data *td)
{
    struct engine_opts *o = td->eo;
    char err[256];
    if (pv_platform_init(NULL, err, sizeof(err)) < 0) {
        fprintf(stderr, "pvback-blkfront engine: %s\n", err);
        return 1;
    }
    struct engine *e = calloc(1, sizeof(*e));
    if (!e)
        return 1;
    e->cap = td->o.iodepth;
    e->events = calloc(e->cap, sizeof(*e->events));
    struct blkfront_opts bo = {
        .devid = o->devid,
        .queues = o->queues,
        .ring_order = o->ring_order,
        .persistent = o->persistent,
        .indirect = o->indirect,
        /* iodepth is the job's total, spread over the queues */
        .depth = (td->o.iodepth + (o->queues ? o->queues : 1) - 1) / (o->queues ? o->queues : 1),
    };
    e->f = e->events ? blkfront_open(&bo, err, sizeof(err)) : NULL;
    if (!e->f) {
        fprintf(stderr, "pvback-blkfront engine: %s\n", e->events ? err : "out of memory");
        free(e->events);
        free(e);
        return 1;
    }
    td->io_ops_data = e;
    return 0;
}

static void engine_cleanup(struct thread_data *td)
{
    struct engine *e = td->io_ops_data;
    if (!e)
        return;
    if (e->f)
        close_early(e); /* nothing is busy: getevents waited for it */
    free(e->events);
    free(e);
    td->io_ops_data = NULL;
}

static int engine_io_u_init(struct thread_data *td, struct io_u *io_u)
{
    struct req *r = calloc(1, sizeof(*r));
    if (!r)
        return 1;
    r->io_u = io_u;
    r->e = td->io_ops_data;
    io_u->engine_data = r;
    return 0;
}

static void engine_io_u_free(struct thread_data *td, struct io_u *io_u)
{
    (void)td;
    free(io_u->engine_data);
    io_u->engine_data = NULL;
}

static enum fio_q_status engine_queue(struct thread_data *td, struct io_u *io_u)
{
    struct engine *e = td->io_ops_data;
    struct req *r = io_u->engine_data;
    r->e = e;
    if (!e->f) {
        io_u->error = ECANCELED;
        return FIO_Q_COMPLETED;
    }
    r->io = (struct blkfront_io){.offset = io_u->offset,
                                 .len = io_u->xfer_buflen,
                                 .buf = io_u->xfer_buf,
                                 .done = on_done,
                                 .arg = r};
    switch (io_u->ddir) {
    case DDIR_READ:
        r->io.op = BLKFRONT_READ;
        break;
    case DDIR_WRITE:
        r->io.op = BLKFRONT_WRITE;
        break;
    case DDIR_SYNC:
    case DDIR_DATASYNC:
        r->io.op = BLKFRONT_FLUSH;
        r->io.len = 0;
        r->io.offset = 0;
        break;
    case DDIR_TRIM:
        r->io.op = BLKFRONT_DISCARD;
        break;
    default:
        io_u->error = EINVAL;
        return FIO_Q_COMPLETED;
    }
    int rc = blkfront_submit(e->f, &r->io);
    if (rc == -EAGAIN)
        return FIO_Q_BUSY;
    if (rc < 0) {
        io_u->error = -rc;
        return FIO_Q_COMPLETED;
    }
    r->prev = NULL;
    r->next = e->busy;
    if (e->busy)
        e->busy->prev = r;
    e->busy = r;
    return FIO_Q_QUEUED;
}

/* fio is stopping the job and its requests have had their grace. */
static bool grace_over(struct thread_data *td, struct engine *e)
{
    if (!td->terminate)
        return false;
    if (!e->terminate_ms)
        e->terminate_ms = pv_now_ms();
    return pv_now_ms() - e->terminate_ms >= TERMINATE_GRACE_MS;
}

static int engine_getevents(struct thread_data *td, unsigned int min, unsigned int max,
                            const struct timespec *t)
{
    struct engine *e = td->io_ops_data;
    int timeout = t ? (int)(t->tv_sec * 1000 + t->tv_nsec / 1000000) : -1;
    (void)max;
    e->nr_events = 0;
    if (!e->f)
        return 0;
    /* Take what is there; wait only as long as fewer than min are done and
     * fio has not been stopping the job for longer than the grace. A device
     * that fails is closed, its busy requests answered. */
    if (blkfront_wait(e->f, 0) < 0) {
        close_early(e);
        return (int)e->nr_events;
    }
    while (e->nr_events < min) {
        if (grace_over(td, e) || blkfront_wait(e->f, timeout < 0 ? 1000 : timeout) < 0) {
            close_early(e);
            break;
        }
        if (timeout >= 0)
            break;
    }
    return (int)e->nr_events;
}

static struct io_u *engine_event(struct thread_data *td, int event)
{
    struct engine *e = td->io_ops_data;
    return e->events[event];
}

static int engine_open_file(struct thread_data *td, struct fio_file *f)
{
    (void)td;
    (void)f;
    return 0;
}

static int engine_close_file(struct thread_data *td, struct fio_file *f)
{
    (void)td;
    (void)f;
    return 0;
}

static int engine_get_file_size(struct thread_data *td, struct fio_file *f)
{
    struct engine *e = td->io_ops_data;
    if (!e || !e->f)
        return 0; /* before init: fio asks again once the device is open */
    f->real_file_size = blkfront_info(e->f)->sectors * 512;
    fio_file_set_size_known(f);
    return 0;
}

struct ioengine_ops ioengine = {
    .name = "pvback-blkfront",
    .version = FIO_IOOPS_VERSION,
    .flags = FIO_DISKLESSIO | FIO_NOEXTEND | FIO_NODISKUTIL,
    .init = engine_init,
    .cleanup = engine_cleanup,
    .io_u_init = engine_io_u_init,
    .io_u_free = engine_io_u_free,
    .queue = engine_queue,
    .getevents = engine_getevents,
    .event = engine_event,
    .open_file = engine_open_file,
    .close_file = engine_close_file,
    .get_file_size = engine_get_file_size,
    .option_struct_size = sizeof(struct engine_opts),
    .options = options,
};
