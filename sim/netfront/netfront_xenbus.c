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
#include <unistd.h>
#include <xen/io/xenbus.h>

#include "netfront_priv.h"
#include "netlink.h"
#include "tap.h"

static int transport_txn(struct pv_xs *xs, xs_transaction_t t, void *arg)
{
    struct netfront *f = arg;
    const char *fe = f->bus.fe_path;
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
    bool have_mac = pv_xs_read_str(f->bus.xs, XBT_NULL, f->bus.fe_path, "mac", &macstr) == 0 &&
                    sscanf(macstr, "%hhx:%hhx:%hhx:%hhx:%hhx:%hhx", &mac[0], &mac[1], &mac[2],
                           &mac[3], &mac[4], &mac[5]) == 6;
    free(macstr);
    unsigned mtu = 1500;
    pv_xs_read_uint(f->bus.xs, XBT_NULL, f->bus.fe_path, "mtu", 68, 65535, &mtu);
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

/* Rings, event channels, the handshake, then RX buffers posted. The
 * interface is made at the first connect; a resume keeps it (and its
 * addresses), with as many queues as it has. */
static int negotiate(struct netfront *f, bool resume, char *err, size_t errlen)
{
    if (fe_wait_be(&f->bus, XenbusStateInitWait, false, err, errlen) < 0)
        return -1;
    unsigned maxq = fe_be_uint(&f->bus, "multi-queue-max-queues", 1);
    unsigned nq = f->opts.queues < maxq ? f->opts.queues : maxq;
    if (nq == 0)
        nq = 1;
    if (nq > NF_MAX_QUEUES)
        nq = NF_MAX_QUEUES;
    if (resume && nq != f->nq) {
        snprintf(err, errlen, "the new backend offers %u queues, the interface has %u", nq, f->nq);
        return -1;
    }
    f->nq = nq;
    f->split = f->opts.split && fe_be_uint(&f->bus, "feature-split-event-channels", 0);
    f->sg = f->opts.offloads && fe_be_uint(&f->bus, "feature-sg", 0);
    f->gso4 = f->opts.offloads && fe_be_uint(&f->bus, "feature-gso-tcpv4", 0);
    f->gso6 = f->opts.offloads && fe_be_uint(&f->bus, "feature-gso-tcpv6", 0);
    f->csum = f->opts.offloads && fe_be_uint(&f->bus, "feature-ipv6-csum-offload", 0);
    if (!fe_be_uint(&f->bus, "feature-rx-copy", 0)) {
        snprintf(err, errlen, "backend does not offer rx-copy");
        return -1;
    }
    for (unsigned i = 0; i < f->nq; i++) {
        int tap = f->q[i].tap_fd;
        f->q[i].idx = i;
        if (nf_queue_setup(f, &f->q[i], err, errlen) < 0)
            return -1;
        f->q[i].tap_fd = tap;
    }
    if (f->opts.hash && fe_be_uint(&f->bus, "feature-ctrl-ring", 0) &&
        nf_ctrl_setup(f, err, errlen) < 0)
        return -1;
    if (!resume && make_interface(f, err, errlen) < 0)
        return -1;
    if (pv_xs_transaction(f->bus.xs, transport_txn, f) < 0) {
        snprintf(err, errlen, "writing the transport keys: %s", pv_xs_error(f->bus.xs));
        return -1;
    }
    if (fe_set_state(&f->bus, XenbusStateConnected, err, errlen) < 0 ||
        fe_wait_be(&f->bus, XenbusStateConnected, true, err, errlen) < 0)
        return -1;
    for (unsigned i = 0; i < f->nq; i++)
        nf_rx_fill(&f->q[i]);
    if (f->opts.mcast)
        nf_mcast_add(&f->q[0], f->opts.mcast);
    if (f->ctrl_on && nf_ctrl_configure(f, err, errlen) < 0)
        return -1;
    return 0;
}

/* After a migration (netfront_resume in Linux, which drops what the rings
 * held): the old rings are given up, TX frames in flight are lost (TCP
 * sends them again) and new RX buffers are posted to the new backend. The
 * interface stays, with its addresses. */
static int resume(struct netfront *f, char *err, size_t errlen)
{
    if (fe_follow_home(&f->bus, err, errlen) < 0)
        return -1;
    nf_ctrl_free(f);
    for (unsigned i = 0; i < f->nq; i++) {
        int tap = f->q[i].tap_fd;
        f->q[i].tap_fd = -1; /* kept: nf_queue_free would close it */
        nf_queue_free(f, &f->q[i]);
        f->q[i].tap_fd = tap;
    }
    return negotiate(f, true, err, errlen);
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
    if (fe_bus_open(&f->bus, "vif", opts->handle, f->opts.timeout_ms, &f->shr, err, errlen) < 0) {
        free(f);
        return NULL;
    }
    if (negotiate(f, false, err, errlen) < 0) {
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
        if (fe_moved(&f->bus) && resume(f, err, errlen) < 0)
            return -1;
        for (unsigned i = 0; i < f->nq; i++) {
            struct nf_queue *q = &f->q[i];
            pfd[n++] = (struct pollfd){.fd = pv_evtchn_fd(q->evt), .events = POLLIN};
            pfd[n++] = (struct pollfd){.fd = q->tap_fd, .events = nf_tx_room(q) ? POLLIN : 0};
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
        if (fe_now_ms() >= next_check) {
            next_check = fe_now_ms() + 200;
            unsigned st = fe_be_state(&f->bus);
            if (st >= XenbusStateClosing && !fe_moved(&f->bus)) {
                char msg[256];
                fe_be_error(&f->bus, msg, sizeof(msg));
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
    if (f->nq && f->q[0].tx)
        fe_close_device(&f->bus);
    nf_ctrl_free(f);
    for (unsigned i = 0; i < NF_MAX_QUEUES; i++)
        nf_queue_free(f, &f->q[i]);
    if (f->shr)
        pv_gntshr_close(f->shr);
    fe_bus_close(&f->bus);
    free(f);
}
