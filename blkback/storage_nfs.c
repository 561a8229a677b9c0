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
 * Session loss: libnfs 4.0's own reconnect does not recover NFSv4 (the
 * client ID and open state die with the server), so this driver does it for
 * both versions: a failed NFS call whose error is not a definite answer
 * (read-only, no space, ...) parks its part, the context is replaced by a
 * fresh mount and open, and the parked parts are re-issued. Only when the
 * server stays away longer than the timeout do the parked and new requests
 * fail with EIO; a hard error from a live server is thus retried until then. */
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
#include "loop.h"
#include "storage_remote.h"
#include "storage_url.h"

/* libnfs 4.0 encodes an NFSv4 WRITE into a fixed 4 KiB buffer (and does not
 * split NFSv4 I/O at all), so NFSv4 writes go out in pieces that fit. */
#define NFS4_WRITE_CHUNK 2048u

struct nfs_store;
struct ncmd;

struct npart {
    struct pv_remote_link link; /* on the parked list while waiting for a session */
    struct ncmd *c;
    uint64_t at; /* byte offset inside the request */
};

struct ncmd {
    struct pv_remote_link link; /* first: on the free list */
    struct nfs_store *st;
    struct pv_storage_req *req;
    void *bounce;        /* writes: the data, owned until every part is back */
    struct npart *parts; /* one per NFS call */
    unsigned int nparts, pending;
    int64_t error; /* the first part's error, 0 if none */
};

struct nfs_store {
    struct pv_remote_store r; /* first: storage.c casts */
    struct nfs_context *nfs;
    struct nfsfh *fh;
    bool read_only;
    bool up;           /* nfs and fh serve requests */
    bool reconnecting; /* a fresh mount and open are under way on nfs */
    bool retry_now;    /* the session just dropped: try at once, not at the tick */
    struct pv_nfs_url url;
    uint64_t read_chunk, write_chunk;
    bool stat_pending;
};

static struct nfs_store *to_st(struct pv_storage *s)
{
    return (struct nfs_store *)s;
}

static void update_socket(struct nfs_store *st)
{
    pv_remote_poll_set_socket(&st->r.poll, nfs_get_fd(st->nfs), nfs_which_events(st->nfs));
}

static void put_cmd(struct ncmd *c)
{
    free(c->bounce);
    free(c->parts);
    c->bounce = NULL;
    c->parts = NULL;
    c->req = NULL;
    pv_remote_cmd_put(&c->st->r, c);
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

/* Errors that are the server's answer, not a lost session. */
static bool definite(int err)
{
    return err == -EROFS || err == -ENOSPC || err == -EDQUOT || err == -EFBIG || err == -EACCES ||
           err == -EPERM || err == -EINVAL;
}

static void part_done(struct ncmd *c)
{
    struct nfs_store *st = c->st;
    struct pv_storage_req *req = c->req;
    if (--c->pending)
        return;
    int64_t result = c->error ? c->error : (int64_t)req->length;
    put_cmd(c);
    st->r.completed++;
    pv_storage_complete(&st->r.base, req, result);
}

/* nfs: the context whose error says why (read only while the session is up:
 * a context being destroyed must not be asked). */
static void session_lost(struct nfs_store *st, struct nfs_context *nfs)
{
    if (!st->up)
        return;
    st->up = false;
    st->retry_now = true;
    pv_remote_session_lost(&st->r, nfs_get_error(nfs));
}

static void on_io(int err, struct nfs_context *nfs, void *data, void *private)
{
    struct npart *p = private;
    struct ncmd *c = p->c;
    struct nfs_store *st = c->st;
    struct pv_storage_req *req = c->req;

    if (err < 0 && !definite(err) && !st->r.gave_up) {
        session_lost(st, nfs);
        pv_remote_park(&st->r, &p->link);
        return;
    }
    if (err < 0) {
        if (!c->error)
            pv_warn("%s: %s at offset %" PRIu64 " failed: %s", st->r.name, op_name(req->op),
                    req->offset + p->at,
                    st->r.gave_up        ? "no session"
                    : nfs_get_error(nfs) ? nfs_get_error(nfs)
                                         : "?");
        if (!c->error)
            c->error = definite(err) && err != -EINVAL ? err : -EIO;
    } else if (req->op != PV_STORAGE_FLUSH && (uint64_t)err != part_len(c, p)) {
        if (!c->error)
            c->error = -EIO; /* short: past the end of the image */
    } else if (req->op == PV_STORAGE_READ) {
        scatter(req, p->at, data, (uint64_t)err);
    }
    part_done(c);
}

/* Sends part p, or parks it until there is a session again. */
static void launch(struct npart *p)
{
    struct ncmd *c = p->c;
    struct nfs_store *st = c->st;
    uint64_t off = c->req->offset + p->at, len = part_len(c, p);
    int rc = -1;
    if (st->up) {
        switch (c->req->op) {
        case PV_STORAGE_READ:
            rc = nfs_pread_async(st->nfs, st->fh, off, len, on_io, p);
            break;
        case PV_STORAGE_WRITE:
            rc = nfs_pwrite_async(st->nfs, st->fh, off, len, (char *)c->bounce + p->at, on_io, p);
            break;
        default:
            rc = nfs_fsync_async(st->nfs, st->fh, on_io, p);
        }
        if (rc < 0)
            session_lost(st, st->nfs);
    }
    if (rc < 0)
        pv_remote_park(&st->r, &p->link);
}

static int nfs_store_submit(struct pv_storage *s, struct pv_storage_req *req)
{
    struct nfs_store *st = to_st(s);
    if (pv_remote_store_refused(&st->r, req))
        return 0;
    struct ncmd *c = pv_remote_cmd_get(&st->r);
    if (!c)
        return -EAGAIN;
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
    c->pending = c->nparts;
    for (unsigned int i = 0; i < c->nparts; i++) {
        c->parts[i] = (struct npart){.c = c, .at = (uint64_t)i * chunk};
        launch(&c->parts[i]);
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
    struct nfs_store *st = to_st(s);
    if (st->nfs)
        update_socket(st);
    return 0;
}

static void on_stat(int err, struct nfs_context *nfs, void *data, void *private)
{
    (void)nfs;
    struct nfs_store *st = private;
    st->stat_pending = false;
    if (err == 0) {
        const struct nfs_stat_64 *sb = data;
        st->r.base.info.size = sb->nfs_size & ~(uint64_t)(st->r.base.info.logical_block - 1);
    }
}

static int nfs_store_refresh_size(struct pv_storage *s, uint64_t *size)
{
    struct nfs_store *st = to_st(s);
    /* Asynchronous, as for iSCSI: the answer is in info.size next time. */
    if (st->up && !st->stat_pending && nfs_fstat64_async(st->nfs, st->fh, on_stat, st) == 0)
        st->stat_pending = true;
    if (st->up)
        update_socket(st);
    *size = s->info.size;
    return 0;
}

/* A parked part: re-issued on the fresh session, or failed. */
static void unparked(struct pv_remote_link *l, bool fail)
{
    struct npart *p = PV_REMOTE_CONTAINER(l, struct npart, link);
    if (fail) {
        p->c->error = -EIO;
        part_done(p->c);
    } else {
        launch(p);
    }
}

static void on_reopen(int err, struct nfs_context *nfs, void *data, void *private)
{
    (void)nfs;
    struct nfs_store *st = private;
    st->reconnecting = false;
    if (err < 0) {
        pv_debug("%s: reopen failed: %s", st->r.name, strerror(-err));
        return;
    }
    st->fh = data;
    st->up = true;
    pv_remote_session_back(&st->r);
    pv_remote_unpark(&st->r, unparked);
}

static void on_remount(int err, struct nfs_context *nfs, void *data, void *private)
{
    (void)data;
    struct nfs_store *st = private;
    char file[PV_URL_PATH_MAX + 1];
    snprintf(file, sizeof(file), "/%s", st->url.file);
    if (err < 0 || nfs_open_async(nfs, file, st->read_only ? O_RDONLY : O_RDWR, on_reopen, st)) {
        pv_debug("%s: remount failed: %s", st->r.name, strerror(err < 0 ? -err : EIO));
        st->reconnecting = false;
    }
}

static void noop_cb(int err, struct nfs_context *nfs, void *data, void *private)
{
    (void)err, (void)nfs, (void)data, (void)private;
}

/* Drops the context (its pending calls come back as errors and are parked)
 * and starts a fresh mount and open. */
static void reconnect(struct nfs_store *st)
{
    if (st->nfs) {
        if (st->fh)
            nfs_close_async(st->nfs, st->fh, noop_cb, NULL); /* frees fh */
        nfs_destroy_context(st->nfs);
    }
    st->fh = NULL;
    st->stat_pending = false;
    st->nfs = nfs_init_context();
    if (!st->nfs)
        return;
    nfs_set_version(st->nfs, st->url.version);
    nfs_set_timeout(st->nfs, (int)st->r.timeout_s * 1000);
    nfs_set_autoreconnect(st->nfs, 0);
    st->reconnecting = nfs_mount_async(st->nfs, st->url.host, st->url.dir, on_remount, st) == 0;
}

static void tick(struct nfs_store *st)
{
    if (st->up)
        return;
    if (pv_remote_session_expired(&st->r))
        pv_remote_unpark(&st->r, unparked);
    if (pv_remote_retry_due(&st->r, st->reconnecting))
        reconnect(st);
}

static int nfs_store_reap(struct pv_storage *s)
{
    struct nfs_store *st = to_st(s);
    int revents;
    bool ticked;
    pv_remote_store_begin_reap(&st->r, &revents, &ticked);
    /* A tick with no events still services: libnfs expires timed-out calls
     * from inside nfs_service(). A failure shows in the calls' callbacks. */
    if (st->nfs && (revents || ticked) && nfs_service(st->nfs, revents) < 0 && st->up &&
        !st->reconnecting)
        session_lost(st, st->nfs);
    if (st->retry_now && !st->reconnecting) {
        st->retry_now = false;
        pv_remote_retry_due(&st->r, false); /* starts the attempt's clock */
        reconnect(st);
    } else if (ticked) {
        tick(st);
    }
    if (st->nfs)
        update_socket(st);
    else
        pv_remote_poll_set_socket(&st->r.poll, -1, 0);
    return (int)st->r.completed;
}

static void nfs_store_close(struct pv_storage *s)
{
    struct nfs_store *st = to_st(s);
    if (st->nfs) {
        /* A live session closes properly (NFSv4 CLOSE); a dead one just
         * frees the handle. */
        if (st->fh && st->up)
            nfs_close(st->nfs, st->fh);
        else if (st->fh)
            nfs_close_async(st->nfs, st->fh, noop_cb, NULL);
        nfs_destroy_context(st->nfs);
    }
    struct ncmd *c;
    for (unsigned int i = 0; (c = pv_remote_cmd_at(&st->r, i)); i++) {
        free(c->bounce);
        free(c->parts);
    }
    pv_remote_store_free(&st->r);
}

static struct pv_storage *nfs_store_open_url(const struct pv_storage_params *p, int efd,
                                             unsigned int depth, char *err, size_t errlen)
{
    struct nfs_store *st = pv_remote_store_new(sizeof(*st), p, "server", err, errlen);
    if (!st)
        return NULL;
    if (pv_nfs_url_parse(p->path, &st->url, err, errlen) < 0)
        goto fail;
    if (st->url.port) {
        snprintf(err, errlen,
                 "%s: a port in the URL is not supported (the server's portmapper "
                 "or port 2049 is used)",
                 st->r.name);
        goto fail;
    }
    st->nfs = nfs_init_context();
    if (!st->nfs) {
        snprintf(err, errlen, "%s: cannot create an NFS context", st->r.name);
        goto fail;
    }
    char why[300];
    /* v3 starts at the portmapper, v4 at the NFS port itself. */
    if (pv_remote_probe(st->url.host, st->url.version == 4 ? 2049 : 111, why, sizeof(why)) < 0) {
        snprintf(err, errlen, "%s: NFS server: %s", st->r.name, why);
        goto fail;
    }
    nfs_set_version(st->nfs, st->url.version); /* NFS_V3 is 3, NFS_V4 is 4 */
    nfs_set_timeout(st->nfs, PV_REMOTE_CONNECT_TIMEOUT * 1000);
    /* reconnect() does it, for both versions (see the top); libnfs takes
     * this at mount time. */
    nfs_set_autoreconnect(st->nfs, 0);
    if (nfs_mount(st->nfs, st->url.host, st->url.dir) < 0) {
        snprintf(err, errlen, "%s: NFSv%d mount of %s:%s failed: %s", st->r.name, st->url.version,
                 st->url.host, st->url.dir, nfs_get_error(st->nfs));
        goto fail;
    }
    char file[PV_URL_PATH_MAX + 1];
    snprintf(file, sizeof(file), "/%s", st->url.file);
    if (nfs_open(st->nfs, file, p->read_only ? O_RDONLY : O_RDWR, &st->fh) < 0) {
        snprintf(err, errlen, "%s: cannot open %s on %s:%s: %s", st->r.name, st->url.file,
                 st->url.host, st->url.dir, nfs_get_error(st->nfs));
        st->fh = NULL;
        goto fail;
    }
    struct nfs_stat_64 sb;
    if (nfs_fstat64(st->nfs, st->fh, &sb) < 0) {
        snprintf(err, errlen, "%s: GETATTR failed: %s", st->r.name, nfs_get_error(st->nfs));
        goto fail;
    }
    if ((sb.nfs_mode & S_IFMT) != S_IFREG) {
        snprintf(err, errlen, "%s: not a regular file", st->r.name);
        goto fail;
    }
    nfs_set_timeout(st->nfs, (int)st->r.timeout_s * 1000);
    st->up = true;
    st->read_only = p->read_only;
    st->read_chunk = nfs_get_readmax(st->nfs);
    if (st->read_chunk < 4096 || st->read_chunk > (1u << 20))
        st->read_chunk = 1u << 20;
    st->write_chunk =
        st->url.version == 4 ? NFS4_WRITE_CHUNK : st->read_chunk * 64; /* v3: libnfs splits */
    st->r.base.info = (struct pv_storage_info){
        .size = sb.nfs_size & ~(uint64_t)511,
        .logical_block = 512,
        .physical_block = 4096,
        .read_only = p->read_only,
        .discard_granularity = 4096,
    };
    if (pv_remote_store_ready(&st->r, efd, depth, sizeof(struct ncmd), err, errlen) < 0)
        goto fail;
    struct ncmd *c;
    for (unsigned int i = 0; (c = pv_remote_cmd_at(&st->r, i)); i++)
        c->st = st;
    update_socket(st);
    pv_info("%s: NFSv%d, %" PRIu64 " bytes, server READ/WRITE max %" PRIu64 "/%" PRIu64
            " bytes, calls of %" PRIu64 "/%" PRIu64 " bytes",
            st->r.name, st->url.version, st->r.base.info.size, (uint64_t)nfs_get_readmax(st->nfs),
            (uint64_t)nfs_get_writemax(st->nfs), st->read_chunk, st->write_chunk);
    return &st->r.base;
fail:
    nfs_store_close(&st->r.base);
    return NULL;
}

const struct pv_storage_ops pv_storage_nfs_ops = {
    .name = "nfs",
    .open_url = nfs_store_open_url,
    .close = nfs_store_close,
    .submit = nfs_store_submit,
    .kick = nfs_store_kick,
    .reap = nfs_store_reap,
    .poll_fd = pv_remote_store_poll_fd,
    .discard = nfs_store_discard,
    .refresh_size = nfs_store_refresh_size,
};
