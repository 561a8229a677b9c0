/* rtnetlink for the host side of vifs, with libmnl (no `ip` or `bridge`
 * commands): link MTU, state and bridge (IFLA_MASTER); whether a bridge
 * filters VLANs; and a bridge port's VLANs where it does. Every call works
 * in the network namespace of the calling thread. Errors are -errno, as the
 * kernel answered them. */
#ifndef PVBACK_NETBACK_NETLINK_H
#define PVBACK_NETBACK_NETLINK_H

#include <net/if.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vlan_cfg.h"

struct nl;

/* Opens a NETLINK_ROUTE socket. NULL with errno set on failure. */
struct nl *nl_open(void);
void nl_close(struct nl *nl);

struct nl_link_info {
    unsigned ifindex;
    char name[IFNAMSIZ];
    unsigned mtu;
    unsigned master;    /* ifindex of the bridge, 0 when none */
    unsigned flags;     /* IFF_UP, IFF_RUNNING, ... */
    char kind[16];      /* IFLA_INFO_KIND ("bridge", "tun", "veth") or "" */
    int vlan_filtering; /* bridges: IFLA_BR_VLAN_FILTERING, -1 when not reported */
};

int nl_link_get(struct nl *nl, unsigned ifindex, struct nl_link_info *out);

/* Changes a link: mtu (0: unchanged), master (0: unchanged), MAC address
 * (NULL: unchanged), up. */
struct nl_link_change {
    unsigned mtu;
    unsigned master;
    const uint8_t *mac; /* 6 bytes */
    bool set_up;
};
int nl_link_set(struct nl *nl, unsigned ifindex, const struct nl_link_change *chg);

enum nl_br_vlan {
    NL_BR_VLAN_UNSUPPORTED, /* the kernel has no bridge VLAN filtering */
    NL_BR_VLAN_OFF,         /* it has, but this bridge does not filter */
    NL_BR_VLAN_ON,          /* the bridge filters: configure its ports */
};
/* What a bridge can do with VLANs; -errno on failure (e.g. -ENODEV). Only
 * NL_BR_VLAN_ON lets the kernel do the work: in the two other cases
 * netback tags and filters itself (vlan_tag.h). */
int nl_bridge_vlan_mode(struct nl *nl, unsigned bridge_ifindex);

/* Configures a bridge port's VLANs per cfg: the PVID (pvid untagged), the
 * other members tagged or untagged, and removes the bridge's default VLAN 1
 * unless cfg has it. Needs NL_BR_VLAN_ON. */
int nl_bridge_port_vlans(struct nl *nl, unsigned port_ifindex, const struct vlan_cfg *cfg);

/* Builds the RTM_SETLINK (add, del=false) or RTM_DELLINK (del=true) message
 * for a port's VLAN list into buf (len bytes; NL_VLAN_MSG_MAX is always
 * enough), with ranges where flags allow. Returns the message length, 0 if
 * buf is too small. Exposed so that the message can be tested on kernels
 * without VLAN filtering. */
#define NL_VLAN_MSG_MAX (64u * 1024u)
size_t nl_build_port_vlans(void *buf, size_t len, unsigned port_ifindex, const struct vlan_cfg *cfg,
                           bool del, uint32_t seq);

#endif
