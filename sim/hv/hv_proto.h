/* The wire protocol between xensim's hypervisor part (sim/hv) and its
 * clients (common/platform_sim.c).
 *
 * Transport: SOCK_SEQPACKET on DIR/hv<N>.sock; every connection accepted
 * there acts as domain N (hv0.sock: dom0) and is ONE handle of one kind,
 * chosen by its first message (HV_OP_OPEN): a grant-mapping handle (like a
 * gntdev fd), a grant-sharing handle (like a gntalloc fd) or an
 * event-channel handle (like an evtchn fd). Closing the connection releases
 * everything the handle holds.
 *
 * Every request is one message: struct hv_req followed by req.count items of
 * the op's item type. Every reply is one message: struct hv_rep followed by
 * rep.count items. Requests are answered in order, one reply each, except
 * HV_OP_NOTIFY and HV_OP_UNMASK which are one-way (no reply): the client
 * checks the port itself. File descriptors travel with SCM_RIGHTS.
 * A malformed message closes that connection (and only that one).
 *
 * Both sides are the same machine and the same build: native byte order. */
#ifndef XENSIM_HV_PROTO_H
#define XENSIM_HV_PROTO_H

#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#define HV_PROTO_VERSION 1

/* Grant table: v1 entries in HV_GNTTAB_FRAMES shared pages (Xen's default
 * max_grant_frames is 64). Refs below GNTTAB_NR_RESERVED_ENTRIES are never
 * handed out by HV_OP_SHARE, as on Xen. */
#define HV_GNTTAB_FRAMES  64u
#define HV_GNTTAB_ENTRIES (HV_GNTTAB_FRAMES * 4096u / 8u)

/* Event-channel ports per domain: 1 .. HV_MAX_PORTS-1 (port 0 is never
 * valid; libxl's default max_event_channels is 1023). */
#define HV_MAX_PORTS 1024u

/* Items per message (refs of one map/share/unshare, segments of one copy). */
#define HV_MAX_BATCH 1024u

/* Pages one grant-mapping handle may keep mapped (gntdev's default limit),
 * and all the handles of one domain together. */
#define HV_MAX_MAPPED_PAGES     65536u
#define HV_MAX_MAPPED_PAGES_DOM 262144u

/* Handles (connections) a guest may have open at a time; dom0 serves every
 * guest and gets more. */
#define HV_MAX_CONNS      256u
#define HV_MAX_CONNS_DOM0 4096u

/* Largest message either side sends. */
#define HV_MAX_MSG (sizeof(struct hv_req) + HV_MAX_BATCH * sizeof(struct hv_copy_seg))

enum hv_kind {
    HV_KIND_GNT = 1,    /* grant mapping and copying */
    HV_KIND_GNTSHR = 2, /* grant sharing (guest side) */
    HV_KIND_EVTCHN = 3, /* event channels */
};

enum hv_op {
    /* arg[0] kind, arg[1] HV_PROTO_VERSION. Reply: val[0] the domid the
     * connection acts as, val[1] the number of frames of its memory. Fds:
     * GNTSHR gets [memory memfd, grant table memfd]; EVTCHN gets the client
     * end of its event socket (see below). */
    HV_OP_OPEN = 1,
    /* GNT. arg[0] granting domid, arg[1] 1 for a writable map; items: uint32
     * refs. Reply: err 0 with val[0] the mapping id, items struct
     * hv_map_item, and one fd: the granting domain's memory (read-only for a
     * read-only map). On a failed reference: err EINVAL, items carry each
     * reference's status, nothing stays mapped, no fd. */
    HV_OP_MAP = 2,
    /* GNT. arg[0] mapping id. */
    HV_OP_UNMAP = 3,
    /* GNT. items struct hv_copy_seg; reply items int16 GNTST_* per segment. */
    HV_OP_COPY = 4,
    /* GNTSHR. arg[0] grantee domid, arg[1] 1 for writable; count pages.
     * Reply items struct hv_share_item: a free ref and a frame of the
     * caller's memory each. The client then writes the grant entries (frame,
     * domid, then flags after a write barrier), as a guest kernel does. */
    HV_OP_SHARE = 5,
    /* GNTSHR. items: uint32 refs, all shared by this handle. Ends access
     * (clears the entries) and frees refs and frames; EBUSY, changing
     * nothing, while any of them is mapped. */
    HV_OP_UNSHARE = 6,
    /* EVTCHN. arg[0] remote domid. Reply val[0] the new port. */
    HV_OP_BIND_UNBOUND = 7,
    /* EVTCHN. arg[0] remote domid, arg[1] remote port. Reply val[0] port. */
    HV_OP_BIND_INTERDOMAIN = 8,
    /* EVTCHN. arg[0] port. */
    HV_OP_UNBIND = 9,
    /* EVTCHN, one-way. arg[0] port. */
    HV_OP_NOTIFY = 10,
    /* EVTCHN, one-way. arg[0] port. */
    HV_OP_UNMASK = 11,
};

struct hv_req {
    uint32_t op;
    uint32_t count;
    uint32_t arg[2];
};

struct hv_rep {
    int32_t err; /* 0 or a positive errno */
    uint32_t count;
    uint32_t val[2];
};

struct hv_map_item {
    int16_t status; /* GNTST_* */
    uint16_t pad;
    uint32_t frame; /* page of the granting domain's memory (when okay) */
};

struct hv_share_item {
    uint32_t ref;
    uint32_t frame;
};

/* One grant-copy segment. A side with its HV_COPY_*_GREF flag names a grant
 * (ref, domid, offset); a side without it is an address in the CALLER's
 * address space (addr), which the daemon reaches with process_vm_readv /
 * process_vm_writev on the connection's peer process. */
#define HV_COPY_SRC_GREF 1u
#define HV_COPY_DST_GREF 2u
struct hv_copy_side {
    uint64_t addr;
    uint32_t ref;
    uint16_t domid;
    uint16_t offset;
};
struct hv_copy_seg {
    struct hv_copy_side src, dst;
    uint16_t len;
    uint16_t flags;
    uint32_t pad;
};

/* Event socket: a SOCK_SEQPACKET pair per event-channel handle. The daemon
 * sends one uint32 port per delivered event; the port is then masked until
 * HV_OP_UNMASK. The client's end is what evtchn_fd() returns. */

/* Sends one message with up to nfds descriptors. 0 or -1 with errno. */
static inline int hv_send_msg(int sock, const void *a, size_t alen, const void *b, size_t blen,
                              const int *fds, unsigned nfds, int flags)
{
    struct iovec iov[2] = {{(void *)a, alen}, {(void *)b, blen}};
    union {
        char buf[CMSG_SPACE(sizeof(int) * 4)];
        struct cmsghdr align;
    } u;
    struct msghdr mh = {.msg_iov = iov, .msg_iovlen = blen ? 2 : 1};
    ssize_t n;

    if (nfds > 4) {
        errno = EINVAL;
        return -1;
    }
    if (nfds) {
        struct cmsghdr *c;
        memset(&u, 0, sizeof(u));
        mh.msg_control = u.buf;
        mh.msg_controllen = CMSG_SPACE(sizeof(int) * nfds);
        c = CMSG_FIRSTHDR(&mh);
        c->cmsg_level = SOL_SOCKET;
        c->cmsg_type = SCM_RIGHTS;
        c->cmsg_len = CMSG_LEN(sizeof(int) * nfds);
        memcpy(CMSG_DATA(c), fds, sizeof(int) * nfds);
    }
    do
        n = sendmsg(sock, &mh, MSG_NOSIGNAL | flags);
    while (n < 0 && errno == EINTR);
    if (n < 0)
        return -1;
    if ((size_t)n != alen + blen) {
        errno = EMSGSIZE;
        return -1;
    }
    return 0;
}

/* Receives one message into buf and up to maxfds descriptors (the rest are
 * closed; *nfds says how many arrived). Returns its length, 0 at end of
 * stream, -1 with errno (EMSGSIZE when it did not fit: a protocol error). */
static inline ssize_t hv_recv_msg(int sock, void *buf, size_t len, int *fds, unsigned maxfds,
                                  unsigned *nfds, int flags)
{
    struct iovec iov = {buf, len};
    union {
        char buf[CMSG_SPACE(sizeof(int) * 8)];
        struct cmsghdr align;
    } u;
    struct msghdr mh = {
        .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf, .msg_controllen = sizeof(u.buf)};
    ssize_t n;
    unsigned got = 0;

    do
        n = recvmsg(sock, &mh, MSG_CMSG_CLOEXEC | flags);
    while (n < 0 && errno == EINTR);
    if (n < 0)
        return -1;
    for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c)) {
        if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
            continue;
        size_t k = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
        for (size_t i = 0; i < k; i++) {
            int fd;
            memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
            if (got < maxfds)
                fds[got++] = fd;
            else
                close(fd);
        }
    }
    if (nfds)
        *nfds = got;
    if (mh.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) {
        for (unsigned i = 0; i < got; i++)
            close(fds[i]);
        if (nfds)
            *nfds = 0;
        errno = EMSGSIZE;
        return -1;
    }
    return n;
}

#endif
