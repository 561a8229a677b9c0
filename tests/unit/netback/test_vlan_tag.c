/* In-netback 802.1Q: the frames that reach the bridge and the guest carry
 * the tags a VLAN-filtering switch port would give them, and offloads still
 * point at the right bytes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "vlan_tag.h"

#define HEADROOM 8

static const uint8_t DST[6] = {0x00, 0x16, 0x3e, 0x00, 0x00, 0x01};
static const uint8_t SRC[6] = {0x00, 0x16, 0x3e, 0x00, 0x00, 0x02};

struct test_frame {
    uint8_t buf[HEADROOM + 256];
    struct virtio_net_hdr vh;
    struct vlan_frame f;
};

/* An IPv4-looking frame: 14-byte header (+4 if tci >= 0), 64 bytes of
 * payload 0..63. A checksum-offload request points at byte 20 of the
 * payload (a TCP checksum field), as a guest kernel would set it. */
static void make_frame(struct test_frame *t, int tci, bool gso)
{
    memset(t, 0, sizeof(*t));
    uint8_t *d = t->buf + HEADROOM;
    size_t n = 0;
    memcpy(d, DST, 6);
    memcpy(d + 6, SRC, 6);
    n = 12;
    if (tci >= 0) {
        d[n++] = 0x81;
        d[n++] = 0x00;
        d[n++] = (uint8_t)(tci >> 8);
        d[n++] = (uint8_t)tci;
    }
    d[n++] = 0x08;
    d[n++] = 0x00;
    size_t l2 = n;
    for (int i = 0; i < 64; i++)
        d[n++] = (uint8_t)i;
    t->vh.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
    t->vh.csum_start = (uint16_t)(l2 + 20);
    t->vh.csum_offset = 16;
    if (gso) {
        t->vh.gso_type = VIRTIO_NET_HDR_GSO_TCPV4;
        t->vh.gso_size = 1448;
        t->vh.hdr_len = (uint16_t)(l2 + 40);
    }
    t->f = (struct vlan_frame){.data = d, .len = n, .headroom = HEADROOM, .vnet = &t->vh};
}

static struct vlan_cfg cfg_xl(const char *value)
{
    struct vlan_cfg c;
    char err[128];
    if (vlan_cfg_parse_xl(value, &c, err, sizeof(err)))
        fail_msg("%s", err);
    return c;
}

/* The frame's TCI, or -1 when untagged. */
static int frame_tci(const struct vlan_frame *f)
{
    if (f->data[12] != 0x81 || f->data[13] != 0x00)
        return -1;
    return f->data[14] << 8 | f->data[15];
}

/* MACs in place, then IPv4 ethertype and the 64 payload bytes after the tag
 * (if any): nothing but the tag changed. */
static void assert_intact(const struct vlan_frame *f)
{
    assert_memory_equal(f->data, DST, 6);
    assert_memory_equal(f->data + 6, SRC, 6);
    size_t l2 = frame_tci(f) >= 0 ? 16 : 12;
    assert_int_equal(f->len, l2 + 2 + 64);
    assert_int_equal(f->data[l2], 0x08);
    assert_int_equal(f->data[l2 + 1], 0x00);
    for (int i = 0; i < 64; i++)
        assert_int_equal(f->data[l2 + 2 + i], i);
    /* The checksum still starts at payload byte 20, wherever the payload is. */
    if (f->vnet)
        assert_int_equal(f->vnet->csum_start, l2 + 2 + 20);
}

static void test_no_vlan_config_passes_everything(void **state)
{
    (void)state;
    struct vlan_cfg none;
    vlan_cfg_clear(&none);
    struct test_frame t;
    int tcis[] = {-1, 10, 0x2005};
    for (size_t i = 0; i < 3; i++) {
        make_frame(&t, tcis[i], false);
        uint8_t copy[sizeof(t.buf)];
        memcpy(copy, t.buf, sizeof(copy));
        assert_int_equal(vlan_tag_from_guest(&none, &t.f), VLAN_PASS);
        assert_int_equal(vlan_tag_to_guest(&none, &t.f), VLAN_PASS);
        assert_memory_equal(copy, t.buf, sizeof(copy));
    }
}

static void test_guest_untagged_gets_pvid(void **state)
{
    (void)state;
    struct vlan_cfg c = cfg_xl("10p/20");
    struct test_frame t;
    make_frame(&t, -1, false);
    assert_int_equal(vlan_tag_from_guest(&c, &t.f), VLAN_PASS);
    assert_int_equal(frame_tci(&t.f), 10); /* priority 0, VID 10 */
    assert_int_equal(t.f.headroom, HEADROOM - 4);
    assert_ptr_equal(t.f.data, t.buf + HEADROOM - 4);
    assert_intact(&t.f);
}

static void test_gso_header_length_follows_the_tag(void **state)
{
    (void)state;
    struct vlan_cfg c = cfg_xl("10");
    struct test_frame t;
    make_frame(&t, -1, true);
    assert_int_equal(vlan_tag_from_guest(&c, &t.f), VLAN_PASS);
    assert_int_equal(t.vh.hdr_len, 14 + 4 + 40);
    assert_int_equal(t.vh.gso_size, 1448);
    assert_intact(&t.f);
    /* and back towards the guest */
    assert_int_equal(vlan_tag_to_guest(&c, &t.f), VLAN_PASS);
    assert_int_equal(t.vh.hdr_len, 14 + 40);
    assert_int_equal(frame_tci(&t.f), -1);
    assert_intact(&t.f);
}

static void test_guest_member_tag_passes_with_priority(void **state)
{
    (void)state;
    struct vlan_cfg c = cfg_xl("10p/20");
    struct test_frame t;
    make_frame(&t, 5 << 13 | 20, false);
    assert_int_equal(vlan_tag_from_guest(&c, &t.f), VLAN_PASS);
    assert_int_equal(frame_tci(&t.f), 5 << 13 | 20);
    assert_int_equal(t.f.headroom, HEADROOM);
    assert_intact(&t.f);

    /* The PVID may also be sent tagged. */
    make_frame(&t, 10, false);
    assert_int_equal(vlan_tag_from_guest(&c, &t.f), VLAN_PASS);
    assert_int_equal(frame_tci(&t.f), 10);
}

static void test_guest_other_vlan_dropped(void **state)
{
    (void)state;
    struct vlan_cfg c = cfg_xl("10p/20");
    struct test_frame t;
    make_frame(&t, 30, false);
    uint8_t copy[sizeof(t.buf)];
    memcpy(copy, t.buf, sizeof(copy));
    assert_int_equal(vlan_tag_from_guest(&c, &t.f), VLAN_DROP_NOT_MEMBER);
    assert_memory_equal(copy, t.buf, sizeof(copy));
    assert_int_equal(t.f.len, 16 + 2 + 64);
}

static void test_guest_priority_tag_joins_pvid(void **state)
{
    (void)state;
    struct vlan_cfg c = cfg_xl("10p/20");
    struct test_frame t;
    make_frame(&t, 6 << 13 | 0, false);
    assert_int_equal(vlan_tag_from_guest(&c, &t.f), VLAN_PASS);
    assert_int_equal(frame_tci(&t.f), 6 << 13 | 10);
    assert_intact(&t.f);
}

static void test_trunk_without_pvid_drops_untagged(void **state)
{
    (void)state;
    struct vlan_cfg c;
    char br[VLAN_IFNAMSIZ], err[128];
    assert_int_equal(vlan_cfg_parse_bridge("xenbr0:20:30", br, &c, err, sizeof(err)), 0);
    struct test_frame t;
    make_frame(&t, -1, false);
    assert_int_equal(vlan_tag_from_guest(&c, &t.f), VLAN_DROP_NOT_MEMBER);
    make_frame(&t, 0, false);
    assert_int_equal(vlan_tag_from_guest(&c, &t.f), VLAN_DROP_NOT_MEMBER);
    make_frame(&t, 30, false);
    assert_int_equal(vlan_tag_from_guest(&c, &t.f), VLAN_PASS);
}

static void test_to_guest(void **state)
{
    (void)state;
    struct vlan_cfg c = cfg_xl("10p/20/30u");
    struct test_frame t;

    /* PVID: stripped, priority dropped with the tag */
    make_frame(&t, 3 << 13 | 10, false);
    assert_int_equal(vlan_tag_to_guest(&c, &t.f), VLAN_PASS);
    assert_int_equal(frame_tci(&t.f), -1);
    assert_int_equal(t.f.headroom, HEADROOM + 4);
    assert_intact(&t.f);

    /* tagged member: kept tagged */
    make_frame(&t, 20, false);
    assert_int_equal(vlan_tag_to_guest(&c, &t.f), VLAN_PASS);
    assert_int_equal(frame_tci(&t.f), 20);
    assert_intact(&t.f);

    /* untagged ('u') member: stripped */
    make_frame(&t, 30, false);
    assert_int_equal(vlan_tag_to_guest(&c, &t.f), VLAN_PASS);
    assert_int_equal(frame_tci(&t.f), -1);
    assert_intact(&t.f);

    /* other VLAN, untagged, priority-tagged: dropped */
    make_frame(&t, 40, false);
    assert_int_equal(vlan_tag_to_guest(&c, &t.f), VLAN_DROP_NOT_MEMBER);
    make_frame(&t, -1, false);
    assert_int_equal(vlan_tag_to_guest(&c, &t.f), VLAN_DROP_NOT_MEMBER);
    make_frame(&t, 0, false);
    assert_int_equal(vlan_tag_to_guest(&c, &t.f), VLAN_DROP_NOT_MEMBER);
}

static void test_without_vnet_header(void **state)
{
    (void)state;
    struct vlan_cfg c = cfg_xl("7");
    struct test_frame t;
    make_frame(&t, -1, false);
    t.f.vnet = NULL;
    assert_int_equal(vlan_tag_from_guest(&c, &t.f), VLAN_PASS);
    assert_int_equal(frame_tci(&t.f), 7);
    assert_int_equal(vlan_tag_to_guest(&c, &t.f), VLAN_PASS);
    assert_int_equal(frame_tci(&t.f), -1);
    assert_intact(&t.f);
}

static void test_malformed_frames(void **state)
{
    (void)state;
    struct vlan_cfg c = cfg_xl("10p/20");
    struct test_frame t;

    make_frame(&t, -1, false);
    t.f.len = 13;
    assert_int_equal(vlan_tag_from_guest(&c, &t.f), VLAN_DROP_MALFORMED);
    assert_int_equal(vlan_tag_to_guest(&c, &t.f), VLAN_DROP_MALFORMED);

    /* a TPID without the rest of the tag */
    make_frame(&t, 20, false);
    t.f.len = 15;
    assert_int_equal(vlan_tag_from_guest(&c, &t.f), VLAN_DROP_MALFORMED);

    /* no room for the tag */
    make_frame(&t, -1, false);
    t.f.headroom = 3;
    assert_int_equal(vlan_tag_from_guest(&c, &t.f), VLAN_DROP_MALFORMED);
    assert_int_equal(frame_tci(&t.f), -1);

    /* offload offsets inside the tag that would be removed */
    make_frame(&t, 10, false);
    t.vh.csum_start = 16;
    assert_int_equal(vlan_tag_to_guest(&c, &t.f), VLAN_DROP_MALFORMED);
    assert_int_equal(frame_tci(&t.f), 10);
    make_frame(&t, 10, true);
    t.vh.hdr_len = 17;
    assert_int_equal(vlan_tag_to_guest(&c, &t.f), VLAN_DROP_MALFORMED);

    /* offsets that would overflow when moved */
    make_frame(&t, -1, false);
    t.vh.csum_start = 65534;
    assert_int_equal(vlan_tag_from_guest(&c, &t.f), VLAN_DROP_MALFORMED);
}

static void test_frame_vid(void **state)
{
    (void)state;
    struct test_frame t;
    make_frame(&t, 7 << 13 | 1 << 12 | 4094, false); /* PCP 7, DEI 1 */
    assert_int_equal(vlan_frame_vid(t.f.data, t.f.len), 4094);
    make_frame(&t, -1, false);
    assert_int_equal(vlan_frame_vid(t.f.data, t.f.len), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_no_vlan_config_passes_everything),
        cmocka_unit_test(test_guest_untagged_gets_pvid),
        cmocka_unit_test(test_gso_header_length_follows_the_tag),
        cmocka_unit_test(test_guest_member_tag_passes_with_priority),
        cmocka_unit_test(test_guest_other_vlan_dropped),
        cmocka_unit_test(test_guest_priority_tag_joins_pvid),
        cmocka_unit_test(test_trunk_without_pvid_drops_untagged),
        cmocka_unit_test(test_to_guest),
        cmocka_unit_test(test_without_vnet_header),
        cmocka_unit_test(test_malformed_frames),
        cmocka_unit_test(test_frame_vid),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
