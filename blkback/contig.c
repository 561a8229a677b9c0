/* The contiguous buffer pool (see contig.h): one mapping of max buffers,
 * aligned to 2 MiB and advised for huge pages, reserved at the first get;
 * a stack of free buffer indices, so that the buffer used last (still in
 * the cache) is used first. */
#include "contig.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#define HUGE_PAGE (2u << 20)

struct contig_pool {
    unsigned int max, nfree;
    size_t size;
    char *area; /* NULL until the first get */
    void *map;  /* the mapping area lies in (aligned inside it) */
    size_t map_len;
    unsigned int *free; /* indices of free buffers; the top was returned last */
    unsigned long long handed, refused;
    bool used; /* a buffer was taken since the last trim */
};

struct contig_pool *contig_pool_new(unsigned int max, size_t size)
{
    struct contig_pool *c = calloc(1, sizeof(*c));
    if (!c)
        return NULL;
    c->max = max;
    c->size = size;
    if (max && !(c->free = calloc(max, sizeof(*c->free)))) {
        free(c);
        return NULL;
    }
    return c;
}

void contig_pool_free(struct contig_pool *c)
{
    if (!c)
        return;
    if (c->map)
        munmap(c->map, c->map_len);
    free(c->free);
    free(c);
}

/* Reserves the buffers: address space only; the kernel fills it with huge
 * pages as buffers are first written. */
static int reserve(struct contig_pool *c)
{
    c->map_len = (size_t)c->max * c->size + HUGE_PAGE;
    c->map = mmap(NULL, c->map_len, PROT_READ | PROT_WRITE,
                  MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (c->map == MAP_FAILED) {
        c->map = NULL;
        return -1;
    }
    c->area = (char *)(((uintptr_t)c->map + HUGE_PAGE - 1) & ~(uintptr_t)(HUGE_PAGE - 1));
    /* Advice only: without it (THP "never") the buffers still work. */
    (void)madvise(c->area, (size_t)c->max * c->size, MADV_HUGEPAGE);
    for (unsigned int i = 0; i < c->max; i++)
        c->free[i] = c->max - 1 - i; /* buffer 0 on top */
    c->nfree = c->max;
    return 0;
}

void *contig_get(struct contig_pool *c)
{
    if (!c->max || (!c->area && reserve(c) < 0))
        return NULL;
    if (!c->nfree) {
        c->refused++;
        return NULL;
    }
    c->handed++;
    c->used = true;
    return c->area + (size_t)c->free[--c->nfree] * c->size;
}

void contig_put(struct contig_pool *c, void *buf)
{
    c->free[c->nfree++] = (unsigned int)(((char *)buf - c->area) / c->size);
}

bool contig_trim(struct contig_pool *c)
{
    if (c->area && !c->used && c->nfree == c->max) {
        munmap(c->map, c->map_len);
        c->map = NULL;
        c->area = NULL;
        c->nfree = 0;
    }
    c->used = false;
    return c->area != NULL;
}

bool contig_reserved(const struct contig_pool *c)
{
    return c->area != NULL;
}

unsigned long long contig_handed(const struct contig_pool *c)
{
    return c->handed;
}

unsigned long long contig_refused(const struct contig_pool *c)
{
    return c->refused;
}

bool contig_huge_pages_available(void)
{
    FILE *f = fopen("/sys/kernel/mm/transparent_hugepage/enabled", "re");
    if (!f)
        return false;
    char line[128] = "";
    bool ok = fgets(line, sizeof(line), f) && !strstr(line, "[never]");
    fclose(f);
    return ok;
}
