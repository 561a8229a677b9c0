/* The host side of a vif in a private network namespace: the tap that
 * pvback-net creates, its MTU, bridge and link state set over netlink, and
 * frames crossing a plain Linux bridge between the tap and a veth, tagged
 * and untagged. iproute2 builds the scene and checks the results
 * independently of the code under test. Needs root (CAP_NET_ADMIN); skipped
 * otherwise. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <libmnl/libmnl.h>
#include <linux/if_bridge.h>
#include <linux/if_packet.h>
#include <linux/rtnetlink.h>
#include <linux/if_tun.h>
#include <net/ethernet.h>
#include <poll.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "netlink.h"
#include "tap.h"

#define BRIDGE  "pvbr0"
#define VETH_A  "pvva" /* bridge side */
#define VETH_B  "pvvb" /* where the "peer host" listens */
#define TESTETH 0x88b5 /* IEEE local experimental ethertype: no stack answers it */

static bool netns_ok;

static int run(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int run(const char *fmt, ...)
{
    char cmd[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof(cmd), fmt, ap);
    va_end(ap);
    return system(cmd);
}

/* The whole output of `ip -d -o link show dev NAME` (one line), or "" when
 * the device does not exist. */
static const char *ip_link(const char *name)
{
    static char out[8192];
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "ip -d -o link show dev %s 2>/dev/null", name);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    size_t n = fread(out, 1, sizeof(out) - 1, p);
    out[n] = '\0';
    pclose(p);
    return out;
}

static void assert_contains(const char *hay, const char *needle)
{
    if (!strstr(hay, needle))
        fail_msg("'%s' not in: %s", needle, hay);
}

/* A private network namespace for the whole run: nothing here touches the
 * host's interfaces, and everything vanishes with the process. */
static int setup(void **state)
{
    (void)state;
    if (unshare(CLONE_NEWNET) != 0) {
        fprintf(stderr, "no private network namespace (%s): tests skipped\n", strerror(errno));
        return 0;
    }
    netns_ok = true;
    if (run("ip link set lo up && ip link add " BRIDGE " type bridge forward_delay 0 && "
            "ip link add " VETH_A " type veth peer name " VETH_B " && "
            "ip link set " VETH_A " master " BRIDGE " && ip link set " VETH_A " up && "
            "ip link set " VETH_B " up && ip link set " BRIDGE " up") != 0)
        return -1;
    return 0;
}

#define REQUIRE_NETNS()                                                                            \
    do {                                                                                           \
        if (!netns_ok)                                                                             \
            skip();                                                                                \
    } while (0)

static void test_vif_names(void **state)
{
    (void)state;
    char name[IFNAMSIZ];
    assert_int_equal(tap_vif_name(name, 5, 0), 0);
    assert_string_equal(name, "vif5.0");
    assert_int_equal(tap_vif_name(name, 32752, 1234), 0);
    assert_string_equal(name, "vif32752.1234");
    assert_int_equal(tap_vif_name(name, 4000000000u, 4000000000u), -1);
}

static void test_tap_lifecycle(void **state)
{
    (void)state;
    REQUIRE_NETNS();
    struct tap t;
    char err[256];
    assert_int_equal(tap_open(&t, "vif5.0", 1, err, sizeof(err)), 0);
    assert_int_equal(t.nqueues, 1);
    const char *l = ip_link("vif5.0");
    assert_contains(l, "tun type tap");
    assert_contains(l, "vnet_hdr on");
    assert_contains(l, "persist off");
    assert_contains(l, "multi_queue numqueues 1");

    /* A second vif with the same name is refused, and says why. */
    struct tap t2;
    assert_int_equal(tap_open(&t2, "vif5.0", 1, err, sizeof(err)), -EEXIST);
    assert_contains(err, "vif5.0");

    assert_int_equal(tap_set_offload(&t, TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6), 0);
    assert_int_equal(tap_set_offload(&t, 0), 0);
    assert_int_equal(tap_set_offload(&t, TUN_F_TSO4), -EINVAL); /* TSO needs CSUM */

    tap_close(&t);
    assert_string_equal(ip_link("vif5.0"), ""); /* gone with its fds */
}

static void test_multi_queue_tap(void **state)
{
    (void)state;
    REQUIRE_NETNS();
    struct tap t;
    char err[256];
    assert_int_equal(tap_open(&t, "vif6.1", 4, err, sizeof(err)), 0);
    assert_int_equal(t.nqueues, 4);
    for (int i = 0; i < 4; i++)
        assert_true(t.fds[i] >= 0);
    const char *l = ip_link("vif6.1");
    assert_contains(l, "multi_queue numqueues 4");
    /* A reconnect with fewer queues, then more: queue 0 stays. */
    int fd0 = t.fds[0];
    assert_int_equal(tap_set_queues(&t, 2, err, sizeof(err)), 0);
    assert_int_equal(t.fds[0], fd0);
    assert_int_equal(t.fds[2], -1);
    assert_contains(ip_link("vif6.1"), "multi_queue numqueues 2");
    assert_int_equal(tap_set_queues(&t, 3, err, sizeof(err)), 0);
    assert_contains(ip_link("vif6.1"), "multi_queue numqueues 3");
    assert_int_equal(tap_set_queues(&t, 0, err, sizeof(err)), -EINVAL);
    tap_close(&t);
    assert_string_equal(ip_link("vif6.1"), "");

    assert_int_equal(tap_open(&t, "vif6.2", 0, err, sizeof(err)), -EINVAL);
    assert_int_equal(tap_open(&t, "vif6.2", TAP_MAX_QUEUES + 1, err, sizeof(err)), -EINVAL);
    assert_contains(err, "queues");
    assert_int_equal(tap_open(&t, "a-name-too-long-for-linux", 1, err, sizeof(err)), -EINVAL);
}

static void test_mtu_master_up(void **state)
{
    (void)state;
    REQUIRE_NETNS();
    struct tap t;
    char err[256];
    assert_int_equal(tap_open(&t, "vif7.0", 1, err, sizeof(err)), 0);
    struct nl *nl = nl_open();
    assert_non_null(nl);
    unsigned idx = if_nametoindex("vif7.0"), br = if_nametoindex(BRIDGE);
    assert_true(idx && br);

    static const uint8_t mac[6] = {0xfe, 0xff, 0xff, 0xff, 0xff, 0xff};
    struct nl_link_change chg = {.mtu = 9000, .master = br, .mac = mac, .set_up = true};
    assert_int_equal(nl_link_set(nl, idx, &chg), 0);
    const char *l = ip_link("vif7.0");
    assert_contains(l, "link/ether fe:ff:ff:ff:ff:ff");
    assert_contains(l, "mtu 9000");
    assert_contains(l, "master " BRIDGE);
    assert_contains(l, ",UP,LOWER_UP>"); /* up, and an open tap has carrier */

    struct nl_link_info info;
    assert_int_equal(nl_link_get(nl, idx, &info), 0);
    assert_string_equal(info.name, "vif7.0");
    assert_int_equal(info.mtu, 9000);
    assert_int_equal(info.master, br);
    assert_true(info.flags & IFF_UP);
    assert_string_equal(info.kind, "tun");
    assert_int_equal(info.vlan_filtering, -1);

    /* Errors come back as the kernel's errno. */
    struct nl_link_change bad = {.mtu = 20};
    assert_int_equal(nl_link_set(nl, idx, &bad), -EINVAL);
    assert_int_equal(nl_link_get(nl, 999999, &info), -ENODEV);
    assert_int_equal(nl_link_set(nl, 999999, &chg), -ENODEV);

    nl_close(nl);
    tap_close(&t);
}

/* What iproute2 says of the bridge's VLAN filtering: 1, 0, or -1 (not
 * reported at all). */
static int ip_vlan_filtering(void)
{
    const char *p = strstr(ip_link(BRIDGE), "vlan_filtering ");
    return p ? atoi(p + strlen("vlan_filtering ")) : -1;
}

static void test_bridge_vlan_detection(void **state)
{
    (void)state;
    REQUIRE_NETNS();
    struct nl *nl = nl_open();
    assert_non_null(nl);
    unsigned br = if_nametoindex(BRIDGE);
    int want = ip_vlan_filtering();
    int mode = nl_bridge_vlan_mode(nl, br);
    assert_int_equal(mode, want < 0 ? NL_BR_VLAN_UNSUPPORTED
                           : want   ? NL_BR_VLAN_ON
                                    : NL_BR_VLAN_OFF);
    /* A fresh bridge never filters: netback must tag by itself. */
    assert_int_not_equal(mode, NL_BR_VLAN_ON);

    /* Where the kernel can filter, turning it on is seen, and a port's
     * VLANs can be configured (this machine's kernel cannot: then the
     * attempt fails and the mode stays). */
    if (run("ip link set " BRIDGE " type bridge vlan_filtering 1 2>/dev/null") == 0) {
        assert_int_equal(nl_bridge_vlan_mode(nl, br), NL_BR_VLAN_ON);
        struct tap t;
        char err[256];
        assert_int_equal(tap_open(&t, "vif8.0", 1, err, sizeof(err)), 0);
        unsigned idx = if_nametoindex("vif8.0");
        struct nl_link_change chg = {.master = br, .set_up = true};
        assert_int_equal(nl_link_set(nl, idx, &chg), 0);
        struct vlan_cfg cfg;
        assert_int_equal(vlan_cfg_parse_xl("10p/20-22", &cfg, err, sizeof(err)), 0);
        assert_int_equal(nl_bridge_port_vlans(nl, idx, &cfg), 0);
        FILE *p = popen("bridge -o vlan show dev vif8.0", "r");
        char out[1024] = "";
        size_t n = fread(out, 1, sizeof(out) - 1, p);
        out[n] = '\0';
        pclose(p);
        assert_contains(out, "10 PVID Egress Untagged");
        assert_contains(out, "20");
        assert_contains(out, "22");
        tap_close(&t);
        run("ip link set " BRIDGE " type bridge vlan_filtering 0");
    } else {
        assert_int_equal(nl_bridge_vlan_mode(nl, br), mode);
    }

    /* Not a bridge, no such device. */
    struct tap t;
    char err[256];
    assert_int_equal(tap_open(&t, "vif9.0", 1, err, sizeof(err)), 0);
    assert_int_equal(nl_bridge_vlan_mode(nl, if_nametoindex("vif9.0")), -EINVAL);
    tap_close(&t);
    assert_int_equal(nl_bridge_vlan_mode(nl, 999999), -ENODEV);
    nl_close(nl);
}

/* --- frames across the bridge --- */

/* An AF_PACKET socket on VETH_B that reports VLAN tags the kernel moved
 * out of the frame (PACKET_AUXDATA), as a packet capture would show them. */
static int open_reader(void)
{
    int s = socket(AF_PACKET, SOCK_RAW | SOCK_NONBLOCK, htons(ETH_P_ALL));
    assert_true(s >= 0);
    struct sockaddr_ll sll = {.sll_family = AF_PACKET,
                              .sll_protocol = htons(ETH_P_ALL),
                              .sll_ifindex = (int)if_nametoindex(VETH_B)};
    assert_int_equal(bind(s, (struct sockaddr *)&sll, sizeof(sll)), 0);
    int one = 1;
    assert_int_equal(setsockopt(s, SOL_PACKET, PACKET_AUXDATA, &one, sizeof(one)), 0);
    return s;
}

/* Reads frames until one of ethertype TESTETH (after any tag) arrives; puts
 * it, with its tag reinserted, into buf. Returns its length, 0 on timeout. */
static size_t read_test_frame(int s, uint8_t *buf, size_t len)
{
    for (int waited = 0; waited < 3000;) {
        struct pollfd pfd = {.fd = s, .events = POLLIN};
        if (poll(&pfd, 1, 100) == 0) {
            waited += 100;
            continue;
        }
        uint8_t frame[2048];
        union {
            struct cmsghdr h;
            char space[CMSG_SPACE(sizeof(struct tpacket_auxdata))];
        } ctl;
        struct iovec iov = {.iov_base = frame, .iov_len = sizeof(frame)};
        struct msghdr mh = {
            .msg_iov = &iov, .msg_iovlen = 1, .msg_control = &ctl, .msg_controllen = sizeof(ctl)};
        ssize_t n = recvmsg(s, &mh, 0);
        if (n < 14)
            continue;
        size_t out = 0;
        memcpy(buf, frame, 12);
        out = 12;
        for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c)) {
            struct tpacket_auxdata aux;
            if (c->cmsg_level != SOL_PACKET || c->cmsg_type != PACKET_AUXDATA)
                continue;
            memcpy(&aux, CMSG_DATA(c), sizeof(aux));
            if (aux.tp_status & TP_STATUS_VLAN_VALID) {
                buf[out++] = 0x81;
                buf[out++] = 0x00;
                buf[out++] = (uint8_t)(aux.tp_vlan_tci >> 8);
                buf[out++] = (uint8_t)aux.tp_vlan_tci;
            }
        }
        assert_true(out + (size_t)n - 12 <= len);
        memcpy(buf + out, frame + 12, (size_t)n - 12);
        out += (size_t)n - 12;
        size_t et = out >= 18 && buf[12] == 0x81 && buf[13] == 0 ? 16 : 12;
        if (buf[et] == TESTETH >> 8 && buf[et + 1] == (TESTETH & 0xff))
            return out;
    }
    return 0;
}

/* A broadcast test frame: optional tag, TESTETH, 100 bytes of pattern. */
static size_t make_frame(uint8_t *f, int tci, uint8_t seed)
{
    size_t n = 0;
    memset(f, 0xff, 6);
    const uint8_t src[6] = {0x02, 0x16, 0x3e, 0x11, 0x22, seed};
    memcpy(f + 6, src, 6);
    n = 12;
    if (tci >= 0) {
        f[n++] = 0x81;
        f[n++] = 0x00;
        f[n++] = (uint8_t)(tci >> 8);
        f[n++] = (uint8_t)tci;
    }
    f[n++] = TESTETH >> 8;
    f[n++] = TESTETH & 0xff;
    for (int i = 0; i < 100; i++)
        f[n++] = (uint8_t)(seed + i);
    return n;
}

/* A vif tap on the bridge, up. */
static void bridged_tap(struct tap *t, const char *name, struct nl *nl)
{
    char err[256];
    assert_int_equal(tap_open(t, name, 1, err, sizeof(err)), 0);
    struct nl_link_change chg = {.master = if_nametoindex(BRIDGE), .set_up = true};
    assert_int_equal(nl_link_set(nl, if_nametoindex(name), &chg), 0);
}

static void test_frames_cross_the_bridge(void **state)
{
    (void)state;
    REQUIRE_NETNS();
    struct nl *nl = nl_open();
    struct tap t;
    bridged_tap(&t, "vif10.0", nl);
    int s = open_reader();

    /* guest -> bridge: written to the tap behind a virtio_net_hdr */
    int tcis[] = {-1, 20, 5 << 13 | 10};
    for (size_t i = 0; i < 3; i++) {
        uint8_t frame[256], got[2048];
        size_t n = make_frame(frame, tcis[i], (uint8_t)(0x40 + i));
        struct virtio_net_hdr vh = {.gso_type = VIRTIO_NET_HDR_GSO_NONE};
        struct iovec iov[2] = {{&vh, sizeof(vh)}, {frame, n}};
        assert_int_equal(writev(t.fds[0], iov, 2), (ssize_t)(sizeof(vh) + n));
        size_t m = read_test_frame(s, got, sizeof(got));
        if (m == 0)
            fail_msg("frame %zu (tci %d) did not reach " VETH_B, i, tcis[i]);
        assert_int_equal(m, n);
        assert_memory_equal(got, frame, n); /* tag and priority intact */
    }

    /* bridge -> guest: sent on the veth, read from the tap */
    for (size_t i = 0; i < 2; i++) {
        uint8_t frame[256];
        size_t n = make_frame(frame, i ? 30 : -1, (uint8_t)(0x80 + i));
        struct sockaddr_ll to = {.sll_family = AF_PACKET,
                                 .sll_ifindex = (int)if_nametoindex(VETH_B)};
        assert_int_equal(sendto(s, frame, n, 0, (struct sockaddr *)&to, sizeof(to)), (ssize_t)n);
        bool seen = false;
        for (int tries = 0; tries < 30 && !seen; tries++) {
            struct pollfd pfd = {.fd = t.fds[0], .events = POLLIN};
            if (poll(&pfd, 1, 100) <= 0)
                continue;
            uint8_t buf[sizeof(struct virtio_net_hdr) + 2048];
            ssize_t r = read(t.fds[0], buf, sizeof(buf));
            if (r == (ssize_t)(sizeof(struct virtio_net_hdr) + n) &&
                memcmp(buf + sizeof(struct virtio_net_hdr), frame, n) == 0)
                seen = true;
        }
        if (!seen)
            fail_msg("frame %zu from " VETH_B " did not reach the tap", i);
    }
    close(s);
    tap_close(&t);
    nl_close(nl);
}

static void test_vlan_message(void **state)
{
    (void)state;
    /* The port VLAN request that kernels with VLAN filtering get: PVID
     * alone, runs of equal flags as ranges. Decoded here by hand. */
    struct vlan_cfg cfg;
    char err[128];
    assert_int_equal(vlan_cfg_parse_xl("10p/20-23/25/30-31u/4094", &cfg, err, sizeof(err)), 0);
    static uint8_t buf[NL_VLAN_MSG_MAX];
    size_t n = nl_build_port_vlans(buf, sizeof(buf), 42, &cfg, false, 7);
    assert_true(n > 0);
    const struct nlmsghdr *nlh = (const void *)buf;
    assert_int_equal(nlh->nlmsg_len, n);
    assert_int_equal(nlh->nlmsg_type, RTM_SETLINK);
    assert_int_equal(nlh->nlmsg_seq, 7);
    const struct ifinfomsg *ifm = mnl_nlmsg_get_payload(nlh);
    assert_int_equal(ifm->ifi_family, AF_BRIDGE);
    assert_int_equal(ifm->ifi_index, 42);

    char got[512] = "";
    size_t used = 0;
    const struct nlattr *a, *b;
    mnl_attr_for_each(a, nlh, sizeof(*ifm))
    {
        assert_int_equal(mnl_attr_get_type(a), IFLA_AF_SPEC);
        mnl_attr_for_each_nested(b, a)
        {
            assert_int_equal(mnl_attr_get_type(b), IFLA_BRIDGE_VLAN_INFO);
            const struct bridge_vlan_info *vi = mnl_attr_get_payload(b);
            used += (size_t)snprintf(got + used, sizeof(got) - used, "%u%s%s%s%s ", vi->vid,
                                     vi->flags & BRIDGE_VLAN_INFO_PVID ? "P" : "",
                                     vi->flags & BRIDGE_VLAN_INFO_UNTAGGED ? "U" : "",
                                     vi->flags & BRIDGE_VLAN_INFO_RANGE_BEGIN ? "[" : "",
                                     vi->flags & BRIDGE_VLAN_INFO_RANGE_END ? "]" : "");
        }
    }
    assert_string_equal(got, "10PU 20[ 23] 25 30U[ 31U] 4094 ");

    /* All of 1..4094 minus the PVID fits, as two ranges. */
    assert_int_equal(vlan_cfg_parse_xl("100p/1-99/101-4094", &cfg, err, sizeof(err)), 0);
    assert_true(nl_build_port_vlans(buf, sizeof(buf), 1, &cfg, true, 1) > 0);
    assert_int_equal(((struct nlmsghdr *)buf)->nlmsg_type, RTM_DELLINK);
    /* Every other VLAN: no ranges possible, still fits. */
    vlan_cfg_clear(&cfg);
    for (unsigned v = 1; v <= 4094; v += 2)
        cfg.member[v / 64] |= UINT64_C(1) << (v % 64);
    assert_true(nl_build_port_vlans(buf, sizeof(buf), 1, &cfg, false, 1) > 0);
    /* A buffer too small is refused, not overrun. */
    assert_int_equal(nl_build_port_vlans(buf, 100, 1, &cfg, false, 1), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_vif_names),
        cmocka_unit_test(test_tap_lifecycle),
        cmocka_unit_test(test_multi_queue_tap),
        cmocka_unit_test(test_mtu_master_up),
        cmocka_unit_test(test_bridge_vlan_detection),
        cmocka_unit_test(test_frames_cross_the_bridge),
        cmocka_unit_test(test_vlan_message),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
