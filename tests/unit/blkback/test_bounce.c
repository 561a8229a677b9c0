/* The bounce page pool (blkback/bounce.h): pages are page-aligned, never
 * more than the bound out at once (a request that would pass it gets none,
 * and is counted as refused), reused most recently returned first, and a
 * trim gives back exactly the pages unused since the previous trim. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "bounce.h"
#include "platform.h"

static void bounded_and_aligned(void **state)
{
    (void)state;
    struct bounce_pool *b = bounce_pool_new(8);
    void *p[8], *q[2];
    assert_int_equal(bounce_get(b, 5, p), 0);
    for (int i = 0; i < 5; i++)
        assert_int_equal((uintptr_t)p[i] % PV_PAGE_SIZE, 0);
    assert_int_equal(bounce_get(b, 3, p + 5), 0);
    /* All 8 out: one more is refused and nothing is taken. */
    assert_int_equal(bounce_get(b, 1, q), -1);
    assert_int_equal(bounce_refused(b), 1);
    bounce_put(b, p[7]);
    bounce_put(b, p[6]);
    assert_int_equal(bounce_get(b, 3, q), -1); /* 2 free, 3 asked: none given */
    assert_int_equal(bounce_refused(b), 4);
    assert_int_equal(bounce_get(b, 2, q), 0);
    /* The most recently returned first. */
    assert_ptr_equal(q[0], p[6]);
    assert_ptr_equal(q[1], p[7]);
    assert_int_equal(bounce_handed(b), 10);
    for (int i = 0; i < 6; i++)
        bounce_put(b, p[i]);
    bounce_put(b, q[0]);
    bounce_put(b, q[1]);
    bounce_pool_free(b);
}

static void zero_bound_gives_nothing(void **state)
{
    (void)state;
    struct bounce_pool *b = bounce_pool_new(0);
    void *p[1];
    assert_int_equal(bounce_get(b, 1, p), -1);
    assert_int_equal(bounce_trim(b), 0);
    bounce_pool_free(b);
}

static void trim_frees_what_stayed_unused(void **state)
{
    (void)state;
    struct bounce_pool *b = bounce_pool_new(16);
    void *p[16];
    assert_int_equal(bounce_held(b), 0);
    assert_int_equal(bounce_get(b, 6, p), 0);
    assert_int_equal(bounce_held(b), 6);
    for (int i = 0; i < 6; i++)
        bounce_put(b, p[i]);
    assert_int_equal(bounce_held(b), 6);
    /* The get above drew the pool down to none free: nothing stayed idle. */
    assert_int_equal(bounce_trim(b), 6);
    /* Two used in this interval: the other four stayed unused. */
    assert_int_equal(bounce_get(b, 2, p), 0);
    bounce_put(b, p[0]);
    bounce_put(b, p[1]);
    assert_int_equal(bounce_trim(b), 2);
    /* Unused for a whole interval: all given back. */
    assert_int_equal(bounce_trim(b), 0);
    assert_int_equal(bounce_held(b), 0);
    /* Pages out are never trimmed. */
    assert_int_equal(bounce_get(b, 3, p), 0);
    assert_int_equal(bounce_trim(b), 3);
    assert_int_equal(bounce_trim(b), 3);
    for (int i = 0; i < 3; i++)
        bounce_put(b, p[i]);
    bounce_pool_free(b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(bounded_and_aligned),
        cmocka_unit_test(zero_bound_gives_nothing),
        cmocka_unit_test(trim_frees_what_stayed_unused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
