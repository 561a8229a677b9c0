/* Transactions through libxenstore: isolation, EAGAIN when something the
 * transaction read or wrote changed meanwhile, watch events at commit only,
 * and the per-domain limit. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "xenstore_harness.h"

static int setup(void **state)
{
    *state = xsh_start();
    return 0;
}

static int teardown(void **state)
{
    xsh_stop(*state);
    return 0;
}

static char *tread(struct xs_handle *xs, xs_transaction_t t, const char *path)
{
    unsigned len;

    return xs_read(xs, t, path, &len);
}

static void isolation(void **state)
{
    struct xs_handle *a = xsh_open(*state, 0), *b = xsh_open(*state, 0);
    xs_transaction_t t;
    char *v;

    assert_true(xs_write(a, XBT_NULL, "/t/x", "old", 3));
    t = xs_transaction_start(a);
    assert_int_not_equal(t, XBT_NULL);
    assert_true(xs_write(a, t, "/t/x", "new", 3));
    assert_true(xs_write(a, t, "/t/created", "c", 1));
    assert_true(xs_rm(a, t, "/t/gone"));
    /* Inside: the transaction's view. */
    v = tread(a, t, "/t/x");
    assert_string_equal(v, "new");
    free(v);
    /* Outside: nothing yet. */
    v = tread(b, XBT_NULL, "/t/x");
    assert_string_equal(v, "old");
    free(v);
    assert_null(tread(b, XBT_NULL, "/t/created"));
    assert_int_equal(errno, ENOENT);
    assert_true(xs_transaction_end(a, t, true));  /* abort */
    assert_false(xs_transaction_end(a, t, true)); /* ended: ENOENT */
    assert_int_equal(errno, ENOENT);
    /* Aborted: nothing happened. */
    v = tread(b, XBT_NULL, "/t/x");
    assert_string_equal(v, "old");
    free(v);

    t = xs_transaction_start(a);
    assert_true(xs_write(a, t, "/t/x", "new", 3));
    assert_true(xs_write(a, t, "/t/created/deep", "c", 1));
    assert_true(xs_transaction_end(a, t, false)); /* commit */
    v = tread(b, XBT_NULL, "/t/x");
    assert_string_equal(v, "new");
    free(v);
    v = tread(b, XBT_NULL, "/t/created/deep");
    assert_string_equal(v, "c");
    free(v);
    xs_close(a);
    xs_close(b);
}

static void conflicts(void **state)
{
    struct xs_handle *a = xsh_open(*state, 0), *b = xsh_open(*state, 0);
    xs_transaction_t t;
    char *v;

    assert_true(xs_write(a, XBT_NULL, "/c/x", "0", 1));
    assert_true(xs_write(a, XBT_NULL, "/c/y", "0", 1));

    /* Something it read changed: EAGAIN, and its writes are dropped. */
    t = xs_transaction_start(a);
    v = tread(a, t, "/c/x");
    free(v);
    assert_true(xs_write(a, t, "/c/y", "1", 1));
    assert_true(xs_write(b, XBT_NULL, "/c/x", "b", 1));
    assert_false(xs_transaction_end(a, t, false));
    assert_int_equal(errno, EAGAIN);
    v = tread(b, XBT_NULL, "/c/y");
    assert_string_equal(v, "0");
    free(v);

    /* Something it wrote changed. */
    t = xs_transaction_start(a);
    assert_true(xs_write(a, t, "/c/y", "1", 1));
    assert_true(xs_write(b, XBT_NULL, "/c/y", "b", 1));
    assert_false(xs_transaction_end(a, t, false));
    assert_int_equal(errno, EAGAIN);

    /* Something it found missing was created. */
    t = xs_transaction_start(a);
    assert_null(tread(a, t, "/c/new"));
    assert_true(xs_write(b, XBT_NULL, "/c/new", "b", 1));
    assert_false(xs_transaction_end(a, t, false));
    assert_int_equal(errno, EAGAIN);

    /* Unrelated changes do not conflict. */
    t = xs_transaction_start(a);
    assert_true(xs_write(a, t, "/c/x", "a", 1));
    assert_true(xs_write(b, XBT_NULL, "/other", "b", 1));
    assert_true(xs_transaction_end(a, t, false));
    v = tread(b, XBT_NULL, "/c/x");
    assert_string_equal(v, "a");
    free(v);

    /* Two transactions writing the same key: the second loses. */
    xs_transaction_t t1 = xs_transaction_start(a), t2 = xs_transaction_start(b);
    assert_true(xs_write(a, t1, "/c/x", "1", 1));
    assert_true(xs_write(b, t2, "/c/x", "2", 1));
    assert_true(xs_transaction_end(a, t1, false));
    assert_false(xs_transaction_end(b, t2, false));
    assert_int_equal(errno, EAGAIN);
    v = tread(b, XBT_NULL, "/c/x");
    assert_string_equal(v, "1");
    free(v);
    xs_close(a);
    xs_close(b);
}

static void events_at_commit(void **state)
{
    struct xs_handle *a = xsh_open(*state, 0), *w = xsh_open(*state, 0);
    xs_transaction_t t;

    assert_true(xs_watch(w, "/e", "tok"));
    assert_true(xsh_expect_event(w, "/e", "tok")); /* initial event */
    t = xs_transaction_start(a);
    assert_true(xs_write(a, t, "/e/k", "v", 1));
    assert_true(xsh_no_event(w, 200));
    assert_true(xs_transaction_end(a, t, false));
    assert_true(xsh_expect_event(w, "/e/k", "tok"));
    /* An aborted transaction fires nothing. */
    t = xs_transaction_start(a);
    assert_true(xs_write(a, t, "/e/k2", "v", 1));
    assert_true(xs_transaction_end(a, t, true));
    assert_true(xsh_no_event(w, 200));
    xs_close(a);
    xs_close(w);
}

static void guest_limit(void **state)
{
    struct xsh *h = *state;
    struct xs_handle *g, *xs = xsh_open(h, 0);
    xs_transaction_t t[16];
    int i;

    xsh_introduce(h, 1);
    g = xsh_open(h, 1);
    for (i = 0; i < 10; i++) {
        t[i] = xs_transaction_start(g);
        assert_int_not_equal(t[i], XBT_NULL);
    }
    assert_int_equal(xs_transaction_start(g), XBT_NULL);
    assert_int_equal(errno, ENOSPC);
    /* Ending one makes room. */
    assert_true(xs_transaction_end(g, t[0], true));
    t[0] = xs_transaction_start(g);
    assert_int_not_equal(t[0], XBT_NULL);
    /* dom0 has no such limit. */
    for (i = 0; i < 16; i++) {
        xs_transaction_t d = xs_transaction_start(xs);
        assert_int_not_equal(d, XBT_NULL);
    }
    xs_close(g);
    xs_close(xs);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(isolation, setup, teardown),
        cmocka_unit_test_setup_teardown(conflicts, setup, teardown),
        cmocka_unit_test_setup_teardown(events_at_commit, setup, teardown),
        cmocka_unit_test_setup_teardown(guest_limit, setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
