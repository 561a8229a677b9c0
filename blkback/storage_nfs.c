/* The NFS driver: an image file on an NFS server, reached through libnfs's
 * asynchronous API and driven from the backend's event loop through the
 * private epoll set of storage_remote.c.
 *
 * Reads and writes are NFS READ/WRITE of the request's range (libnfs splits
 * them to the server's rsize/wsize); writes go from a private copy of the
 * iovec, so that a request that libnfs still holds after its timeout never
 * touches guest memory. Flush is COMMIT (nfs_fsync). The size comes from
 * GETATTR, refreshed in the background.
 *
 * Session loss: libnfs reconnects by itself and re-sends what was in flight
 * (NFSv3 is stateless, so a restarted server takes the same requests). A
 * request still unanswered after the timeout fails with EIO. */
#include "storage_nfs.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <nfsc/libnfs.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "log.h"
#include "storage_remote.h"
#include "storage_url.h"

/* libnfs 4.0 encodes an NFSv4 WRITE into a fixed 4 KiB buffer (and does not
 * split NFSv4 I/O at all), so NFSv4 writes go out in pieces that fit. */
#define NFS4_WRITE_CHUNK 2048u

struct nfs_store;
struct ncmd;

struct npart {
    struct ncmd *c;
    uint64_t at; /* byte offset inside the request */
};

struct ncmd {
    struct nfs_store *st;
    struct pv_storage_req *req;
    void *bounce;        /* writes: the data, owned until every part is back */
    struct npart *parts; /* one per NFS call */
    unsigned int nparts, pending;
    int64_t error; /* the first part's error, 0 if none */
    struct ncmd *next_free;
};

struct nfs_store {
    struct pv_storage base; /* first: storage.c casts */
    struct pv_remote_poll poll;
    struct nfs_context *nfs;
    struct nfsfh *fh;
    struct pv_nfs_url url;
    char name[PV_URL_PATH_MAX + 16];
    unsigned int timeout_s;
    uint64_t read_chunk, write_chunk;
    bool stat_pending;
    unsigned int completed;
    struct ncmd *cmds, *free_cmds;
    unsigned int ncmds;
};

static struct nfs_store *to_st(struct pv_storage *s)
{
    return (struct nfs_store *)s;
}

static void update_socket(struct nfs_store *st)
{
    pv_remote_poll_set_socket(&st->poll, nfs_get_fd(st->nfs), nfs_which_events(st->nfs));
}

static void put_cmd(struct ncmd *c)
{
    free(c->bounce);
    free(c->parts);
    c->bounce = NULL;
    c->parts = NULL;
    c->req = NULL;
    c->next_free = c->st->free_cmds;
    c->st->free_cmds = c;
}

static const char *op_name(enum pv_storage_op op)
{
    return op == PV_STORAGE_READ ? "read" : op == PV_STORAGE_WRITE ? "write" : "commit";
}

/* Copies len bytes from src into the request's iovec starting at byte at. */
static void scatter(const struct pv_storage_req *req, uint64_t at, const char *src, uint64_t len)
{
    for (int i = 0; i < req->iovcnt && len; i++) {
        if (at >= req->iov[i].iov_len) {
            at -= req->iov[i].iov_len;
            continue;
        }
        size_t n = req->iov[i].iov_len - at;
        if (n > len)
            n = (size_t)len;
        memcpy((char *)req->iov[i].iov_base + at, src, n);
        src += n;
        len -= n;
        at = 0;
    }
}

static uint64_t part_len(const struct ncmd *c, const struct npart *p)
{
    uint64_t chunk = c->req->op == PV_STORAGE_READ ? c->st->read_chunk : c->st->write_chunk;
    uint64_t left = c->req->length - p->at;
    return left < chunk ? left : chunk;
}

static void on_io(int err, struct nfs_context *nfs, void *data, void *private)
{
    struct npart *p = private;
    struct ncmd *c = p->c;
    struct nfs_store *st = c->st;
    struct pv_storage_req *req = c->req;

    if (err < 0) {
        if (!c->error)
            pv_warn("%s: %s at offset %" PRIu64 " failed: %s", st->name, op_name(req->op),
                    req->offset + p->at, nfs_get_error(nfs));
        if (!c->error)
            c->error = err == -EROFS || err == -ENOSPC || err == -EDQUOT ? err : -EIO;
    } else if (req->op != PV_STORAGE_FLUSH && (uint64_t)err != part_len(c, p)) {
        if (!c->error)
            c->error = -EIO; /* short: past the end of the image */
    } else if (req->op == PV_STORAGE_READ) {
        scatter(req, p->at, data, (uint64_t)err);
    }
    if (--c->pending)
        return;
    int64_t result = c->error ? c->error : (int64_t)req->length;
    put_cmd(c);
    st->completed++;
    pv_storage_complete(&st->base, req, result);
}

/* Starts part i of c. 0 or -1 (libnfs's error in nfs_get_error). */
static int start_part(struct ncmd *c, unsigned int i)
{
    struct nfs_store *st = c->st;
    struct npart *p = &c->parts[i];
    uint64_t off = c->req->offset + p->at, len = part_len(c, p);
    switch (c->req->op) {
    case PV_STORAGE_READ:
        return nfs_pread_async(st->nfs, st->fh, off, len, on_io, p);
    case PV_STORAGE_WRITE:
        return nfs_pwrite_async(st->nfs, st->fh, off, len, (char *)c->bounce + p->at, on_io, p);
    default:
        return nfs_fsync_async(st->nfs, st->fh, on_io, p);
    }
}

static int nfs_store_submit(struct pv_storage *s, struct pv_storage_req *req)
{
    struct nfs_store *st = to_st(s);
    struct ncmd *c = st->free_cmds;
    if (!c)
        return -EAGAIN;
    st->free_cmds = c->next_free;
    c->req = req;
    c->error = 0;
    uint64_t chunk = req->op == PV_STORAGE_READ ? st->read_chunk : st->write_chunk;
    c->nparts = req->op == PV_STORAGE_FLUSH ? 1 : (unsigned int)((req->length + chunk - 1) / chunk);
    c->parts = calloc(c->nparts, sizeof(*c->parts));
    if (req->op == PV_STORAGE_WRITE)
        c->bounce = malloc(req->length);
    if (!c->parts || (req->op == PV_STORAGE_WRITE && !c->bounce)) {
        put_cmd(c);
        return -ENOMEM;
    }
    if (req->op == PV_STORAGE_WRITE) {
        char *dst = c->bounce;
        for (int i = 0; i < req->iovcnt; i++) {
            memcpy(dst, req->iov[i].iov_base, req->iov[i].iov_len);
            dst += req->iov[i].iov_len;
        }
    }
    for (unsigned int i = 0; i < c->nparts; i++)
        c->parts[i] = (struct npart){.c = c, .at = (uint64_t)i * chunk};
    /* Parts already queued cannot be taken back: when one fails to queue,
     * the request completes (with EIO) once the queued ones are back. */
    c->pending = 1;
    for (unsigned int i = 0; i < c->nparts; i++) {
        c->pending++;
        if (start_part(c, i) < 0) {
            c->pending--;
            pv_warn("%s: cannot queue a %s: %s", st->name, op_name(req->op),
                    nfs_get_error(st->nfs));
            if (i == 0) {
                put_cmd(c);
                return -EIO;
            }
            c->error = -EIO;
            break;
        }
    }
    if (--c->pending == 0) { /* only after a queueing failure */
        put_cmd(c);
        pv_storage_defer(s, req, -EIO);
    }
    return 0;
}

static int nfs_store_discard(struct pv_storage *s, struct pv_storage_req *req)
{
    (void)s;
    (void)req;
    return -EOPNOTSUPP;
}

static int nfs_store_kick(struct pv_storage *s)
{
    update_socket(to_st(s));
    return 0;
}

static void on_stat(int err, struct nfs_context *nfs, void *data, void *private)
{
    (void)nfs;
    struct nfs_store *st = private;
    st->stat_pending = false;
    if (err == 0) {
        const struct nfs_stat_64 *sb = data;
        st->base.info.size = sb->nfs_size & ~(uint64_t)(st->base.info.logical_block - 1);
    }
}

static int nfs_store_refresh_size(struct pv_storage *s, uint64_t *size)
{
    struct nfs_store *st = to_st(s);
    /* Asynchronous, as for iSCSI: the answer is in info.size next time. */
    if (!st->stat_pending && nfs_fstat64_async(st->nfs, st->fh, on_stat, st) == 0)
        st->stat_pending = true;
    update_socket(st);
    *size = s->info.size;
    return 0;
}

static int nfs_store_reap(struct pv_storage *s)
{
    struct nfs_store *st = to_st(s);
    int revents;
    bool ticked;
    st->completed = 0;
    pv_remote_poll_check(&st->poll, &revents, &ticked);
    /* A tick with no events still services: libnfs reconnects and expires
     * timed-out requests from inside nfs_service(). */
    if ((revents || ticked) && nfs_service(st->nfs, revents) < 0)
        pv_warn("%s: %s", st->name, nfs_get_error(st->nfs));
    update_socket(st);
    return (int)st->completed;
}

static int nfs_store_poll_fd(struct pv_storage *s)
{
    return to_st(s)->poll.epfd;
}

static void nfs_store_close(struct pv_storage *s)
{
    struct nfs_store *st = to_st(s);
    if (st->nfs) {
        if (st->fh)
            nfs_close(st->nfs, st->fh);
        nfs_destroy_context(st->nfs);
    }
    pv_remote_poll_fini(&st->poll);
    if (st->cmds)
        for (unsigned int i = 0; i < st->ncmds; i++)
            free(st->cmds[i].bounce);
    free(st->cmds);
    free(st);
}

static struct pv_storage *nfs_store_open_url(const struct pv_storage_params *p, int efd,
                                             unsigned int depth, char *err, size_t errlen)
{
    struct nfs_store *st = calloc(1, sizeof(*st));
    if (!st) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    st->poll.epfd = st->poll.timerfd = -1;
    snprintf(st->name, sizeof(st->name), "%s", p->path);
    if (pv_nfs_url_parse(p->path, &st->url, err, errlen) < 0)
        goto fail;
    if (st->url.port) {
        snprintf(err, errlen,
                 "%s: a port in the URL is not supported (the server's portmapper "
                 "or port 2049 is used)",
                 st->name);
        goto fail;
    }
    st->timeout_s = pv_remote_timeout(p->reconnect_timeout);
    st->nfs = nfs_init_context();
    if (!st->nfs) {
        snprintf(err, errlen, "%s: cannot create an NFS context", st->name);
        goto fail;
    }
    char why[300];
    /* v3 starts at the portmapper, v4 at the NFS port itself. */
    if (pv_remote_probe(st->url.host, st->url.version == 4 ? 2049 : 111, why, sizeof(why)) < 0) {
        snprintf(err, errlen, "%s: NFS server: %s", st->name, why);
        goto fail;
    }
    nfs_set_version(st->nfs, st->url.version); /* NFS_V3 is 3, NFS_V4 is 4 */
    nfs_set_timeout(st->nfs, PV_REMOTE_CONNECT_TIMEOUT * 1000);
    if (nfs_mount(st->nfs, st->url.host, st->url.dir) < 0) {
        snprintf(err, errlen, "%s: NFSv%d mount of %s:%s failed: %s", st->name, st->url.version,
                 st->url.host, st->url.dir, nfs_get_error(st->nfs));
        goto fail;
    }
    char file[PV_URL_PATH_MAX + 1];
    snprintf(file, sizeof(file), "/%s", st->url.file);
    if (nfs_open(st->nfs, file, p->read_only ? O_RDONLY : O_RDWR, &st->fh) < 0) {
        snprintf(err, errlen, "%s: cannot open %s on %s:%s: %s", st->name, st->url.file,
                 st->url.host, st->url.dir, nfs_get_error(st->nfs));
        st->fh = NULL;
        goto fail;
    }
    struct nfs_stat_64 sb;
    if (nfs_fstat64(st->nfs, st->fh, &sb) < 0) {
        snprintf(err, errlen, "%s: GETATTR failed: %s", st->name, nfs_get_error(st->nfs));
        goto fail;
    }
    if ((sb.nfs_mode & S_IFMT) != S_IFREG) {
        snprintf(err, errlen, "%s: not a regular file", st->name);
        goto fail;
    }
    nfs_set_timeout(st->nfs, (int)st->timeout_s * 1000);
    nfs_set_autoreconnect(st->nfs, -1);
    st->read_chunk = nfs_get_readmax(st->nfs);
    if (st->read_chunk < 4096 || st->read_chunk > (1u << 20))
        st->read_chunk = 1u << 20;
    st->write_chunk =
        st->url.version == 4 ? NFS4_WRITE_CHUNK : st->read_chunk * 64; /* v3: libnfs splits */
    st->base.info = (struct pv_storage_info){
        .size = sb.nfs_size & ~(uint64_t)511,
        .logical_block = 512,
        .physical_block = 4096,
        .read_only = p->read_only,
        .discard_granularity = 4096,
    };
    st->ncmds = depth;
    st->cmds = calloc(depth, sizeof(*st->cmds));
    if (!st->cmds || pv_remote_poll_init(&st->poll, efd, err, errlen) < 0)
        goto fail;
    for (unsigned int i = 0; i < depth; i++) {
        st->cmds[i].st = st;
        st->cmds[i].next_free = i + 1 < depth ? &st->cmds[i + 1] : NULL;
    }
    st->free_cmds = &st->cmds[0];
    update_socket(st);
    pv_info("%s: NFSv%d, %" PRIu64 " bytes", st->name, st->url.version, st->base.info.size);
    return &st->base;
fail:
    nfs_store_close(&st->base);
    return NULL;
}

const struct pv_storage_ops pv_storage_nfs_ops = {
    .name = "nfs",
    .open_url = nfs_store_open_url,
    .close = nfs_store_close,
    .submit = nfs_store_submit,
    .kick = nfs_store_kick,
    .reap = nfs_store_reap,
    .poll_fd = nfs_store_poll_fd,
    .discard = nfs_store_discard,
    .refresh_size = nfs_store_refresh_size,
};
