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
 * rep.count items. Requests are answered in order, one reply each. File
 * descriptors travel with SCM_RIGHTS. Event delivery itself does not go
 * through the daemon: see "Event channels" below.
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

#define HV_PROTO_VERSION 2

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
     * GNTSHR gets [memory memfd, grant table memfd]; GNT of dom0 gets [its
     * pin journal] (sim/hv/hv_gcopy.h), others none; EVTCHN gets [its
     * shared page, its control page (read-only), its doorbell eventfd]
     * (see below). */
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
    /* EVTCHN. arg[0] a local interdomain port. Reply: val[0] the remote
     * port, val[1] the link word of the local port this answer holds for;
     * one item, the uint64 id of the handle owning the remote port; fds
     * [its shared page, its doorbell]. ENOTCONN when the port is not (or no
     * longer) connected. */
    HV_OP_EV_PEER = 10,
    /* GNT, dom0's only (EPERM otherwise). arg[0] a domid. Reply: val[0] its
     * number of frames; fds [its memory, its grant table, its active table
     * (sim/hv/hv_gcopy.h)], with which dom0 copies without a round trip.
     * ESRCH for no such domain. */
    HV_OP_GNT_DOMAIN = 11,
    /* GNTSHR. items struct hv_share_item: grants this guest had on the host
     * it migrated from (its memory came along, its grant table did not).
     * Each ref is taken back with the same frame, owned by this handle, as
     * if HV_OP_SHARE had handed them out; the client writes the entries
     * again. All or nothing: EINVAL for a reserved or out-of-range ref or
     * frame, EBUSY when one is already in use here. */
    HV_OP_RESHARE = 12,
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

/* Frame HV_START_INFO_FRAME of every domain's memory is never handed out by
 * HV_OP_SHARE: it is the domain's start-info page (Xen's start_info, in
 * spirit), through which the toolstack tells a migrated guest where it now
 * lives. It moves with the memory. The toolstack writes dir and domid, then
 * increments epoch; the guest's processes are paused meanwhile, and each one
 * that sees epoch change follows (pv_platform_rehome). */
#define HV_START_INFO_FRAME 0u
struct hv_start_info {
    uint32_t epoch; /* 0 at creation, +1 per migration */
    uint32_t domid; /* the domain's id on its current host */
    char dir[200];  /* its current host: the xensim directory */
};
_Static_assert(sizeof(struct hv_start_info) <= 4096, "start-info page");

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

/* Event channels. Each EVTCHN handle has, made by the daemon at open:
 *  - a shared page (struct hv_ev_shared): pending, mask and ready bits, one
 *    each per port of the handle's domain. Every handle connected to one of
 *    its ports maps it read-write (Xen's shared_info bits, which notifiers
 *    set, plus the ready bits that play /dev/xen/evtchn's ring);
 *  - a control page (struct hv_ev_ctl), read-only for the owner: the
 *    daemon's link word per port and the closed flag;
 *  - a doorbell eventfd (non-blocking): the fd evtchn_fd() returns.
 * Notify on a connected port = hv_ev_raise() on the peer's shared page: set
 * the port's pending bit; if it was clear and the port is not masked, do
 * what the evtchn driver's interrupt handler does (hv_ev_fire): mask the
 * port, move pending to ready, ring the doorbell. Unmask = clear the mask
 * bit and fire if pending. pending() takes a ready port (it stays masked).
 * Bind, unbind and close stay daemon operations; the daemon rewrites a
 * port's link word whenever its connection changes, so that a client can
 * tell whether the peer it learnt with HV_OP_EV_PEER still holds. */
#define HV_EV_WORDS (HV_MAX_PORTS / 64u)
struct hv_ev_shared {
    uint64_t pending[HV_EV_WORDS];
    uint64_t mask[HV_EV_WORDS];
    uint64_t ready[HV_EV_WORDS];
};
/* Link word: 0 for a free port; otherwise a generation (never reused)
 * shifted left by one, with bit 0 set while the port is interdomain. */
#define HV_EV_LINK_CONNECTED 1u
struct hv_ev_ctl {
    uint32_t closed; /* set by the daemon when it closed the handle */
    uint32_t link[HV_MAX_PORTS];
};
#define HV_EV_SHARED_SIZE 4096u
#define HV_EV_CTL_SIZE    8192u
_Static_assert(sizeof(struct hv_ev_shared) <= HV_EV_SHARED_SIZE, "shared page");
_Static_assert(sizeof(struct hv_ev_ctl) <= HV_EV_CTL_SIZE, "control page");

/* Rings a doorbell. A full counter (never in practice) still wakes. */
static inline void hv_ev_ring(int efd)
{
    uint64_t one = 1;
    ssize_t n;

    do
        n = write(efd, &one, sizeof(one));
    while (n < 0 && errno == EINTR);
}

/* Delivers a pending port: masks it, moves pending to ready, rings. Whoever
 * sets the mask bit first delivers; the others leave it to them. */
static inline void hv_ev_fire(struct hv_ev_shared *sh, uint32_t port, int efd)
{
    uint64_t bit = 1ull << (port % 64);

    if (__atomic_fetch_or(&sh->mask[port / 64], bit, __ATOMIC_SEQ_CST) & bit)
        return;
    __atomic_fetch_and(&sh->pending[port / 64], ~bit, __ATOMIC_SEQ_CST);
    __atomic_fetch_or(&sh->ready[port / 64], bit, __ATOMIC_SEQ_CST);
    hv_ev_ring(efd);
}

/* An event on port: sets pending; a new event on an unmasked port is
 * delivered at once. The fetch_or and the mask load are sequentially
 * consistent, pairing with hv_ev_unmask's: of a racing notify and unmask,
 * at least one sees the other and fires. */
static inline void hv_ev_raise(struct hv_ev_shared *sh, uint32_t port, int efd)
{
    uint64_t bit = 1ull << (port % 64);

    if (__atomic_fetch_or(&sh->pending[port / 64], bit, __ATOMIC_SEQ_CST) & bit)
        return; /* already pending: coalesced */
    if (__atomic_load_n(&sh->mask[port / 64], __ATOMIC_SEQ_CST) & bit)
        return; /* masked: delivered at unmask */
    hv_ev_fire(sh, port, efd);
}

/* Unmasks port; delivers it again at once if it became pending meanwhile. */
static inline void hv_ev_unmask(struct hv_ev_shared *sh, uint32_t port, int efd)
{
    uint64_t bit = 1ull << (port % 64);

    __atomic_fetch_and(&sh->mask[port / 64], ~bit, __ATOMIC_SEQ_CST);
    if (__atomic_load_n(&sh->pending[port / 64], __ATOMIC_SEQ_CST) & bit)
        hv_ev_fire(sh, port, efd);
}

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
