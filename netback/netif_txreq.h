/* Guest TX requests: parsing and validation of one packet's ring slots.
 *
 * The caller copies the unconsumed requests off the shared ring once
 * (XSA-155), at most NETIF_TXREQ_MAX_SLOTS of them, and hands the private
 * copy here. netif_txreq_parse() reads the packet that starts at slot 0 —
 * first request, extra-info slots, following fragments — and either
 * describes it or names the rule it breaks, with Linux netback's severity:
 *   fatal: the frontend is broken or hostile; the vif is failed (xenbus
 *          error node), nothing more is read from its ring;
 *   drop:  the packet's slots are consumed and answered NETIF_RSP_ERROR,
 *          the ring goes on.
 * Pure: no ring, no grant, no clock. */
#ifndef PVBACK_NETBACK_NETIF_TXREQ_H
#define PVBACK_NETBACK_NETIF_TXREQ_H

#include <stdbool.h>
#include <stdint.h>
#include <xen/xen.h>
#include <xen/grant_table.h>
#include <xen/io/netif.h>

/* Data slots after the first one that a packet may use: Linux's historic
 * MAX_SKB_FRAGS, which every netfront honours (XEN_NETIF_NR_SLOTS_MIN). */
#define NETIF_TXREQ_LEGACY_SLOTS XEN_NETIF_NR_SLOTS_MIN
/* More following slots than this is not a buggy frontend but a hostile one
 * (Linux netback's fatal_skb_slots default). */
#define NETIF_TXREQ_FATAL_SLOTS 20
/* Extra-info slots a packet may carry: one of each type at most. */
#define NETIF_TXREQ_MAX_EXTRAS (XEN_NETIF_EXTRA_TYPE_MAX - 1)
/* Slots the parser may look at for one packet; copy this many (or all
 * that are unconsumed, if fewer). */
#define NETIF_TXREQ_MAX_SLOTS (1 + NETIF_TXREQ_MAX_EXTRAS + NETIF_TXREQ_FATAL_SLOTS + 1)
/* Data slots a parsed packet can report (first + following). */
#define NETIF_TXREQ_MAX_FRAGS (1 + NETIF_TXREQ_FATAL_SLOTS)

#define NETIF_TXREQ_ETH_HLEN 14

/* One ring slot: a request, or an extra-info overlaying one. */
union netif_tx_slot {
    netif_tx_request_t req;
    netif_extra_info_t extra;
};

enum netif_txreq_rule {
    NETIF_TXREQ_OK = 0,
    NETIF_TXREQ_INCOMPLETE,      /* fatal: ring ends inside the packet */
    NETIF_TXREQ_MISSING_EXTRA,   /* fatal: ring ends inside the extra-info chain */
    NETIF_TXREQ_BAD_EXTRA_TYPE,  /* fatal: extra-info type 0 or unknown */
    NETIF_TXREQ_TOO_MANY_EXTRAS, /* fatal: longer extra chain than there are types */
    NETIF_TXREQ_SLOTS_FATAL,     /* fatal: more than NETIF_TXREQ_FATAL_SLOTS slots */
    NETIF_TXREQ_CROSS_PAGE,      /* fatal: offset + size past the 4 KiB page */
    NETIF_TXREQ_GSO_SIZE_ZERO,   /* fatal: GSO extra with size 0 */
    NETIF_TXREQ_GSO_BAD_TYPE,    /* fatal: GSO type not TCPv4/TCPv6 */
    NETIF_TXREQ_SLOTS_DROP,      /* drop: more than the legacy slot limit */
    NETIF_TXREQ_SIZE_CHAIN,      /* drop: fragments bigger than the first's total */
    NETIF_TXREQ_TOO_SHORT,       /* drop: shorter than an Ethernet header */
};

/* What slot 0 starts. */
enum netif_txreq_kind {
    NETIF_TXREQ_PACKET,    /* a frame to send */
    NETIF_TXREQ_MCAST_ADD, /* a dummy request carrying a multicast filter addition */
    NETIF_TXREQ_MCAST_DEL, /* ... or removal */
};

struct netif_txreq_frag {
    grant_ref_t gref;
    uint16_t offset;
    uint16_t size; /* bytes of the frame in this slot (the first's is derived) */
    uint16_t id;   /* echoed in the response */
};

struct netif_txpkt {
    enum netif_txreq_kind kind;
    unsigned slots; /* ring slots used: first + extras + following */
    unsigned nr_extras;
    unsigned nr_frags; /* data slots: first + following */
    struct netif_txreq_frag frags[NETIF_TXREQ_MAX_FRAGS];
    uint32_t len;   /* frame length (the first request's size) */
    uint16_t flags; /* the first request's NETTXF_csum_blank / NETTXF_data_validated */
    struct {
        uint8_t type; /* XEN_NETIF_GSO_TYPE_NONE when the packet has no GSO */
        uint16_t size;
        uint16_t features;
    } gso;
    uint8_t mcast_addr[6]; /* for MCAST_ADD / MCAST_DEL */
    struct {
        bool present;
        uint8_t type; /* _XEN_NETIF_CTRL_HASH_TYPE_* */
        uint8_t algorithm;
        uint32_t value;
    } hash;
};

/* Parses the packet at slots[0]. n: slots copied; ring_avail: unconsumed
 * requests on the ring (>= n): a packet that needs more slots than the ring
 * has is INCOMPLETE. Returns NETIF_TXREQ_OK with *pkt filled; otherwise the
 * rule broken, with pkt->slots and pkt->frags[] (ids) still describing the
 * slots to consume and answer for a drop. */
enum netif_txreq_rule netif_txreq_parse(const union netif_tx_slot *slots, unsigned n,
                                        unsigned ring_avail, struct netif_txpkt *pkt);

bool netif_txreq_fatal(enum netif_txreq_rule rule);
/* A sentence for logs and xenbus error nodes. */
const char *netif_txreq_strerror(enum netif_txreq_rule rule);

/* The ring-level rule that comes before any packet: a producer index more
 * than a ring ahead of the consumer is impossible for an honest frontend. */
bool netif_tx_ring_overflow(RING_IDX req_prod, RING_IDX req_cons);

#endif
