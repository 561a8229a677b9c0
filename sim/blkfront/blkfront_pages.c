/* blkfront's data pages: one pool of granted pages shared once and reused
 * by every request (so grant references are reused, as Linux blkfront does
 * with persistent grants). A request takes the pages it needs at submit and
 * gives them back at its response; when the pool is short the request waits
 * (-EAGAIN), as Linux blkfront waits for free grants. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "blkfront_priv.h"

/* The most pages one share call takes (xensim's batch limit). */
#define CHUNK 1024u

int bf_pages_init(struct blkfront *f, uint32_t count, char *err, size_t errlen)
{
    struct bf_pages *p = &f->pages;
    p->count = count;
    p->nchunks = (count + CHUNK - 1) / CHUNK;
    p->refs = calloc(count, sizeof(*p->refs));
    p->addr = calloc(count, sizeof(*p->addr));
    p->free = calloc(count, sizeof(*p->free));
    p->chunks = calloc(p->nchunks, sizeof(*p->chunks));
    if (!p->refs || !p->addr || !p->free || !p->chunks) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    for (uint32_t c = 0; c < p->nchunks; c++) {
        uint32_t first = c * CHUNK, n = count - first < CHUNK ? count - first : CHUNK;
        p->chunks[c] = pv_gntshr_share(f->shr, f->bus.backend_domid, n, p->refs + first, true);
        if (!p->chunks[c]) {
            snprintf(err, errlen, "sharing %u data pages: %s", n, strerror(errno));
            return -1;
        }
        for (uint32_t i = 0; i < n; i++)
            p->addr[first + i] = (char *)p->chunks[c] + (size_t)i * PV_PAGE_SIZE;
    }
    for (uint32_t i = count; i-- > 0;)
        p->free[p->nfree++] = i;
    return 0;
}

void bf_pages_fini(struct blkfront *f)
{
    struct bf_pages *p = &f->pages;
    for (uint32_t c = 0; p->chunks && c < p->nchunks; c++) {
        if (!p->chunks[c])
            continue;
        uint32_t n = p->count - c * CHUNK < CHUNK ? p->count - c * CHUNK : CHUNK;
        /* The backend may hold a mapping for a moment after it closed. */
        for (int i = 0; i < 500; i++) {
            if (pv_gntshr_unshare(f->shr, p->chunks[c], n) == 0 || errno != EBUSY)
                break;
            usleep(10000);
        }
    }
    free(p->refs);
    free(p->addr);
    free(p->free);
    free(p->chunks);
    memset(p, 0, sizeof(*p));
}

int bf_pages_get(struct blkfront *f, uint32_t n, uint32_t *idx)
{
    struct bf_pages *p = &f->pages;
    if (n > p->nfree)
        return -1;
    for (uint32_t i = 0; i < n; i++)
        idx[i] = p->free[--p->nfree];
    return 0;
}

void bf_pages_put(struct blkfront *f, uint32_t n, const uint32_t *idx)
{
    struct bf_pages *p = &f->pages;
    for (uint32_t i = 0; i < n; i++)
        p->free[p->nfree++] = idx[i];
}
