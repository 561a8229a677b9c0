/* Contiguous buffers for requests the device would split. A guest's large
 * request arrives as up to 256 separate pages; the block layer puts pages
 * that are not physically adjacent into separate segments, and a device
 * takes at most max_segments of them in one request (254 for a virtio disk),
 * so a 1 MiB read of scattered pages reaches the disk as two requests, and
 * adjacent reads cannot merge. On a disk where each request costs (a virtual
 * disk, a rotating one) that halves throughput: measured on a virtio disk,
 * 1 MiB reads of scattered pages went to the disk as 660-760 KiB requests,
 * from a huge page as 1024 KiB ones at twice the rate. So such a request's
 * data goes through a buffer carved from transparent huge pages (one or two
 * segments): copied in before a write, out after a read.
 *
 * The pool is per ring and bounded; past its bound a request takes the
 * scattered path as before. Its memory is reserved at the first request
 * that needs it and given back once a trim interval passes without one;
 * buffers are reused only within one ring, so one guest's data never
 * reaches another. */
#ifndef PVBACK_CONTIG_H
#define PVBACK_CONTIG_H

#include <stdbool.h>
#include <stddef.h>

struct contig_pool;

/* A pool of at most max buffers of size bytes each (0 buffers: none). */
struct contig_pool *contig_pool_new(unsigned int max, size_t size);
/* Frees the pool; no buffer may be out any more. */
void contig_pool_free(struct contig_pool *c);

/* A buffer of the pool's size, page-aligned (inside one 2 MiB huge page
 * when the size divides 2 MiB); or NULL when all are out or memory ran out. */
void *contig_get(struct contig_pool *c);
void contig_put(struct contig_pool *c, void *buf);

/* Gives the buffers' memory back if none was taken since the previous
 * call and none is out. Returns whether it is still reserved. */
bool contig_trim(struct contig_pool *c);
/* Whether the buffers' memory is reserved now. */
bool contig_reserved(const struct contig_pool *c);

/* Buffers handed out in all, and requests refused for the bound. */
unsigned long long contig_handed(const struct contig_pool *c);
unsigned long long contig_refused(const struct contig_pool *c);

/* Whether this host backs anonymous memory with transparent huge pages on
 * request (its setting is "always" or "madvise"): without them a buffer
 * is as scattered as the guest's pages and the copy gains nothing. */
bool contig_huge_pages_available(void);

#endif
