/* The xenbus transition table, driven the way xenbus_dev.c drives it: apply
 * each action to a model backend and ask again until nothing is left. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "common/xenbus_fsm.h"

struct model {
    enum xenbus_state be;
    bool key_closing; /* the toolstack wrote Closing into our state key */
    bool failed;
    bool connected;
    bool removed;
    bool probed;
    int probes, connects, disconnects, fatals;
};

static void disconnect(struct model *m)
{
    if (m->connected) {
        m->connected = false;
        m->disconnects++;
    }
}

static void set_state(struct model *m, enum xenbus_state s)
{
    m->be = s;
    m->key_closing = false;
}

/* Runs the table to a fixed point; returns the number of steps. */
static int walk(struct model *m, int fe, bool ready, bool online)
{
    for (int steps = 0; steps < 20; steps++) {
        /* As xenbus_dev.c: a fatal error left Connected behind our back. */
        if (m->connected && m->be != XenbusStateConnected)
            disconnect(m);
        struct pv_xenbus_inputs in = {
            .be = m->be,
            .fe = fe,
            .ready = ready,
            .online = online,
            .toolstack_closing = m->key_closing && m->be != XenbusStateClosing,
            .failed = m->failed,
        };
        switch (pv_xenbus_next_action(&in)) {
        case PV_XENBUS_NONE:
            return steps;
        case PV_XENBUS_INITWAIT:
            disconnect(m);
            if (!m->probed) {
                m->probed = true;
                m->probes++;
            }
            m->failed = false;
            set_state(m, XenbusStateInitWait);
            break;
        case PV_XENBUS_CONNECT:
            m->connected = true;
            m->connects++;
            set_state(m, XenbusStateConnected);
            break;
        case PV_XENBUS_CLOSING:
            disconnect(m);
            set_state(m, XenbusStateClosing);
            break;
        case PV_XENBUS_CLOSED:
            disconnect(m);
            m->failed = false;
            set_state(m, XenbusStateClosed);
            break;
        case PV_XENBUS_REMOVE:
            disconnect(m);
            m->removed = true;
            return steps + 1;
        case PV_XENBUS_BAD_FRONTEND:
            m->fatals++;
            m->failed = true;
            set_state(m, XenbusStateClosing);
            break;
        }
    }
    fail_msg("the state machine did not settle");
    return -1;
}

#define NEW                                                                                        \
    {                                                                                              \
        .be = XenbusStateInitialising                                                              \
    }

static void test_normal_connect(void **state)
{
    struct model m = NEW;

    (void)state;
    walk(&m, XenbusStateInitialising, true, true);
    assert_int_equal(m.be, XenbusStateInitWait);
    assert_int_equal(m.probes, 1);
    assert_false(m.connected);
    walk(&m, XenbusStateInitialised, true, true);
    assert_int_equal(m.be, XenbusStateConnected);
    assert_int_equal(m.connects, 1);
    /* The frontend then says Connected: nothing more to do. */
    assert_int_equal(walk(&m, XenbusStateConnected, true, true), 0);
    assert_int_equal(m.connects, 1);
}

static void test_waits_for_ready(void **state)
{
    struct model m = NEW;

    (void)state;
    walk(&m, XenbusStateInitialised, false, true);
    assert_int_equal(m.be, XenbusStateInitWait);
    assert_int_equal(m.connects, 0);
    walk(&m, XenbusStateInitialised, true, true); /* hotplug-status arrived */
    assert_int_equal(m.be, XenbusStateConnected);
}

static void test_skipped_states(void **state)
{
    struct model m = NEW;

    (void)state;
    /* A frontend already Connected when the backend appears (or whose
     * Initialising/Initialised we never saw): one walk goes all the way. */
    assert_int_equal(walk(&m, XenbusStateConnected, true, true), 2);
    assert_int_equal(m.be, XenbusStateConnected);
    assert_int_equal(m.probes, 1);
    assert_int_equal(m.connects, 1);
}

static void test_frontend_close_and_reconnect(void **state)
{
    struct model m = NEW;

    (void)state;
    walk(&m, XenbusStateConnected, true, true);
    walk(&m, XenbusStateClosing, true, true);
    assert_int_equal(m.be, XenbusStateClosing);
    assert_int_equal(m.disconnects, 1);
    walk(&m, XenbusStateClosed, true, true);
    assert_int_equal(m.be, XenbusStateClosed);
    assert_false(m.removed); /* still online */
    walk(&m, XenbusStateInitialising, true, true);
    assert_int_equal(m.be, XenbusStateInitWait);
    assert_int_equal(m.probes, 1); /* features stay published */
    walk(&m, XenbusStateConnected, true, true);
    assert_int_equal(m.be, XenbusStateConnected);
    assert_int_equal(m.connects, 2);
    assert_int_equal(m.disconnects, 1);
}

static void test_frontend_restarts_while_connected(void **state)
{
    struct model m = NEW;

    (void)state;
    walk(&m, XenbusStateConnected, true, true);
    walk(&m, XenbusStateInitialising, true, true);
    assert_int_equal(m.be, XenbusStateInitWait);
    assert_int_equal(m.disconnects, 1);
    assert_false(m.connected);
}

static void test_frontend_closed_without_closing(void **state)
{
    struct model m = NEW;

    (void)state;
    walk(&m, XenbusStateConnected, true, true);
    walk(&m, XenbusStateClosed, true, true);
    assert_int_equal(m.be, XenbusStateClosed);
    assert_int_equal(m.disconnects, 1);
}

static void test_offline_closed_is_removed(void **state)
{
    struct model m = NEW;

    (void)state;
    walk(&m, XenbusStateConnected, true, true);
    walk(&m, XenbusStateClosed, true, false);
    assert_true(m.removed);
    assert_int_equal(m.disconnects, 1);
}

static void test_toolstack_closing_closes_at_once(void **state)
{
    struct model m = NEW;

    (void)state;
    walk(&m, XenbusStateConnected, true, true);
    /* xl destroy: online = 0 and state = Closing, the guest paused and its
     * frontend still Connected. */
    m.key_closing = true;
    walk(&m, XenbusStateConnected, true, false);
    assert_true(m.removed);
    assert_int_equal(m.disconnects, 1);

    /* Detach with online still 1: Closed, and stays so. */
    struct model d = NEW;
    walk(&d, XenbusStateConnected, true, true);
    d.key_closing = true;
    walk(&d, XenbusStateConnected, true, true);
    assert_int_equal(d.be, XenbusStateClosed);
    assert_false(d.removed);
    assert_false(d.connected);
}

static void test_toolstack_closing_when_already_closed(void **state)
{
    struct model m = NEW;

    (void)state;
    walk(&m, XenbusStateClosed, true, true);
    m.key_closing = true; /* libxl overwrote our Closed with Closing */
    struct pv_xenbus_inputs in = {
        .be = m.be, .fe = XenbusStateClosed, .online = true, .toolstack_closing = true};
    assert_int_equal(pv_xenbus_next_action(&in), PV_XENBUS_CLOSED);
}

static void test_fatal_error_waits_for_frontend(void **state)
{
    struct model m = NEW;

    (void)state;
    walk(&m, XenbusStateInitialising, true, true);
    m.failed = true; /* e.g. connect reported a fatal error */
    set_state(&m, XenbusStateClosing);
    /* A frontend still Initialising must not undo the failure... */
    assert_int_equal(walk(&m, XenbusStateInitialising, true, true), 0);
    assert_int_equal(m.be, XenbusStateClosing);
    /* ...nor one still Connected. */
    assert_int_equal(walk(&m, XenbusStateConnected, true, true), 0);
    /* Once it closed, it may start over. */
    walk(&m, XenbusStateClosed, true, true);
    assert_int_equal(m.be, XenbusStateClosed);
    walk(&m, XenbusStateInitialising, true, true);
    assert_int_equal(m.be, XenbusStateInitWait);
}

static void test_closing_then_restart_seen_without_closed(void **state)
{
    struct model m = NEW;

    (void)state;
    walk(&m, XenbusStateConnected, true, true);
    walk(&m, XenbusStateClosing, true, true);
    /* Closed came and went before we looked. */
    walk(&m, XenbusStateInitialising, true, true);
    assert_int_equal(m.be, XenbusStateInitWait);
}

static void test_kexec_reset_from_closed(void **state)
{
    struct model m = NEW;

    (void)state;
    walk(&m, XenbusStateClosed, true, true);
    walk(&m, XenbusStateClosing, true, true);
    assert_int_equal(m.be, XenbusStateClosing);
    walk(&m, XenbusStateClosed, true, true);
    assert_int_equal(m.be, XenbusStateClosed);
}

static void test_unsupported_frontend_states(void **state)
{
    const int bad[] = {XenbusStateReconfiguring, XenbusStateReconfigured, 9, 1000, -1};

    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct model m = NEW;
        walk(&m, XenbusStateConnected, true, true);
        walk(&m, bad[i], true, true);
        assert_int_equal(m.fatals, 1);
        assert_int_equal(m.be, XenbusStateClosing);
        assert_int_equal(m.disconnects, 1);
        /* Reported once, not on every event. */
        walk(&m, bad[i], true, true);
        assert_int_equal(m.fatals, 1);
    }
}

static void test_missing_frontend(void **state)
{
    struct model m = NEW;

    (void)state;
    /* Not written yet: wait in InitWait. */
    walk(&m, XenbusStateUnknown, true, true);
    assert_int_equal(m.be, XenbusStateInitWait);
    walk(&m, XenbusStateConnected, true, true);
    /* Gone (guest destroyed): close. */
    walk(&m, XenbusStateUnknown, true, true);
    assert_int_equal(m.be, XenbusStateClosed);
    assert_int_equal(m.disconnects, 1);
}

/* Whatever the starting point and the inputs, the walk settles, and a
 * settled device is connected exactly when it is in Connected. */
static void test_every_combination_settles(void **state)
{
    (void)state;
    for (int be = 0; be <= XenbusStateClosed; be++)
        for (int fe = -1; fe <= 9; fe++)
            for (int flags = 0; flags < 16; flags++) {
                struct model m = {.be = (enum xenbus_state)be,
                                  .key_closing = flags & 4,
                                  .failed = flags & 8,
                                  .connected = be == XenbusStateConnected};
                walk(&m, fe, flags & 1, flags & 2);
                if (!m.removed)
                    assert_int_equal(m.connected, m.be == XenbusStateConnected);
            }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_normal_connect),
        cmocka_unit_test(test_waits_for_ready),
        cmocka_unit_test(test_skipped_states),
        cmocka_unit_test(test_frontend_close_and_reconnect),
        cmocka_unit_test(test_frontend_restarts_while_connected),
        cmocka_unit_test(test_frontend_closed_without_closing),
        cmocka_unit_test(test_offline_closed_is_removed),
        cmocka_unit_test(test_toolstack_closing_closes_at_once),
        cmocka_unit_test(test_toolstack_closing_when_already_closed),
        cmocka_unit_test(test_fatal_error_waits_for_frontend),
        cmocka_unit_test(test_closing_then_restart_seen_without_closed),
        cmocka_unit_test(test_kexec_reset_from_closed),
        cmocka_unit_test(test_unsupported_frontend_states),
        cmocka_unit_test(test_missing_frontend),
        cmocka_unit_test(test_every_combination_settles),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
