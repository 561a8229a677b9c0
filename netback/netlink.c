/* rtnetlink with libmnl for taps and bridges; see netlink.h. */
#include "netlink.h"

#include <errno.h>
#include <libmnl/libmnl.h>
#include <linux/if_bridge.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

struct nl {
    struct mnl_socket *sock;
    uint32_t portid;
    uint32_t seq;
    char *buf; /* NL_VLAN_MSG_MAX bytes: requests and answers */
};

struct nl *nl_open(void)
{
    struct nl *nl = calloc(1, sizeof(*nl));
    if (!nl)
        return NULL;
    nl->buf = malloc(NL_VLAN_MSG_MAX);
    nl->sock = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC);
    if (!nl->buf || !nl->sock || mnl_socket_bind(nl->sock, 0, MNL_SOCKET_AUTOPID) < 0) {
        int e = errno;
        nl_close(nl);
        errno = e;
        return NULL;
    }
    nl->portid = mnl_socket_get_portid(nl->sock);
    nl->seq = (uint32_t)time(NULL);
    return nl;
}

void nl_close(struct nl *nl)
{
    if (!nl)
        return;
    if (nl->sock)
        mnl_socket_close(nl->sock);
    free(nl->buf);
    free(nl);
}

/* Sends the request in nl->buf and reads answers until the kernel's ACK
 * (or the end of a dump), passing data messages to cb. Returns 0 or
 * -errno. */
static int talk(struct nl *nl, const struct nlmsghdr *req, mnl_cb_t cb, void *data)
{
    if (mnl_socket_sendto(nl->sock, req, req->nlmsg_len) < 0)
        return -errno;
    uint32_t seq = req->nlmsg_seq;
    for (;;) {
        ssize_t n = mnl_socket_recvfrom(nl->sock, nl->buf, NL_VLAN_MSG_MAX);
        if (n < 0)
            return -errno;
        int r = mnl_cb_run(nl->buf, (size_t)n, seq, nl->portid, cb, data);
        if (r < 0)
            return errno ? -errno : -EIO;
        if (r == MNL_CB_STOP)
            return 0;
    }
}

static struct nlmsghdr *start_msg(struct nl *nl, uint16_t type, uint16_t flags)
{
    /* libmnl does not zero attribute padding: start from zeroes, so that
     * no stale byte goes to the kernel (these requests are small). */
    memset(nl->buf, 0, 4096);
    struct nlmsghdr *nlh = mnl_nlmsg_put_header(nl->buf);
    nlh->nlmsg_type = type;
    nlh->nlmsg_flags = NLM_F_REQUEST | flags;
    nlh->nlmsg_seq = ++nl->seq;
    return nlh;
}

/* --- reading a link --- */

static int linkinfo_cb(const struct nlattr *attr, void *data)
{
    struct nl_link_info *info = data;
    if (mnl_attr_get_type(attr) == IFLA_INFO_KIND &&
        mnl_attr_validate(attr, MNL_TYPE_NUL_STRING) == 0) {
        snprintf(info->kind, sizeof(info->kind), "%s", mnl_attr_get_str(attr));
    }
    return MNL_CB_OK;
}

static int bridge_data_cb(const struct nlattr *attr, void *data)
{
    struct nl_link_info *info = data;
    if (mnl_attr_get_type(attr) == IFLA_BR_VLAN_FILTERING &&
        mnl_attr_validate(attr, MNL_TYPE_U8) == 0)
        info->vlan_filtering = mnl_attr_get_u8(attr);
    return MNL_CB_OK;
}

static int link_attr_cb(const struct nlattr *attr, void *data)
{
    struct nl_link_info *info = data;
    switch (mnl_attr_get_type(attr)) {
    case IFLA_IFNAME:
        if (mnl_attr_validate(attr, MNL_TYPE_NUL_STRING) == 0)
            snprintf(info->name, sizeof(info->name), "%s", mnl_attr_get_str(attr));
        break;
    case IFLA_MTU:
        if (mnl_attr_validate(attr, MNL_TYPE_U32) == 0)
            info->mtu = mnl_attr_get_u32(attr);
        break;
    case IFLA_MASTER:
        if (mnl_attr_validate(attr, MNL_TYPE_U32) == 0)
            info->master = mnl_attr_get_u32(attr);
        break;
    case IFLA_LINKINFO:
        if (mnl_attr_validate(attr, MNL_TYPE_NESTED) == 0) {
            mnl_attr_parse_nested(attr, linkinfo_cb, info);
            /* IFLA_INFO_DATA's layout depends on the kind: read it only
             * for bridges, once the kind is known. */
            const struct nlattr *a;
            mnl_attr_for_each_nested(a, attr)
            {
                if (mnl_attr_get_type(a) == IFLA_INFO_DATA && strcmp(info->kind, "bridge") == 0 &&
                    mnl_attr_validate(a, MNL_TYPE_NESTED) == 0)
                    mnl_attr_parse_nested(a, bridge_data_cb, info);
            }
        }
        break;
    }
    return MNL_CB_OK;
}

static int link_msg_cb(const struct nlmsghdr *nlh, void *data)
{
    struct nl_link_info *info = data;
    const struct ifinfomsg *ifm = mnl_nlmsg_get_payload(nlh);
    info->ifindex = (unsigned)ifm->ifi_index;
    info->flags = ifm->ifi_flags;
    return mnl_attr_parse(nlh, sizeof(*ifm), link_attr_cb, info);
}

int nl_link_get(struct nl *nl, unsigned ifindex, struct nl_link_info *out)
{
    memset(out, 0, sizeof(*out));
    out->vlan_filtering = -1;
    /* With an ACK after the answer, talk() knows when the exchange is over. */
    struct nlmsghdr *nlh = start_msg(nl, RTM_GETLINK, NLM_F_ACK);
    struct ifinfomsg *ifm = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifm));
    ifm->ifi_family = AF_UNSPEC;
    ifm->ifi_index = (int)ifindex;
    int r = talk(nl, nlh, link_msg_cb, out);
    if (r == 0 && out->ifindex != ifindex)
        return -ENODEV;
    return r;
}

/* --- changing a link --- */

int nl_link_set(struct nl *nl, unsigned ifindex, const struct nl_link_change *chg)
{
    struct nlmsghdr *nlh = start_msg(nl, RTM_NEWLINK, NLM_F_ACK);
    struct ifinfomsg *ifm = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifm));
    ifm->ifi_family = AF_UNSPEC;
    ifm->ifi_index = (int)ifindex;
    if (chg->set_up) {
        ifm->ifi_flags = IFF_UP;
        ifm->ifi_change = IFF_UP;
    }
    if (chg->mtu)
        mnl_attr_put_u32(nlh, IFLA_MTU, chg->mtu);
    if (chg->master)
        mnl_attr_put_u32(nlh, IFLA_MASTER, chg->master);
    if (chg->mac)
        mnl_attr_put(nlh, IFLA_ADDRESS, 6, chg->mac);
    return talk(nl, nlh, NULL, NULL);
}

int nl_bridge_vlan_mode(struct nl *nl, unsigned bridge_ifindex)
{
    struct nl_link_info info;
    int r = nl_link_get(nl, bridge_ifindex, &info);
    if (r)
        return r;
    if (strcmp(info.kind, "bridge") != 0)
        return -EINVAL;
    /* Kernels built without CONFIG_BRIDGE_VLAN_FILTERING do not report the
     * attribute at all. */
    if (info.vlan_filtering < 0)
        return NL_BR_VLAN_UNSUPPORTED;
    return info.vlan_filtering ? NL_BR_VLAN_ON : NL_BR_VLAN_OFF;
}

/* --- a bridge port's VLANs --- */

static bool put_vlan_info(struct nlmsghdr *nlh, size_t len, uint16_t flags, uint16_t vid)
{
    struct bridge_vlan_info vi = {.flags = flags, .vid = vid};
    return mnl_attr_put_check(nlh, len, IFLA_BRIDGE_VLAN_INFO, sizeof(vi), &vi);
}

size_t nl_build_port_vlans(void *buf, size_t len, unsigned port_ifindex, const struct vlan_cfg *cfg,
                           bool del, uint32_t seq)
{
    if (len < MNL_NLMSG_HDRLEN + MNL_ALIGN(sizeof(struct ifinfomsg)) + 64)
        return 0;
    memset(buf, 0, len); /* attribute padding included (see start_msg) */
    struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
    nlh->nlmsg_type = del ? RTM_DELLINK : RTM_SETLINK;
    nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
    nlh->nlmsg_seq = seq;
    struct ifinfomsg *ifm = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifm));
    ifm->ifi_family = AF_BRIDGE;
    ifm->ifi_index = (int)port_ifindex;

    struct nlattr *spec = mnl_attr_nest_start_check(nlh, len, IFLA_AF_SPEC);
    if (!spec)
        return 0;
    /* The PVID stands alone (the kernel refuses it inside a range); the
     * other members go as runs of consecutive VIDs with the same flags. */
    if (cfg->pvid &&
        !put_vlan_info(nlh, len, BRIDGE_VLAN_INFO_PVID | BRIDGE_VLAN_INFO_UNTAGGED, cfg->pvid))
        return 0;
    unsigned vid = VLAN_VID_MIN;
    while (vid <= VLAN_VID_MAX) {
        if (vid == cfg->pvid || !vlan_cfg_is_member(cfg, vid)) {
            vid++;
            continue;
        }
        bool untagged = vlan_cfg_is_untagged(cfg, vid);
        unsigned last = vid;
        while (last + 1 <= VLAN_VID_MAX && last + 1 != cfg->pvid &&
               vlan_cfg_is_member(cfg, last + 1) && vlan_cfg_is_untagged(cfg, last + 1) == untagged)
            last++;
        uint16_t flags = untagged ? BRIDGE_VLAN_INFO_UNTAGGED : 0;
        if (last == vid) {
            if (!put_vlan_info(nlh, len, flags, (uint16_t)vid))
                return 0;
        } else if (!put_vlan_info(nlh, len, flags | BRIDGE_VLAN_INFO_RANGE_BEGIN, (uint16_t)vid) ||
                   !put_vlan_info(nlh, len, flags | BRIDGE_VLAN_INFO_RANGE_END, (uint16_t)last)) {
            return 0;
        }
        vid = last + 1;
    }
    mnl_attr_nest_end(nlh, spec);
    return nlh->nlmsg_len;
}

int nl_bridge_port_vlans(struct nl *nl, unsigned port_ifindex, const struct vlan_cfg *cfg)
{
    /* A new bridge port is in the bridge's default VLAN (1, untagged, PVID):
     * take it out unless the vif is meant to be there. */
    if (!vlan_cfg_is_member(cfg, 1)) {
        struct vlan_cfg dflt;
        vlan_cfg_clear(&dflt);
        dflt.member[0] = 1u << 1;
        size_t n =
            nl_build_port_vlans(nl->buf, NL_VLAN_MSG_MAX, port_ifindex, &dflt, true, ++nl->seq);
        int r = n ? talk(nl, (struct nlmsghdr *)nl->buf, NULL, NULL) : -EMSGSIZE;
        if (r && r != -ENOENT)
            return r;
    }
    size_t n = nl_build_port_vlans(nl->buf, NL_VLAN_MSG_MAX, port_ifindex, cfg, false, ++nl->seq);
    if (!n)
        return -EMSGSIZE;
    return talk(nl, (struct nlmsghdr *)nl->buf, NULL, NULL);
}
