/* The two wire layouts of blkif ring requests and responses.
 *
 * A frontend announces its layout with the `protocol` key (xen/io/protocols.h):
 * "x86_64-abi", "x86_32-abi", or nothing for the backend's native one. The
 * 32-bit layout aligns 64-bit fields to 4 bytes, so `id`, `sector_number` and
 * the segments sit at other offsets, and a ring slot is 108 bytes instead of
 * 112: a 32-bit PV guest on a 64-bit dom0 needs the translation, as in Linux
 * blkback (common.h, blkif_get_x86_32_req).
 *
 * Security (XSA-155): blkif_req_copy_from_ring() reads a slot exactly once
 * into private memory; everything after that decodes and validates the
 * private copy, so a guest rewriting the slot concurrently changes nothing. */
#ifndef PVBACK_BLKIF_ABI_H
#define PVBACK_BLKIF_ABI_H

#include <stddef.h>
#include <stdint.h>
#include <xen/io/blkif.h>

enum blkif_abi {
    BLKIF_ABI_X86_64 = 0, /* also the native layout: pvback runs on x86_64 */
    BLKIF_ABI_X86_32,
};

/* Maps the frontend's `protocol` value to a layout. NULL or "" means native.
 * Returns 0, or -1 for an unknown value (the caller names it in an error). */
int blkif_abi_from_protocol(const char *protocol, enum blkif_abi *abi);
const char *blkif_abi_name(enum blkif_abi abi);

/* Size of one ring slot (the union of request and response). */
size_t blkif_abi_slot_size(enum blkif_abi abi);

/* Number of slots in a shared ring of ring_bytes (a whole number of pages),
 * computed as the Xen ring macros do: the largest power of two that fits
 * after the 64-byte header. 0 if nothing fits. */
unsigned int blkif_abi_ring_slots(enum blkif_abi abi, size_t ring_bytes);

/* Address of slot idx (taken modulo slots, which is a power of two) of the
 * shared ring whose header starts at sring. */
void *blkif_abi_slot(enum blkif_abi abi, void *sring, unsigned int slots, uint32_t idx);

/* The private copy of one request, decoded from either layout. Only the
 * fields of the request's operation are meaningful; the rest are zero. */
struct blkif_req_copy {
    uint8_t operation;
    uint64_t id;
    uint64_t sector_number;
    /* READ, WRITE, WRITE_BARRIER, FLUSH_DISKCACHE (and unknown ops) */
    uint8_t nr_segments;
    struct blkif_request_segment seg[BLKIF_MAX_SEGMENTS_PER_REQUEST];
    /* DISCARD */
    uint8_t discard_flag;
    uint64_t discard_nr_sectors;
    /* INDIRECT */
    uint8_t indirect_op;
    uint16_t indirect_nr_segments;
    grant_ref_t indirect_grefs[BLKIF_MAX_INDIRECT_PAGES_PER_REQUEST];
};

/* Reads the slot once and decodes it into *out. */
void blkif_req_copy_from_ring(enum blkif_abi abi, const void *slot, struct blkif_req_copy *out);

/* Writes a response into a slot, field by field over a zeroed slot-sized
 * image, so that no uninitialised byte reaches the guest (XSA-216). */
void blkif_rsp_to_ring(enum blkif_abi abi, void *slot, uint64_t id, uint8_t operation,
                       int16_t status);

/* The inverse operations, for the simulated frontend and for tests. */
void blkif_req_to_ring(enum blkif_abi abi, void *slot, const struct blkif_req_copy *req);
void blkif_rsp_from_ring(enum blkif_abi abi, const void *slot, uint64_t *id, uint8_t *operation,
                         int16_t *status);

#endif
