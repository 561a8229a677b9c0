/* Restart backoff and crash-loop detection, and the names of a guest's
 * taps that pvback-watch deletes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "watch.h"

static struct watch_config cfg(unsigned limit, unsigned window_s, unsigned delay, unsigned max)
{
    struct watch_config c;
    watch_config_defaults(&c);
    c.restart_limit = limit;
    c.restart_window_s = window_s;
    c.restart_delay_ms = delay;
    c.restart_delay_max_ms = max;
    return c;
}

static void test_delay_doubles_up_to_max(void **state)
{
    struct watch_config c = cfg(10, 60, 100, 500);
    struct watch_restart r;
    const int64_t want[] = {100, 200, 400, 500, 500};
    (void)state;
    watch_restart_init(&r);
    for (unsigned i = 0; i < 5; i++)
        assert_int_equal(watch_restart_on_crash(&r, &c, 1000 + i * 10), want[i]);
}

static void test_crash_loop_after_limit(void **state)
{
    struct watch_config c = cfg(3, 60, 10, 1000);
    struct watch_restart r;
    (void)state;
    watch_restart_init(&r);
    assert_true(watch_restart_on_crash(&r, &c, 5000) >= 0);
    assert_true(watch_restart_on_crash(&r, &c, 6000) >= 0);
    assert_true(watch_restart_on_crash(&r, &c, 7000) >= 0);
    assert_int_equal(watch_restart_on_crash(&r, &c, 8000), -1);
    assert_int_equal(r.crashes, 4);
}

static void test_quiet_window_starts_afresh(void **state)
{
    struct watch_config c = cfg(2, 10, 100, 10000);
    struct watch_restart r;
    (void)state;
    watch_restart_init(&r);
    assert_int_equal(watch_restart_on_crash(&r, &c, 1000), 100);
    assert_int_equal(watch_restart_on_crash(&r, &c, 2000), 200);
    /* more than 10 s after the first crash: a new window, the first delay */
    assert_int_equal(watch_restart_on_crash(&r, &c, 11001), 100);
    assert_int_equal(watch_restart_on_crash(&r, &c, 12000), 200);
    assert_int_equal(watch_restart_on_crash(&r, &c, 13000), -1);
}

static void test_zero_delay(void **state)
{
    struct watch_config c = cfg(5, 60, 0, 0);
    struct watch_restart r;
    (void)state;
    watch_restart_init(&r);
    assert_int_equal(watch_restart_on_crash(&r, &c, 1), 0);
    assert_int_equal(watch_restart_on_crash(&r, &c, 2), 0);
}

static void test_guest_tap_names(void **state)
{
    (void)state;
    assert_true(watch_is_guest_tap("vif3.0", 3));
    assert_true(watch_is_guest_tap("vif3.12", 3));
    assert_true(watch_is_guest_tap("vif3.0-emu", 3));
    assert_false(watch_is_guest_tap("vif31.0", 3)); /* another guest */
    assert_false(watch_is_guest_tap("vif3.0", 31));
    assert_false(watch_is_guest_tap("vif3.", 3));
    assert_false(watch_is_guest_tap("vif3.x", 3));
    assert_false(watch_is_guest_tap("vif3.0x", 3));
    assert_false(watch_is_guest_tap("vif3", 3));
    assert_false(watch_is_guest_tap("xenbr0", 3));
    assert_false(watch_is_guest_tap("tap3.0", 3));

    uint32_t d = 99;
    assert_true(watch_tap_domid("vif32752.3", &d) == false); /* beyond the last domid */
    assert_true(watch_tap_domid("vif32751.3", &d));
    assert_int_equal(d, 32751);
    assert_true(watch_tap_domid("vif0.1", &d));
    assert_int_equal(d, 0);
    assert_false(watch_tap_domid("vif03.1", &d)); /* not how netback names it */
    assert_false(watch_tap_domid("vif.1", &d));
    assert_false(watch_tap_domid("vifx.1", &d));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_delay_doubles_up_to_max),
        cmocka_unit_test(test_crash_loop_after_limit),
        cmocka_unit_test(test_quiet_window_starts_afresh),
        cmocka_unit_test(test_zero_delay),
        cmocka_unit_test(test_guest_tap_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
