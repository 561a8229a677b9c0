/* In-netback 802.1Q tagging and filtering; the rules are in vlan_tag.h. */
#include "vlan_tag.h"

#include <string.h>

#define ETH_ALEN2 12 /* destination + source MAC: what moves when a tag comes or goes */
#define VID_MASK  0x0fff

static uint16_t get_be16(const uint8_t *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}

static void put_be16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

int vlan_frame_vid(const uint8_t *data, size_t len)
{
    if (len < VLAN_ETH_HLEN + VLAN_TAG_LEN || get_be16(data + ETH_ALEN2) != VLAN_TPID)
        return -1;
    return get_be16(data + ETH_ALEN2 + 2) & VID_MASK;
}

static bool gso_frame(const struct virtio_net_hdr *vh)
{
    return (vh->gso_type & ~VIRTIO_NET_HDR_GSO_ECN) != VIRTIO_NET_HDR_GSO_NONE;
}

enum vlan_verdict vlan_frame_push(struct vlan_frame *f, uint16_t tci)
{
    if (f->len < VLAN_ETH_HLEN || f->headroom < VLAN_TAG_LEN)
        return VLAN_DROP_MALFORMED;
    struct virtio_net_hdr *vh = f->vnet;
    /* The offsets count from the start of the frame: they move with the
     * network header. Check before changing anything. */
    if (vh && (vh->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) && vh->csum_start > UINT16_MAX - 4)
        return VLAN_DROP_MALFORMED;
    if (vh && gso_frame(vh) && vh->hdr_len > UINT16_MAX - 4)
        return VLAN_DROP_MALFORMED;

    uint8_t *d = f->data - VLAN_TAG_LEN;
    memmove(d, f->data, ETH_ALEN2);
    put_be16(d + ETH_ALEN2, VLAN_TPID);
    put_be16(d + ETH_ALEN2 + 2, tci);
    f->data = d;
    f->len += VLAN_TAG_LEN;
    f->headroom -= VLAN_TAG_LEN;
    if (vh && (vh->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM))
        vh->csum_start += VLAN_TAG_LEN;
    if (vh && gso_frame(vh) && vh->hdr_len)
        vh->hdr_len += VLAN_TAG_LEN;
    return VLAN_PASS;
}

enum vlan_verdict vlan_frame_pop(struct vlan_frame *f)
{
    if (vlan_frame_vid(f->data, f->len) < 0)
        return VLAN_DROP_MALFORMED;
    struct virtio_net_hdr *vh = f->vnet;
    /* A checksum or header end inside the Ethernet header + tag would point
     * into bytes that disappear: the frame is bogus. */
    if (vh && (vh->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) &&
        vh->csum_start < VLAN_ETH_HLEN + VLAN_TAG_LEN)
        return VLAN_DROP_MALFORMED;
    if (vh && gso_frame(vh) && vh->hdr_len && vh->hdr_len < VLAN_ETH_HLEN + VLAN_TAG_LEN)
        return VLAN_DROP_MALFORMED;

    memmove(f->data + VLAN_TAG_LEN, f->data, ETH_ALEN2);
    f->data += VLAN_TAG_LEN;
    f->len -= VLAN_TAG_LEN;
    f->headroom += VLAN_TAG_LEN;
    if (vh && (vh->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM))
        vh->csum_start -= VLAN_TAG_LEN;
    if (vh && gso_frame(vh) && vh->hdr_len)
        vh->hdr_len -= VLAN_TAG_LEN;
    return VLAN_PASS;
}

enum vlan_verdict vlan_tag_from_guest(const struct vlan_cfg *cfg, struct vlan_frame *f)
{
    if (f->len < VLAN_ETH_HLEN)
        return VLAN_DROP_MALFORMED;
    if (!vlan_cfg_active(cfg))
        return VLAN_PASS;

    int vid = vlan_frame_vid(f->data, f->len);
    if (vid < 0) {
        if (get_be16(f->data + ETH_ALEN2) == VLAN_TPID)
            return VLAN_DROP_MALFORMED; /* a TPID with the tag cut off */
        if (!cfg->pvid)
            return VLAN_DROP_NOT_MEMBER;
        return vlan_frame_push(f, cfg->pvid);
    }
    if (vid == 0) {
        /* Priority-tagged: the frame is the PVID's, with this priority. */
        if (!cfg->pvid)
            return VLAN_DROP_NOT_MEMBER;
        uint8_t *tci = f->data + ETH_ALEN2 + 2;
        put_be16(tci, (uint16_t)((get_be16(tci) & ~VID_MASK) | cfg->pvid));
        return VLAN_PASS;
    }
    return vlan_cfg_is_member(cfg, (unsigned)vid) ? VLAN_PASS : VLAN_DROP_NOT_MEMBER;
}

enum vlan_verdict vlan_tag_to_guest(const struct vlan_cfg *cfg, struct vlan_frame *f)
{
    if (f->len < VLAN_ETH_HLEN)
        return VLAN_DROP_MALFORMED;
    if (!vlan_cfg_active(cfg))
        return VLAN_PASS;

    int vid = vlan_frame_vid(f->data, f->len);
    if (vid <= 0 || !vlan_cfg_is_member(cfg, (unsigned)vid))
        return VLAN_DROP_NOT_MEMBER;
    if (vlan_cfg_is_untagged(cfg, (unsigned)vid))
        return vlan_frame_pop(f);
    return VLAN_PASS;
}
