/* The rate credit scheduler: over simulated time, a saturating sender gets
 * the configured rate, small rates still pass maximum-size packets, and a
 * live change of the rate takes effect. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "credit.h"

/* Sends packets of size bytes back to back for duration_us, waiting
 * exactly as long as the scheduler says, and returns the bytes sent. */
static uint64_t saturate(struct credit *c, uint64_t *now, uint64_t size, uint64_t duration_us)
{
    uint64_t end = *now + duration_us, sent = 0;
    while (*now < end) {
        uint64_t retry;
        if (credit_take(c, size, *now, &retry)) {
            sent += size;
            if (sent > (uint64_t)1 << 40)
                fail_msg("no limit at all: %llu bytes sent", (unsigned long long)sent);
        } else {
            assert_true(retry > *now); /* a wait always moves time forward */
            *now = retry;
        }
    }
    return sent;
}

static void assert_within(uint64_t got, uint64_t want, double tolerance)
{
    double lo = (double)want * (1 - tolerance), hi = (double)want * (1 + tolerance);
    if ((double)got < lo || (double)got > hi)
        fail_msg("got %llu, want %llu +- %.0f%%", (unsigned long long)got, (unsigned long long)want,
                 tolerance * 100);
}

static void test_parse_rate(void **state)
{
    (void)state;
    uint64_t b, u;
    char err[160];
    assert_int_equal(credit_parse_rate("25000,20000", &b, &u, err, sizeof(err)), 0);
    assert_int_equal(b, 25000);
    assert_int_equal(u, 20000);
    assert_int_equal(credit_parse_rate("18446744073709551615,1", &b, &u, err, sizeof(err)), 0);
    assert_int_equal(b, UINT64_MAX);
    /* xl writes 0 bytes for a rate below one byte per window (1b/s): a
     * limit, as in Linux netback, not a bad value. */
    assert_int_equal(credit_parse_rate("0,50000", &b, &u, err, sizeof(err)), 0);
    assert_int_equal(b, 0);
    assert_int_equal(u, 50000);

    const char *bad[] = {
        "",       "25000",  "25000,", ",20000", "25000,20000,1", "100,0",
        "-1,100", " 1,100", "1, 100", "1,100x", "1,4294967296",  "18446744073709551616,1"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        err[0] = '\0';
        if (credit_parse_rate(bad[i], &b, &u, err, sizeof(err)) != -1)
            fail_msg("rate '%s' accepted", bad[i]);
        assert_non_null(strstr(err, "rate="));
        assert_non_null(strstr(err, bad[i]));
    }
    assert_int_equal(credit_parse_rate(NULL, &b, &u, err, sizeof(err)), -1);
}

static void test_unlimited(void **state)
{
    (void)state;
    struct credit c;
    credit_init(&c, 0, 0, 1000);
    uint64_t retry = 0;
    for (int i = 0; i < 100000; i++)
        assert_true(credit_take(&c, 65535, 1000, &retry));
}

static void test_saturated_rate(void **state)
{
    (void)state;
    /* 10 Mbit/s in 20 ms windows: 25000 bytes per 20000 us. */
    struct credit c;
    uint64_t now = 5000000;
    credit_init(&c, 25000, 20000, now);
    uint64_t sent = saturate(&c, &now, 1514, 10 * 1000000);
    assert_within(sent, 1250000 * 10, 0.02);
}

static void test_small_packets_and_windows(void **state)
{
    (void)state;
    /* 1 MB/s in 1 ms windows, 64-byte packets. */
    struct credit c;
    uint64_t now = 0;
    credit_init(&c, 1000, 1000, now);
    assert_within(saturate(&c, &now, 64, 2 * 1000000), 2000000, 0.02);
}

static void test_packet_larger_than_window_credit(void **state)
{
    (void)state;
    /* 1000 bytes per 10 ms, 64 KiB GSO packets: a packet above the window's
     * credit still goes once enough windows have accumulated (the burst may
     * reach 128 KiB), so the average rate holds. */
    struct credit c;
    uint64_t now = 0;
    credit_init(&c, 1000, 10000, now);
    uint64_t retry;
    assert_false(credit_take(&c, 65535, now, &retry));
    assert_int_equal(retry, 10000);
    uint64_t sent = saturate(&c, &now, 65535, 60 * 1000000);
    assert_within(sent, 100000 * 60, 0.02);
}

static void test_waiting_packet_retries_at_window_end(void **state)
{
    (void)state;
    struct credit c;
    credit_init(&c, 3000, 1000, 0);
    uint64_t retry;
    assert_true(credit_take(&c, 1500, 100, &retry));
    assert_true(credit_take(&c, 1500, 200, &retry));
    assert_false(credit_take(&c, 1500, 300, &retry));
    assert_int_equal(retry, 1000);
    /* asking early again changes nothing */
    assert_false(credit_take(&c, 1500, 999, &retry));
    assert_int_equal(retry, 1000);
    assert_true(credit_take(&c, 1500, 1000, &retry));
    assert_true(credit_take(&c, 1500, 1000, &retry));
    assert_false(credit_take(&c, 1500, 1000, &retry));
    assert_int_equal(retry, 2000);
}

static void test_idle_link_does_not_bank_credit(void **state)
{
    (void)state;
    /* After a long pause the sender gets at most one window and one
     * packet, not the credit of every idle window. */
    struct credit c;
    credit_init(&c, 200000, 1000, 0);
    uint64_t retry, now = 10 * 1000000, burst = 0;
    while (credit_take(&c, 1000, now, &retry))
        burst += 1000;
    assert_true(burst <= 200000 + CREDIT_MAX_PACKET);
    assert_true(burst >= 200000);
}

static void test_big_packets_keep_the_rate(void **state)
{
    (void)state;
    /* 250000 bytes per 50 ms with 64 KiB GSO packets: each window leaves a
     * rest the next packet does not fit in. It carries over, so the rate
     * holds (Linux's cap would lose about a fifth here). */
    struct credit c;
    uint64_t now = 0;
    credit_init(&c, 250000, 50000, now);
    assert_within(saturate(&c, &now, 65535, 10 * 1000000), 5000000 * 10, 0.02);
}

static void test_live_update(void **state)
{
    (void)state;
    struct credit c;
    uint64_t now = 0;
    credit_init(&c, 125000, 10000, now); /* 100 Mbit/s */
    assert_within(saturate(&c, &now, 1514, 2000000), 25000000, 0.02);
    credit_update(&c, 12500, 10000, now); /* 10 Mbit/s */
    assert_within(saturate(&c, &now, 1514, 2000000), 2500000, 0.02);
    credit_update(&c, 0, 0, now); /* unlimited */
    uint64_t retry;
    for (int i = 0; i < 1000; i++)
        assert_true(credit_take(&c, 65535, now, &retry));
    credit_update(&c, 12500, 10000, now); /* limited again, from now */
    assert_within(saturate(&c, &now, 1514, 2000000), 2500000, 0.02);
}

static void test_zero_rate_holds_everything(void **state)
{
    (void)state;
    /* "0,50000": however long the guest waits, nothing passes, and it is
     * told not to retry on a timer; a new rate lets it go. */
    struct credit c;
    uint64_t now = 1000, retry = 0;
    credit_init(&c, 0, 50000, now);
    for (int i = 0; i < 1000; i++, now += 50000) {
        assert_false(credit_take(&c, 60, now, &retry));
        assert_true(retry == CREDIT_NEVER);
    }
    credit_update(&c, 62500, 50000, now); /* 10 Mbit/s */
    assert_within(saturate(&c, &now, 1514, 2000000), 2500000, 0.02);
    credit_update(&c, 0, 50000, now); /* held again */
    assert_false(credit_take(&c, 60, now + 10000000, &retry));
    assert_true(retry == CREDIT_NEVER);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_rate),
        cmocka_unit_test(test_unlimited),
        cmocka_unit_test(test_saturated_rate),
        cmocka_unit_test(test_small_packets_and_windows),
        cmocka_unit_test(test_packet_larger_than_window_credit),
        cmocka_unit_test(test_waiting_packet_retries_at_window_end),
        cmocka_unit_test(test_idle_link_does_not_bank_credit),
        cmocka_unit_test(test_big_packets_keep_the_rate),
        cmocka_unit_test(test_live_update),
        cmocka_unit_test(test_zero_rate_holds_everything),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
