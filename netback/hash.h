/* The control ring's hash configuration (xen/io/netif.h, "Control ring"):
 * the requests a frontend sends to choose Toeplitz hashing, its key, the
 * header types hashed and the queue mapping table, and the hash of a frame
 * under that configuration. Pure: the grant reads that SET_HASH_KEY and
 * SET_HASH_MAPPING need go through a callback. Semantics and limits as in
 * Linux netback (hash.c): a 40-byte key, a mapping of up to 128 entries. */
#ifndef PVBACK_NETBACK_HASH_H
#define PVBACK_NETBACK_HASH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <xen/xen.h>
#include <xen/grant_table.h>
#include <xen/io/netif.h>

#define HASH_KEY_MAX     40u
#define HASH_MAPPING_MAX 128u
#define HASH_TYPES_ALL                                                                             \
    (XEN_NETIF_CTRL_HASH_TYPE_IPV4 | XEN_NETIF_CTRL_HASH_TYPE_IPV4_TCP |                           \
     XEN_NETIF_CTRL_HASH_TYPE_IPV6 | XEN_NETIF_CTRL_HASH_TYPE_IPV6_TCP)

struct hash_cfg {
    uint32_t alg;   /* XEN_NETIF_CTRL_HASH_ALGORITHM_* */
    uint32_t flags; /* XEN_NETIF_CTRL_HASH_TYPE_* bits */
    uint8_t key[HASH_KEY_MAX];
    uint32_t size; /* mapping entries; 0: queue = hash % queues */
    uint32_t mapping[HASH_MAPPING_MAX];
};

/* Reads len bytes at offset 0 of the frontend's grant gref into buf; 0 or
 * -1 (a bad grant). */
typedef int (*hash_fetch_fn)(void *arg, uint32_t gref, void *buf, size_t len);

/* Applies one control request to cfg (nr_queues: the vif's queues, for
 * mapping entries). Returns the XEN_NETIF_CTRL_STATUS_* and sets *data. On
 * any error cfg is left unchanged. */
uint32_t hash_ctrl_request(struct hash_cfg *cfg, const struct xen_netif_ctrl_request *req,
                           unsigned nr_queues, hash_fetch_fn fetch, void *arg, uint32_t *data);

/* The Toeplitz hash of buf under key, as xen/io/netif.h defines it. */
uint32_t hash_toeplitz(const uint8_t *key, size_t keylen, const uint8_t *buf, size_t len);

/* Hashing is on: Toeplitz with at least one header type. */
bool hash_enabled(const struct hash_cfg *cfg);

/* The hash of an Ethernet frame per cfg: the most specific enabled type
 * that fits the frame (IPv4+TCP over IPv4, ...). Returns false when none
 * does (not IP, or its type not enabled); else the value and the
 * _XEN_NETIF_CTRL_HASH_TYPE_* number. */
bool hash_frame(const struct hash_cfg *cfg, const uint8_t *frame, size_t len, uint32_t *value,
                uint8_t *type);

/* The queue a hash maps to. */
unsigned hash_queue(const struct hash_cfg *cfg, uint32_t value, unsigned nr_queues);

#endif
