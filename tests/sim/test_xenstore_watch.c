/* Watches through libxenstore: the initial event, events for the watched
 * node and everything below it, removal of subtrees, relative watches, the
 * special @introduceDomain/@releaseDomain watches, and no events for nodes
 * the watcher may not read. */
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

static void children_fire(void **state)
{
    struct xs_handle *xs = xsh_open(*state, 0), *w = xsh_open(*state, 0);

    assert_true(xs_watch(w, "/w/dir", "t1"));
    /* Initial event, even though /w/dir does not exist. */
    assert_true(xsh_expect_event(w, "/w/dir", "t1"));
    assert_true(xs_write(xs, XBT_NULL, "/w/dir/a/b", "1", 1));
    assert_true(xsh_expect_event(w, "/w/dir/a/b", "t1"));
    assert_true(xs_write(xs, XBT_NULL, "/w/dir", "2", 1));
    assert_true(xsh_expect_event(w, "/w/dir", "t1"));
    /* Siblings and look-alike prefixes do not fire. */
    assert_true(xs_write(xs, XBT_NULL, "/w/dirx", "3", 1));
    assert_true(xs_write(xs, XBT_NULL, "/w/other", "3", 1));
    assert_true(xsh_no_event(w, 200));
    /* Duplicate watch: EEXIST; another token is fine. */
    assert_false(xs_watch(w, "/w/dir", "t1"));
    assert_int_equal(errno, EEXIST);
    assert_true(xs_unwatch(w, "/w/dir", "t1"));
    assert_false(xs_unwatch(w, "/w/dir", "t1"));
    assert_int_equal(errno, ENOENT);
    assert_true(xs_write(xs, XBT_NULL, "/w/dir/a", "4", 1));
    assert_true(xsh_no_event(w, 200));
    xs_close(xs);
    xs_close(w);
}

static void rm_fires_subtree(void **state)
{
    struct xs_handle *xs = xsh_open(*state, 0), *w = xsh_open(*state, 0);

    assert_true(xs_write(xs, XBT_NULL, "/r/a/b/c", "1", 1));
    assert_true(xs_watch(w, "/r/a/b/c", "deep"));
    assert_true(xsh_expect_event(w, "/r/a/b/c", "deep"));
    assert_true(xs_watch(w, "/r", "top"));
    assert_true(xsh_expect_event(w, "/r", "top"));
    assert_true(xs_rm(xs, XBT_NULL, "/r/a"));
    /* The watch above sees the removed node, the one inside its own node. */
    assert_true(xsh_expect_event(w, "/r/a", "top"));
    assert_true(xsh_expect_event(w, "/r/a/b/c", "deep"));
    xs_close(xs);
    xs_close(w);
}

static void relative_watch(void **state)
{
    struct xsh *h = *state;
    struct xs_handle *g, *xs = xsh_open(h, 0);

    xsh_introduce(h, 6);
    g = xsh_open(h, 6);
    assert_true(xs_watch(g, "device", "rel"));
    assert_true(xsh_expect_event(g, "device", "rel"));
    assert_true(xs_write(xs, XBT_NULL, "/local/domain/6/device/vif/0", "x", 1));
    /* Reported relative to the domain's home, as it was asked. */
    assert_true(xsh_expect_event(g, "device/vif/0", "rel"));
    xs_close(g);
    xs_close(xs);
}

static void special_watches(void **state)
{
    struct xsh *h = *state;
    struct xs_handle *w = xsh_open(h, 0), *g, *xs = xsh_open(h, 0);
    struct xs_permissions p[2] = {{.id = 0, .perms = XS_PERM_NONE},
                                  {.id = 8, .perms = XS_PERM_READ}};
    struct xs_permissions *got;
    unsigned n;

    assert_true(xs_watch(w, "@introduceDomain", "intro"));
    assert_true(xsh_expect_event(w, "@introduceDomain", "intro"));
    assert_true(xs_watch(w, "@releaseDomain", "rel"));
    assert_true(xsh_expect_event(w, "@releaseDomain", "rel"));

    xsh_introduce(h, 8);
    assert_true(xsh_expect_event(w, "@introduceDomain", "intro"));
    g = xsh_open(h, 8);
    /* A guest may watch them but hears nothing unless allowed. */
    assert_true(xs_watch(g, "@releaseDomain", "grel"));
    assert_true(xsh_expect_event(g, "@releaseDomain", "grel"));
    xsh_introduce(h, 9);
    xsh_release(h, 9);
    assert_true(xsh_expect_event(w, "@introduceDomain", "intro"));
    assert_true(xsh_expect_event(w, "@releaseDomain", "rel"));
    assert_true(xsh_no_event(g, 200));
    /* dom0 grants it, as a toolstack does for a driver domain. */
    assert_true(xs_set_permissions(xs, XBT_NULL, "@releaseDomain", p, 2));
    got = xs_get_permissions(xs, XBT_NULL, "@releaseDomain", &n);
    assert_non_null(got);
    assert_int_equal(n, 2);
    assert_int_equal(got[1].id, 8);
    free(got);
    assert_false(xs_set_permissions(g, XBT_NULL, "@releaseDomain", p, 1));
    assert_int_equal(errno, EACCES);
    xsh_introduce(h, 9);
    xsh_release(h, 9);
    assert_true(xsh_expect_event(g, "@releaseDomain", "grel"));
    /* Other '@' names are not nodes. */
    assert_false(xs_write(xs, XBT_NULL, "@releaseDomain", "x", 1));
    assert_int_equal(errno, EINVAL);
    xs_close(g);
    xs_close(w);
    xs_close(xs);
}

static void unreadable_nodes_are_silent(void **state)
{
    struct xsh *h = *state;
    struct xs_handle *xs = xsh_open(h, 0), *g;
    struct xs_permissions open_to_g[2] = {{.id = 0, .perms = XS_PERM_NONE},
                                          {.id = 7, .perms = XS_PERM_READ}};

    xsh_introduce(h, 7);
    g = xsh_open(h, 7);
    assert_true(xs_write(xs, XBT_NULL, "/s", "", 0));
    assert_true(xs_set_permissions(xs, XBT_NULL, "/s", open_to_g, 2));
    assert_true(xs_write(xs, XBT_NULL, "/s/private/key", "", 0));
    assert_true(xs_set_permissions(xs, XBT_NULL, "/s/private",
                                   &(struct xs_permissions){.id = 0, .perms = XS_PERM_NONE}, 1));
    assert_true(xs_set_permissions(xs, XBT_NULL, "/s/private/key",
                                   &(struct xs_permissions){.id = 0, .perms = XS_PERM_NONE}, 1));
    /* A guest watching "/" hears nothing of what it may not read. */
    assert_true(xs_watch(g, "/", "all"));
    assert_true(xsh_expect_event(g, "/", "all"));
    assert_true(xs_write(xs, XBT_NULL, "/s/private/key", "secret", 6));
    assert_true(xs_write(xs, XBT_NULL, "/local/domain/0/x", "y", 1));
    assert_true(xsh_no_event(g, 300));
    /* But it hears of readable ones. */
    assert_true(xs_write(xs, XBT_NULL, "/s/public", "p", 1));
    assert_true(xsh_expect_event(g, "/s/public", "all"));
    /* Losing access to a node still tells the watcher that it changed. */
    assert_true(xs_set_permissions(xs, XBT_NULL, "/s/public",
                                   &(struct xs_permissions){.id = 0, .perms = XS_PERM_NONE}, 1));
    assert_true(xsh_expect_event(g, "/s/public", "all"));
    xs_close(g);
    xs_close(xs);
}

static void watch_quota(void **state)
{
    struct xsh *h = *state;
    struct xs_handle *g, *xs = xsh_open(h, 0);
    char tok[16];
    int i;

    xsh_introduce(h, 2);
    g = xsh_open(h, 2);
    for (i = 0; i < 128; i++) {
        snprintf(tok, sizeof(tok), "t%d", i);
        assert_true(xs_watch(g, "data", tok));
    }
    assert_false(xs_watch(g, "data", "one-more"));
    assert_int_equal(errno, E2BIG);
    assert_true(xs_unwatch(g, "data", "t0"));
    assert_true(xs_watch(g, "data", "one-more"));
    for (i = 0; i < 200; i++) {
        snprintf(tok, sizeof(tok), "d%d", i);
        assert_true(xs_watch(xs, "/x", tok));
    }
    xs_close(g);
    xs_close(xs);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(children_fire, setup, teardown),
        cmocka_unit_test_setup_teardown(rm_fires_subtree, setup, teardown),
        cmocka_unit_test_setup_teardown(relative_watch, setup, teardown),
        cmocka_unit_test_setup_teardown(special_watches, setup, teardown),
        cmocka_unit_test_setup_teardown(unreadable_nodes_are_silent, setup, teardown),
        cmocka_unit_test_setup_teardown(watch_quota, setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
