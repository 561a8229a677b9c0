/* The contiguous buffer pool (blkback/contig.h): buffers are page-aligned,
 * each inside one 2 MiB region (one huge page where the kernel gives one),
 * never more than the bound out at once (one more is refused and counted),
 * writable over their whole size, reused most recently returned first; a
 * trim gives the memory back only after an interval without a get and with
 * none out, and the pool works again after. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "contig.h"
#include "platform.h"

#define MIB (1u << 20)

static void bounded_aligned_and_whole(void **state)
{
    (void)state;
    struct contig_pool *c = contig_pool_new(4, MIB);
    void *b[4];
    assert_false(contig_reserved(c));
    for (int i = 0; i < 4; i++) {
        b[i] = contig_get(c);
        assert_non_null(b[i]);
        assert_int_equal((uintptr_t)b[i] % PV_PAGE_SIZE, 0);
        /* Inside one 2 MiB region: first and last byte in the same one. */
        assert_int_equal((uintptr_t)b[i] / (2 * MIB), ((uintptr_t)b[i] + MIB - 1) / (2 * MIB));
        memset(b[i], i + 1, MIB);
    }
    assert_true(contig_reserved(c));
    for (int i = 0; i < 4; i++) /* no buffer overlaps another */
        assert_int_equal(((unsigned char *)b[i])[MIB - 1], i + 1);
    assert_null(contig_get(c));
    assert_int_equal(contig_refused(c), 1);
    contig_put(c, b[2]);
    contig_put(c, b[0]);
    assert_ptr_equal(contig_get(c), b[0]); /* the most recently returned first */
    assert_ptr_equal(contig_get(c), b[2]);
    assert_int_equal(contig_handed(c), 6);
    for (int i = 0; i < 4; i++)
        contig_put(c, b[i]);
    contig_pool_free(c);
}

static void zero_bound_gives_nothing(void **state)
{
    (void)state;
    struct contig_pool *c = contig_pool_new(0, MIB);
    assert_null(contig_get(c));
    assert_false(contig_reserved(c));
    assert_false(contig_trim(c));
    contig_pool_free(c);
}

static void trim_after_an_idle_interval(void **state)
{
    (void)state;
    struct contig_pool *c = contig_pool_new(2, MIB);
    void *b = contig_get(c);
    assert_non_null(b);
    assert_true(contig_trim(c)); /* taken in the interval, and out: kept */
    assert_true(contig_trim(c)); /* out: kept */
    contig_put(c, b);
    assert_false(contig_trim(c)); /* no get in the interval, none out: given back */
    assert_false(contig_reserved(c));
    b = contig_get(c);
    assert_non_null(b);
    contig_put(c, b);
    assert_true(contig_trim(c)); /* taken in the interval: kept */
    assert_false(contig_trim(c));
    assert_false(contig_reserved(c));
    /* Reserved again at the next get, with every buffer free. */
    void *x = contig_get(c), *y = contig_get(c);
    assert_non_null(x);
    assert_non_null(y);
    assert_ptr_not_equal(x, y);
    memset(x, 1, MIB);
    memset(y, 2, MIB);
    assert_null(contig_get(c));
    contig_put(c, x);
    contig_put(c, y);
    contig_pool_free(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(bounded_aligned_and_whole),
        cmocka_unit_test(zero_bound_gives_nothing),
        cmocka_unit_test(trim_after_an_idle_interval),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
