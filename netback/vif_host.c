/* The host side of a vif: its tap, the bridge it joins, its MTU and its
 * VLANs, in two steps as Linux netback and its hotplug script share them:
 *
 *  - vif_host_create, at probe, before InitWait: only cheap work. The bridge
 *    and vlan keys are read and checked (a bad value fails the vif before
 *    InitWait), and the tap vif<domid>.<handle> is made with netback's MAC,
 *    down and on no bridge. Linux netback registers its interface in the
 *    same probe call that writes InitWait, so the interface exists when
 *    libxl runs the hotplug script; so does the tap.
 *  - vif_host_setup_soon, once the vif is in InitWait and its hotplug
 *    script reported connected (what vif-bridge does for Linux netback):
 *    the bridge, the MTU, the link up, the VLANs. Under emulation this took
 *    seconds for a port of a VLAN bridge, and libxl gives a backend only
 *    10 s (compiled in) to reach InitWait; after InitWait, it runs under
 *    the hotplug timeout, and the vif is not Connected until it is done
 *    (vif_xenbus.c: ready()). The script may even create the bridge. */
#include <errno.h>
#include <linux/if_tun.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "netlink.h"
#include "vif.h"

/* Reads an optional string key of the backend directory: 0 with *out (NULL
 * when absent), -1 after failing the device. */
static int be_str(struct vif *v, const char *key, char **out)
{
    struct pv_xs *xs = pv_xenbus_dev_xs(v->xdev);
    *out = NULL;
    if (pv_xs_read_str(xs, XBT_NULL, pv_xenbus_dev_be_path(v->xdev), key, out) == 0 ||
        errno == ENOENT)
        return 0;
    pv_xenbus_dev_fatal(v->xdev, errno, "%s", pv_xs_error(xs));
    return -1;
}

/* The VLANs from the vlan key and/or the bridge key's VLAN part. */
static int read_vlans(struct vif *v, const char *bridge_key)
{
    struct vlan_cfg from_bridge;
    char err[256];
    vlan_cfg_clear(&v->vlan);
    vlan_cfg_clear(&from_bridge);
    v->bridge[0] = '\0';
    if (bridge_key &&
        vlan_cfg_parse_bridge(bridge_key, v->bridge, &from_bridge, err, sizeof(err)) < 0) {
        pv_xenbus_dev_fatal(v->xdev, EINVAL, "%s", err);
        return -1;
    }
    char *vlan_key = NULL;
    if (be_str(v, "vlan", &vlan_key) < 0)
        return -1;
    if (vlan_key && vlan_cfg_parse_xl(vlan_key, &v->vlan, err, sizeof(err)) < 0) {
        pv_xenbus_dev_fatal(v->xdev, EINVAL, "%s", err);
        free(vlan_key);
        return -1;
    }
    free(vlan_key);
    if (vlan_cfg_active(&from_bridge)) {
        if (vlan_cfg_active(&v->vlan)) {
            pv_xenbus_dev_fatal(v->xdev, EINVAL,
                                "VLANs given twice: in vlan= and in bridge='%s'; use one",
                                bridge_key);
            return -1;
        }
        v->vlan = from_bridge;
    }
    if (vlan_cfg_active(&v->vlan) && !v->bridge[0]) {
        pv_xenbus_dev_fatal(v->xdev, EINVAL, "vlan is set but the vif joins no bridge");
        return -1;
    }
    return 0;
}

/* Kernel VLAN filtering where the bridge does it, else tagging here. */
static int setup_vlans(struct vif *v, unsigned br, unsigned port)
{
    if (!vlan_cfg_active(&v->vlan))
        return 0;
    int mode = nl_bridge_vlan_mode(v->nl, br);
    if (mode == NL_BR_VLAN_ON) {
        int r = nl_bridge_port_vlans(v->nl, port, &v->vlan);
        if (r < 0) {
            pv_xenbus_dev_fatal(v->xdev, -r, "configuring VLANs of %s on bridge %s: %s",
                                v->tap.name, v->bridge, strerror(-r));
            return -1;
        }
        pv_dev_info(v->xdev, "VLANs (PVID %u, %u VLANs) filtered by bridge %s", v->vlan.pvid,
                    vlan_cfg_count(&v->vlan), v->bridge);
        vlan_cfg_clear(&v->vlan);
        return 0;
    }
    pv_dev_info(v->xdev, "bridge %s does not filter VLANs: tagging in netback (PVID %u, %u VLANs)",
                v->bridge, v->vlan.pvid, vlan_cfg_count(&v->vlan));
    return 0;
}

/* The bridge the bridge key names, checked: its ifindex (0: no bridge key),
 * or -1 after failing the vif. Its MTU goes to *mtu. */
static int find_bridge(struct vif *v, unsigned *mtu)
{
    if (!v->bridge[0])
        return 0;
    unsigned br = if_nametoindex(v->bridge);
    if (!br) {
        pv_xenbus_dev_fatal(v->xdev, ENODEV, "bridge='%s': bridge %s does not exist", v->bridge_key,
                            v->bridge);
        return -1;
    }
    struct nl_link_info bi;
    int r = nl_link_get(v->nl, br, &bi);
    if (r < 0) {
        pv_xenbus_dev_fatal(v->xdev, -r, "bridge='%s': reading %s: %s", v->bridge_key, v->bridge,
                            strerror(-r));
        return -1;
    }
    if (strcmp(bi.kind, "bridge")) {
        pv_xenbus_dev_fatal(v->xdev, ENOTSUP, "bridge='%s': %s is not a bridge", v->bridge_key,
                            v->bridge);
        return -1;
    }
    if (bi.mtu)
        *mtu = bi.mtu;
    return (int)br;
}

/* The slow part: bridge, MTU, link up, VLANs. 0, or -1 after failing the
 * vif. */
static int host_setup(struct vif *v)
{
    struct pv_xenbus_dev *dev = v->xdev;
    struct pv_xs *xs = pv_xenbus_dev_xs(dev);

    /* MTU: the mtu key, else the bridge's (as xl documents), else 1500. */
    v->mtu = 1500;
    int br = find_bridge(v, &v->mtu);
    if (br < 0)
        return -1;
    if (pv_xs_read_uint(xs, XBT_NULL, pv_xenbus_dev_be_path(dev), "mtu", 68, 65535, &v->mtu) < 0 &&
        errno != ENOENT) {
        pv_xenbus_dev_fatal(dev, errno, "%s", pv_xs_error(xs));
        return -1;
    }
    unsigned port = if_nametoindex(v->tap.name);
    struct nl_link_change chg = {.mtu = v->mtu, .master = (unsigned)br, .set_up = true};
    int r = port ? nl_link_set(v->nl, port, &chg) : -ENODEV;
    if (r < 0) {
        pv_xenbus_dev_fatal(dev, -r, "setting up %s (mtu %u%s%s): %s", v->tap.name, v->mtu,
                            br ? ", bridge " : "", v->bridge, strerror(-r));
        return -1;
    }
    if (setup_vlans(v, (unsigned)br, port) < 0)
        return -1;
    pv_dev_info(dev, "tap %s, mtu %u%s%s", v->tap.name, v->mtu, br ? ", bridge " : "", v->bridge);
    return 0;
}

static void on_setup_timer(struct pv_timer *t, void *arg)
{
    struct vif *v = arg;
    (void)t;
    /* Only in InitWait: the toolstack may have closed the vif meanwhile, and
     * a set-up that failed is tried again only when the vif comes back to
     * InitWait (the frontend reconnecting). */
    if (v->host_ready || pv_xenbus_dev_state(v->xdev) != XenbusStateInitWait)
        return;
    if (host_setup(v) < 0)
        return;
    v->host_ready = true;
    pv_xenbus_dev_kick(v->xdev); /* ready() now says yes */
}

/* Linux netback's MAC for every vif: the bridge never takes a guest's
 * address as its own. */
static const uint8_t vif_mac[6] = {0xfe, 0xff, 0xff, 0xff, 0xff, 0xff};

int vif_host_create(struct vif *v)
{
    struct pv_xenbus_dev *dev = v->xdev;
    char name[IFNAMSIZ], err[256];

    if (tap_vif_name(name, pv_xenbus_dev_fe_domid(dev), pv_xenbus_dev_devid(dev)) < 0) {
        pv_xenbus_dev_fatal(dev, EINVAL, "handle %u too large for an interface name",
                            pv_xenbus_dev_devid(dev));
        return -1;
    }
    if (be_str(v, "bridge", &v->bridge_key) < 0 || read_vlans(v, v->bridge_key) < 0)
        return -1;
    v->setup_timer = pv_timer_new(v->loop, on_setup_timer, v);
    if (!v->setup_timer) {
        pv_xenbus_dev_fatal(dev, errno, "timer: %s", strerror(errno));
        return -1;
    }
    v->nl = nl_open();
    if (!v->nl) {
        pv_xenbus_dev_fatal(dev, errno, "netlink: %s", strerror(errno));
        return -1;
    }
    int r = tap_open(&v->tap, name, 1, err, sizeof(err));
    if (r < 0) {
        pv_xenbus_dev_fatal(dev, -r, "%s", err);
        return -1;
    }
    struct nl_link_change chg = {.mac = vif_mac};
    unsigned port = if_nametoindex(name);
    r = port ? nl_link_set(v->nl, port, &chg) : -ENODEV;
    if (r < 0) {
        pv_xenbus_dev_fatal(dev, -r, "setting the MAC of %s: %s", name, strerror(-r));
        return -1;
    }
    return 0;
}

void vif_host_setup_soon(struct vif *v)
{
    if (v->setup_timer && pv_timer_arm(v->setup_timer, 0, 0) < 0)
        pv_xenbus_dev_fatal(v->xdev, errno, "cannot arm the set-up timer: %s", strerror(errno));
}

void vif_host_teardown(struct vif *v)
{
    if (!v->xdev)
        return; /* never probed: nothing was opened */
    pv_timer_free(v->setup_timer);
    v->setup_timer = NULL;
    tap_close(&v->tap);
    nl_close(v->nl);
    v->nl = NULL;
    free(v->bridge_key);
    v->bridge_key = NULL;
}

int vif_host_set_offloads(struct vif *v)
{
    /* What the frontend can receive decides what the kernel may hand us:
     * partial checksums only if it takes them for IPv4 and IPv6 alike, TSO
     * only with scatter-gather (a GSO frame spans pages). */
    unsigned flags = 0;
    if (v->fe_csum && v->fe_csum6) {
        flags |= TUN_F_CSUM;
        if (v->fe_sg && v->fe_gso4)
            flags |= TUN_F_TSO4;
        if (v->fe_sg && v->fe_gso6)
            flags |= TUN_F_TSO6;
    }
    int r = tap_set_offload(&v->tap, flags);
    if (r < 0) {
        pv_xenbus_dev_fatal(v->xdev, -r, "tap offloads %#x: %s", flags, strerror(-r));
        return -1;
    }
    return 0;
}

int vif_host_set_mtu(struct vif *v)
{
    unsigned mtu = !v->fe_sg && v->mtu > 1500 ? 1500 : v->mtu;
    struct nl_link_change chg = {.mtu = mtu};
    int r = nl_link_set(v->nl, if_nametoindex(v->tap.name), &chg);
    if (r < 0) {
        pv_xenbus_dev_fatal(v->xdev, -r, "%s: mtu %u: %s", v->tap.name, mtu, strerror(-r));
        return -1;
    }
    return 0;
}
