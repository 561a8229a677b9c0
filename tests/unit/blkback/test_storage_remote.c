/* The two clocks of a lost remote session (storage_remote.c): a reconnect
 * attempt that stays silent past its window is redone with a window twice as
 * long (up to the cap), so that a login slower than the first window gets
 * through; the window starts over once the session is back; and the
 * reconnect timeout passes from the loss whatever the attempts do. Time is
 * moved by shifting the store's recorded instants into the past. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "loop.h"
#include "storage_remote.h"

static struct pv_remote_store store(void)
{
    struct pv_remote_store r = {.name = "iscsi://t/iqn.x/1", .peer = "target", .timeout_s = 5};
    return r;
}

/* An attempt started `ago` ms ago is under way: is a new one due? */
static bool due_after(struct pv_remote_store *r, uint64_t ago)
{
    r->attempt_ms = pv_now_ms() - ago;
    return pv_remote_retry_due(r, true);
}

static void test_no_attempt_under_way_is_due_at_once(void **state)
{
    (void)state;
    struct pv_remote_store r = store();
    assert_true(pv_remote_retry_due(&r, false));
    assert_true(pv_remote_retry_due(&r, false)); /* a failed attempt: the next at once */
    assert_int_equal(r.attempt_window_ms, PV_REMOTE_RETRY_MS);
}

static void test_silent_attempt_window_doubles_to_the_cap(void **state)
{
    (void)state;
    struct pv_remote_store r = store();
    assert_true(pv_remote_retry_due(&r, false));
    unsigned int window = PV_REMOTE_RETRY_MS;
    for (int i = 0; i < 8; i++) {
        /* Within its window an attempt is left alone... */
        assert_false(due_after(&r, window - 500));
        /* ...past it, redone, and the next one may take twice as long. */
        assert_true(due_after(&r, window));
        window = window * 2 < PV_REMOTE_RETRY_MAX_MS ? window * 2 : PV_REMOTE_RETRY_MAX_MS;
        assert_int_equal(r.attempt_window_ms, window);
    }
    assert_int_equal(r.attempt_window_ms, PV_REMOTE_RETRY_MAX_MS);
    /* A login slower than the first window succeeds in a later one. */
    assert_false(due_after(&r, PV_REMOTE_RETRY_MS * 4));
}

static void test_window_starts_over_once_the_session_is_back(void **state)
{
    (void)state;
    struct pv_remote_store r = store();
    pv_remote_session_lost(&r, "test");
    assert_true(pv_remote_retry_due(&r, false));
    assert_true(due_after(&r, PV_REMOTE_RETRY_MS));
    assert_int_equal(r.attempt_window_ms, 2 * PV_REMOTE_RETRY_MS);
    pv_remote_session_back(&r);
    pv_remote_session_lost(&r, "test");
    assert_true(pv_remote_retry_due(&r, false));
    assert_int_equal(r.attempt_window_ms, PV_REMOTE_RETRY_MS);
}

static void test_timeout_counts_from_the_loss_whatever_the_attempts(void **state)
{
    (void)state;
    struct pv_remote_store r = store();
    pv_remote_session_lost(&r, "test");
    assert_true(pv_remote_retry_due(&r, false));
    assert_false(pv_remote_session_expired(&r));
    /* Attempts under way (even one just redone) do not hold the timeout. */
    r.down_since_ms = pv_now_ms() - r.timeout_s * 1000ull;
    assert_false(due_after(&r, 0));
    assert_true(pv_remote_session_expired(&r));
    assert_true(r.gave_up);
    assert_false(pv_remote_session_expired(&r)); /* reported once */
    /* Attempts go on after it, so that the service comes back. */
    assert_true(due_after(&r, r.attempt_window_ms));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_no_attempt_under_way_is_due_at_once),
        cmocka_unit_test(test_silent_attempt_window_doubles_to_the_cap),
        cmocka_unit_test(test_window_starts_over_once_the_session_is_back),
        cmocka_unit_test(test_timeout_counts_from_the_loss_whatever_the_attempts),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
