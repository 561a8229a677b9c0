/* The vlan= and bridge= VLAN syntaxes: what an operator writes in an xl
 * config, and the membership it must give. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "vlan_cfg.h"

static char err[256];

/* Lists the member VLANs as "10p 20 30u" for readable assertions. */
static const char *members(const struct vlan_cfg *c)
{
    static char buf[4096];
    size_t n = 0;
    buf[0] = '\0';
    for (unsigned v = 0; v < VLAN_N_VID; v++) {
        if (!vlan_cfg_is_member(c, v))
            continue;
        const char *mark = v == c->pvid ? "p" : vlan_cfg_is_untagged(c, v) ? "u" : "";
        n += (size_t)snprintf(buf + n, sizeof(buf) - n, "%s%u%s", n ? " " : "", v, mark);
    }
    return buf;
}

static void parses_xl(const char *value, const char *want, unsigned pvid)
{
    struct vlan_cfg c;
    err[0] = '\0';
    int r = vlan_cfg_parse_xl(value, &c, err, sizeof(err));
    if (r)
        fail_msg("vlan=%s: %s", value, err);
    assert_string_equal(members(&c), want);
    assert_int_equal(c.pvid, pvid);
    assert_true(vlan_cfg_active(&c));
}

/* The value is refused and the message names the key, the value and the
 * reason. */
static void refuses_xl(const char *value, const char *reason)
{
    struct vlan_cfg c;
    memset(&c, 0xaa, sizeof(c));
    struct vlan_cfg before = c;
    err[0] = '\0';
    assert_int_equal(vlan_cfg_parse_xl(value, &c, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "vlan="));
    if (*value)
        assert_non_null(strstr(err, value));
    if (!strstr(err, reason))
        fail_msg("vlan=%s: message '%s' lacks '%s'", value, err, reason);
    assert_memory_equal(&c, &before, sizeof(c)); /* output untouched */
}

static void test_single_vlan_is_pvid(void **state)
{
    (void)state;
    parses_xl("10", "10p", 10);
    parses_xl("10p", "10p", 10);
    parses_xl("1", "1p", 1);
    parses_xl("4094", "4094p", 4094);
}

static void test_pvid_and_trunk(void **state)
{
    (void)state;
    parses_xl("10p/20", "10p 20", 10);
    parses_xl("20/10p", "10p 20", 10);
    parses_xl("10p/20u/30", "10p 20u 30", 10);
}

static void test_ranges(void **state)
{
    (void)state;
    /* N+IxC gives C VLANs, as Xen's vif-bridge applies it. */
    parses_xl("10p/100+10x4", "10p 100 110 120 130", 10);
    parses_xl("1p/10-15/20-22u", "1p 10 11 12 13 14 15 20u 21u 22u", 1);
    parses_xl("5p/7-7", "5p 7", 5);
    parses_xl("5p/100+1x3u", "5p 100u 101u 102u", 5);
    parses_xl("5p/100+0x1", "5p 100", 5);
}

static void test_whole_range(void **state)
{
    (void)state;
    struct vlan_cfg c;
    assert_int_equal(vlan_cfg_parse_xl("1p/2-4094", &c, err, sizeof(err)), 0);
    assert_int_equal(vlan_cfg_count(&c), 4094);
    assert_false(vlan_cfg_is_member(&c, 0));
    assert_false(vlan_cfg_is_member(&c, 4095));
    assert_true(vlan_cfg_is_member(&c, 4094));
}

static void test_bad_vlan_values(void **state)
{
    (void)state;
    refuses_xl("", "empty");
    refuses_xl("0", "VLAN 0 is not between 1 and 4094");
    refuses_xl("4095", "VLAN 4095 is not between");
    refuses_xl("10p/20p", "more than one PVID");
    refuses_xl("10/20", "none marked as the PVID");
    refuses_xl("10p/10", "VLAN 10 is given more than once");
    refuses_xl("10p/5-12", "VLAN 10 is given more than once");
    refuses_xl("10p/20-15", "ends before it starts");
    refuses_xl("10p//20", "empty term");
    refuses_xl("10p/", "empty term");
    refuses_xl("/10", "empty term");
    refuses_xl("10q", "term '10q'");
    refuses_xl("10pu", "term '10pu'");
    refuses_xl("10-20p", "term '10-20p'");
    refuses_xl("-5", "term '-5'");
    refuses_xl(" 10", "term ' 10'");
    refuses_xl("10p/100+10", "term '100+10'");
    refuses_xl("10p/100+10x0", "count of 0");
    refuses_xl("10p/100+0x2", "increment 0");
    refuses_xl("10p/4000+100x2", "VLAN 4100 is not between");
    refuses_xl("99999999999", "term");
    refuses_xl("10p/20-99999", "VLAN 4095 is not between");
}

static void test_long_value_message_is_bounded(void **state)
{
    (void)state;
    char value[2000];
    memset(value, '7', sizeof(value) - 1);
    value[sizeof(value) - 1] = '\0';
    struct vlan_cfg c;
    char small[64];
    assert_int_equal(vlan_cfg_parse_xl(value, &c, small, sizeof(small)), -1);
    assert_true(strlen(small) < sizeof(small));
    assert_non_null(strstr(small, "vlan="));
}

static void parses_bridge(const char *value, const char *want_bridge, const char *want,
                          unsigned pvid)
{
    struct vlan_cfg c;
    char br[VLAN_IFNAMSIZ];
    int r = vlan_cfg_parse_bridge(value, br, &c, err, sizeof(err));
    if (r)
        fail_msg("bridge=%s: %s", value, err);
    assert_string_equal(br, want_bridge);
    assert_string_equal(members(&c), want);
    assert_int_equal(c.pvid, pvid);
}

static void refuses_bridge(const char *value, const char *reason)
{
    struct vlan_cfg c;
    char br[VLAN_IFNAMSIZ];
    err[0] = '\0';
    assert_int_equal(vlan_cfg_parse_bridge(value, br, &c, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "bridge="));
    if (!strstr(err, reason))
        fail_msg("bridge=%s: message '%s' lacks '%s'", value, err, reason);
}

static void test_bridge_forms(void **state)
{
    (void)state;
    parses_bridge("xenbr0", "xenbr0", "", 0);
    parses_bridge("xenbr0.10", "xenbr0", "10p", 10);
    parses_bridge("xenbr0.10:20:30", "xenbr0", "10p 20 30", 10);
    parses_bridge("xenbr0:20:30", "xenbr0", "20 30", 0);
    parses_bridge("br-with_dash15c", "br-with_dash15c", "", 0);

    struct vlan_cfg c;
    char br[VLAN_IFNAMSIZ];
    assert_int_equal(vlan_cfg_parse_bridge("xenbr0", br, &c, err, sizeof(err)), 0);
    assert_false(vlan_cfg_active(&c));
}

static void test_bad_bridge_values(void **state)
{
    (void)state;
    refuses_bridge("", "bridge name");
    refuses_bridge(".10", "bridge name");
    refuses_bridge("sixteen-chars-xx", "bridge name");
    refuses_bridge("br/0", "bridge name");
    refuses_bridge("br 0", "bridge name");
    refuses_bridge("xenbr0.", "expected BRIDGE[.PVID][:VLAN...]");
    refuses_bridge("xenbr0.10.20", "expected");
    refuses_bridge("xenbr0:", "expected");
    refuses_bridge("xenbr0.10:", "expected");
    refuses_bridge("xenbr0.x", "expected");
    refuses_bridge("xenbr0.0", "VLAN 0 is not between");
    refuses_bridge("xenbr0.10:4095", "VLAN 4095");
    refuses_bridge("xenbr0.10:10", "more than once");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_single_vlan_is_pvid),
        cmocka_unit_test(test_pvid_and_trunk),
        cmocka_unit_test(test_ranges),
        cmocka_unit_test(test_whole_range),
        cmocka_unit_test(test_bad_vlan_values),
        cmocka_unit_test(test_long_value_message_is_bounded),
        cmocka_unit_test(test_bridge_forms),
        cmocka_unit_test(test_bad_bridge_values),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
