/* The persistent grant cache (see pgrant.h). */
#include "pgrant.h"

#include <stdbool.h>
#include <stdlib.h>
#include <stdint.h>
#include <xen/grant_table.h>

#define NBUCKETS 256u

struct pgrant_cache {
    struct pv_gnt *gnt;
    uint32_t domid;
    unsigned int max, count;
    uint64_t now, next_sweep;     /* ms, as given to pgrant_maintain */
    bool overflowed;              /* a page missed a full cache since the last sweep */
    unsigned long long overflows; /* such pages, in all */
    struct pgrant *buckets[NBUCKETS];
    struct pgrant lru; /* sentinel: lru.lru_next is the least recently used */
};

static unsigned int bucket(uint32_t gref)
{
    return (gref * 2654435761u) >> 24; /* Fibonacci hashing into 256 buckets */
}

struct pgrant_cache *pgrant_cache_new(struct pv_gnt *gnt, uint32_t domid, unsigned int max)
{
    struct pgrant_cache *c = calloc(1, sizeof(*c));
    if (!c)
        return NULL;
    c->gnt = gnt;
    c->domid = domid;
    c->max = max;
    c->lru.lru_next = c->lru.lru_prev = &c->lru;
    return c;
}

static void lru_unlink(struct pgrant *p)
{
    p->lru_prev->lru_next = p->lru_next;
    p->lru_next->lru_prev = p->lru_prev;
    p->lru_prev = p->lru_next = NULL;
}

static void drop(struct pgrant_cache *c, struct pgrant *p)
{
    struct pgrant **pp = &c->buckets[bucket(p->gref)];
    while (*pp != p)
        pp = &(*pp)->hnext;
    *pp = p->hnext;
    pv_gnt_unmap(c->gnt, p->page, 1);
    c->count--;
    free(p);
}

void pgrant_cache_free(struct pgrant_cache *c)
{
    if (!c)
        return;
    for (unsigned int i = 0; i < NBUCKETS; i++)
        while (c->buckets[i])
            drop(c, c->buckets[i]);
    free(c);
}

struct pgrant *pgrant_get(struct pgrant_cache *c, uint32_t gref, int16_t *status)
{
    *status = GNTST_okay;
    for (struct pgrant *p = c->buckets[bucket(gref)]; p; p = p->hnext) {
        if (p->gref == gref) {
            if (p->users++ == 0)
                lru_unlink(p);
            return p;
        }
    }
    if (c->count >= c->max) {
        c->overflowed = true;
        c->overflows++;
        return NULL; /* full: the caller maps this page for its request only */
    }
    struct pgrant *p = calloc(1, sizeof(*p));
    if (!p) {
        *status = GNTST_general_error;
        return NULL;
    }
    int16_t st = GNTST_general_error;
    p->page = pv_gnt_map(c->gnt, c->domid, 1, &gref, true, &st);
    if (!p->page) {
        *status = st == GNTST_okay ? GNTST_general_error : st;
        free(p);
        return NULL;
    }
    p->gref = gref;
    p->users = 1;
    p->hnext = c->buckets[bucket(gref)];
    c->buckets[bucket(gref)] = p;
    c->count++;
    return p;
}

void pgrant_put(struct pgrant_cache *c, struct pgrant *p)
{
    if (--p->users)
        return;
    /* Most recently used at the tail, so last_used grows along the list. */
    p->last_used = c->now;
    p->lru_prev = c->lru.lru_prev;
    p->lru_next = &c->lru;
    c->lru.lru_prev->lru_next = p;
    c->lru.lru_prev = p;
}

static void drop_lru_head(struct pgrant_cache *c)
{
    struct pgrant *old = c->lru.lru_next;
    lru_unlink(old);
    drop(c, old);
}

void pgrant_maintain(struct pgrant_cache *c, uint64_t now_ms)
{
    c->now = now_ms;
    if (now_ms < c->next_sweep)
        return;
    c->next_sweep = now_ms + PGRANT_SWEEP_MS;
    while (c->lru.lru_next != &c->lru && now_ms - c->lru.lru_next->last_used >= PGRANT_IDLE_MS)
        drop_lru_head(c);
    if (!c->overflowed)
        return;
    c->overflowed = false;
    unsigned int n = c->max * PGRANT_OVERFLOW_PCT / 100;
    for (n = n ? n : 1; n && c->lru.lru_next != &c->lru; n--)
        drop_lru_head(c);
}

unsigned int pgrant_count(const struct pgrant_cache *c)
{
    return c->count;
}

unsigned long long pgrant_overflows(const struct pgrant_cache *c)
{
    return c->overflows;
}
