/* Domains: each one's memory is a sparse memfd (only touched pages cost
 * anything), its grant table a memfd of v1 entries shared with the guest
 * side. Frames for grant sharing and grant refs are allocated here, by the
 * daemon, because several processes may act as the same guest. */
#include "hv_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define PAGE 4096u

struct hv_domain *hv_domain_find(struct hv *hv, unsigned domid)
{
    for (struct hv_domain *d = hv->domains; d; d = d->next)
        if (d->domid == domid)
            return d;
    return NULL;
}

/* A read-only open file description of the same memory: a read-only map
 * handed to a client cannot be remapped writable (mmap PROT_WRITE fails). */
int hv_reopen_ro(int fd)
{
    char path[64];

    snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
    return open(path, O_RDONLY | O_CLOEXEC);
}

int hv_memfd(const char *what, unsigned domid, uint64_t size)
{
    char name[64];
    int fd;

    snprintf(name, sizeof(name), "xensim-d%u-%s", domid, what);
    fd = memfd_create(name, MFD_CLOEXEC);
    if (fd < 0)
        return -1;
    if (ftruncate(fd, (off_t)size) < 0) {
        int e = errno;
        close(fd);
        errno = e;
        return -1;
    }
    return fd;
}

struct hv_domain *hv_domain_new(struct hv *hv, unsigned domid, uint64_t mem_mb, int memfd)
{
    struct hv_domain *d = calloc(1, sizeof(*d));
    uint64_t size = mem_mb << 20;
    int e;

    if (!d) {
        if (memfd >= 0)
            close(memfd);
        return NULL;
    }
    d->hv = hv;
    d->domid = domid;
    d->mem_mb = mem_mb;
    d->nr_frames = size / PAGE;
    d->mem_fd = d->mem_ro_fd = d->gt_fd = d->act_fd = d->listen_fd = -1;
    d->act_hdr = MAP_FAILED;
    d->mem = MAP_FAILED;
    d->gt = MAP_FAILED;
    d->ref_hint = GNTTAB_NR_RESERVED_ENTRIES;

    d->mem_fd = memfd >= 0 ? memfd : hv_memfd("mem", domid, size);
    if (d->mem_fd < 0)
        goto fail;
    d->mem_ro_fd = hv_reopen_ro(d->mem_fd);
    if (d->mem_ro_fd < 0)
        goto fail;
    d->mem = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_NORESERVE, d->mem_fd, 0);
    if (d->mem == MAP_FAILED)
        goto fail;
    d->gt_fd = hv_memfd("gnttab", domid, (uint64_t)HV_GNTTAB_FRAMES * PAGE);
    if (d->gt_fd < 0)
        goto fail;
    d->gt = mmap(NULL, (size_t)HV_GNTTAB_FRAMES * PAGE, PROT_READ | PROT_WRITE, MAP_SHARED,
                 d->gt_fd, 0);
    if (d->gt == MAP_FAILED)
        goto fail;
    d->act_fd = hv_memfd("active", domid, HV_ACTIVE_SIZE);
    if (d->act_fd < 0)
        goto fail;
    d->act_hdr = mmap(NULL, HV_ACTIVE_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, d->act_fd, 0);
    if (d->act_hdr == MAP_FAILED)
        goto fail;
    d->g = (struct hv_gdom){
        .gt = d->gt,
        .act = (struct hv_active *)(void *)((uint8_t *)d->act_hdr + HV_ACTIVE_OFFSET),
        .mem = d->mem,
        .nr_frames = d->nr_frames,
        .probe_holders = true,
    };
    d->grefs = calloc(HV_GNTTAB_ENTRIES, sizeof(*d->grefs));
    d->frame_used = calloc((d->nr_frames + 63) / 64, sizeof(uint64_t));
    if (!d->grefs || !d->frame_used) {
        errno = ENOMEM;
        goto fail;
    }
    /* The start-info page (hv_proto.h) is never shared. */
    d->frame_used[HV_START_INFO_FRAME / 64] |= 1ull << (HV_START_INFO_FRAME % 64);
    d->frames_used = 1;
    d->frame_hint = HV_START_INFO_FRAME + 1;
    return d;
fail:
    e = errno;
    hv_domain_free(d);
    errno = e;
    return NULL;
}

void hv_domain_free(struct hv_domain *d)
{
    if (!d)
        return;
    if (d->mem != MAP_FAILED)
        munmap(d->mem, d->nr_frames * PAGE);
    if (d->gt != MAP_FAILED)
        munmap(d->gt, (size_t)HV_GNTTAB_FRAMES * PAGE);
    if (d->act_hdr != MAP_FAILED)
        munmap(d->act_hdr, HV_ACTIVE_SIZE);
    if (d->act_fd >= 0)
        close(d->act_fd);
    if (d->mem_fd >= 0)
        close(d->mem_fd);
    if (d->mem_ro_fd >= 0)
        close(d->mem_ro_fd);
    if (d->gt_fd >= 0)
        close(d->gt_fd);
    free(d->grefs);
    free(d->frame_used);
    free(d);
}

/* A destroyed domain stays (off the live list) while mappings of its pages
 * remain, as a Xen domain stays a zombie until its grants are unmapped. */
void hv_domain_put(struct hv_domain *d)
{
    d->maps--;
    if (d->dead && d->maps == 0) {
        struct hv_domain **pp = &d->hv->dead;
        while (*pp && *pp != d)
            pp = &(*pp)->next;
        if (*pp)
            *pp = d->next;
        hv_domain_free(d);
    }
}

static bool frame_is_used(const struct hv_domain *d, uint64_t f)
{
    return d->frame_used[f / 64] & (1ull << (f % 64));
}

int hv_frame_alloc(struct hv_domain *d, uint32_t *frame)
{
    if (d->frames_used >= d->nr_frames) {
        errno = ENOMEM;
        return -1;
    }
    /* Next fit from the last allocation: O(1) amortized for the usual
     * allocate-then-free-in-order pattern of rings and buffers. */
    for (uint64_t n = 0; n < d->nr_frames; n++) {
        uint64_t f = (d->frame_hint + n) % d->nr_frames;
        if (!frame_is_used(d, f)) {
            d->frame_used[f / 64] |= 1ull << (f % 64);
            d->frames_used++;
            d->frame_hint = f + 1;
            *frame = (uint32_t)f;
            return 0;
        }
    }
    errno = ENOMEM;
    return -1;
}

int hv_frame_claim(struct hv_domain *d, uint32_t frame)
{
    if (frame >= d->nr_frames || frame == HV_START_INFO_FRAME) {
        errno = EINVAL;
        return -1;
    }
    if (frame_is_used(d, frame)) {
        errno = EBUSY;
        return -1;
    }
    d->frame_used[frame / 64] |= 1ull << (frame % 64);
    d->frames_used++;
    return 0;
}

void hv_frame_unclaim(struct hv_domain *d, uint32_t frame)
{
    d->frame_used[frame / 64] &= ~(1ull << (frame % 64));
    d->frames_used--;
}

void hv_frame_free(struct hv_domain *d, uint32_t frame)
{
    if (frame < d->nr_frames && frame != HV_START_INFO_FRAME && frame_is_used(d, frame)) {
        hv_frame_unclaim(d, frame);
        if (d->saved)
            return;
        /* A freed page goes back zeroed (and its memory is returned), so
         * that the next share does not leak what the last user wrote. */
        if (fallocate(d->mem_fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, (off_t)frame * PAGE,
                      PAGE) < 0)
            memset(d->mem + (uint64_t)frame * PAGE, 0, PAGE);
    }
}

int hv_ref_alloc(struct hv_domain *d, uint32_t *ref)
{
    const uint32_t usable = HV_GNTTAB_ENTRIES - GNTTAB_NR_RESERVED_ENTRIES;

    if (d->refs_used >= usable) {
        errno = ENOSPC;
        return -1;
    }
    for (uint32_t n = 0; n < usable; n++) {
        uint32_t r =
            GNTTAB_NR_RESERVED_ENTRIES + (d->ref_hint - GNTTAB_NR_RESERVED_ENTRIES + n) % usable;
        /* A ref is free when no handle owns it and nothing maps it (a guest
         * may have written a reserved-looking entry by hand). An orphan whose
         * last pin a dom0 client's copy dropped is freed here. */
        bool idle = __atomic_load_n(&d->g.act[r].rd_pins, __ATOMIC_ACQUIRE) == 0;
        if (d->grefs[r].state == HV_GREF_ORPHAN && idle)
            hv_gref_release(d, r);
        if (d->grefs[r].state == HV_GREF_FREE && idle) {
            d->grefs[r].state = HV_GREF_SHARED;
            d->refs_used++;
            d->ref_hint = r + 1 >= HV_GNTTAB_ENTRIES ? GNTTAB_NR_RESERVED_ENTRIES : r + 1;
            *ref = r;
            return 0;
        }
    }
    errno = ENOSPC;
    return -1;
}
