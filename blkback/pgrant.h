/* Persistent grants (feature-persistent): a bounded per-ring cache of grant
 * mappings kept across requests, keyed by grant reference, with
 * least-recently-used eviction of mappings no request holds (XSA-371: a
 * guest cannot make the backend keep more than max mappings). */
#ifndef PVBACK_PGRANT_H
#define PVBACK_PGRANT_H

#include <stdint.h>

#include "platform.h"

struct pgrant {
    uint32_t gref;
    void *page;
    unsigned int users;
    struct pgrant *hnext;               /* hash chain */
    struct pgrant *lru_prev, *lru_next; /* only while users == 0 */
};

struct pgrant_cache;

struct pgrant_cache *pgrant_cache_new(struct pv_gnt *gnt, uint32_t domid, unsigned int max);
/* Unmaps every mapping; none may be held any more. */
void pgrant_cache_free(struct pgrant_cache *c);

/* The mapping of gref, mapped (writable) on first use. NULL with *status the
 * GNTST_* code when the guest's grant is bad, or with *status GNTST_okay when
 * the cache is full (the caller maps the request itself). */
struct pgrant *pgrant_get(struct pgrant_cache *c, uint32_t gref, int16_t *status);
void pgrant_put(struct pgrant_cache *c, struct pgrant *p);
/* When full, unmaps the least recently used unheld tenth. */
void pgrant_purge(struct pgrant_cache *c);

unsigned int pgrant_count(const struct pgrant_cache *c);

#endif
