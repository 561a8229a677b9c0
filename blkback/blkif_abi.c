/* Encoding and decoding of the x86_64 and x86_32 blkif layouts. Each layout
 * is spelled out below with its offsets checked at compile time, so that the
 * translation does not depend on the compiler's idea of the host ABI. */
#include "blkif_abi.h"

#include <stddef.h>
#include <string.h>
#include <xen/io/protocols.h>

/* Ring header: req_prod, req_event, rsp_prod, rsp_event, 48 bytes of pad. */
#define SRING_HEADER_BYTES 64u

struct x64_rw {
    uint8_t operation, nr_segments;
    uint16_t handle;
    uint64_t id __attribute__((aligned(8)));
    uint64_t sector_number;
    struct blkif_request_segment seg[BLKIF_MAX_SEGMENTS_PER_REQUEST];
};
struct x64_discard {
    uint8_t operation, flag;
    uint16_t handle;
    uint64_t id __attribute__((aligned(8)));
    uint64_t sector_number, nr_sectors;
};
struct x64_indirect {
    uint8_t operation, indirect_op;
    uint16_t nr_segments;
    uint64_t id __attribute__((aligned(8)));
    uint64_t sector_number;
    uint16_t handle;
    grant_ref_t indirect_grefs[BLKIF_MAX_INDIRECT_PAGES_PER_REQUEST];
};
struct x64_rsp {
    uint64_t id __attribute__((aligned(8)));
    uint8_t operation;
    int16_t status;
};

#pragma pack(push, 4)
struct x32_rw {
    uint8_t operation, nr_segments;
    uint16_t handle;
    uint64_t id;
    uint64_t sector_number;
    struct blkif_request_segment seg[BLKIF_MAX_SEGMENTS_PER_REQUEST];
};
struct x32_discard {
    uint8_t operation, flag;
    uint16_t handle;
    uint64_t id;
    uint64_t sector_number, nr_sectors;
};
struct x32_indirect {
    uint8_t operation, indirect_op;
    uint16_t nr_segments;
    uint64_t id;
    uint64_t sector_number;
    uint16_t handle;
    grant_ref_t indirect_grefs[BLKIF_MAX_INDIRECT_PAGES_PER_REQUEST];
    uint64_t pad;
};
struct x32_rsp {
    uint64_t id;
    uint8_t operation;
    int16_t status;
};
#pragma pack(pop)

/* The offsets Linux and Xen use (blkif.h; Linux common.h for x86_32). */
_Static_assert(sizeof(struct x64_rw) == 112 && offsetof(struct x64_rw, seg) == 24, "x64 rw");
_Static_assert(offsetof(struct x64_discard, nr_sectors) == 24, "x64 discard");
_Static_assert(offsetof(struct x64_indirect, indirect_grefs) == 28 &&
                   sizeof(struct x64_indirect) == 64,
               "x64 indirect");
_Static_assert(sizeof(struct x64_rsp) == 16 && offsetof(struct x64_rsp, status) == 10, "x64 rsp");
_Static_assert(sizeof(struct x32_rw) == 108 && offsetof(struct x32_rw, id) == 4 &&
                   offsetof(struct x32_rw, seg) == 20,
               "x32 rw");
_Static_assert(offsetof(struct x32_discard, nr_sectors) == 20, "x32 discard");
_Static_assert(offsetof(struct x32_indirect, handle) == 20 &&
                   offsetof(struct x32_indirect, indirect_grefs) == 24 &&
                   sizeof(struct x32_indirect) == 64,
               "x32 indirect");
_Static_assert(sizeof(struct x32_rsp) == 12 && offsetof(struct x32_rsp, status) == 10, "x32 rsp");
#if defined(__x86_64__)
/* pvback's native layout is Xen's own x86_64 one. */
_Static_assert(sizeof(struct blkif_request) == sizeof(struct x64_rw) &&
                   offsetof(struct blkif_request_indirect, indirect_grefs) == 28,
               "native is x86_64");
#endif

#define X64_SLOT 112u
#define X32_SLOT 108u
/* Largest slot: the private copy buffer. */
#define MAX_SLOT X64_SLOT

int blkif_abi_from_protocol(const char *protocol, enum blkif_abi *abi)
{
    if (!protocol || !*protocol || !strcmp(protocol, XEN_IO_PROTO_ABI_X86_64))
        *abi = BLKIF_ABI_X86_64;
    else if (!strcmp(protocol, XEN_IO_PROTO_ABI_X86_32))
        *abi = BLKIF_ABI_X86_32;
    else
        return -1;
    return 0;
}

const char *blkif_abi_name(enum blkif_abi abi)
{
    return abi == BLKIF_ABI_X86_32 ? XEN_IO_PROTO_ABI_X86_32 : XEN_IO_PROTO_ABI_X86_64;
}

size_t blkif_abi_slot_size(enum blkif_abi abi)
{
    return abi == BLKIF_ABI_X86_32 ? X32_SLOT : X64_SLOT;
}

unsigned int blkif_abi_ring_slots(enum blkif_abi abi, size_t ring_bytes)
{
    if (ring_bytes <= SRING_HEADER_BYTES)
        return 0;
    size_t n = (ring_bytes - SRING_HEADER_BYTES) / blkif_abi_slot_size(abi);
    unsigned int p = 1;
    if (n == 0)
        return 0;
    while ((size_t)p * 2 <= n)
        p *= 2;
    return p;
}

void *blkif_abi_slot(enum blkif_abi abi, void *sring, unsigned int slots, uint32_t idx)
{
    return (char *)sring + SRING_HEADER_BYTES +
           (size_t)(idx & (slots - 1)) * blkif_abi_slot_size(abi);
}

/* Decodes a private image. The layouts differ only in where the fields sit,
 * so one macro body serves both, keyed by the struct type prefix. */
#define DECODE(P, buf, out)                                                                        \
    do {                                                                                           \
        switch ((out)->operation) {                                                                \
        case BLKIF_OP_DISCARD: {                                                                   \
            struct P##_discard d;                                                                  \
            memcpy(&d, buf, sizeof(d));                                                            \
            (out)->id = d.id;                                                                      \
            (out)->sector_number = d.sector_number;                                                \
            (out)->discard_flag = d.flag;                                                          \
            (out)->discard_nr_sectors = d.nr_sectors;                                              \
            break;                                                                                 \
        }                                                                                          \
        case BLKIF_OP_INDIRECT: {                                                                  \
            struct P##_indirect d;                                                                 \
            memcpy(&d, buf, sizeof(d));                                                            \
            (out)->id = d.id;                                                                      \
            (out)->sector_number = d.sector_number;                                                \
            (out)->indirect_op = d.indirect_op;                                                    \
            (out)->indirect_nr_segments = d.nr_segments;                                           \
            memcpy((out)->indirect_grefs, d.indirect_grefs, sizeof(d.indirect_grefs));             \
            break;                                                                                 \
        }                                                                                          \
        default: {                                                                                 \
            struct P##_rw d;                                                                       \
            memcpy(&d, buf, sizeof(d));                                                            \
            (out)->id = d.id;                                                                      \
            (out)->sector_number = d.sector_number;                                                \
            (out)->nr_segments = d.nr_segments;                                                    \
            memcpy((out)->seg, d.seg, sizeof(d.seg));                                              \
            break;                                                                                 \
        }                                                                                          \
        }                                                                                          \
    } while (0)

#define ENCODE(P, buf, in)                                                                         \
    do {                                                                                           \
        switch ((in)->operation) {                                                                 \
        case BLKIF_OP_DISCARD: {                                                                   \
            struct P##_discard d;                                                                  \
            memset(&d, 0, sizeof(d));                                                              \
            d.operation = (in)->operation;                                                         \
            d.id = (in)->id;                                                                       \
            d.sector_number = (in)->sector_number;                                                 \
            d.flag = (in)->discard_flag;                                                           \
            d.nr_sectors = (in)->discard_nr_sectors;                                               \
            memcpy(buf, &d, sizeof(d));                                                            \
            break;                                                                                 \
        }                                                                                          \
        case BLKIF_OP_INDIRECT: {                                                                  \
            struct P##_indirect d;                                                                 \
            memset(&d, 0, sizeof(d));                                                              \
            d.operation = (in)->operation;                                                         \
            d.id = (in)->id;                                                                       \
            d.sector_number = (in)->sector_number;                                                 \
            d.indirect_op = (in)->indirect_op;                                                     \
            d.nr_segments = (in)->indirect_nr_segments;                                            \
            memcpy(d.indirect_grefs, (in)->indirect_grefs, sizeof(d.indirect_grefs));              \
            memcpy(buf, &d, sizeof(d));                                                            \
            break;                                                                                 \
        }                                                                                          \
        default: {                                                                                 \
            struct P##_rw d;                                                                       \
            memset(&d, 0, sizeof(d));                                                              \
            d.operation = (in)->operation;                                                         \
            d.id = (in)->id;                                                                       \
            d.sector_number = (in)->sector_number;                                                 \
            d.nr_segments = (in)->nr_segments;                                                     \
            memcpy(d.seg, (in)->seg, sizeof(d.seg));                                               \
            memcpy(buf, &d, sizeof(d));                                                            \
            break;                                                                                 \
        }                                                                                          \
        }                                                                                          \
    } while (0)

void blkif_req_copy_from_ring(enum blkif_abi abi, const void *slot, struct blkif_req_copy *out)
{
    unsigned char buf[MAX_SLOT];
    memcpy(buf, slot, blkif_abi_slot_size(abi));
    /* The copy must really happen here, once: without the barrier a compiler
     * may read fields from the shared slot again later (XSA-155). */
    __asm__ __volatile__("" ::: "memory");

    memset(out, 0, sizeof(*out));
    out->operation = buf[0];
    if (abi == BLKIF_ABI_X86_32)
        DECODE(x32, buf, out);
    else
        DECODE(x64, buf, out);
}

void blkif_req_to_ring(enum blkif_abi abi, void *slot, const struct blkif_req_copy *req)
{
    unsigned char buf[MAX_SLOT];
    memset(buf, 0, sizeof(buf));
    if (abi == BLKIF_ABI_X86_32)
        ENCODE(x32, buf, req);
    else
        ENCODE(x64, buf, req);
    memcpy(slot, buf, blkif_abi_slot_size(abi));
}

void blkif_rsp_to_ring(enum blkif_abi abi, void *slot, uint64_t id, uint8_t operation,
                       int16_t status)
{
    if (abi == BLKIF_ABI_X86_32) {
        struct x32_rsp r;
        memset(&r, 0, sizeof(r));
        r.id = id;
        r.operation = operation;
        r.status = status;
        memcpy(slot, &r, sizeof(r));
    } else {
        struct x64_rsp r;
        memset(&r, 0, sizeof(r));
        r.id = id;
        r.operation = operation;
        r.status = status;
        memcpy(slot, &r, sizeof(r));
    }
}

void blkif_rsp_from_ring(enum blkif_abi abi, const void *slot, uint64_t *id, uint8_t *operation,
                         int16_t *status)
{
    if (abi == BLKIF_ABI_X86_32) {
        struct x32_rsp r;
        memcpy(&r, slot, sizeof(r));
        *id = r.id;
        *operation = r.operation;
        *status = r.status;
    } else {
        struct x64_rsp r;
        memcpy(&r, slot, sizeof(r));
        *id = r.id;
        *operation = r.operation;
        *status = r.status;
    }
}
