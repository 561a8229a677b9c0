/* The pure parts of common/xs: strict number parsing, path joining and the
 * sanitising of guest values shown in messages. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <errno.h>
#include <limits.h>
#include <string.h>

#include "common/xs.h"

static void test_u64_accepts_plain_decimals(void **state)
{
    uint64_t v = 0;

    (void)state;
    assert_int_equal(pv_parse_u64("0", 0, 10, &v), 0);
    assert_int_equal(v, 0);
    assert_int_equal(pv_parse_u64("51712", 0, UINT64_MAX, &v), 0);
    assert_int_equal(v, 51712);
    assert_int_equal(pv_parse_u64("18446744073709551615", 0, UINT64_MAX, &v), 0);
    assert_true(v == UINT64_MAX);
}

static void test_u64_refuses_non_numbers(void **state)
{
    const char *bad[] = {"", "abc", "12a", " 1", "1 ", "+1", "-1", "0x10", "1.5", "1\n"};
    uint64_t v = 77;

    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        errno = 0;
        assert_int_equal(pv_parse_u64(bad[i], 0, UINT64_MAX, &v), -1);
        assert_int_equal(errno, EINVAL);
    }
    assert_int_equal(pv_parse_u64(NULL, 0, 1, &v), -1);
    assert_int_equal(v, 77); /* never written on failure */
}

static void test_u64_range_and_overflow(void **state)
{
    uint64_t v = 5;

    (void)state;
    errno = 0;
    assert_int_equal(pv_parse_u64("18446744073709551616", 0, UINT64_MAX, &v), -1);
    assert_int_equal(errno, ERANGE);
    errno = 0;
    assert_int_equal(pv_parse_u64("99999999999999999999999", 0, UINT64_MAX, &v), -1);
    assert_int_equal(errno, ERANGE);
    errno = 0;
    assert_int_equal(pv_parse_u64("11", 0, 10, &v), -1);
    assert_int_equal(errno, ERANGE);
    errno = 0;
    assert_int_equal(pv_parse_u64("2", 3, 10, &v), -1);
    assert_int_equal(errno, ERANGE);
    assert_int_equal(v, 5);
    assert_int_equal(pv_parse_u64("10", 3, 10, &v), 0);
    assert_int_equal(v, 10);
}

static void test_int_signs_and_limits(void **state)
{
    int v = 0;

    (void)state;
    assert_int_equal(pv_parse_int("-5", -10, 10, &v), 0);
    assert_int_equal(v, -5);
    assert_int_equal(pv_parse_int("-2147483648", INT_MIN, INT_MAX, &v), 0);
    assert_int_equal(v, INT_MIN);
    assert_int_equal(pv_parse_int("2147483647", INT_MIN, INT_MAX, &v), 0);
    assert_int_equal(v, INT_MAX);
    errno = 0;
    assert_int_equal(pv_parse_int("2147483648", INT_MIN, INT_MAX, &v), -1);
    assert_int_equal(errno, ERANGE);
    errno = 0;
    assert_int_equal(pv_parse_int("-2147483649", INT_MIN, INT_MAX, &v), -1);
    assert_int_equal(errno, ERANGE);
    errno = 0;
    assert_int_equal(pv_parse_int("-11", -10, 10, &v), -1);
    assert_int_equal(errno, ERANGE);
    errno = 0;
    assert_int_equal(pv_parse_int("-", -10, 10, &v), -1);
    assert_int_equal(errno, EINVAL);
    errno = 0;
    assert_int_equal(pv_parse_int("--1", -10, 10, &v), -1);
    assert_int_equal(errno, EINVAL);
}

static void test_join(void **state)
{
    char buf[32];

    (void)state;
    assert_int_equal(pv_xs_join(buf, sizeof(buf), "/a/b", "state"), 0);
    assert_string_equal(buf, "/a/b/state");
    assert_int_equal(pv_xs_join(buf, sizeof(buf), "/a/b", NULL), 0);
    assert_string_equal(buf, "/a/b");
    assert_int_equal(pv_xs_join(buf, sizeof(buf), "/a/b", ""), 0);
    assert_string_equal(buf, "/a/b");
    errno = 0;
    assert_int_equal(pv_xs_join(buf, 8, "/a/b", "state"), -1);
    assert_int_equal(errno, ENAMETOOLONG);
}

static void test_show_value_is_safe_to_log(void **state)
{
    char out[PV_XS_SHOWN_MAX];
    char longv[200];

    (void)state;
    pv_xs_show_value(out, "abc");
    assert_string_equal(out, "abc");
    pv_xs_show_value(out, "a\nb\033c");
    assert_string_equal(out, "a?b?c");
    memset(longv, 'x', sizeof(longv) - 1);
    longv[sizeof(longv) - 1] = '\0';
    pv_xs_show_value(out, longv);
    assert_int_equal(strlen(out), 67);
    assert_string_equal(out + 64, "...");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_u64_accepts_plain_decimals),
        cmocka_unit_test(test_u64_refuses_non_numbers),
        cmocka_unit_test(test_u64_range_and_overflow),
        cmocka_unit_test(test_int_signs_and_limits),
        cmocka_unit_test(test_join),
        cmocka_unit_test(test_show_value_is_safe_to_log),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
