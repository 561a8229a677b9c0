/* Persistent grants (feature-persistent): a bounded per-ring cache of grant
 * mappings kept across requests, keyed by grant reference (XSA-371: a guest
 * cannot make the backend keep more than max mappings). As in Linux
 * blkback, a full cache does not evict on the request path: pages that miss
 * are mapped for their request only, and the periodic upkeep
 * (pgrant_maintain) unmaps mappings idle for a minute and, after the cache
 * overflowed, the least recently used 5%. So a working set larger than the
 * bound (1 MiB requests at iodepth 32 use 8192 pages) keeps most of its
 * pages cached instead of evicting, in LRU order, exactly the pages its
 * next requests reuse. */
#ifndef PVBACK_PGRANT_H
#define PVBACK_PGRANT_H

#include <stdint.h>

#include "platform.h"

struct pgrant {
    uint32_t gref;
    void *page;
    unsigned int users;
    uint64_t last_used;                 /* ms, at the last put */
    struct pgrant *hnext;               /* hash chain */
    struct pgrant *lru_prev, *lru_next; /* only while users == 0 */
};

struct pgrant_cache;

struct pgrant_cache *pgrant_cache_new(struct pv_gnt *gnt, uint32_t domid, unsigned int max);
/* Unmaps every mapping; none may be held any more. */
void pgrant_cache_free(struct pgrant_cache *c);

/* The mapping of gref, mapped (writable) on first use. NULL with *status the
 * GNTST_* code when the guest's grant is bad, or with *status GNTST_okay when
 * the cache is full (the caller maps that page for its request only). */
struct pgrant *pgrant_get(struct pgrant_cache *c, uint32_t gref, int16_t *status);
void pgrant_put(struct pgrant_cache *c, struct pgrant *p);
/* The upkeep, called whenever the ring does work, with the time now; acts
 * at most every PGRANT_SWEEP_MS: unmaps unheld mappings idle for
 * PGRANT_IDLE_MS and, if a page missed a full cache since the last sweep,
 * the least recently used PGRANT_OVERFLOW_PCT percent of the bound. */
#define PGRANT_SWEEP_MS     100u
#define PGRANT_IDLE_MS      60000u
#define PGRANT_OVERFLOW_PCT 5u
void pgrant_maintain(struct pgrant_cache *c, uint64_t now_ms);

unsigned int pgrant_count(const struct pgrant_cache *c);
/* Pages that found the cache full and were mapped for their request only. */
unsigned long long pgrant_overflows(const struct pgrant_cache *c);

#endif
