/* A vif's 802.1Q configuration, parsed from either of the two places a Xen
 * toolstack puts it:
 *   - the `vlan` key (xl's `vlan=` option, Xen 4.19 and later): terms
 *     separated by '/', each one of
 *         N      a VLAN, tagged towards the guest
 *         Np     the PVID: the guest's untagged frames belong to it and
 *                its frames reach the guest untagged
 *         Nu     a VLAN whose frames reach the guest untagged
 *         A-B    VLANs A..B (optionally with 'u')
 *         N+IxC  C VLANs starting at N, I apart: N, N+I, ... (optionally 'u')
 *     A single VLAN alone is the PVID even without 'p'; more than one VLAN
 *     needs exactly one 'p'. As in Xen's vif-bridge (the code that applies
 *     the key for the kernel netback), N+IxC yields C VLANs in all.
 *   - the `bridge` key in the form of Xen's vif-openvswitch,
 *     `BRIDGE[.PVID][:TRUNK[:TRUNK...]]`, e.g. `xenbr0.10:20:30` (PVID 10,
 *     trunk VLANs 20 and 30); a plain `xenbr0` carries no VLAN setting.
 * Both produce the same struct: a PVID and two sets of 4096 bits. */
#ifndef PVBACK_NETBACK_VLAN_CFG_H
#define PVBACK_NETBACK_VLAN_CFG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define VLAN_VID_MIN  1
#define VLAN_VID_MAX  4094
#define VLAN_N_VID    4096
#define VLAN_IFNAMSIZ 16 /* IFNAMSIZ, including the terminating NUL */

struct vlan_cfg {
    uint16_t pvid;                      /* 0: untagged guest frames are dropped */
    uint64_t member[VLAN_N_VID / 64];   /* VLANs the vif belongs to (PVID included) */
    uint64_t untagged[VLAN_N_VID / 64]; /* members sent to the guest untagged */
};

/* An empty configuration: no VLAN handling at all (frames pass unchanged). */
void vlan_cfg_clear(struct vlan_cfg *cfg);
/* True when the vif has any VLAN membership, i.e. frames must be filtered. */
bool vlan_cfg_active(const struct vlan_cfg *cfg);
bool vlan_cfg_is_member(const struct vlan_cfg *cfg, unsigned vid);
bool vlan_cfg_is_untagged(const struct vlan_cfg *cfg, unsigned vid);
/* Number of member VLANs. */
unsigned vlan_cfg_count(const struct vlan_cfg *cfg);

/* Parses the value of the `vlan` key. Returns 0, or -1 after writing into
 * err a message that names the key, the value and what is wrong. */
int vlan_cfg_parse_xl(const char *value, struct vlan_cfg *out, char *err, size_t errlen);

/* Parses the value of the `bridge` key: the bridge name goes to bridge (at
 * most VLAN_IFNAMSIZ bytes with its NUL), the VLAN part (possibly empty) to
 * out. Returns 0, or -1 with a message naming the key and the value. */
int vlan_cfg_parse_bridge(const char *value, char bridge[VLAN_IFNAMSIZ], struct vlan_cfg *out,
                          char *err, size_t errlen);

#endif
