/* The bounce page pool (see bounce.h): a stack of free pages, so that the
 * pages used last (still in the cache) are used first, and a low-water mark
 * that tells trim how many stayed unused since it last ran. */
#include "bounce.h"

#include <stdlib.h>
#include <string.h>

#include "platform.h"

struct bounce_pool {
    unsigned int max, out;
    unsigned int nfree, low; /* low: the fewest free pages since the last trim */
    unsigned long long handed, refused;
    void **free; /* max entries; the top is the most recently returned */
};

struct bounce_pool *bounce_pool_new(unsigned int max)
{
    struct bounce_pool *b = calloc(1, sizeof(*b));
    if (!b)
        return NULL;
    b->max = max;
    if (max && !(b->free = calloc(max, sizeof(*b->free)))) {
        free(b);
        return NULL;
    }
    return b;
}

void bounce_pool_free(struct bounce_pool *b)
{
    if (!b)
        return;
    for (unsigned int i = 0; i < b->nfree; i++)
        free(b->free[i]);
    free(b->free);
    free(b);
}

int bounce_get(struct bounce_pool *b, unsigned int n, void **pages)
{
    if (n > b->max - b->out) {
        b->refused += n;
        return -1;
    }
    for (unsigned int i = 0; i < n; i++) {
        if (b->nfree) {
            pages[i] = b->free[--b->nfree];
            if (b->nfree < b->low)
                b->low = b->nfree;
        } else if (!(pages[i] = aligned_alloc(PV_PAGE_SIZE, PV_PAGE_SIZE))) {
            while (i--)
                b->free[b->nfree++] = pages[i];
            b->refused += n;
            return -1;
        }
    }
    b->out += n;
    b->handed += n;
    return 0;
}

void bounce_put(struct bounce_pool *b, void *page)
{
    b->free[b->nfree++] = page;
    b->out--;
}

unsigned int bounce_trim(struct bounce_pool *b)
{
    /* The bottom of the stack holds the pages used longest ago. */
    unsigned int idle = b->low;
    if (idle) {
        for (unsigned int i = 0; i < idle; i++)
            free(b->free[i]);
        memmove(b->free, b->free + idle, (size_t)(b->nfree - idle) * sizeof(*b->free));
        b->nfree -= idle;
    }
    b->low = b->nfree;
    return bounce_held(b);
}

unsigned int bounce_held(const struct bounce_pool *b)
{
    return b->nfree + b->out;
}

unsigned long long bounce_handed(const struct bounce_pool *b)
{
    return b->handed;
}

unsigned long long bounce_refused(const struct bounce_pool *b)
{
    return b->refused;
}
