/* Removing a dead guest's vif interfaces. pvback-net's taps vanish with its
 * process unless they were made persistent; this catches those and anything
 * else named like the guest's vifs, as Xen's vif scripts would on offline. */
#include <errno.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "log.h"
#include "watch.h"

bool watch_tap_domid(const char *ifname, uint32_t *domid)
{
    uint64_t v = 0;
    const char *p = ifname;

    if (strncmp(p, "vif", 3))
        return false;
    p += 3;
    if (*p < '0' || *p > '9' || (*p == '0' && p[1] != '.'))
        return false;
    while (*p >= '0' && *p <= '9') {
        v = v * 10 + (uint64_t)(*p++ - '0');
        if (v > 0x7fef)
            return false;
    }
    if (*p++ != '.' || *p < '0' || *p > '9')
        return false;
    while (*p >= '0' && *p <= '9')
        p++;
    /* "vif3.0" or a derived name such as "vif3.0-emu"; not "vif3.0x". */
    if (*p != '\0' && *p != '-')
        return false;
    *domid = (uint32_t)v;
    return true;
}

bool watch_is_guest_tap(const char *ifname, uint32_t domid)
{
    uint32_t d;
    return watch_tap_domid(ifname, &d) && d == domid;
}

void watch_tap_domains(void (*cb)(uint32_t domid, void *arg), void *arg)
{
    struct if_nameindex *ifs = if_nameindex();
    uint32_t domid;

    if (!ifs)
        return;
    for (struct if_nameindex *i = ifs; i->if_index; i++)
        if (watch_tap_domid(i->if_name, &domid))
            cb(domid, arg);
    if_freenameindex(ifs);
}

/* RTM_DELLINK for one interface; 0 or -errno. */
static int del_link(int nl, unsigned ifindex)
{
    struct {
        struct nlmsghdr nh;
        struct ifinfomsg ifi;
    } req = {
        .nh = {.nlmsg_len = sizeof(req),
               .nlmsg_type = RTM_DELLINK,
               .nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK,
               .nlmsg_seq = 1},
        .ifi = {.ifi_family = AF_UNSPEC, .ifi_index = (int)ifindex},
    };
    char buf[512];

    if (send(nl, &req, sizeof(req), 0) < 0)
        return -errno;
    ssize_t n = recv(nl, buf, sizeof(buf), 0);
    if (n < 0)
        return -errno;
    struct nlmsghdr *nh = (struct nlmsghdr *)buf;
    if ((size_t)n >= sizeof(*nh) + sizeof(struct nlmsgerr) && nh->nlmsg_type == NLMSG_ERROR)
        return ((struct nlmsgerr *)NLMSG_DATA(nh))->error;
    return 0;
}

int watch_delete_taps(uint32_t domid)
{
    struct if_nameindex *ifs = if_nameindex();
    int deleted = 0, nl = -1;

    if (!ifs)
        return 0;
    for (struct if_nameindex *i = ifs; i->if_index; i++) {
        if (!watch_is_guest_tap(i->if_name, domid))
            continue;
        if (nl < 0)
            nl = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
        int rc = nl < 0 ? -errno : del_link(nl, i->if_index);
        if (rc < 0)
            pv_warn("domain %u: cannot delete %s: %s", domid, i->if_name, strerror(-rc));
        else {
            pv_info("domain %u: deleted %s", domid, i->if_name);
            deleted++;
        }
    }
    if (nl >= 0)
        close(nl);
    if_freenameindex(ifs);
    return deleted;
}
