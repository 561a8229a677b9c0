/* The event storm guard (common/evtchn_storm.h): a frontend that produces
 * is never throttled however often it notifies, nor for empty notifications
 * fewer than its productive ones; PV_STORM_MAX empty notifications within a
 * second are tolerated and the next one throttles, reported once; the count
 * starts again with each second. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "common/evtchn_storm.h"

static void producing_frontend_never_throttled(void **state)
{
    (void)state;
    struct pv_storm s = {0};
    for (unsigned i = 0; i < 100 * PV_STORM_MAX; i++)
        assert_int_equal(pv_storm_event(&s, true, 5000 + i / 1000), PV_STORM_OK);
    assert_false(s.throttled);
}

static void empty_notifications_past_the_bound_throttle(void **state)
{
    (void)state;
    struct pv_storm s = {0};
    uint64_t t = 1000;
    for (unsigned i = 0; i < PV_STORM_MAX; i++)
        assert_int_equal(pv_storm_event(&s, false, t), PV_STORM_OK);
    assert_false(s.throttled);
    assert_int_equal(pv_storm_event(&s, false, t + 999), PV_STORM_THROTTLE_FIRST);
    assert_true(s.throttled);
    pv_storm_resume(&s);
    assert_false(s.throttled);
    /* Still the same second: throttled again at once, not reported again. */
    assert_int_equal(pv_storm_event(&s, false, t + 999), PV_STORM_THROTTLE);
    assert_true(s.throttled);
    pv_storm_resume(&s);
    /* A notification after which the frontend produced is never held. */
    assert_int_equal(pv_storm_event(&s, true, t + 999), PV_STORM_OK);
}

static void the_count_starts_again_each_second(void **state)
{
    (void)state;
    struct pv_storm s = {0};
    uint64_t t = 7000;
    /* Just under the bound in every second, for ten seconds. */
    for (unsigned sec = 0; sec < 10; sec++)
        for (unsigned i = 0; i < PV_STORM_MAX; i++)
            assert_int_equal(pv_storm_event(&s, false, t + sec * 1000 + i % 1000), PV_STORM_OK);
    assert_false(s.throttled);
    assert_false(s.logged);
}

static void busy_frontend_with_some_empty_events(void **state)
{
    (void)state;
    /* 10 productive notifications to every empty one, 20000 a second: the
     * empty ones pass PV_STORM_MAX but never outnumber the others. */
    struct pv_storm s = {0};
    for (unsigned i = 0; i < 5 * 20000; i++)
        assert_int_equal(pv_storm_event(&s, i % 11 != 0, 1000 + i / 20), PV_STORM_OK);
    assert_false(s.throttled);
}

static void storm_mixed_with_some_requests_is_throttled(void **state)
{
    (void)state;
    /* One real request per ten empty notifications: throttled once the
     * empty ones pass PV_STORM_MAX (they outnumber the others long before). */
    struct pv_storm s = {0};
    unsigned empty = 0, ok = 0;
    enum pv_storm_verdict v = PV_STORM_OK;
    for (unsigned i = 0; v == PV_STORM_OK && i < 4 * PV_STORM_MAX; i++) {
        bool produced = i % 11 == 10;
        empty += !produced;
        v = pv_storm_event(&s, produced, 3000);
        ok += v == PV_STORM_OK;
    }
    assert_int_equal(v, PV_STORM_THROTTLE_FIRST);
    assert_int_equal(empty, PV_STORM_MAX + 1);
    assert_int_equal(ok, PV_STORM_MAX + PV_STORM_MAX / 10);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(producing_frontend_never_throttled),
        cmocka_unit_test(empty_notifications_past_the_bound_throttle),
        cmocka_unit_test(the_count_starts_again_each_second),
        cmocka_unit_test(busy_frontend_with_some_empty_events),
        cmocka_unit_test(storm_mixed_with_some_requests_is_throttled),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
