/* xl vif specifications and the rate= arithmetic libxl applies. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "toolstack/xlcfg.h"

static struct xlcfg_vif v;
static char err[1024];

static void ok(const char *spec)
{
    err[0] = '\0';
    if (xlcfg_parse_vif(spec, &v, err, sizeof(err)) != 0)
        fail_msg("'%s' failed: %s", spec, err);
}

static void bad(const char *spec, const char *why)
{
    err[0] = '\0';
    if (xlcfg_parse_vif(spec, &v, err, sizeof(err)) != -1)
        fail_msg("'%s' was accepted", spec);
    if (!strstr(err, why))
        fail_msg("'%s': error '%s' lacks '%s'", spec, err, why);
    /* the spec is quoted, cut after 80 characters */
    char head[81];
    snprintf(head, sizeof(head), "%s", spec);
    if (!strstr(err, head))
        fail_msg("'%s': error '%s' does not quote the spec", spec, err);
    if (strlen(spec) > 80 && !strstr(err, "...'"))
        fail_msg("'%s': error '%s' does not cut the spec", spec, err);
}

static void test_empty_defaults(void **state)
{
    (void)state;
    ok("");
    assert_string_equal(v.mac, "");
    assert_string_equal(v.bridge, "");
    assert_string_equal(v.vlan, "");
    assert_string_equal(v.rate, "");
    assert_string_equal(v.script, "");
    assert_int_equal(v.mtu, 0);
    assert_true(v.trusted);
}

static void test_all_keys(void **state)
{
    (void)state;
    ok("mac=00:16:3E:0a:0B:01, bridge=xenbr0,vlan=10p/20,rate=10Mb/s@20ms,mtu=9000,"
       "script=vif-pvback,untrusted");
    assert_string_equal(v.mac, "00:16:3e:0a:0b:01");
    assert_string_equal(v.bridge, "xenbr0");
    assert_string_equal(v.vlan, "10p/20");
    assert_string_equal(v.rate, "10Mb/s@20ms");
    assert_int_equal(v.mtu, 9000);
    assert_string_equal(v.script, "vif-pvback");
    assert_false(v.trusted);
    /* keys with no effect on xensim are accepted, empty items skipped */
    ok("ip=10.0.0.2,,model=e1000,vifname=web0,type=vif,gatewaydev=eth0,devid=3,accel=x,");
    /* vif-openvswitch's bridge.VLAN:TRUNK form */
    ok("bridge=xenbr0.10:20:30");
    assert_string_equal(v.bridge, "xenbr0.10:20:30");
    ok("vlan=10p/100+10x4");
    ok("vlan=100-200u/5p");
}

static void test_errors(void **state)
{
    (void)state;
    bad("mac=00:16:3e:00:00", "mac: invalid parameter");
    bad("mac=00:16:3e:00:00:0g", "mac: invalid parameter");
    bad("mac=00-16-3e-00-00-01", "mac: invalid parameter");
    bad("mac=01:16:3e:00:00:01", "multicast");
    bad("bridge=", "bridge: invalid bridge name");
    bad("bridge=a/b", "bridge: invalid bridge name");
    bad("bridge=averyveryverylongbridge", "bridge: invalid bridge name");
    bad("vlan=", "vlan: invalid");
    bad("vlan=ten", "vlan: invalid");
    bad("vlan=10/", "vlan: invalid");
    bad("vlan=p10", "vlan: invalid");
    bad("mtu=abc", "mtu:");
    bad("mtu=67", "mtu:");
    bad("mtu=65536", "mtu:");
    bad("rate=fast", "rate: invalid rate");
    bad("rate=10Mb/s@soon", "rate: invalid replenishment interval");
    bad("rate=@20ms", "rate: no rate specified");
    bad("rate=0Mb/s", "rate overflow");
    bad("script=", "script: empty");
    bad("backend=dd1", "driver domains");
    bad("colo_checkpoint_host=h", "COLO");
    bad("brigde=xenbr0", "unrecognized argument 'brigde'");
    bad("bridge=xenbr0,promisc", "unrecognized argument 'promisc'");
    static char longs[600];
    memset(longs, 'x', sizeof(longs) - 1);
    memcpy(longs, "script=", 7);
    bad(longs, "setting too long");
    longs[300] = '\0';
    bad(longs, "script: '");
    bad("vlan=1/2/3/4/5/6/7/8/9/10/11/12/13/14/15/16/17/18/19/20/21/22/23/24/25/26/27/28/29/30/"
        "31/32/33/34/35/36/37/38/39/40/41/42/43/44/45/46/47/48/49/50",
        "is longer than 127 characters");
}

static void rate(const char *r, uint64_t bytes, uint32_t usecs)
{
    uint64_t b = 0;
    uint32_t u = 0;
    if (xlcfg_vif_rate(r, &b, &u, err, sizeof(err)) != 0)
        fail_msg("rate '%s' failed: %s", r, err);
    assert_int_equal(b, bytes);
    assert_int_equal(u, usecs);
}

static void test_rate_arithmetic(void **state)
{
    (void)state;
    /* 10 Mbit/s = 1250000 B/s; default interval 50 ms => 62500 bytes */
    rate("10Mb/s", 62500, 50000);
    rate("10MB/s", 500000, 50000);
    rate("1GB/s@20ms", 20000000, 20000);
    rate("100KB/s@500us", 50, 500);
    rate("8b/s@1s", 1, 1000000);
    rate("1000B/s@2", 2000, 2000000);
    uint64_t b;
    uint32_t u;
    assert_int_equal(xlcfg_vif_rate("10Mb/s@0ms", &b, &u, err, sizeof(err)), -1);
    assert_int_equal(xlcfg_vif_rate("5000000000B/s", &b, &u, err, sizeof(err)), -1);
    assert_int_equal(xlcfg_vif_rate("10Mb", &b, &u, err, sizeof(err)), -1);
    assert_int_equal(xlcfg_vif_rate("10Mb/s@5000s", &b, &u, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "interval overflow"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_empty_defaults),
        cmocka_unit_test(test_all_keys),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_rate_arithmetic),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
