/* netfront's handshake, in the order Linux xen-netfront does it
 * (talk_to_netback, xennet_connect): Initialising, wait for the backend's
 * InitWait, read its features, set up rings and event channels, write the
 * transport keys and features in one transaction, go Connected and wait
 * for the backend's Connected; then the interface comes up. */
#include <errno.h>
#include <linux/if_tun.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <xen/io/xenbus.h>

#include "netfront_priv.h"
#include "netlink.h"
#include "tap.h"

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static unsigned be_state(struct netfront *f)
{
    unsigned st = XenbusStateUnknown;
    pv_xs_read_uint(f->xs, XBT_NULL, f->be_path, "state", 0, 8, &st);
    return st;
}

static unsigned be_uint(struct netfront *f, const char *key, unsigned dflt)
{
    unsigned v = dflt;
    if (pv_xs_read_uint(f->xs, XBT_NULL, f->be_path, key, 0, UINT32_MAX, &v) < 0)
        v = dflt;
    return v;
}

/* The backend's error node, for messages: error/backend/vif/<domid>/<h>. */
static void be_error(struct netfront *f, char *out, size_t len)
{
    char path[320], *msg = NULL;
    unsigned d = 0;
    sscanf(f->be_path, "/local/domain/%u/", &d);
    snprintf(path, sizeof(path), "/local/domain/%u/error%s", d, strstr(f->be_path, "/backend/"));
    pv_xs_read_str(f->xs, XBT_NULL, path, "error", &msg);
    snprintf(out, len, "%s", msg ? msg : "no error node");
    free(msg);
}

static int wait_be(struct netfront *f, unsigned want, char *err, size_t errlen)
{
    uint64_t end = now_ms() + f->opts.timeout_ms;
    unsigned st;
    while ((st = be_state(f)) != want) {
        if (want == XenbusStateConnected && st >= XenbusStateClosing) {
            char msg[256];
            be_error(f, msg, sizeof(msg));
            snprintf(err, errlen, "backend went to state %u: %s", st, msg);
            return -1;
        }
        if (now_ms() > end) {
            snprintf(err, errlen, "backend %s stayed in state %u, not %u", f->be_path, st, want);
            return -1;
        }
        usleep(2000);
    }
    return 0;
}

static int set_state(struct netfront *f, unsigned st, char *err, size_t errlen)
{
    if (pv_xs_printf(f->xs, XBT_NULL, f->fe_path, "state", "%u", st) < 0) {
        snprintf(err, errlen, "%s", pv_xs_error(f->xs));
        return -1;
    }
    return 0;
}

static int transport_txn(struct pv_xs *xs, xs_transaction_t t, void *arg)
{
    struct netfront *f = arg;
    const char *fe = f->fe_path;
    if (f->nq > 1 && pv_xs_printf(xs, t, fe, "multi-queue-num-queues", "%u", f->nq) < 0)
        return -1;
    for (unsigned i = 0; i < f->nq; i++) {
        struct nf_queue *q = &f->q[i];
        char dir[200];
        if (f->nq > 1)
            snprintf(dir, sizeof(dir), "%s/queue-%u", fe, i);
        else
            snprintf(dir, sizeof(dir), "%s", fe);
        if (pv_xs_printf(xs, t, dir, "tx-ring-ref", "%u", q->tx_ref) < 0 ||
            pv_xs_printf(xs, t, dir, "rx-ring-ref", "%u", q->rx_ref) < 0)
            return -1;
        if (f->split) {
            if (pv_xs_printf(xs, t, dir, "event-channel-tx", "%u", q->tx_port) < 0 ||
                pv_xs_printf(xs, t, dir, "event-channel-rx", "%u", q->rx_port) < 0)
                return -1;
        } else if (pv_xs_printf(xs, t, dir, "event-channel", "%u", q->tx_port) < 0) {
            return -1;
        }
    }
    const char *on = f->opts.offloads ? "1" : "0";
    if (pv_xs_write_str(xs, t, fe, "request-rx-copy", "1") < 0 ||
        pv_xs_write_str(xs, t, fe, "feature-rx-notify", "1") < 0 ||
        pv_xs_write_str(xs, t, fe, "feature-sg", on) < 0 ||
        pv_xs_write_str(xs, t, fe, "feature-gso-tcpv4", on) < 0 ||
        pv_xs_write_str(xs, t, fe, "feature-gso-tcpv6", on) < 0 ||
        pv_xs_write_str(xs, t, fe, "feature-ipv6-csum-offload", on) < 0 ||
        pv_xs_write_str(xs, t, fe, "feature-no-csum-offload", f->opts.offloads ? "0" : "1") < 0)
        return -1;
    if (f->opts.mcast && pv_xs_write_str(xs, t, fe, "request-multicast-control", "1") < 0)
        return -1;
    if (f->ctrl_on && (pv_xs_printf(xs, t, fe, "ctrl-ring-ref", "%u", f->ctrl_ref) < 0 ||
                       pv_xs_printf(xs, t, fe, "event-channel-ctrl", "%u", f->ctrl_port) < 0))
        return -1;
    return 0;
}

/* The guest's interface: a tap with one queue per ring pair, the vif's MAC
 * and MTU, up. */
static int make_interface(struct netfront *f, char *err, size_t errlen)
{
    struct tap t;
    int r = tap_open(&t, f->ifname, f->nq, err, errlen);
    if (r < 0)
        return -1;
    for (unsigned i = 0; i < f->nq; i++)
        f->q[i].tap_fd = t.fds[i];
    /* What the guest's stack may hand us: what the backend takes. */
    unsigned flags = 0;
    if (f->csum) {
        flags |= TUN_F_CSUM;
        if (f->sg && f->gso4)
            flags |= TUN_F_TSO4;
        if (f->sg && f->gso6)
            flags |= TUN_F_TSO6;
    }
    if ((r = tap_set_offload(&t, flags)) < 0) {
        snprintf(err, errlen, "%s: offloads: %s", f->ifname, strerror(-r));
        return -1;
    }
    uint8_t mac[6];
    char *macstr = NULL;
    bool have_mac = pv_xs_read_str(f->xs, XBT_NULL, f->fe_path, "mac", &macstr) == 0 &&
                    sscanf(macstr, "%hhx:%hhx:%hhx:%hhx:%hhx:%hhx", &mac[0], &mac[1], &mac[2],
                           &mac[3], &mac[4], &mac[5]) == 6;
    free(macstr);
    unsigned mtu = 1500;
    pv_xs_read_uint(f->xs, XBT_NULL, f->fe_path, "mtu", 68, 65535, &mtu);
    /* Without scatter-gather a frame fits one slot: Linux netfront caps
     * its MTU at ETH_DATA_LEN then. */
    if (!f->sg && mtu > 1500)
        mtu = 1500;
    struct nl *nl = nl_open();
    struct nl_link_change chg = {.mtu = mtu, .set_up = true, .mac = have_mac ? mac : NULL};
    r = nl ? nl_link_set(nl, if_nametoindex(f->ifname), &chg) : -errno;
    nl_close(nl);
    if (r < 0) {
        snprintf(err, errlen, "%s: mtu %u, up: %s", f->ifname, mtu, strerror(-r));
        return -1;
    }
    return 0;
}

static int negotiate(struct netfront *f, char *err, size_t errlen)
{
    if (wait_be(f, XenbusStateInitWait, err, errlen) < 0)
        return -1;
    unsigned maxq = be_uint(f, "multi-queue-max-queues", 1);
    f->nq = f->opts.queues < maxq ? f->opts.queues : maxq;
    if (f->nq == 0)
        f->nq = 1;
    if (f->nq > NF_MAX_QUEUES)
        f->nq = NF_MAX_QUEUES;
    f->split = f->opts.split && be_uint(f, "feature-split-event-channels", 0);
    f->sg = f->opts.offloads && be_uint(f, "feature-sg", 0);
    f->gso4 = f->opts.offloads && be_uint(f, "feature-gso-tcpv4", 0);
    f->gso6 = f->opts.offloads && be_uint(f, "feature-gso-tcpv6", 0);
    f->csum = f->opts.offloads && be_uint(f, "feature-ipv6-csum-offload", 0);
    if (!be_uint(f, "feature-rx-copy", 0)) {
        snprintf(err, errlen, "backend does not offer rx-copy");
        return -1;
    }
    for (unsigned i = 0; i < f->nq; i++) {
        f->q[i].idx = i;
        if (nf_queue_setup(f, &f->q[i], err, errlen) < 0)
            return -1;
    }
    if (f->opts.hash && be_uint(f, "feature-ctrl-ring", 0) && nf_ctrl_setup(f, err, errlen) < 0)
        return -1;
    if (make_interface(f, err, errlen) < 0)
        return -1;
    if (pv_xs_transaction(f->xs, transport_txn, f) < 0) {
        snprintf(err, errlen, "writing the transport keys: %s", pv_xs_error(f->xs));
        return -1;
    }
    if (set_state(f, XenbusStateConnected, err, errlen) < 0 ||
        wait_be(f, XenbusStateConnected, err, errlen) < 0)
        return -1;
    for (unsigned i = 0; i < f->nq; i++)
        nf_rx_fill(&f->q[i]);
    if (f->opts.mcast)
        nf_mcast_add(&f->q[0], f->opts.mcast);
    if (f->ctrl_on && nf_ctrl_configure(f, err, errlen) < 0)
        return -1;
    return 0;
}

struct netfront *netfront_open(const struct netfront_opts *opts, char *err, size_t errlen)
{
    struct netfront *f = calloc(1, sizeof(*f));
    if (!f) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    f->opts = *opts;
    if (!f->opts.timeout_ms)
        f->opts.timeout_ms = 10000;
    snprintf(f->ifname, sizeof(f->ifname), "%s", opts->ifname ? opts->ifname : "eth0");
    snprintf(f->fe_path, sizeof(f->fe_path), "/local/domain/%u/device/vif/%u",
             pv_platform_self_domid(), opts->handle);
    f->xs = pv_xs_open(NULL);
    if (!f->xs) {
        snprintf(err, errlen, "cannot connect to xenstore: %s", strerror(errno));
        free(f);
        return NULL;
    }
    char *be = NULL;
    unsigned be_id = 0;
    if (pv_xs_read_str(f->xs, XBT_NULL, f->fe_path, "backend", &be) < 0 ||
        pv_xs_read_uint(f->xs, XBT_NULL, f->fe_path, "backend-id", 0, 0x7fef, &be_id) < 0) {
        snprintf(err, errlen, "%s", pv_xs_error(f->xs));
        free(be);
        netfront_close(f);
        return NULL;
    }
    snprintf(f->be_path, sizeof(f->be_path), "%s", be);
    free(be);
    f->backend_domid = be_id;
    f->shr = pv_gntshr_open();
    if (!f->shr) {
        snprintf(err, errlen, "cannot open the grant-sharing device: %s", strerror(errno));
        netfront_close(f);
        return NULL;
    }
    if (set_state(f, XenbusStateInitialising, err, errlen) < 0 || negotiate(f, err, errlen) < 0) {
        netfront_close(f);
        return NULL;
    }
    return f;
}

int netfront_run(struct netfront *f, volatile int *stop, char *err, size_t errlen)
{
    struct pollfd pfd[2 * NF_MAX_QUEUES];
    uint64_t next_check = 0;
    while (!*stop) {
        unsigned n = 0;
        for (unsigned i = 0; i < f->nq; i++) {
            struct nf_queue *q = &f->q[i];
            pfd[n++] = (struct pollfd){.fd = pv_evtchn_fd(q->evt), .events = POLLIN};
            pfd[n++] = (struct pollfd){.fd = q->tap_fd, .events = POLLIN};
        }
        int r = poll(pfd, n, 100);
        if (r < 0 && errno != EINTR) {
            snprintf(err, errlen, "poll: %s", strerror(errno));
            return -1;
        }
        for (unsigned i = 0; i < f->nq; i++) {
            struct nf_queue *q = &f->q[i];
            if (pfd[2 * i].revents & POLLIN) {
                int port;
                while ((port = pv_evtchn_pending(q->evt)) >= 0)
                    pv_evtchn_unmask(q->evt, (uint32_t)port);
            }
            if (nf_poll_rings(q, err, errlen) < 0)
                return -1;
        }
        if (now_ms() >= next_check) {
            next_check = now_ms() + 200;
            unsigned st = be_state(f);
            if (st >= XenbusStateClosing) {
                char msg[256];
                be_error(f, msg, sizeof(msg));
                snprintf(err, errlen, "backend went to state %u: %s", st, msg);
                return -1;
            }
        }
    }
    return 0;
}

void netfront_close(struct netfront *f)
{
    if (!f)
        return;
    char err[256];
    if (f->nq && f->q[0].tx && set_state(f, XenbusStateClosing, err, sizeof(err)) == 0) {
        uint64_t end = now_ms() + f->opts.timeout_ms;
        while (be_state(f) < XenbusStateClosing && now_ms() < end)
            usleep(2000);
        set_state(f, XenbusStateClosed, err, sizeof(err));
        while (be_state(f) != XenbusStateClosed && now_ms() < end)
            usleep(2000);
    }
    nf_ctrl_free(f);
    for (unsigned i = 0; i < NF_MAX_QUEUES; i++)
        nf_queue_free(f, &f->q[i]);
    if (f->shr)
        pv_gntshr_close(f->shr);
    if (f->xs)
        pv_xs_close(f->xs);
    free(f);
}
