/* Fuzzes in-netback 802.1Q tagging and filtering (netback/vlan_tag.h): a
 * frame from the guest or from the bridge, with or without a virtio_net_hdr,
 * against a VLAN configuration parsed from the input.
 *
 * Input: a NUL-terminated `vlan` value (empty or invalid: no VLAN
 * handling), a flags byte (bit 0: towards the guest, bit 1: with a
 * virtio_net_hdr), the headroom byte, the virtio_net_hdr (10 bytes), then
 * the Ethernet frame.
 *
 * Invariants: no access outside the buffer (ASan); a dropped frame is left
 * untouched; a passed frame towards the bridge carries a member VLAN, with
 * the PVID added to untagged guest frames; a passed frame towards the guest
 * is an untagged one of an untagged VLAN or tagged with a tagged member;
 * MACs and payload survive; offload offsets move with the tag; an untagged
 * guest frame tagged with the PVID comes back to the guest unchanged. */
#include <stdlib.h>
#include <string.h>

#include "fuzz_input.h"
#include "vlan_tag.h"

#define ETH_ALEN2 12

struct snapshot {
    uint8_t *bytes;
    size_t len;
    struct virtio_net_hdr vnet;
};

static struct snapshot take(const struct vlan_frame *f)
{
    struct snapshot s = {.bytes = malloc(f->len + 1), .len = f->len};

    if (!s.bytes)
        abort();
    memcpy(s.bytes, f->data, f->len);
    if (f->vnet)
        s.vnet = *f->vnet;
    return s;
}

static bool unchanged(const struct vlan_frame *f, const struct snapshot *s)
{
    return f->len == s->len && !memcmp(f->data, s->bytes, s->len) &&
           (!f->vnet || !memcmp(f->vnet, &s->vnet, sizeof(s->vnet)));
}

static bool gso(const struct virtio_net_hdr *vh)
{
    return (vh->gso_type & ~VIRTIO_NET_HDR_GSO_ECN) != VIRTIO_NET_HDR_GSO_NONE;
}

/* f is s with a tag inserted after the MACs (or s is f with one). */
static void check_tag_moved(const uint8_t *tagged, size_t tagged_len, const uint8_t *plain,
                            size_t plain_len)
{
    FUZZ_CHECK(tagged_len == plain_len + VLAN_TAG_LEN, "length %zu vs %zu", tagged_len, plain_len);
    FUZZ_CHECK(!memcmp(tagged, plain, ETH_ALEN2), "MAC addresses changed");
    FUZZ_CHECK(!memcmp(tagged + ETH_ALEN2 + VLAN_TAG_LEN, plain + ETH_ALEN2, plain_len - ETH_ALEN2),
               "payload changed");
}

static void check_offsets(const struct vlan_frame *f, const struct snapshot *s, int delta)
{
    if (!f->vnet)
        return;
    if (f->vnet->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM)
        FUZZ_CHECK(f->vnet->csum_start == s->vnet.csum_start + delta, "csum_start %u -> %u",
                   s->vnet.csum_start, f->vnet->csum_start);
    if (gso(f->vnet) && s->vnet.hdr_len)
        FUZZ_CHECK(f->vnet->hdr_len == s->vnet.hdr_len + delta, "hdr_len %u -> %u", s->vnet.hdr_len,
                   f->vnet->hdr_len);
}

static bool offsets_sane(const struct snapshot *s, bool with_vnet)
{
    if (!with_vnet)
        return true;
    if ((s->vnet.flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) && s->vnet.csum_start < VLAN_ETH_HLEN)
        return false;
    return !gso(&s->vnet) || s->vnet.hdr_len == 0 || s->vnet.hdr_len >= VLAN_ETH_HLEN;
}

static void from_guest(const struct vlan_cfg *cfg, struct vlan_frame *f)
{
    struct snapshot s = take(f);
    const int vid_before = vlan_frame_vid(f->data, f->len);
    enum vlan_verdict v = vlan_tag_from_guest(cfg, f);

    if (v != VLAN_PASS) {
        FUZZ_CHECK(unchanged(f, &s), "a dropped frame was modified");
    } else if (!vlan_cfg_active(cfg)) {
        FUZZ_CHECK(unchanged(f, &s), "a frame changed without VLAN configuration");
    } else {
        const int vid = vlan_frame_vid(f->data, f->len);
        FUZZ_CHECK(vid > 0 && vlan_cfg_is_member(cfg, (unsigned)vid),
                   "a frame of VLAN %d reaches the bridge", vid);
        if (vid_before < 0) {
            FUZZ_CHECK(vid == cfg->pvid && (f->data[ETH_ALEN2 + 2] >> 5) == 0,
                       "an untagged frame got VLAN %d, PVID %u", vid, cfg->pvid);
            check_tag_moved(f->data, f->len, s.bytes, s.len);
            check_offsets(f, &s, VLAN_TAG_LEN);

            /* Back to the guest, the PVID's frames are untagged again
             * (when the offload offsets lie past the Ethernet header, as
             * in any frame a real stack makes). */
            if (offsets_sane(&s, f->vnet != NULL))
                FUZZ_CHECK(vlan_tag_to_guest(cfg, f) == VLAN_PASS && unchanged(f, &s),
                           "an untagged guest frame does not come back unchanged");
        } else {
            FUZZ_CHECK(f->len == s.len && !memcmp(f->data, s.bytes, ETH_ALEN2 + 2) &&
                           (f->data[ETH_ALEN2 + 2] & 0xf0) == (s.bytes[ETH_ALEN2 + 2] & 0xf0) &&
                           !memcmp(f->data + 16, s.bytes + 16, s.len - 16),
                       "a tagged frame changed beyond its VID");
            FUZZ_CHECK(vid_before == vid || (vid_before == 0 && vid == cfg->pvid),
                       "VLAN %d became %d", vid_before, vid);
        }
    }
    free(s.bytes);
}

static void to_guest(const struct vlan_cfg *cfg, struct vlan_frame *f)
{
    struct snapshot s = take(f);
    const int vid = vlan_frame_vid(f->data, f->len);
    enum vlan_verdict v = vlan_tag_to_guest(cfg, f);

    if (v != VLAN_PASS) {
        FUZZ_CHECK(unchanged(f, &s), "a dropped frame was modified");
    } else if (!vlan_cfg_active(cfg)) {
        FUZZ_CHECK(unchanged(f, &s), "a frame changed without VLAN configuration");
    } else {
        FUZZ_CHECK(vid > 0 && vlan_cfg_is_member(cfg, (unsigned)vid),
                   "a frame of VLAN %d reaches the guest", vid);
        if (vlan_cfg_is_untagged(cfg, (unsigned)vid)) {
            check_tag_moved(s.bytes, s.len, f->data, f->len);
            check_offsets(f, &s, -VLAN_TAG_LEN);
        } else {
            FUZZ_CHECK(unchanged(f, &s), "a tagged member's frame was modified");
        }
    }
    free(s.bytes);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fuzz_in in = fuzz_in_make(data, size);
    char *vlan = fuzz_str(&in), err[256];
    struct vlan_cfg cfg;
    const uint8_t flags = fuzz_u8(&in);
    const size_t headroom = fuzz_u8(&in) % (2 * VLAN_TAG_LEN + 1);
    struct virtio_net_hdr vnet;

    if (vlan_cfg_parse_xl(vlan, &cfg, err, sizeof(err)) < 0)
        vlan_cfg_clear(&cfg);
    free(vlan);
    fuzz_bytes(&in, &vnet, sizeof(vnet));

    /* Exactly headroom + frame bytes, so that ASan sees any overrun. */
    const size_t len = in.left;
    uint8_t *buf = malloc(headroom + len + 1);
    if (!buf)
        abort();
    fuzz_bytes(&in, buf + headroom, len);
    struct vlan_frame f = {
        .data = buf + headroom,
        .len = len,
        .headroom = headroom,
        .vnet = (flags & 2) ? &vnet : NULL,
    };

    if (flags & 1)
        to_guest(&cfg, &f);
    else
        from_guest(&cfg, &f);
    /* A tag comes or goes in front: the frame's end never moves. */
    FUZZ_CHECK(f.data - buf == (ptrdiff_t)f.headroom && f.data + f.len == buf + headroom + len,
               "frame bookkeeping broken");
    free(buf);
    return 0;
}
