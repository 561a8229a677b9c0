/* dom0's grant copies without the daemon (sim/hv/hv_gcopy.h): what the
 * daemon still guards. A dom0 process that dies holding pins in the middle
 * of a copy leaves none behind (its pin journal is replayed); a destroyed
 * domain is not copied to through dom0's cached view of it; other domains
 * get no direct access at all. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "hv/hv_gcopy.h"
#include "hv_harness.h"

#define GUEST  3
#define DOOMED 8

struct fixture {
    struct hvh *h;
    struct agent guest;
    grant_entry_v1_t *gt; /* the guest's grant table, as the guest sees it */
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));

    f->h = hvh_start();
    hvh_create(f->h, GUEST);
    f->guest = hvh_agent(f->h, GUEST);
    f->gt = hvh_gnttab(f->h, GUEST);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;

    assert_int_equal(agent_end(&f->guest), 0);
    munmap(f->gt, HV_GNTTAB_FRAMES * 4096u);
    hvh_stop(f->h);
    free(f);
    return 0;
}

/* A raw grant-mapping connection acting as domid; *fd_out gets what the
 * open sent (dom0: its pin journal), -1 if nothing. */
static int raw_gnt(struct fixture *f, unsigned domid, int *fd_out)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    struct hv_req req = {.op = HV_OP_OPEN, .arg = {HV_KIND_GNT, HV_PROTO_VERSION}};
    struct hv_rep rep;
    int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
    unsigned nfds = 0;

    *fd_out = -1;
    snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/hv%u.sock", f->h->xs->dir, domid);
    assert_true(fd >= 0);
    assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    assert_int_equal(hv_send_msg(fd, &req, sizeof(req), NULL, 0, NULL, 0, 0), 0);
    assert_int_equal(hv_recv_msg(fd, &rep, sizeof(rep), fd_out, 1, &nfds, 0), sizeof(rep));
    assert_int_equal(rep.err, 0);
    return fd;
}

/* HV_OP_GNT_DOMAIN on a raw connection: the daemon's error, or 0 with the
 * domain mapped into *g. */
static int raw_domain(int fd, unsigned domid, struct hv_gdom *g)
{
    struct hv_req req = {.op = HV_OP_GNT_DOMAIN, .arg = {domid, 0}};
    struct hv_rep rep;
    unsigned nfds = 0;
    int fds[3];

    assert_int_equal(hv_send_msg(fd, &req, sizeof(req), NULL, 0, NULL, 0, 0), 0);
    assert_int_equal(hv_recv_msg(fd, &rep, sizeof(rep), fds, 3, &nfds, 0), sizeof(rep));
    if (rep.err) {
        assert_int_equal(nfds, 0);
        return rep.err;
    }
    assert_int_equal(nfds, 3);
    g->nr_frames = rep.val[0];
    g->mem = mmap(NULL, g->nr_frames * 4096u, PROT_READ | PROT_WRITE, MAP_SHARED, fds[0], 0);
    g->gt = mmap(NULL, HV_GNTTAB_FRAMES * 4096u, PROT_READ | PROT_WRITE, MAP_SHARED, fds[1], 0);
    g->act = mmap(NULL, HV_ACTIVE_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fds[2], 0);
    assert_true(g->mem != MAP_FAILED && g->gt != MAP_FAILED && g->act != MAP_FAILED);
    g->act = (struct hv_active *)(void *)((uint8_t *)g->act + HV_ACTIVE_OFFSET);
    for (int i = 0; i < 3; i++)
        close(fds[i]);
    return 0;
}

static void raw_domain_unmap(struct hv_gdom *g)
{
    munmap(g->mem, g->nr_frames * 4096u);
    munmap(g->gt, HV_GNTTAB_FRAMES * 4096u);
    munmap((uint8_t *)g->act - HV_ACTIVE_OFFSET, HV_ACTIVE_SIZE);
}

static void test_dead_copier_leaves_no_pins(void **state)
{
    struct fixture *f = *state;
    struct agent_rep *r = agent_call(&f->guest, AG_SHARE, 1, 0, 1, NULL, 0);
    struct hv_journal_ent *journal;
    struct hv_gdom g;
    uint32_t ref;
    int jfd, fd, slot, waited = 0;

    assert_true(r->rc >= 0);
    slot = r->rc;
    ref = r->vals[0];
    fd = raw_gnt(f, 0, &jfd);
    assert_true(jfd >= 0);
    journal = mmap(NULL, HV_JOURNAL_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, jfd, 0);
    assert_true(journal != MAP_FAILED);
    assert_int_equal(raw_domain(fd, GUEST, &g), 0);

    /* What a copy does first: pin, recorded in the journal. The guest sees
     * its page in use and cannot end the grant. */
    journal[0] = (struct hv_journal_ent){.domid = GUEST, .writable = 1, .ref = ref};
    assert_int_equal(hv_gref_pin(&g, ref, 0, true, (uint32_t)getpid(), &journal[0]), GNTST_okay);
    assert_int_equal(hvh_flags(f->gt, ref) & (GTF_reading | GTF_writing),
                     GTF_reading | GTF_writing);
    assert_int_equal(agent_call(&f->guest, AG_UNSHARE, slot, 0, 0, NULL, 0)->err, EBUSY);

    /* The copier goes without unpinning: the daemon drops its pin. */
    close(fd);
    while (hvh_flags(f->gt, ref) & (GTF_reading | GTF_writing) && waited++ < 200)
        usleep(10000);
    assert_int_equal(hvh_flags(f->gt, ref) & (GTF_reading | GTF_writing), 0);
    assert_int_equal(g.act[ref].rd_pins, 0);
    assert_int_equal(agent_call(&f->guest, AG_UNSHARE, slot, 0, 0, NULL, 0)->rc, 0);

    raw_domain_unmap(&g);
    munmap(journal, HV_JOURNAL_SIZE);
    close(jfd);
}

static void test_destroyed_domain_is_not_copied_to(void **state)
{
    struct fixture *f = *state;
    struct agent doomed;
    struct pv_gnt *gnt = pv_gnt_open();
    static char buf[64] = "before the end";
    xengnttab_grant_copy_segment_t seg;
    struct agent_rep *r;
    uint32_t ref;

    hvh_create(f->h, DOOMED);
    doomed = hvh_agent(f->h, DOOMED);
    r = agent_call(&doomed, AG_SHARE, 1, 0, 1, NULL, 0);
    assert_true(r->rc >= 0);
    ref = r->vals[0];
    seg = (xengnttab_grant_copy_segment_t){.source.virt = buf,
                                           .dest.foreign = {.ref = ref, .domid = DOOMED},
                                           .len = sizeof(buf),
                                           .flags = GNTCOPY_dest_gref};
    assert_non_null(gnt);
    assert_int_equal(pv_gnt_copy(gnt, 1, &seg), 0);
    assert_int_equal(seg.status, GNTST_okay);
    r = agent_call(&doomed, AG_READ, (uint32_t)r->rc, 0, 0, NULL, 0);
    assert_string_equal((char *)r->data, buf);

    /* dom0's handle has the domain cached; after the destruction a copy
     * finds it gone, as Xen answers for a dead domain. */
    assert_int_equal(hvh_destroy(f->h, DOOMED), 0);
    assert_int_equal(agent_end(&doomed), 0);
    assert_int_equal(pv_gnt_copy(gnt, 1, &seg), 0);
    assert_int_equal(seg.status, GNTST_bad_domain);
    pv_gnt_close(gnt);
}

/* Copies from the guest into one buffer of ours, again and again: the first
 * goes through the system call that checks our address, the next ones by
 * memcpy; each brings what the guest wrote last. A bad address next to a
 * good one is still refused. */
static void test_repeated_copies_and_bad_addresses(void **state)
{
    struct fixture *f = *state;
    struct agent_rep *r = agent_call(&f->guest, AG_SHARE, 1, 0, 1, NULL, 0);
    struct pv_gnt *gnt = pv_gnt_open();
    static char out[2][64];
    xengnttab_grant_copy_segment_t seg[2];
    uint32_t ref;
    int slot;

    assert_true(r->rc >= 0);
    assert_non_null(gnt);
    slot = r->rc;
    ref = r->vals[0];
    for (int round = 0; round < 5; round++) {
        char msg[32] = {0};
        snprintf(msg, sizeof(msg), "round %d", round);
        assert_int_equal(
            agent_call(&f->guest, AG_WRITE, (uint32_t)slot, 0, 0, msg, sizeof(msg))->rc, 0);
        for (int k = 0; k < 2; k++)
            seg[k] = (xengnttab_grant_copy_segment_t){
                .source.foreign = {.ref = ref, .domid = GUEST},
                .dest.virt = k ? (void *)(uintptr_t)4096 : out[0], /* then an unmapped page */
                .len = sizeof(msg),
                .flags = GNTCOPY_source_gref};
        assert_int_equal(pv_gnt_copy(gnt, 1, &seg[0]), 0);
        assert_int_equal(pv_gnt_copy(gnt, round == 4 ? 2 : 1, round == 4 ? seg : &seg[1]), 0);
        assert_int_equal(seg[0].status, GNTST_okay);
        assert_string_equal(out[0], msg);
        assert_int_equal(seg[1].status, GNTST_bad_virt_addr);
    }
    pv_gnt_close(gnt);
    assert_int_equal(agent_call(&f->guest, AG_UNSHARE, (uint32_t)slot, 0, 0, NULL, 0)->rc, 0);
}

static void test_guests_get_no_direct_access(void **state)
{
    struct fixture *f = *state;
    struct hv_gdom g;
    int jfd, fd = raw_gnt(f, GUEST, &jfd);

    assert_int_equal(jfd, -1); /* no journal: the daemon copies for guests */
    assert_int_equal(raw_domain(fd, GUEST, &g), EPERM);
    assert_int_equal(raw_domain(fd, 0, &g), EPERM);
    close(fd);
    /* dom0 asking for a domain that does not exist. */
    fd = raw_gnt(f, 0, &jfd);
    assert_int_equal(raw_domain(fd, 99, &g), ESRCH);
    close(fd);
    close(jfd);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_dead_copier_leaves_no_pins),
        cmocka_unit_test(test_destroyed_domain_is_not_copied_to),
        cmocka_unit_test(test_repeated_copies_and_bad_addresses),
        cmocka_unit_test(test_guests_get_no_direct_access),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
