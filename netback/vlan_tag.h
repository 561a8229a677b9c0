/* 802.1Q tagging and filtering done by netback itself, for bridges without
 * kernel VLAN filtering. Pure functions over one Ethernet frame and its
 * optional virtio_net_hdr (the IFF_VNET_HDR prefix of a tap), so that the
 * checksum and GSO offsets stay right when 4 bytes of tag come or go.
 *
 * Towards the bridge (frames the guest sent):
 *   untagged             -> tagged with the PVID (priority 0); dropped without PVID
 *   tagged VID 0         -> priority tag: VID becomes the PVID, priority kept
 *   tagged member VLAN   -> passed unchanged (priority kept)
 *   tagged other VLAN    -> dropped
 * Towards the guest (frames from the bridge):
 *   tagged, VLAN sent untagged (the PVID, 'u' VLANs) -> tag stripped
 *   tagged member VLAN   -> passed tagged
 *   untagged, other VLAN -> dropped (on a bridge without VLAN filtering an
 *                           untagged frame belongs to no VLAN of this vif)
 * With no VLAN configured (vlan_cfg_active() false) every frame passes
 * unchanged. Only the 802.1Q TPID 0x8100 is a VLAN tag here; 802.1ad
 * (0x88a8) frames count as untagged and get the PVID as outer tag. */
#ifndef PVBACK_NETBACK_VLAN_TAG_H
#define PVBACK_NETBACK_VLAN_TAG_H

#include <linux/virtio_net.h>
#include <stddef.h>
#include <stdint.h>

#include "vlan_cfg.h"

#define VLAN_TAG_LEN  4
#define VLAN_ETH_HLEN 14
#define VLAN_TPID     0x8100

enum vlan_verdict {
    VLAN_PASS = 0,
    VLAN_DROP_NOT_MEMBER, /* VLAN not configured on this vif (or no PVID) */
    VLAN_DROP_MALFORMED,  /* too short, or offload offsets inside the tag */
};

/* One frame in a buffer. data/len: the Ethernet frame. headroom: writable
 * bytes just before data, needed (VLAN_TAG_LEN) only when a tag may be
 * inserted. vnet: the frame's virtio_net_hdr, or NULL. Fields are in host
 * order (the tap's legacy virtio header on a little-endian host). */
struct vlan_frame {
    uint8_t *data;
    size_t len;
    size_t headroom;
    struct virtio_net_hdr *vnet;
};

/* The VLAN of a frame: its VID, or -1 when it carries no 802.1Q tag. */
int vlan_frame_vid(const uint8_t *data, size_t len);

/* Applies the rules above; on VLAN_PASS the frame may have moved (data,
 * len, headroom updated). On a drop it is left untouched. */
enum vlan_verdict vlan_tag_from_guest(const struct vlan_cfg *cfg, struct vlan_frame *f);
enum vlan_verdict vlan_tag_to_guest(const struct vlan_cfg *cfg, struct vlan_frame *f);

/* The primitive operations, exposed for the rules above and for tests:
 * insert a tag (TCI = priority << 13 | vid) or remove the outer tag,
 * adjusting the virtio header's csum_start and hdr_len. */
enum vlan_verdict vlan_frame_push(struct vlan_frame *f, uint16_t tci);
enum vlan_verdict vlan_frame_pop(struct vlan_frame *f);

#endif
