/* vdev names to device numbers, checked against the numbers libxl writes
 * (virtual-device = "51712" for xvda in the reference xenstore dump) and the
 * Linux major/minor layout they encode. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "toolstack/toolstack.h"

static void test_xvd(void **state)
{
    (void)state;
    assert_int_equal(ts_vdev_to_devid("xvda"), 51712); /* 202:0 */
    assert_int_equal(ts_vdev_to_devid("xvdb"), 51728); /* 202:16 */
    assert_int_equal(ts_vdev_to_devid("xvda1"), 51713);
    assert_int_equal(ts_vdev_to_devid("xvdp15"), (202 << 8) | (15 << 4) | 15);
    /* past 16 disks or 15 partitions: the extended numbering */
    assert_int_equal(ts_vdev_to_devid("xvdq"), (1 << 28) | (16 << 8));
    assert_int_equal(ts_vdev_to_devid("xvda16"), (1 << 28) | 16);
    assert_int_equal(ts_vdev_to_devid("xvdaa"), (1 << 28) | (26 << 8));
    assert_int_equal(ts_vdev_to_devid("xvdba"), (1 << 28) | (52 << 8));
    assert_int_equal(ts_vdev_to_devid("xvdz255"), (1 << 28) | (25 << 8) | 255);
}

static void test_d_p(void **state)
{
    (void)state;
    assert_int_equal(ts_vdev_to_devid("d0p0"), 51712);
    assert_int_equal(ts_vdev_to_devid("d1p2"), 51730);
    assert_int_equal(ts_vdev_to_devid("d16p0"), (1 << 28) | (16 << 8));
    assert_int_equal(ts_vdev_to_devid("d0p256"), -1);
    assert_int_equal(ts_vdev_to_devid("d1048576p0"), -1);
}

static void test_hd_sd_numbers(void **state)
{
    (void)state;
    assert_int_equal(ts_vdev_to_devid("hda"), 768);     /* 3:0 */
    assert_int_equal(ts_vdev_to_devid("hdb"), 832);     /* 3:64 */
    assert_int_equal(ts_vdev_to_devid("hdc"), 22 << 8); /* 22:0 */
    assert_int_equal(ts_vdev_to_devid("hdd63"), (22 << 8) | 64 | 63);
    assert_int_equal(ts_vdev_to_devid("sda"), 2048);  /* 8:0 */
    assert_int_equal(ts_vdev_to_devid("sdb1"), 2065); /* 8:17 */
    assert_int_equal(ts_vdev_to_devid("51712"), 51712);
    assert_int_equal(ts_vdev_to_devid("0xca00"), 51712);
}

static void test_invalid(void **state)
{
    (void)state;
    const char *bad[] = {"",      "xvd", "xvda0", "xvda01", "xvda256", "xvdA",        "hde",
                         "hda64", "sdq", "sda16", "vda",    "xvda-1",  "99999999999", "-1",
                         "d0p",   "dp1", "xvd1"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        if (ts_vdev_to_devid(bad[i]) != -1)
            fail_msg("'%s' was accepted", bad[i]);
    }
    assert_int_equal(ts_vdev_to_devid(NULL), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_xvd),
        cmocka_unit_test(test_d_p),
        cmocka_unit_test(test_hd_sd_numbers),
        cmocka_unit_test(test_invalid),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
