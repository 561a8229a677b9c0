/* The storage interface of pvback-blk: one small asynchronous API that every
 * driver (files and block devices through libaio or io_uring; later iSCSI,
 * NFS) implements, so that the ring data path never knows what is behind it.
 *
 * Model: pv_storage_submit() queues a request (it never calls back from
 * inside), pv_storage_kick() hands every queued request to the kernel in one
 * batch, and when pv_storage_fd() becomes readable pv_storage_reap() calls
 * each finished request's callback. Offsets and lengths are bytes. */
#ifndef PVBACK_STORAGE_H
#define PVBACK_STORAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

struct pv_storage;

struct pv_storage_params {
    const char *path;   /* file or block device */
    bool read_only;     /* opens O_RDONLY; writes, flushes and discards fail with EROFS */
    const char *engine; /* "aio", "uring", "aio+uring" (storage_split.c), "null"
                           (benchmarks: stores nothing), or NULL for the default
                           (see storage.c) */
    unsigned int depth; /* requests in flight at most; 0: 256 */
    bool buffered;      /* do not use O_DIRECT (it is also dropped where refused) */
    /* Remote stores only (path is an iscsi:// or nfs:// URL, see
     * docs/remote-storage.md): */
    const char *chap_file;          /* iSCSI CHAP secrets; NULL: the default file */
    unsigned int reconnect_timeout; /* seconds a lost server may stay away; 0: default */
};

struct pv_storage_info {
    uint64_t size;           /* bytes */
    uint32_t logical_block;  /* smallest unit of I/O, bytes (O_DIRECT alignment) */
    uint32_t physical_block; /* bytes, a multiple of logical_block */
    bool read_only;
    bool direct; /* O_DIRECT in use */
    /* Reads and writes are copies to or from the page cache made inside the
     * submitting system call: no O_DIRECT, or a memory file system (tmpfs),
     * where O_DIRECT is accepted but is such a copy too. */
    bool page_cache;
    bool block_device;
    bool can_discard;             /* discard frees space and reads back as zeros */
    bool can_secure_discard;      /* BLKSECDISCARD works */
    uint32_t discard_granularity; /* bytes */
    /* Segments (runs of physically adjacent memory) the disk takes in one
     * request, for O_DIRECT on a block device or on a file system on one;
     * 0: unknown or irrelevant (page cache, remote stores). */
    uint32_t max_segments;
    const char *engine; /* "aio", "uring", "aio+uring", "iscsi" or "nfs" */
};

enum pv_storage_op {
    PV_STORAGE_READ,
    PV_STORAGE_WRITE,
    PV_STORAGE_FLUSH,          /* fdatasync: everything completed before is durable */
    PV_STORAGE_DISCARD,        /* offset, length */
    PV_STORAGE_SECURE_DISCARD, /* offset, length */
};

struct pv_storage_req;
/* result: bytes transferred for read/write, 0 for the others, or -errno. */
typedef void (*pv_storage_cb)(struct pv_storage_req *req, int64_t result);

/* Owned by the caller and untouched by the driver until its callback. */
struct pv_storage_req {
    enum pv_storage_op op;
    uint64_t offset;
    uint64_t length; /* discard only; read/write use the iovec */
    const struct iovec *iov;
    int iovcnt;
    pv_storage_cb cb;
    void *arg;
    /* Private to the storage layer while in flight. */
    struct pv_storage_req *next_;
    int64_t result_;
};

/* A driver (storage_aio.c, storage_uring.c). storage.c validates requests,
 * performs discards itself and keeps the count of requests in flight; the
 * driver moves reads, writes and flushes through its kernel interface and
 * hands each result to pv_storage_complete(). */
struct pv_storage_ops {
    const char *name;
    /* Allocates the driver's state (which embeds struct pv_storage first)
     * for fd; completions must make efd readable. NULL with err filled. */
    struct pv_storage *(*open)(int fd, int efd, unsigned int depth, char *err, size_t errlen);
    void (*close)(struct pv_storage *s);
    /* Queues a read, write or flush; 0 or -errno. */
    int (*submit)(struct pv_storage *s, struct pv_storage_req *req);
    int (*kick)(struct pv_storage *s);
    /* Completes what the kernel has finished, without blocking. */
    int (*reap)(struct pv_storage *s);

    /* Drivers that are not fd-based (storage_iscsi.c, storage_nfs.c) set
     * open_url instead of open and all of the hooks below; file drivers leave
     * them NULL. open_url connects to params->path (a URL) and fills the
     * driver's info; completions must make pv_storage_fd() readable. */
    struct pv_storage *(*open_url)(const struct pv_storage_params *p, int efd, unsigned int depth,
                                   char *err, size_t errlen);
    int (*poll_fd)(struct pv_storage *s);                             /* pv_storage_fd() */
    int (*discard)(struct pv_storage *s, struct pv_storage_req *req); /* queues a discard */
    int (*refresh_size)(struct pv_storage *s, uint64_t *size);
};

/* Opens params->path: a file or block device, or an iscsi:// or nfs:// URL.
 * NULL on failure, with a message naming the path and the reason in err. */
struct pv_storage *pv_storage_open(const struct pv_storage_params *params, char *err,
                                   size_t errlen);
/* Waits for every request in flight (calling their callbacks), then closes. */
void pv_storage_close(struct pv_storage *s);
const struct pv_storage_info *pv_storage_info(const struct pv_storage *s);
/* Re-reads the size (for online resize). Returns 0 or -errno. */
int pv_storage_refresh_size(struct pv_storage *s);

/* Queues req. Returns 0, -EAGAIN when depth requests are already queued or
 * in flight, -EROFS for a modifying op on a read-only store, -EINVAL for a
 * request outside the store or not aligned to logical_block. */
int pv_storage_submit(struct pv_storage *s, struct pv_storage_req *req);
/* Hands the queued requests to the kernel. Returns 0 or -errno. */
int pv_storage_kick(struct pv_storage *s);
/* Readable (EPOLLIN) when pv_storage_reap() has work. */
int pv_storage_fd(struct pv_storage *s);
/* Calls the callbacks of finished requests; returns how many, or -errno. */
int pv_storage_reap(struct pv_storage *s);
unsigned int pv_storage_in_flight(struct pv_storage *s);

/* Common state every driver embeds first, so that storage.c can reach it. */
struct pv_storage {
    const struct pv_storage_ops *ops;
    struct pv_storage_info info;
    int fd;  /* the file or device; -1 for a remote store */
    int efd; /* eventfd: readable when something can be reaped */
    unsigned int depth;
    unsigned int in_flight;                       /* submitted and not yet called back */
    struct pv_storage_req *done_head, *done_tail; /* finished outside the kernel */
    struct pv_storage *parent; /* storage_split.c's store that owns this one, or NULL */
};

/* Fills the common state of a store a driver's open returned (all but info,
 * whose engine it sets to ops->name); parent NULL. pv_storage_open uses it,
 * and storage_split.c for its two halves. */
void pv_storage_init(struct pv_storage *s, const struct pv_storage_ops *ops, int fd, int efd,
                     unsigned int depth);
/* For drivers: delivers req's result (checking for short transfers) and
 * calls its callback. */
void pv_storage_complete(struct pv_storage *s, struct pv_storage_req *req, int64_t result);
/* For drivers: records the result of a request finished synchronously; its
 * callback runs from the next pv_storage_reap(), never from inside submit. */
void pv_storage_defer(struct pv_storage *s, struct pv_storage_req *req, int64_t result);

extern const struct pv_storage_ops pv_storage_aio_ops;
extern const struct pv_storage_ops pv_storage_uring_ops;
extern const struct pv_storage_ops pv_storage_split_ops; /* aio+uring, by request size */
extern const struct pv_storage_ops pv_storage_null_ops;  /* benchmarks only */
extern const struct pv_storage_ops pv_storage_iscsi_ops;
extern const struct pv_storage_ops pv_storage_nfs_ops;

#endif
