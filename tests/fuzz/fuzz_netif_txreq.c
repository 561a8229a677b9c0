/* Fuzzes guest TX request validation (netback/netif_txreq.h): a ring's worth
 * of slots as a guest may fill them, consumed packet after packet the way
 * netback does, until a fatal rule stops the vif or the ring is empty.
 *
 * Input: ring producer and consumer indexes (4 + 4), then the slot images
 * (12 bytes each, request or extra-info).
 *
 * Invariants: every answer consumes at least one slot and never more than
 * were available (the backend cannot stall or read past the producer); an
 * accepted packet's fragments stay within their pages, add up to the frame
 * length, and keep the Ethernet header in the first slot; a GSO packet has
 * a size and a TCP type; every rule has a sentence; the ring-overrun check
 * says "more than a ring ahead" with wrap-around. */
#include <string.h>

#include "fuzz_input.h"
#include "netif_txreq.h"

#define TX_RING_SLOTS 256u /* a one-page netif tx ring */

static void check_packet(const struct netif_txpkt *pkt, const union netif_tx_slot *slots)
{
    const netif_tx_request_t *first = &slots[0].req;

    FUZZ_CHECK(pkt->nr_frags >= 1 && pkt->nr_extras <= NETIF_TXREQ_MAX_EXTRAS, "%u frags %u extras",
               pkt->nr_frags, pkt->nr_extras);
    FUZZ_CHECK(pkt->frags[0].id == first->id && pkt->frags[0].gref == first->gref,
               "first fragment is not the first request");
    if (pkt->kind != NETIF_TXREQ_PACKET) {
        FUZZ_CHECK(pkt->kind == NETIF_TXREQ_MCAST_ADD || pkt->kind == NETIF_TXREQ_MCAST_DEL,
                   "kind %d", pkt->kind);
        FUZZ_CHECK(pkt->slots == 1 + pkt->nr_extras && pkt->nr_frags == 1,
                   "a multicast request uses %u slots", pkt->slots);
        return;
    }
    FUZZ_CHECK(pkt->slots == pkt->nr_extras + pkt->nr_frags, "%u slots for %u extras, %u frags",
               pkt->slots, pkt->nr_extras, pkt->nr_frags);
    FUZZ_CHECK(pkt->nr_frags <= 1 + NETIF_TXREQ_LEGACY_SLOTS, "%u fragments accepted",
               pkt->nr_frags);
    FUZZ_CHECK(pkt->len == first->size, "len %u, first request says %u", pkt->len, first->size);

    uint32_t sum = 0;
    for (unsigned i = 0; i < pkt->nr_frags; i++) {
        const struct netif_txreq_frag *f = &pkt->frags[i];
        FUZZ_CHECK((uint32_t)f->offset + f->size <= 4096, "fragment %u: %u+%u crosses the page", i,
                   f->offset, f->size);
        if (i > 0) {
            const netif_tx_request_t *r = &slots[pkt->nr_extras + i].req;
            FUZZ_CHECK(f->id == r->id && f->gref == r->gref && f->size == r->size &&
                           f->offset == r->offset,
                       "fragment %u is not its request", i);
        }
        sum += f->size;
    }
    FUZZ_CHECK(sum == pkt->len, "fragments carry %u bytes of a %u-byte frame", sum, pkt->len);
    FUZZ_CHECK(pkt->frags[0].size >= NETIF_TXREQ_ETH_HLEN, "first slot holds %u bytes",
               pkt->frags[0].size);
    if (pkt->gso.type != XEN_NETIF_GSO_TYPE_NONE)
        FUZZ_CHECK(pkt->gso.size > 0 && (pkt->gso.type == XEN_NETIF_GSO_TYPE_TCPV4 ||
                                         pkt->gso.type == XEN_NETIF_GSO_TYPE_TCPV6),
                   "GSO type %u size %u accepted", pkt->gso.type, pkt->gso.size);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fuzz_in in = fuzz_in_make(data, size);
    RING_IDX prod = fuzz_u32(&in), cons = fuzz_u32(&in);
    static union netif_tx_slot ring[TX_RING_SLOTS];
    unsigned avail, k = 0;

    FUZZ_CHECK(netif_tx_ring_overflow(prod, cons) == ((RING_IDX)(prod - cons) > TX_RING_SLOTS),
               "overrun check wrong for prod %u cons %u", prod, cons);

    /* The slots the guest filled: as many as the input holds. */
    avail = (unsigned)(in.left / sizeof(ring[0]));
    if (avail > TX_RING_SLOTS)
        avail = TX_RING_SLOTS;
    fuzz_bytes(&in, ring, avail * sizeof(ring[0]));

    while (k < avail) {
        /* netback copies at most NETIF_TXREQ_MAX_SLOTS off the ring. */
        unsigned left = avail - k;
        unsigned n = left < NETIF_TXREQ_MAX_SLOTS ? left : NETIF_TXREQ_MAX_SLOTS;
        union netif_tx_slot copy[NETIF_TXREQ_MAX_SLOTS];
        struct netif_txpkt pkt;

        memcpy(copy, &ring[k], n * sizeof(copy[0]));
        enum netif_txreq_rule rule = netif_txreq_parse(copy, n, left, &pkt);
        const char *text = netif_txreq_strerror(rule);
        FUZZ_CHECK(text && text[0], "rule %d has no sentence", rule);
        if (netif_txreq_fatal(rule)) {
            FUZZ_CHECK(rule != NETIF_TXREQ_OK, "OK is fatal");
            break; /* the vif is failed: nothing more is read */
        }
        FUZZ_CHECK(pkt.slots >= 1 && pkt.slots <= n, "consumes %u of %u slots", pkt.slots, n);
        FUZZ_CHECK(pkt.nr_frags >= 1 && pkt.nr_frags <= pkt.slots,
                   "%u fragment ids to answer for %u slots", pkt.nr_frags, pkt.slots);
        if (rule == NETIF_TXREQ_OK)
            check_packet(&pkt, copy);
        else
            FUZZ_CHECK(rule == NETIF_TXREQ_SLOTS_DROP || rule == NETIF_TXREQ_SIZE_CHAIN ||
                           rule == NETIF_TXREQ_TOO_SHORT,
                       "rule %d is neither fatal nor a drop", rule);
        k += pkt.slots;
    }
    return 0;
}
