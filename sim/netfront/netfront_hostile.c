/* A netfront that breaks one rule of the TX/RX protocol on purpose, for the
 * hostile tests (tests/sim/net_hostile.sh). Fatal rules must make the
 * backend fail the vif (Closing, with an error node); drop rules must get
 * the packet answered NETIF_RSP_ERROR while the vif stays Connected. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <xen/io/xenbus.h>

#include "netfront_hostile.h"
#include "netfront_priv.h"

static const struct {
    const char *name;
    bool fatal;
} rules[] = {
    {"slots", true},         {"cross-page", true},    {"extra-type", true},  {"gso-size0", true},
    {"gso-type", true},      {"tx-overflow", true},   {"rx-overflow", true}, {"incomplete", true},
    {"ctrl-overflow", true}, {"legacy-slots", false}, {"size-chain", false}, {"too-short", false},
    {"bad-gref", false},
};

const char *nf_hostile_rules(void)
{
    return "slots cross-page extra-type gso-size0 gso-type tx-overflow rx-overflow incomplete "
           "ctrl-overflow (with --hash) legacy-slots size-chain too-short bad-gref";
}

static netif_tx_request_t *slot(struct nf_queue *q)
{
    netif_tx_request_t *r = &q->tx->ring[q->tx_prod++ & (NF_TX_SIZE - 1)].req;
    memset(r, 0, sizeof(*r));
    return r;
}

/* A data request on page id (the pages are the queue's own). */
static void data(struct nf_queue *q, uint16_t id, uint16_t offset, uint16_t flags, uint16_t size)
{
    netif_tx_request_t *r = slot(q);
    r->gref = q->tx_refs[id];
    r->offset = offset;
    r->flags = flags;
    r->id = id;
    r->size = size;
}

static void gso_extra(struct nf_queue *q, uint16_t size, uint8_t type, uint8_t ex_type)
{
    netif_extra_info_t *ex = (netif_extra_info_t *)slot(q);
    ex->type = ex_type;
    ex->u.gso.size = size;
    ex->u.gso.type = type;
}

static void publish(RING_IDX *prod, RING_IDX value, struct nf_queue *q, uint32_t port)
{
    __atomic_store_n(prod, value, __ATOMIC_RELEASE);
    pv_evtchn_notify(q->evt, port);
}

int nf_hostile(struct netfront *f, const char *rule, char *err, size_t errlen)
{
    int k = -1;
    for (size_t i = 0; i < sizeof(rules) / sizeof(rules[0]); i++)
        if (!strcmp(rule, rules[i].name))
            k = (int)i;
    if (k < 0) {
        snprintf(err, errlen, "unknown rule '%s' (rules: %s)", rule, nf_hostile_rules());
        return -1;
    }
    struct nf_queue *q = &f->q[0];
    RING_IDX first = q->tx_prod;
    /* A valid-looking Ethernet broadcast in page 0, for the drop rules. */
    memset(q->tx_pages, 0xff, 6);
    memset(q->tx_pages + 6, 0, 54);

    if (!strcmp(rule, "slots") || !strcmp(rule, "legacy-slots")) {
        unsigned following = !strcmp(rule, "slots") ? 22 : 19;
        data(q, 0, 0, NETTXF_more_data, (uint16_t)(60 + following * 10));
        for (unsigned i = 1; i <= following; i++)
            data(q, (uint16_t)i, 0, i < following ? NETTXF_more_data : 0, 10);
    } else if (!strcmp(rule, "cross-page")) {
        data(q, 0, 4000, 0, 200);
    } else if (!strcmp(rule, "extra-type")) {
        data(q, 0, 0, NETTXF_extra_info, 60);
        gso_extra(q, 1448, XEN_NETIF_GSO_TYPE_TCPV4, 7);
    } else if (!strcmp(rule, "gso-size0")) {
        data(q, 0, 0, NETTXF_extra_info, 60);
        gso_extra(q, 0, XEN_NETIF_GSO_TYPE_TCPV4, XEN_NETIF_EXTRA_TYPE_GSO);
    } else if (!strcmp(rule, "gso-type")) {
        data(q, 0, 0, NETTXF_extra_info, 60);
        gso_extra(q, 1448, 9, XEN_NETIF_EXTRA_TYPE_GSO);
    } else if (!strcmp(rule, "incomplete")) {
        data(q, 0, 0, NETTXF_more_data, 1060);
    } else if (!strcmp(rule, "size-chain")) {
        data(q, 0, 0, NETTXF_more_data, 100);
        data(q, 1, 0, 0, 1000);
    } else if (!strcmp(rule, "too-short")) {
        data(q, 0, 0, 0, 10);
    } else if (!strcmp(rule, "bad-gref")) {
        /* A grant reference this guest never granted: the copy fails for
         * this packet only. */
        data(q, 0, 0, 0, 60);
        q->tx->ring[(q->tx_prod - 1) & (NF_TX_SIZE - 1)].req.gref = 0x7ffffff0u;
    }

    if (!strcmp(rule, "ctrl-overflow")) {
        if (!f->ctrl_on) {
            snprintf(err, errlen, "ctrl-overflow needs the control ring (--hash)");
            return -1;
        }
        __atomic_store_n(&f->ctrl->req_prod, f->ctrl_prod + 200, __ATOMIC_RELEASE);
        pv_evtchn_notify(f->ctrl_evt, f->ctrl_port);
    } else if (!strcmp(rule, "tx-overflow"))
        publish(&q->tx->req_prod, q->tx_prod + NF_TX_SIZE + 10, q, q->tx_port);
    else if (!strcmp(rule, "rx-overflow"))
        publish(&q->rx->req_prod, q->rx_prod + NF_RX_SIZE + 10, q, q->rx_port);
    else
        publish(&q->tx->req_prod, q->tx_prod, q, q->tx_port);

    /* Wait for the backend's verdict. */
    for (int waited = 0; waited < 5000; waited += 10) {
        if (rules[k].fatal) {
            if (fe_be_state(&f->bus) >= XenbusStateClosing)
                return 0;
        } else if (__atomic_load_n(&q->tx->rsp_prod, __ATOMIC_ACQUIRE) - first ==
                   q->tx_prod - first) {
            netif_tx_response_t r = q->tx->ring[first & (NF_TX_SIZE - 1)].rsp;
            if (r.status != NETIF_RSP_ERROR) {
                snprintf(err, errlen, "%s: the packet was answered %d, not an error", rule,
                         r.status);
                return -1;
            }
            usleep(200000); /* and the vif stays up */
            if (fe_be_state(&f->bus) != XenbusStateConnected) {
                snprintf(err, errlen, "%s: a dropped packet took the vif down", rule);
                return -1;
            }
            q->tx_cons = q->tx_prod;
            return 0;
        }
        usleep(10000);
    }
    snprintf(err, errlen, "%s: the backend did not react (state %u)", rule, fe_be_state(&f->bus));
    return -1;
}
