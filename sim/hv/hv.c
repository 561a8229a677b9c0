/* xensim's hypervisor part: the per-domain sockets, the connections (one
 * handle each) and the dispatch of sim/hv/hv_proto.h requests. */
#include "hv_internal.h"

#include "log.h"
#include "loop.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#define REPLY_MAX       (sizeof(struct hv_rep) + HV_MAX_BATCH * sizeof(struct hv_map_item))
#define MSGS_PER_WAKEUP 64

void *hv_rep_items(struct hv *hv)
{
    return hv->txbuf + sizeof(struct hv_rep);
}

size_t hv_reply(struct hv *hv, int err, uint32_t v0, uint32_t v1, uint32_t count, size_t item_size)
{
    struct hv_rep rep = {.err = err, .count = count, .val = {v0, v1}};

    memcpy(hv->txbuf, &rep, sizeof(rep));
    return sizeof(rep) + count * item_size;
}

static void conn_unlink(struct hv_conn *c)
{
    for (struct hv_conn **pp = &c->hv->conns; *pp; pp = &(*pp)->next) {
        if (*pp == c) {
            *pp = c->next;
            return;
        }
    }
}

void hv_conn_close(struct hv_conn *c)
{
    hv_grant_conn_closed(c);
    hv_evtchn_conn_closed(c);
    if (c->w)
        pv_watch_remove(c->w);
    close(c->fd);
    hv_pidref_close(&c->peer);
    c->dom->nconns--;
    conn_unlink(c);
    free(c);
}

static size_t item_size(uint32_t op)
{
    switch (op) {
    case HV_OP_MAP:
    case HV_OP_UNSHARE:
        return sizeof(uint32_t);
    case HV_OP_COPY:
        return sizeof(struct hv_copy_seg);
    case HV_OP_RESHARE:
        return sizeof(struct hv_share_item);
    default:
        return 0;
    }
}

static bool op_allowed(enum hv_kind kind, uint32_t op)
{
    switch (op) {
    case HV_OP_MAP:
    case HV_OP_UNMAP:
    case HV_OP_COPY:
    case HV_OP_GNT_DOMAIN:
        return kind == HV_KIND_GNT;
    case HV_OP_SHARE:
    case HV_OP_UNSHARE:
    case HV_OP_RESHARE:
        return kind == HV_KIND_GNTSHR;
    case HV_OP_BIND_UNBOUND:
    case HV_OP_BIND_INTERDOMAIN:
    case HV_OP_UNBIND:
    case HV_OP_EV_PEER:
        return kind == HV_KIND_EVTCHN;
    default:
        return false;
    }
}

static size_t do_open(struct hv_conn *c, const struct hv_req *req, int *fds, unsigned *nfds)
{
    struct hv *hv = c->hv;
    int err;

    if (req->arg[1] != HV_PROTO_VERSION)
        return hv_reply(hv, EPROTO, 0, 0, 0, 0);
    switch (req->arg[0]) {
    case HV_KIND_GNT:
        err = hv_grant_conn_open(c, &fds[0]);
        if (err)
            return hv_reply(hv, err, 0, 0, 0, 0);
        *nfds = fds[0] >= 0;
        break;
    case HV_KIND_GNTSHR:
        fds[0] = c->dom->mem_fd;
        fds[1] = c->dom->gt_fd;
        *nfds = 2;
        break;
    case HV_KIND_EVTCHN:
        err = hv_evtchn_conn_open(c);
        if (err) {
            hv_evtchn_conn_closed(c);
            return hv_reply(hv, err, 0, 0, 0, 0);
        }
        memcpy(fds, c->ev_fds, sizeof(c->ev_fds));
        *nfds = 3;
        break;
    default:
        return hv_reply(hv, EINVAL, 0, 0, 0, 0);
    }
    c->kind = req->arg[0];
    return hv_reply(hv, 0, c->dom->domid, (uint32_t)c->dom->nr_frames, 0, 0);
}

/* Handles one request. Returns false when the connection was closed. */
static bool handle(struct hv_conn *c, size_t len)
{
    struct hv *hv = c->hv;
    struct hv_req req;
    const void *items = hv->rxbuf + sizeof(req);
    int fds[3] = {-1, -1, -1}; /* the daemon's own: they stay open after sending */
    unsigned nfds = 0;
    size_t rlen;

    if (len < sizeof(req))
        goto bad;
    memcpy(&req, hv->rxbuf, sizeof(req));
    if (req.count > HV_MAX_BATCH || len != sizeof(req) + req.count * item_size(req.op))
        goto bad;
    if (!c->kind ? req.op != HV_OP_OPEN : !op_allowed(c->kind, req.op))
        goto bad;

    switch (req.op) {
    case HV_OP_OPEN:
        rlen = do_open(c, &req, fds, &nfds);
        break;
    case HV_OP_MAP:
        rlen = hv_grant_map(c, &req, items, &fds[0]);
        nfds = fds[0] >= 0;
        break;
    case HV_OP_UNMAP:
        rlen = hv_grant_unmap(c, &req);
        break;
    case HV_OP_GNT_DOMAIN:
        rlen = hv_grant_domain(c, &req, fds, &nfds);
        break;
    case HV_OP_COPY:
        rlen = hv_grant_copy(c, &req, items);
        break;
    case HV_OP_SHARE:
        rlen = hv_grant_share(c, &req);
        break;
    case HV_OP_UNSHARE:
        rlen = hv_grant_unshare(c, &req, items);
        break;
    case HV_OP_RESHARE:
        rlen = hv_grant_reshare(c, &req, items);
        break;
    default:
        rlen = hv_evtchn_op(c, &req, fds, &nfds);
        break;
    }
    /* A client that does not read its replies gets closed, never waited for. */
    if (hv_send_msg(c->fd, hv->txbuf, rlen, NULL, 0, fds, nfds, MSG_DONTWAIT) < 0) {
        pv_warn("hv: d%u handle: cannot reply (%s); closing it", c->dom->domid, strerror(errno));
        hv_conn_close(c);
        return false;
    }
    return true;
bad:
    pv_warn("hv: d%u (pid %d) sent a malformed message (%zu bytes); closing that connection",
            c->dom->domid, (int)c->peer.pid, len);
    hv_conn_close(c);
    return false;
}

static void conn_readable(int fd, uint32_t events, void *arg)
{
    struct hv_conn *c = arg;
    struct hv *hv = c->hv;

    (void)events;
    for (int i = 0; i < MSGS_PER_WAKEUP; i++) {
        int fds[4];
        unsigned nfds = 0;
        ssize_t n = hv_recv_msg(fd, hv->rxbuf, HV_MAX_MSG, fds, 4, &nfds, MSG_DONTWAIT);

        for (unsigned k = 0; k < nfds; k++)
            close(fds[k]); /* clients never send descriptors */
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return;
        if (n < 0 && errno == EMSGSIZE) {
            pv_warn("hv: d%u sent an oversized message; closing that connection", c->dom->domid);
        }
        if (n <= 0) {
            hv_conn_close(c);
            return;
        }
        if (!handle(c, (size_t)n))
            return;
    }
}

static void listen_readable(int fd, uint32_t events, void *arg)
{
    struct hv_domain *d = arg;
    struct ucred cred;
    socklen_t clen = sizeof(cred);
    struct hv_conn *c;
    int s;

    (void)events;
    s = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (s < 0)
        return;
    if (d->nconns >= (d->domid == 0 ? HV_MAX_CONNS_DOM0 : HV_MAX_CONNS)) {
        pv_warn("hv: d%u has %u handles open already; refusing another", d->domid, d->nconns);
        close(s);
        return;
    }
    c = calloc(1, sizeof(*c));
    if (!c || getsockopt(s, SOL_SOCKET, SO_PEERCRED, &cred, &clen) < 0) {
        free(c);
        close(s);
        return;
    }
    c->hv = d->hv;
    c->dom = d;
    c->fd = s;
    c->ev_fds[0] = c->ev_fds[1] = c->ev_fds[2] = c->journal_fd = -1;
    if (hv_pidref_open(&c->peer, cred.pid) < 0) {
        c->peer.pid = cred.pid; /* already gone: copies will fail */
        c->peer.pidfd = -1;
        c->peer.start_time = ~0ull;
    }
    c->w = pv_loop_add_fd(d->hv->loop, s, EPOLLIN, conn_readable, c);
    if (!c->w) {
        hv_pidref_close(&c->peer);
        free(c);
        close(s);
        return;
    }
    d->nconns++;
    c->next = d->hv->conns;
    d->hv->conns = c;
}

static int domain_listen(struct hv *hv, struct hv_domain *d)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    int e;

    snprintf(d->sock_path, sizeof(d->sock_path), "%s/hv%u.sock", hv->dir, d->domid);
    if (strlen(d->sock_path) >= sizeof(sa.sun_path)) {
        errno = ENAMETOOLONG;
        return -1;
    }
    memcpy(sa.sun_path, d->sock_path, strlen(d->sock_path) + 1);
    d->listen_fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (d->listen_fd < 0)
        return -1;
    unlink(d->sock_path);
    if (bind(d->listen_fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(d->listen_fd, 64) < 0)
        goto fail;
    d->listen_w = pv_loop_add_fd(hv->loop, d->listen_fd, EPOLLIN, listen_readable, d);
    if (!d->listen_w)
        goto fail;
    return 0;
fail:
    e = errno;
    close(d->listen_fd);
    d->listen_fd = -1;
    unlink(d->sock_path);
    errno = e;
    return -1;
}

static void domain_unlisten(struct hv_domain *d)
{
    if (d->listen_w)
        pv_watch_remove(d->listen_w);
    d->listen_w = NULL;
    if (d->listen_fd >= 0) {
        close(d->listen_fd);
        unlink(d->sock_path);
    }
    d->listen_fd = -1;
}

static int add_domain(struct hv *hv, unsigned domid, uint64_t mem_mb, int memfd)
{
    struct hv_domain *d = hv_domain_new(hv, domid, mem_mb, memfd), **pp;

    if (!d)
        return -1;
    if (domain_listen(hv, d) < 0) {
        int e = errno;
        hv_domain_free(d);
        errno = e;
        return -1;
    }
    /* Keep the list sorted by domid: list and dump read it in order. */
    for (pp = &hv->domains; *pp && (*pp)->domid < domid; pp = &(*pp)->next)
        ;
    d->next = *pp;
    *pp = d;
    return 0;
}

struct hv *hv_new(struct pv_loop *loop, const char *dir)
{
    struct hv *hv = calloc(1, sizeof(*hv));

    if (!hv)
        return NULL;
    hv->loop = loop;
    hv->pid = (uint32_t)getpid();
    if (strlen(dir) >= sizeof(hv->dir)) {
        free(hv);
        errno = ENAMETOOLONG;
        return NULL;
    }
    snprintf(hv->dir, sizeof(hv->dir), "%s", dir);
    hv->rxbuf = malloc(HV_MAX_MSG);
    hv->txbuf = malloc(REPLY_MAX);
    if (!hv->rxbuf || !hv->txbuf || add_domain(hv, 0, HV_DOM0_MEM_MB, -1) < 0) {
        int e = errno;
        hv_free(hv);
        errno = e;
        return NULL;
    }
    return hv;
}

static void domain_teardown(struct hv *hv, struct hv_domain *d)
{
    domain_unlisten(d);
    for (struct hv_conn *c = hv->conns, *next; c; c = next) {
        next = c->next;
        if (c->dom == d)
            hv_conn_close(c);
    }
    hv_evtchn_domain_closed(d);
}

/* Takes memfd (see hv_domain_new), even on failure. */
static int create_domain(struct hv *hv, unsigned domid, uint64_t mem_mb, int memfd)
{
    int err = 0;

    if (domid == 0 || domid > HV_DOMID_MAX || mem_mb == 0 || mem_mb > HV_MEM_MB_MAX)
        err = EINVAL;
    else if (hv_domain_find(hv, domid))
        err = EEXIST;
    if (err) {
        if (memfd >= 0)
            close(memfd);
        errno = err;
        return -1;
    }
    return add_domain(hv, domid, mem_mb, memfd);
}

int hv_domain_create(struct hv *hv, unsigned domid, uint64_t mem_mb)
{
    if (create_domain(hv, domid, mem_mb, -1) < 0)
        return -1;
    pv_info("hv: domain %u created with %llu MiB", domid, (unsigned long long)mem_mb);
    return 0;
}

int hv_domain_save(struct hv *hv, unsigned domid, uint64_t *mem_mb)
{
    struct hv_domain *d = hv_domain_find(hv, domid);
    int fd;

    if (!d || domid == 0) {
        errno = d ? EPERM : ESRCH;
        return -1;
    }
    fd = fcntl(d->mem_fd, F_DUPFD_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    /* From now on its pages belong to the guest's next host: freeing a
     * grant here (at the destroy that follows) must not zero them. */
    d->saved = true;
    *mem_mb = d->mem_mb;
    pv_info("hv: domain %u saved (its memory handed out)", domid);
    return fd;
}

int hv_domain_save_grants(struct hv *hv, unsigned domid, uint32_t *count)
{
    struct hv_domain *d = hv_domain_find(hv, domid);
    struct hv_share_item *items;
    uint32_t n = 0;
    int fd;

    if (!d || domid == 0) {
        errno = d ? EPERM : ESRCH;
        return -1;
    }
    fd = hv_memfd("grants", domid, (uint64_t)HV_GNTTAB_ENTRIES * sizeof(*items));
    if (fd < 0)
        return -1;
    items = mmap(NULL, (size_t)HV_GNTTAB_ENTRIES * sizeof(*items), PROT_READ | PROT_WRITE,
                 MAP_SHARED, fd, 0);
    if (items == MAP_FAILED) {
        close(fd);
        return -1;
    }
    for (uint32_t r = 0; r < HV_GNTTAB_ENTRIES; r++)
        if (d->grefs[r].state == HV_GREF_SHARED)
            items[n++] = (struct hv_share_item){.ref = r, .frame = d->grefs[r].share_frame};
    munmap(items, (size_t)HV_GNTTAB_ENTRIES * sizeof(*items));
    *count = n;
    return fd;
}

/* Keeps a migrated guest's grants for it (HV_GREF_CARRIED). */
static int carry_grants(struct hv_domain *d, int fd, uint32_t count)
{
    size_t len = (size_t)HV_GNTTAB_ENTRIES * sizeof(struct hv_share_item);
    const struct hv_share_item *items;

    if (count > HV_GNTTAB_ENTRIES) {
        errno = EINVAL;
        return -1;
    }
    items = mmap(NULL, len, PROT_READ, MAP_SHARED, fd, 0);
    if (items == MAP_FAILED)
        return -1;
    for (uint32_t i = 0; i < count; i++) {
        uint32_t r = items[i].ref;
        /* Bad or repeated items (the source is trusted, but a list is a
         * list) are skipped: the guest cannot take those back. */
        if (r < GNTTAB_NR_RESERVED_ENTRIES || r >= HV_GNTTAB_ENTRIES ||
            d->grefs[r].state != HV_GREF_FREE || hv_frame_claim(d, items[i].frame) < 0)
            continue;
        d->grefs[r] = (struct hv_gref){.state = HV_GREF_CARRIED, .share_frame = items[i].frame};
        d->refs_used++;
    }
    munmap((void *)items, len);
    return 0;
}

int hv_domain_restore(struct hv *hv, unsigned domid, uint64_t mem_mb, int memfd, int grants_fd,
                      uint32_t count)
{
    struct stat st;

    if (fstat(memfd, &st) < 0 || (uint64_t)st.st_size != mem_mb << 20) {
        close(memfd);
        errno = EINVAL;
        return -1;
    }
    if (create_domain(hv, domid, mem_mb, memfd) < 0)
        return -1;
    if (grants_fd >= 0 && carry_grants(hv_domain_find(hv, domid), grants_fd, count) < 0) {
        int e = errno;
        hv_domain_destroy(hv, domid);
        errno = e;
        return -1;
    }
    pv_info("hv: domain %u restored with %llu MiB, %u grants to take back", domid,
            (unsigned long long)mem_mb, count);
    return 0;
}

int hv_domain_destroy(struct hv *hv, unsigned domid)
{
    struct hv_domain *d = hv_domain_find(hv, domid), **pp;

    if (!d) {
        errno = ESRCH;
        return -1;
    }
    if (domid == 0) {
        errno = EPERM;
        return -1;
    }
    domain_teardown(hv, d);
    /* dom0's clients drop their cached view of it at their next copy. */
    __atomic_store_n(&d->act_hdr->destroyed, 1, __ATOMIC_RELEASE);
    for (pp = &hv->domains; *pp != d; pp = &(*pp)->next)
        ;
    *pp = d->next;
    if (d->maps) {
        /* Other domains still map its pages: keep it until they unmap. */
        d->dead = true;
        d->next = hv->dead;
        hv->dead = d;
    } else {
        hv_domain_free(d);
    }
    pv_info("hv: domain %u destroyed", domid);
    return 0;
}

bool hv_domain_exists(struct hv *hv, unsigned domid)
{
    return hv_domain_find(hv, domid) != NULL;
}

size_t hv_domain_list(struct hv *hv, unsigned *domids, uint64_t *mem_mb, size_t max)
{
    size_t n = 0;

    for (struct hv_domain *d = hv->domains; d; d = d->next, n++) {
        if (n < max) {
            domids[n] = d->domid;
            if (mem_mb)
                mem_mb[n] = d->mem_mb;
        }
    }
    return n;
}

void hv_free(struct hv *hv)
{
    if (!hv)
        return;
    /* Connections first (they release mappings of every domain), then the
     * domains themselves. */
    while (hv->conns)
        hv_conn_close(hv->conns);
    while (hv->domains) {
        struct hv_domain *d = hv->domains;
        hv->domains = d->next;
        domain_teardown(hv, d);
        hv_domain_free(d);
    }
    while (hv->dead) {
        struct hv_domain *d = hv->dead;
        hv->dead = d->next;
        hv_domain_free(d);
    }
    free(hv->rxbuf);
    free(hv->txbuf);
    free(hv);
}

void hv_dump(struct hv *hv, FILE *out)
{
    for (struct hv_domain *d = hv->domains; d; d = d->next) {
        unsigned pinned = 0;
        for (uint32_t r = 0; r < HV_GNTTAB_ENTRIES; r++)
            pinned += __atomic_load_n(&d->g.act[r].rd_pins, __ATOMIC_ACQUIRE) != 0;
        fprintf(out,
                "domain %u: memory %llu MiB, %llu/%llu frames shared, %u grants shared, "
                "%u grants mapped by others, %u event channels, %u handles\n",
                d->domid, (unsigned long long)d->mem_mb, (unsigned long long)d->frames_used,
                (unsigned long long)d->nr_frames, d->refs_used, pinned, d->ports_used, d->nconns);
        for (uint32_t p = 1; p < HV_MAX_PORTS; p++) {
            const struct hv_port *pt = &d->ports[p];
            if (pt->state == HV_PORT_UNBOUND)
                fprintf(out, "  port %u: unbound, for domain %u\n", p, pt->remote_domid);
            else if (pt->state == HV_PORT_INTERDOMAIN)
                fprintf(out, "  port %u: interdomain to %u:%u%s%s\n", p, pt->remote_domid,
                        pt->remote_port, hv_evtchn_port_bit(pt, p, false) ? ", pending" : "",
                        hv_evtchn_port_bit(pt, p, true) ? ", masked" : "");
        }
    }
    for (struct hv_domain *d = hv->dead; d; d = d->next)
        fprintf(out, "domain %u: destroyed, %u mappings of its pages remain\n", d->domid, d->maps);
}
