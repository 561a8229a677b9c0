/* A guest's grants across a migration (docs/xensim.md, "Migration"), with
 * the hypervisor in this process: its memory handed over (hv_domain_save,
 * hv_domain_save_grants, hv_domain_restore as another domid), the new home
 * written to its start-info page, and two processes of the guest taking
 * their grants back one after the other (pv_platform_rehome): same refs,
 * same data, and the one that comes second is not robbed by the first's
 * new shares meanwhile. Here the two "hosts" are one daemon; the protocol
 * is the same. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "hv_harness.h"

#define OLD 3
#define NEW 9

struct move {
    struct hvh *h;
    int memfd, grants;
    uint64_t mem_mb;
    uint32_t count;
    int rc;
};

static void save_loop(struct xsh *xs, void *arg)
{
    struct move *m = arg;
    (void)xs;
    m->memfd = hv_domain_save(m->h->hv, OLD, &m->mem_mb);
    m->grants = hv_domain_save_grants(m->h->hv, OLD, &m->count);
}

static void restore_loop(struct xsh *xs, void *arg)
{
    struct move *m = arg;
    m->rc = hv_domain_restore(m->h->hv, NEW, m->mem_mb, dup(m->memfd), m->grants, m->count);
    if (m->rc == 0)
        m->rc = xsd_introduce(xs->xsd, NEW);
}

static int share(struct agent *a, uint32_t count, uint32_t *refs)
{
    struct agent_rep *r = agent_call(a, AG_SHARE, count, 0, true, NULL, 0);
    assert_true(r->rc >= 0);
    memcpy(refs, r->vals, count * sizeof(uint32_t));
    return r->rc;
}

/* What dom0 reads through a map of ref in domid (NULL: the map failed). */
static char *mapped(struct pv_gnt *g, uint32_t domid, uint32_t ref, char *buf)
{
    int16_t st;
    char *p = pv_gnt_map(g, domid, 1, &ref, false, &st);
    if (!p)
        return NULL;
    memcpy(buf, p, 64);
    assert_int_equal(pv_gnt_unmap(g, p, 1), 0);
    return buf;
}

static void test_grants_follow_the_domain(void **state)
{
    (void)state;
    struct hvh *h = hvh_start();
    hvh_create(h, OLD);
    struct agent a = hvh_agent(h, OLD), b = hvh_agent(h, OLD);
    struct pv_gnt *g = pv_gnt_open();
    uint32_t ra[2], rb, rnew[4];
    char buf[64];
    const char ma[] = "first process's page", mb[] = "second process's page";
    int sa = share(&a, 2, ra), sb = share(&b, 1, &rb);

    assert_int_equal(agent_call(&a, AG_WRITE, sa, 1, 0, ma, sizeof(ma))->rc, 0);
    assert_int_equal(agent_call(&b, AG_WRITE, sb, 0, 0, mb, sizeof(mb))->rc, 0);
    /* Nothing moved yet: rehome has nothing to do. */
    struct agent_rep *r = agent_call(&a, AG_REHOME, 0, 0, 0, NULL, 0);
    assert_int_equal(r->rc, 0);
    assert_int_equal(r->vals[0], 0);
    assert_int_equal(r->vals[1], OLD);

    /* The toolstack's part: save, restore as NEW, the start-info page,
     * the old domain destroyed. */
    struct move m = {.h = h};
    xsh_on_loop(h->xs, save_loop, &m);
    assert_true(m.memfd >= 0 && m.grants >= 0);
    assert_int_equal(m.mem_mb, 16);
    assert_int_equal(m.count, 3);
    xsh_on_loop(h->xs, restore_loop, &m);
    assert_int_equal(m.rc, 0);
    struct hv_start_info si = {.epoch = 1, .domid = NEW};
    snprintf(si.dir, sizeof(si.dir), "%s", h->xs->dir);
    assert_int_equal(pwrite(m.memfd, &si, sizeof(si), HV_START_INFO_FRAME * 4096),
                     (ssize_t)sizeof(si));
    assert_int_equal(hvh_destroy(h, OLD), 0);
    assert_null(mapped(g, OLD, ra[1], buf));
    /* Not granted yet on NEW: the entries come back with their owners. */
    assert_null(mapped(g, NEW, ra[1], buf));

    /* The first process follows and shares new pages at once, as a
     * resuming frontend does for its rings: none of them is the second
     * process's page, which it has not taken back yet. */
    r = agent_call(&a, AG_REHOME, 0, 0, 0, NULL, 0);
    assert_int_equal(r->rc, 0);
    assert_int_equal(r->vals[0], 1);
    assert_int_equal(r->vals[1], NEW);
    assert_string_equal(mapped(g, NEW, ra[1], buf), ma);
    int sn = share(&a, 4, rnew);
    for (int i = 0; i < 4; i++)
        assert_true(rnew[i] != rb);
    assert_int_equal(agent_call(&a, AG_WRITE, sn, 0, 0, "x", 2)->rc, 0);

    r = agent_call(&b, AG_REHOME, 0, 0, 0, NULL, 0);
    assert_int_equal(r->rc, 0);
    assert_int_equal(r->vals[1], NEW);
    assert_string_equal(mapped(g, NEW, rb, buf), mb);
    r = agent_call(&b, AG_READ, sb, 0, 0, NULL, 0);
    assert_string_equal((char *)r->data, mb);
    /* A second call after the move is a no-op. */
    assert_int_equal(agent_call(&b, AG_REHOME, 0, 0, 0, NULL, 0)->rc, 0);

    /* Taken back grants are the process's own again: it ends them. */
    assert_int_equal(agent_call(&a, AG_UNSHARE, sa, 0, 0, NULL, 0)->rc, 0);
    assert_null(mapped(g, NEW, ra[1], buf));

    pv_gnt_close(g);
    assert_int_equal(agent_end(&a), 0);
    assert_int_equal(agent_end(&b), 0);
    close(m.memfd);
    close(m.grants);
    hvh_stop(h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_grants_follow_the_domain),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
