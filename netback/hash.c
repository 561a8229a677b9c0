/* Control-ring hash configuration and frame hashing; see hash.h. */
#include "hash.h"

#include <string.h>

#include "csum_setup.h"

#define PAGE 4096u

uint32_t hash_toeplitz(const uint8_t *key, size_t keylen, const uint8_t *buf, size_t len)
{
    /* A 64-bit window over the key: its top 32 bits are the "left-most 32
     * bits of Key[]" of the definition, shifted by one per input bit, with
     * the next key byte fed in below after every 8 bits (missing key bytes
     * are zero). */
    uint64_t window = 0;
    size_t next = 0;
    for (; next < 8; next++)
        window = window << 8 | (next < keylen ? key[next] : 0);
    uint32_t hash = 0;
    for (size_t i = 0; i < len; i++) {
        for (int bit = 7; bit >= 0; bit--) {
            if (buf[i] >> bit & 1)
                hash ^= (uint32_t)(window >> 32);
            window <<= 1;
        }
        window |= next < keylen ? key[next] : 0;
        next++;
    }
    return hash;
}

bool hash_enabled(const struct hash_cfg *cfg)
{
    return cfg->alg == XEN_NETIF_CTRL_HASH_ALGORITHM_TOEPLITZ && cfg->flags != 0;
}

bool hash_frame(const struct hash_cfg *cfg, const uint8_t *f, size_t len, uint32_t *value,
                uint8_t *type)
{
    if (!hash_enabled(cfg) || len < 14)
        return false;
    size_t l3 = 14;
    if (f[12] == 0x81 && f[13] == 0x00)
        l3 = 18;
    if (len < l3)
        return false;
    uint16_t ethertype = (uint16_t)(f[l3 - 2] << 8 | f[l3 - 1]);
    bool v6;
    if (ethertype == 0x0800 && len >= l3 + 20)
        v6 = false;
    else if (ethertype == 0x86dd && len >= l3 + 40)
        v6 = true;
    else
        return false;

    uint8_t buf[36];
    size_t n;
    /* Source and destination addresses. */
    if (v6) {
        memcpy(buf, f + l3 + 8, 32);
        n = 32;
    } else {
        memcpy(buf, f + l3 + 12, 8);
        n = 8;
    }
    uint32_t tcp_bit = v6 ? XEN_NETIF_CTRL_HASH_TYPE_IPV6_TCP : XEN_NETIF_CTRL_HASH_TYPE_IPV4_TCP;
    uint32_t ip_bit = v6 ? XEN_NETIF_CTRL_HASH_TYPE_IPV6 : XEN_NETIF_CTRL_HASH_TYPE_IPV4;
    struct csum_loc loc;
    if ((cfg->flags & tcp_bit) && csum_locate(f, len, &loc) == 0 && loc.l4proto == 6) {
        memcpy(buf + n, f + loc.csum_start, 4); /* source and destination ports */
        n += 4;
        *type = v6 ? _XEN_NETIF_CTRL_HASH_TYPE_IPV6_TCP : _XEN_NETIF_CTRL_HASH_TYPE_IPV4_TCP;
    } else if (cfg->flags & ip_bit) {
        *type = v6 ? _XEN_NETIF_CTRL_HASH_TYPE_IPV6 : _XEN_NETIF_CTRL_HASH_TYPE_IPV4;
    } else {
        return false;
    }
    *value = hash_toeplitz(cfg->key, HASH_KEY_MAX, buf, n);
    return true;
}

unsigned hash_queue(const struct hash_cfg *cfg, uint32_t value, unsigned nr_queues)
{
    if (cfg->size)
        return cfg->mapping[value % cfg->size];
    return nr_queues ? value % nr_queues : 0;
}

uint32_t hash_ctrl_request(struct hash_cfg *cfg, const struct xen_netif_ctrl_request *req,
                           unsigned nr_queues, hash_fetch_fn fetch, void *arg, uint32_t *data)
{
    *data = 0;
    switch (req->type) {
    case XEN_NETIF_CTRL_TYPE_SET_HASH_ALGORITHM:
        if (req->data[0] != XEN_NETIF_CTRL_HASH_ALGORITHM_NONE &&
            req->data[0] != XEN_NETIF_CTRL_HASH_ALGORITHM_TOEPLITZ)
            return XEN_NETIF_CTRL_STATUS_INVALID_PARAMETER;
        cfg->alg = req->data[0];
        return XEN_NETIF_CTRL_STATUS_SUCCESS;

    case XEN_NETIF_CTRL_TYPE_GET_HASH_FLAGS:
        if (cfg->alg == XEN_NETIF_CTRL_HASH_ALGORITHM_NONE)
            return XEN_NETIF_CTRL_STATUS_NOT_SUPPORTED;
        *data = HASH_TYPES_ALL;
        return XEN_NETIF_CTRL_STATUS_SUCCESS;

    case XEN_NETIF_CTRL_TYPE_SET_HASH_FLAGS:
        if (req->data[0] & ~HASH_TYPES_ALL)
            return XEN_NETIF_CTRL_STATUS_INVALID_PARAMETER;
        if (cfg->alg == XEN_NETIF_CTRL_HASH_ALGORITHM_NONE)
            return XEN_NETIF_CTRL_STATUS_NOT_SUPPORTED;
        cfg->flags = req->data[0];
        return XEN_NETIF_CTRL_STATUS_SUCCESS;

    case XEN_NETIF_CTRL_TYPE_SET_HASH_KEY: {
        uint32_t len = req->data[1];
        if (len > HASH_KEY_MAX)
            return XEN_NETIF_CTRL_STATUS_BUFFER_OVERFLOW;
        uint8_t key[HASH_KEY_MAX] = {0}; /* bytes not given are zero */
        if (len && fetch(arg, req->data[0], key, len) < 0)
            return XEN_NETIF_CTRL_STATUS_INVALID_PARAMETER;
        memcpy(cfg->key, key, sizeof(key));
        return XEN_NETIF_CTRL_STATUS_SUCCESS;
    }

    case XEN_NETIF_CTRL_TYPE_GET_HASH_MAPPING_SIZE:
        *data = HASH_MAPPING_MAX;
        return XEN_NETIF_CTRL_STATUS_SUCCESS;

    case XEN_NETIF_CTRL_TYPE_SET_HASH_MAPPING_SIZE:
        if (req->data[0] > HASH_MAPPING_MAX)
            return XEN_NETIF_CTRL_STATUS_INVALID_PARAMETER;
        cfg->size = req->data[0];
        memset(cfg->mapping, 0, sizeof(cfg->mapping));
        return XEN_NETIF_CTRL_STATUS_SUCCESS;

    case XEN_NETIF_CTRL_TYPE_SET_HASH_MAPPING: {
        uint32_t len = req->data[1], off = req->data[2];
        if (off > cfg->size || len > cfg->size - off || len > PAGE / sizeof(uint32_t))
            return XEN_NETIF_CTRL_STATUS_INVALID_PARAMETER;
        uint32_t entries[HASH_MAPPING_MAX];
        if (len && fetch(arg, req->data[0], entries, len * sizeof(uint32_t)) < 0)
            return XEN_NETIF_CTRL_STATUS_INVALID_PARAMETER;
        /* Every entry is checked before any is used. */
        for (uint32_t i = 0; i < len; i++)
            if (entries[i] >= nr_queues)
                return XEN_NETIF_CTRL_STATUS_INVALID_PARAMETER;
        memcpy(cfg->mapping + off, entries, len * sizeof(uint32_t));
        return XEN_NETIF_CTRL_STATUS_SUCCESS;
    }

    default: /* gref mapping (not offered), INVALID, unknown */
        return XEN_NETIF_CTRL_STATUS_NOT_SUPPORTED;
    }
}
