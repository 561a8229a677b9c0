/* The xenbus state machine end to end on xensim's xenstored: a toy device
 * class served by common/xenbus, a toolstack writing what libxl writes, and
 * a guest that walks its frontend state through its own socket. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "test_xenbus_toy.h"

static int setup(void **state)
{
    *state = toy_setup();
    return 0;
}

static int teardown(void **state)
{
    toy_teardown(*state);
    return 0;
}

/* Connects device devid: the hotplug script reports, the guest publishes
 * its ring and goes Initialised. */
static void connect_dev(struct toy *t, unsigned devid, const char *ring)
{
    expect_state(t, devid, XenbusStateInitWait);
    put(t->tool, "connected", BE_DIR "/%u/%u/hotplug-status", GUEST, devid);
    put(t->guest, ring, "/local/domain/%u/device/toy/%u/ring-ref", GUEST, devid);
    guest_state(t, devid, "3");
    expect_state(t, devid, XenbusStateConnected);
}

/* The guest closes device devid and comes back (with a new ring when ring
 * is not NULL): Closed, InitWait, Connected again. */
static void reconnect_dev(struct toy *t, unsigned devid, const char *ring)
{
    guest_state(t, devid, "6");
    expect_state(t, devid, XenbusStateClosed);
    guest_state(t, devid, "1");
    expect_state(t, devid, XenbusStateInitWait);
    if (ring)
        put(t->guest, ring, "/local/domain/%u/device/toy/%u/ring-ref", GUEST, devid);
    guest_state(t, devid, "3");
    expect_state(t, devid, XenbusStateConnected);
}

static void test_normal_connect(void **state)
{
    struct toy *t = *state;
    char *v;

    toy_add_device(t, 1);
    toy_start_backend(t);
    expect_state(t, 1, XenbusStateInitWait);
    assert_int_equal(t->st.probes, 1);
    v = xsh_read(t->tool, BE_DIR "/3/1/feature-toy");
    assert_non_null(v);
    assert_string_equal(v, "1");
    free(v);

    /* The frontend is ready before the host side: wait for hotplug-status. */
    put(t->guest, "8", "/local/domain/3/device/toy/1/ring-ref");
    guest_state(t, 1, "3");
    run_for(t, 200);
    assert_int_equal(be_state(t, 1), XenbusStateInitWait);
    assert_int_equal(t->st.connects, 0);

    put(t->tool, "connected", BE_DIR "/3/1/hotplug-status");
    expect_state(t, 1, XenbusStateConnected);
    assert_int_equal(t->st.connects, 1);
    assert_int_equal(t->st.ring_ref, 8);
    assert_string_equal(t->st.last_key, "hotplug-status");

    guest_state(t, 1, "4");
    run_for(t, 100);
    assert_int_equal(be_state(t, 1), XenbusStateConnected);
    assert_int_equal(t->st.connects, 1);
    assert_int_equal(pv_xenbus_backend_count(t->be), 1);
}

static void test_frontend_skips_states(void **state)
{
    struct toy *t = *state;

    /* Everything is in place before the backend starts and the frontend
     * already says Connected: one walk from Initialising to Connected. */
    toy_add_device(t, 1);
    put(t->tool, "connected", BE_DIR "/3/1/hotplug-status");
    put(t->guest, "12", "/local/domain/3/device/toy/1/ring-ref");
    guest_state(t, 1, "4");
    toy_start_backend(t);
    expect_state(t, 1, XenbusStateConnected);
    assert_int_equal(t->st.probes, 1);
    assert_int_equal(t->st.connects, 1);
    assert_int_equal(t->st.ring_ref, 12);
}

static void test_close_and_reconnect(void **state)
{
    struct toy *t = *state;

    toy_add_device(t, 1);
    toy_start_backend(t);
    connect_dev(t, 1, "8");

    guest_state(t, 1, "5");
    expect_state(t, 1, XenbusStateClosing);
    assert_int_equal(t->st.disconnects, 1);
    guest_state(t, 1, "6");
    expect_state(t, 1, XenbusStateClosed);
    assert_int_equal(t->st.removes, 0); /* online = 1: the device stays */

    /* The guest's driver comes back with a new ring. */
    guest_state(t, 1, "1");
    expect_state(t, 1, XenbusStateInitWait);
    put(t->guest, "9", "/local/domain/3/device/toy/1/ring-ref");
    guest_state(t, 1, "3");
    expect_state(t, 1, XenbusStateConnected);
    assert_int_equal(t->st.connects, 2);
    assert_int_equal(t->st.ring_ref, 9);
    assert_int_equal(t->st.probes, 1);
}

static void test_frontend_restarts_while_connected(void **state)
{
    struct toy *t = *state;

    toy_add_device(t, 1);
    toy_start_backend(t);
    connect_dev(t, 1, "8");
    /* A kexec'ed guest's new driver starts over without closing first. */
    guest_state(t, 1, "1");
    expect_state(t, 1, XenbusStateInitWait);
    assert_int_equal(t->st.disconnects, 1);
    put(t->guest, "10", "/local/domain/3/device/toy/1/ring-ref");
    guest_state(t, 1, "4");
    expect_state(t, 1, XenbusStateConnected);
    assert_int_equal(t->st.ring_ref, 10);
}

static void test_online_0_removes_after_close(void **state)
{
    struct toy *t = *state;

    toy_add_device(t, 1);
    toy_start_backend(t);
    connect_dev(t, 1, "8");
    put(t->tool, "0", BE_DIR "/3/1/online");
    run_for(t, 100);
    assert_int_equal(be_state(t, 1), XenbusStateConnected); /* waits for the guest */
    /* Offline: once the frontend closes there is nothing left to wait for. */
    guest_state(t, 1, "5");
    expect_state(t, 1, XenbusStateClosed);
    guest_state(t, 1, "6");
    run_for(t, 100);
    assert_int_equal(t->st.removes, 1);
    assert_int_equal(t->st.disconnects, 1);
    assert_int_equal(pv_xenbus_backend_count(t->be), 0);
    /* Not adopted again by later events on the directory. */
    put(t->tool, "x", BE_DIR "/3/1/other");
    run_for(t, 100);
    assert_int_equal(pv_xenbus_backend_count(t->be), 0);
}

static void test_toolstack_closing_is_prompt(void **state)
{
    struct toy *t = *state;
    xs_transaction_t tx;
    uint64_t start;

    toy_add_device(t, 1);
    toy_start_backend(t);
    connect_dev(t, 1, "8");
    /* xl destroy: the guest is paused (never answers) and libxl writes
     * online = 0 and state = Closing, then waits for Closed. */
    do {
        tx = xs_transaction_start(t->tool);
        assert_true(xs_write(t->tool, tx, BE_DIR "/3/1/online", "0", 1));
        assert_true(xs_write(t->tool, tx, BE_DIR "/3/1/state", "5", 1));
    } while (!xs_transaction_end(t->tool, tx, false) && errno == EAGAIN);
    start = pv_now_ms();
    expect_state(t, 1, XenbusStateClosed);
    assert_true(pv_now_ms() - start < 5000); /* libxl would give up at 10 s */
    run_for(t, 50);
    assert_int_equal(t->st.disconnects, 1);
    assert_int_equal(t->st.removes, 1);
    /* libxl then removes the directories. */
    assert_true(xs_rm(t->tool, XBT_NULL, BE_DIR "/3/1"));
    assert_true(xs_rm(t->tool, XBT_NULL, "/local/domain/3/device/toy/1"));
    run_for(t, 100);
    assert_int_equal(pv_xenbus_backend_count(t->be), 0);
}

static void test_directory_removed(void **state)
{
    struct toy *t = *state;

    toy_add_device(t, 1);
    toy_start_backend(t);
    connect_dev(t, 1, "8");
    assert_true(xs_rm(t->tool, XBT_NULL, BE_DIR "/3"));
    run_for(t, 200);
    assert_int_equal(pv_xenbus_backend_count(t->be), 0);
    assert_int_equal(t->st.disconnects, 1);
    assert_int_equal(t->st.removes, 1);
    /* Nothing was written back into the removed directory. */
    assert_null(xsh_read(t->tool, BE_DIR "/3/1/state"));
}

/* A disconnect the class defers (blkback with requests still at a server
 * that is down) holds that device's next state, not the other devices. */
static void test_deferred_disconnect_holds_only_its_device(void **state)
{
    struct toy *t = *state;

    toy_add_device(t, 1);
    toy_add_device(t, 2);
    toy_start_backend(t);
    connect_dev(t, 1, "8");
    connect_dev(t, 2, "9");
    t->st.defer = true;
    guest_state(t, 1, "6"); /* the frontend closes at once */
    run_for(t, 200);
    assert_int_equal(t->st.disconnects, 1);
    assert_ptr_not_equal(t->st.pending, NULL);
    /* Closed only once its I/O ended: the guest may not reuse the pages. */
    assert_int_not_equal(be_state(t, 1), XenbusStateClosed);
    /* The other device goes on: closes and reconnects meanwhile. */
    t->st.defer = false;
    reconnect_dev(t, 2, NULL);
    assert_int_not_equal(be_state(t, 1), XenbusStateClosed);
    toy_io_done(t);
    expect_state(t, 1, XenbusStateClosed);
    /* and it reconnects as usual */
    reconnect_dev(t, 1, "11");
    assert_int_equal(t->st.ring_ref, 11);
}

/* The toolstack removes the directory while the disconnect is deferred:
 * the device is removed once its I/O ends, and a device of the same name
 * added meanwhile is served after that. */
static void test_deferred_disconnect_delays_removal(void **state)
{
    struct toy *t = *state;

    toy_add_device(t, 1);
    toy_start_backend(t);
    connect_dev(t, 1, "8");
    t->st.defer = true;
    assert_true(xs_rm(t->tool, XBT_NULL, BE_DIR "/3/1"));
    assert_true(xs_rm(t->tool, XBT_NULL, "/local/domain/3/device/toy/1"));
    run_for(t, 200);
    assert_int_equal(t->st.removes, 0);
    assert_int_equal(pv_xenbus_backend_count(t->be), 1);
    /* block-attach of the same name before the old I/O ended */
    t->st.defer = false;
    toy_add_device(t, 1);
    run_for(t, 200);
    assert_int_equal(t->st.probes, 1); /* not yet: the old one still holds it */
    toy_io_done(t);
    run_for(t, 200);
    assert_int_equal(t->st.removes, 1);
    expect_state(t, 1, XenbusStateInitWait);
    assert_int_equal(t->st.probes, 2);
    connect_dev(t, 1, "12");
    assert_int_equal(pv_xenbus_backend_count(t->be), 1);
}

/* A stopping process ends every deferred disconnect before it exits. */
static void test_deferred_disconnect_ends_at_exit(void **state)
{
    struct toy *t = *state;

    toy_add_device(t, 1);
    toy_add_device(t, 2);
    toy_start_backend(t);
    connect_dev(t, 1, "8");
    connect_dev(t, 2, "9");
    t->st.defer = true;
    assert_true(xs_rm(t->tool, XBT_NULL, BE_DIR "/3/2"));
    run_for(t, 200);
    assert_ptr_not_equal(t->st.pending, NULL);
    pv_xenbus_backend_free(t->be); /* toy_remove asserts it was unmapped */
    t->be = NULL;
    assert_null(t->st.pending);
    assert_int_equal(t->st.removes, 2);
}

static void test_fatal_error_spares_other_device(void **state)
{
    struct toy *t = *state;
    char *v;

    toy_add_device(t, 1);
    toy_add_device(t, 2);
    toy_start_backend(t);
    connect_dev(t, 2, "20");

    expect_state(t, 1, XenbusStateInitWait);
    put(t->tool, "connected", BE_DIR "/3/1/hotplug-status");
    put(t->guest, "abc", "/local/domain/3/device/toy/1/ring-ref");
    guest_state(t, 1, "3");
    expect_state(t, 1, XenbusStateClosing);
    v = xsh_read(t->tool, ERR_DIR "/3/1/error");
    assert_non_null(v);
    assert_string_equal(v, "22 /local/domain/3/device/toy/1/ring-ref: 'abc' is not a number");
    free(v);
    /* The half-done connect was undone; the other device still serves. */
    assert_int_equal(t->st.disconnects, 1);
    assert_int_equal(be_state(t, 2), XenbusStateConnected);
    assert_int_equal(pv_xenbus_backend_count(t->be), 2);
    assert_null(xsh_read(t->tool, ERR_DIR "/3/2/error"));

    /* The guest gives up and retries with a good ring. */
    reconnect_dev(t, 1, "7");
    assert_int_equal(t->st.ring_ref, 7);
}

static void test_bad_frontend_state(void **state)
{
    struct toy *t = *state;
    char *v;

    toy_add_device(t, 1);
    toy_start_backend(t);
    connect_dev(t, 1, "8");
    guest_state(t, 1, "banana");
    expect_state(t, 1, XenbusStateClosing);
    v = xsh_read(t->tool, ERR_DIR "/3/1/error");
    assert_non_null(v);
    assert_string_equal(v, "22 saw state -1 at frontend");
    free(v);
    assert_int_equal(t->st.disconnects, 1);
}

static void test_frontend_id_must_match_path(void **state)
{
    struct toy *t = *state;
    char *v;

    toy_add_device(t, 1);
    put(t->tool, "4", BE_DIR "/3/1/frontend-id");
    toy_start_backend(t);
    expect_state(t, 1, XenbusStateClosed);
    v = xsh_read(t->tool, ERR_DIR "/3/1/error");
    assert_non_null(v);
    assert_string_equal(v, "22 frontend-id 4 does not match domain 3 of the path");
    free(v);
    assert_int_equal(t->st.probes, 0);
}

static void test_restart_takes_over_connected_device(void **state)
{
    struct toy *t = *state;

    toy_add_device(t, 1);
    toy_start_backend(t);
    connect_dev(t, 1, "8");
    /* The daemon stops (an upgrade): xenstore is left as it is. */
    pv_xenbus_backend_free(t->be);
    assert_int_equal(be_state(t, 1), XenbusStateConnected);
    assert_int_equal(t->st.removes, 1);
    memset(&t->st, 0, sizeof(t->st));
    toy_start_backend(t);
    /* The state key still says Connected: wait for the new connect. */
    expect_count(t, &t->st.connects, 1);
    expect_state(t, 1, XenbusStateConnected);
    assert_int_equal(t->st.probes, 1);
    assert_int_equal(t->st.ring_ref, 8);
}

static void test_backend_key_hook(void **state)
{
    struct toy *t = *state;

    toy_add_device(t, 1);
    toy_start_backend(t);
    connect_dev(t, 1, "8");
    t->st.changed = 0;
    put(t->tool, "100000,50000", BE_DIR "/3/1/rate");
    run_for(t, 100);
    assert_true(t->st.changed >= 1);
    assert_string_equal(t->st.last_key, "rate");
    assert_int_equal(be_state(t, 1), XenbusStateConnected);
}

static void test_guest_flooding_its_state(void **state)
{
    struct toy *t = *state;

    toy_add_device(t, 1);
    toy_add_device(t, 2);
    toy_start_backend(t);
    connect_dev(t, 1, "8");
    connect_dev(t, 2, "9");
    /* A hostile guest rewrites its state and creates keys below it as fast
     * as it can while the backend is busy elsewhere. */
    for (int i = 0; i < 500; i++)
        guest_state(t, 1, "4");
    for (int i = 0; i < 3 * (int)PV_XS_WATCH_QUEUE_MAX / 2; i++)
        put(t->guest, "x", "/local/domain/3/device/toy/1/state/junk-%d", i);
    run_for(t, 300);
    assert_int_equal(be_state(t, 1), XenbusStateConnected);
    assert_int_equal(t->st.connects, 2);
    /* The other device still answers promptly. */
    guest_state(t, 2, "5");
    expect_state(t, 2, XenbusStateClosing);
}

static void test_refuses_bad_setup(void **state)
{
    struct toy *t = *state;
    struct pv_xenbus_ops ops = toy_ops;

    ops.type = "vbd/x";
    assert_null(pv_xenbus_backend_new(t->xs, &ops, 0, -1, t));
    assert_int_equal(errno, EINVAL);
    ops.type = "vbd";
    ops.connect = NULL;
    assert_null(pv_xenbus_backend_new(t->xs, &ops, 0, -1, t));
    assert_int_equal(errno, EINVAL);
    assert_null(pv_xenbus_backend_new(t->xs, &toy_ops, 0, 0x7ff0, t)); /* DOMID_FIRST_RESERVED */
    assert_int_equal(errno, EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_normal_connect, setup, teardown),
        cmocka_unit_test_setup_teardown(test_frontend_skips_states, setup, teardown),
        cmocka_unit_test_setup_teardown(test_close_and_reconnect, setup, teardown),
        cmocka_unit_test_setup_teardown(test_frontend_restarts_while_connected, setup, teardown),
        cmocka_unit_test_setup_teardown(test_online_0_removes_after_close, setup, teardown),
        cmocka_unit_test_setup_teardown(test_toolstack_closing_is_prompt, setup, teardown),
        cmocka_unit_test_setup_teardown(test_directory_removed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_deferred_disconnect_holds_only_its_device, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_deferred_disconnect_delays_removal, setup, teardown),
        cmocka_unit_test_setup_teardown(test_deferred_disconnect_ends_at_exit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fatal_error_spares_other_device, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_frontend_state, setup, teardown),
        cmocka_unit_test_setup_teardown(test_frontend_id_must_match_path, setup, teardown),
        cmocka_unit_test_setup_teardown(test_restart_takes_over_connected_device, setup, teardown),
        cmocka_unit_test_setup_teardown(test_backend_key_hook, setup, teardown),
        cmocka_unit_test_setup_teardown(test_guest_flooding_its_state, setup, teardown),
        cmocka_unit_test_setup_teardown(test_refuses_bad_setup, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
