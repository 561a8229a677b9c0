/* Event channels on xensim between this process (dom0) and a guest
 * process: delivery both ways, masking and coalescing as /dev/xen/evtchn
 * has them, unbind and handle close turning the peer unbound as on Xen, and
 * what a domain's destruction leaves behind. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "hv_harness.h"

#define GUEST  4
#define OTHER  5
#define DOOMED 6

struct fixture {
    struct hvh *h;
    struct agent guest;
    struct pv_evtchn *e;
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));

    f->h = hvh_start();
    hvh_create(f->h, GUEST);
    hvh_create(f->h, OTHER);
    f->guest = hvh_agent(f->h, GUEST);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;

    assert_int_equal(agent_end(&f->guest), 0);
    hvh_stop(f->h);
    free(f);
    return 0;
}

static int each_setup(void **state)
{
    struct fixture *f = *state;

    f->e = pv_evtchn_open();
    assert_non_null(f->e);
    return 0;
}

static int each_teardown(void **state)
{
    struct fixture *f = *state;

    pv_evtchn_close(f->e);
    assert_int_equal(agent_call(&f->guest, AG_EV_REOPEN, 0, 0, 0, NULL, 0)->rc, 0);
    return 0;
}

static int guest(struct fixture *f, uint32_t op, uint32_t a, uint32_t b)
{
    return agent_call(&f->guest, op, a, b, 0, NULL, 0)->rc;
}

/* Events the guest receives within ms (left masked). */
static unsigned guest_events(struct fixture *f, int ms, uint32_t port)
{
    struct agent_rep *r = agent_call(&f->guest, AG_EV_DRAIN, (uint32_t)ms, 0, 0, NULL, 0);

    for (uint32_t i = 0; i < r->n; i++)
        assert_int_equal(r->vals[i], port);
    return r->n;
}

/* Connects a guest port to a new dom0 port; consumes the event Xen raises on
 * the binding side. *gport gets the guest's port; returns dom0's. */
static int connect_ports(struct fixture *f, int *gport)
{
    int dport;

    *gport = guest(f, AG_EV_UNBOUND, 0, 0);
    assert_true(*gport > 0);
    dport = pv_evtchn_bind_interdomain(f->e, GUEST, (uint32_t)*gport);
    assert_true(dport > 0);
    assert_int_equal(hvh_ev_wait(f->e, 2000), dport);
    assert_int_equal(pv_evtchn_unmask(f->e, (uint32_t)dport), 0);
    return dport;
}

static void test_notify_both_ways(void **state)
{
    struct fixture *f = *state;
    int gport, dport = connect_ports(f, &gport);

    assert_int_equal(pv_evtchn_notify(f->e, (uint32_t)dport), 0);
    assert_int_equal(guest(f, AG_EV_WAIT, 2000, 0), gport);
    assert_int_equal(guest(f, AG_EV_UNMASK, (uint32_t)gport, 0), 0);

    assert_int_equal(guest(f, AG_EV_NOTIFY, (uint32_t)gport, 0), 0);
    assert_int_equal(hvh_ev_wait(f->e, 2000), dport);
    /* Nothing more is pending. */
    assert_int_equal(pv_evtchn_pending(f->e), -1);
    assert_int_equal(errno, EAGAIN);
    assert_int_equal(pv_evtchn_unmask(f->e, (uint32_t)dport), 0);
    assert_int_equal(hvh_ev_wait(f->e, 100), -1);
}

static void test_masking_and_coalescing(void **state)
{
    struct fixture *f = *state;
    int gport, dport = connect_ports(f, &gport);

    /* Many notifies while the guest does not look: one event, the port
     * masked, the rest coalesced into one pending bit. */
    for (int i = 0; i < 100; i++)
        assert_int_equal(pv_evtchn_notify(f->e, (uint32_t)dport), 0);
    assert_int_equal(guest_events(f, 200, (uint32_t)gport), 1);
    /* Unmasking a pending port delivers it again, once. */
    assert_int_equal(guest(f, AG_EV_UNMASK, (uint32_t)gport, 0), 0);
    assert_int_equal(guest_events(f, 200, (uint32_t)gport), 1);
    assert_int_equal(guest(f, AG_EV_UNMASK, (uint32_t)gport, 0), 0);
    assert_int_equal(guest_events(f, 200, (uint32_t)gport), 0);
    /* Unmasked and idle: the next notify comes through at once. */
    assert_int_equal(pv_evtchn_notify(f->e, (uint32_t)dport), 0);
    assert_int_equal(guest_events(f, 200, (uint32_t)gport), 1);
    assert_int_equal(guest(f, AG_EV_UNMASK, (uint32_t)gport, 0), 0);
}

static void test_port_checks(void **state)
{
    struct fixture *f = *state;
    int gport, dport = connect_ports(f, &gport), other;

    /* Ports this handle has not bound, and port 0. */
    assert_int_equal(pv_evtchn_notify(f->e, (uint32_t)gport + 100), -1);
    assert_int_equal(errno, ENOTCONN);
    assert_int_equal(pv_evtchn_unbind(f->e, (uint32_t)dport + 100), -1);
    assert_int_equal(errno, ENOTCONN);
    assert_int_equal(pv_evtchn_notify(f->e, 0), -1);
    assert_int_equal(errno, EINVAL);
    assert_int_equal(pv_evtchn_unmask(f->e, HV_MAX_PORTS), -1);
    assert_int_equal(errno, EINVAL);

    /* Binding: no such domain, a port already connected, a port waiting
     * for another domain. */
    assert_int_equal(pv_evtchn_bind_interdomain(f->e, 99, 1), -1);
    assert_int_equal(errno, ESRCH);
    assert_int_equal(pv_evtchn_bind_interdomain(f->e, GUEST, (uint32_t)gport), -1);
    assert_int_equal(errno, EINVAL);
    other = guest(f, AG_EV_UNBOUND, OTHER, 0);
    assert_true(other > 0);
    assert_int_equal(pv_evtchn_bind_interdomain(f->e, GUEST, (uint32_t)other), -1);
    assert_int_equal(errno, EINVAL);
}

/* Xen's evtchn_close: the closer's peer becomes unbound, waiting for the
 * closer's domain, which may bind to it again. */
static void check_peer_unbound(struct fixture *f, int dport)
{
    int gport2;

    assert_int_equal(pv_evtchn_notify(f->e, (uint32_t)dport), 0); /* goes nowhere */
    assert_int_equal(guest_events(f, 100, 0), 0);
    gport2 = guest(f, AG_EV_INTERDOMAIN, 0, (uint32_t)dport);
    assert_true(gport2 > 0);
    assert_int_equal(guest(f, AG_EV_WAIT, 2000, 0), gport2); /* the binder's event */
    assert_int_equal(guest(f, AG_EV_UNMASK, (uint32_t)gport2, 0), 0);
    assert_int_equal(pv_evtchn_notify(f->e, (uint32_t)dport), 0);
    assert_int_equal(guest(f, AG_EV_WAIT, 2000, 0), gport2);
    assert_int_equal(guest(f, AG_EV_UNMASK, (uint32_t)gport2, 0), 0);
}

static void test_unbind_leaves_peer_unbound(void **state)
{
    struct fixture *f = *state;
    int gport, dport = connect_ports(f, &gport);

    assert_int_equal(guest(f, AG_EV_UNBIND, (uint32_t)gport, 0), 0);
    assert_int_equal(guest(f, AG_EV_NOTIFY, (uint32_t)gport, 0), -1); /* not ours now */
    check_peer_unbound(f, dport);
}

static void test_handle_close_leaves_peer_unbound(void **state)
{
    struct fixture *f = *state;
    int gport, dport = connect_ports(f, &gport);

    assert_int_equal(guest(f, AG_EV_REOPEN, 0, 0), 0);
    check_peer_unbound(f, dport);
}

static void test_ports_are_bounded(void **state)
{
    struct fixture *f = *state;
    struct agent_rep *r;
    int n = 0;

    /* The guest takes every port it has; the next bind fails, nothing else. */
    while ((r = agent_call(&f->guest, AG_EV_UNBOUND, 0, 0, 0, NULL, 0))->rc > 0)
        n++;
    assert_int_equal(r->err, ENOSPC);
    assert_int_equal(n, HV_MAX_PORTS - 1);
    /* dom0 still has all of its own. */
    assert_true(pv_evtchn_bind_unbound(f->e, GUEST) > 0);
}

static void test_domain_destroy(void **state)
{
    struct fixture *f = *state;
    struct agent doomed;
    struct pv_gnt *g = pv_gnt_open();
    const char msg[] = "outlives its domain";
    uint32_t ref;
    int16_t st;
    int gport, dport;
    struct agent_rep *r;
    char *p;

    hvh_create(f->h, DOOMED);
    doomed = hvh_agent(f->h, DOOMED);
    gport = agent_call(&doomed, AG_EV_UNBOUND, 0, 0, 0, NULL, 0)->rc;
    assert_true(gport > 0);
    dport = pv_evtchn_bind_interdomain(f->e, DOOMED, (uint32_t)gport);
    assert_true(dport > 0);
    assert_int_equal(hvh_ev_wait(f->e, 2000), dport);
    r = agent_call(&doomed, AG_SHARE, 1, 0, 0, NULL, 0);
    assert_true(r->rc >= 0);
    ref = r->vals[0];
    assert_int_equal(agent_call(&doomed, AG_WRITE, 0, 0, 0, msg, sizeof(msg))->rc, 0);
    p = pv_gnt_map(g, DOOMED, 1, &ref, false, &st);
    assert_non_null(p);

    assert_int_equal(hvh_destroy(f->h, DOOMED), 0);

    /* The dead guest's handles are closed: its event socket reports that. */
    assert_int_equal(agent_call(&doomed, AG_EV_WAIT, 2000, 0, 0, NULL, 0)->rc, -1);
    assert_true(agent_call(&doomed, AG_SHARE, 1, 0, 0, NULL, 0)->rc < 0);
    assert_int_equal(agent_end(&doomed), 0);
    /* dom0's port is unbound now: notifies go nowhere; the domain is gone. */
    assert_int_equal(pv_evtchn_unmask(f->e, (uint32_t)dport), 0);
    assert_int_equal(pv_evtchn_notify(f->e, (uint32_t)dport), 0);
    assert_int_equal(pv_evtchn_bind_interdomain(f->e, DOOMED, (uint32_t)gport), -1);
    assert_int_equal(errno, ESRCH);
    /* Its page, still mapped by dom0, stays readable until unmapped. */
    assert_string_equal(p, msg);
    assert_int_equal(pv_gnt_unmap(g, p, 1), 0);
    assert_null(pv_gnt_map(g, DOOMED, 1, &ref, false, &st));
    assert_int_equal(st, GNTST_bad_domain);
    pv_gnt_close(g);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_notify_both_ways, each_setup, each_teardown),
        cmocka_unit_test_setup_teardown(test_masking_and_coalescing, each_setup, each_teardown),
        cmocka_unit_test_setup_teardown(test_port_checks, each_setup, each_teardown),
        cmocka_unit_test_setup_teardown(test_unbind_leaves_peer_unbound, each_setup, each_teardown),
        cmocka_unit_test_setup_teardown(test_handle_close_leaves_peer_unbound, each_setup,
                                        each_teardown),
        cmocka_unit_test_setup_teardown(test_ports_are_bounded, each_setup, each_teardown),
        cmocka_unit_test_setup_teardown(test_domain_destroy, each_setup, each_teardown),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
