/* Bounce pages for one-off grant copies. A data page that has no persistent
 * grant (the frontend offers none, or the cache is full) is copied with one
 * grant copy per request into a page of this per-ring pool (a write's data,
 * before the storage sees it) or out of it (a read's, after), instead of
 * being mapped and unmapped for that request: an unmap costs a TLB
 * shootdown on every CPU the daemon ran on, a grant copy none (QEMU's
 * xen-block copies for the same reason). The pool is bounded; past the
 * bound the caller maps as before. Pages unused for a trim interval are
 * given back, so an idle ring holds none for long. Pages are reused only
 * within one ring, so one guest's data never reaches another. */
#ifndef PVBACK_BOUNCE_H
#define PVBACK_BOUNCE_H

struct bounce_pool;

/* A pool that hands out at most max pages at a time (0: none). */
struct bounce_pool *bounce_pool_new(unsigned int max);
/* Frees the pool and its pages; none may be out any more. */
void bounce_pool_free(struct bounce_pool *b);

/* n page-aligned pages into pages[], 0; or -1 (nothing taken) when that
 * would take more than max out, or memory ran out. */
int bounce_get(struct bounce_pool *b, unsigned int n, void **pages);
void bounce_put(struct bounce_pool *b, void *page);

/* Frees the pages that stayed in the pool, unused, since the previous call.
 * Returns how many pages the pool still holds (in it or out). */
unsigned int bounce_trim(struct bounce_pool *b);

/* Pages the pool holds now, in it or out. */
unsigned int bounce_held(const struct bounce_pool *b);
/* Pages handed out in all, and pages refused for the bound. */
unsigned long long bounce_handed(const struct bounce_pool *b);
unsigned long long bounce_refused(const struct bounce_pool *b);

#endif
