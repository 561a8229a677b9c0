/* Grant tables on xensim: a guest process shares pages, this process (dom0)
 * maps and copies them through the sim platform, with Xen's checks and
 * status codes, and the grant entries' flags as the guest sees them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "hv_harness.h"

#define GUEST 3
#define OTHER 7

struct fixture {
    struct hvh *h;
    struct agent guest;
    grant_entry_v1_t *gt; /* the guest's grant table */
    struct pv_gnt *g;
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));

    f->h = hvh_start();
    hvh_create(f->h, GUEST);
    hvh_create(f->h, OTHER);
    f->guest = hvh_agent(f->h, GUEST);
    f->gt = hvh_gnttab(f->h, GUEST);
    f->g = pv_gnt_open();
    assert_non_null(f->g);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;

    pv_gnt_close(f->g);
    assert_int_equal(agent_end(&f->guest), 0);
    munmap(f->gt, HV_GNTTAB_FRAMES * 4096u);
    hvh_stop(f->h);
    free(f);
    return 0;
}

/* Shares count pages; refs out, the agent's slot returned. */
static int share(struct fixture *f, uint32_t count, uint32_t grantee, bool writable, uint32_t *refs)
{
    struct agent_rep *r = agent_call(&f->guest, AG_SHARE, count, grantee, writable, NULL, 0);

    assert_true(r->rc >= 0);
    memcpy(refs, r->vals, count * sizeof(uint32_t));
    return r->rc;
}

static void guest_write(struct fixture *f, int slot, uint32_t page, uint32_t off, const void *p,
                        uint32_t len)
{
    assert_int_equal(agent_call(&f->guest, AG_WRITE, slot, page, off, p, len)->rc, 0);
}

static int guest_unshare(struct fixture *f, int slot, int *err)
{
    struct agent_rep *r = agent_call(&f->guest, AG_UNSHARE, slot, 0, 0, NULL, 0);

    *err = r->err;
    return r->rc;
}

static void test_readonly_grant_flags_and_unshare(void **state)
{
    struct fixture *f = *state;
    const char msg[] = "hello from the guest";
    uint32_t ref;
    int16_t st;
    int err, slot = share(f, 1, 0, false, &ref);
    char *p;

    guest_write(f, slot, 0, 0, msg, sizeof(msg));
    assert_true(ref >= GNTTAB_NR_RESERVED_ENTRIES);
    assert_int_equal(hvh_flags(f->gt, ref), GTF_permit_access | GTF_readonly);
    assert_int_equal(f->gt[ref].domid, 0);

    p = pv_gnt_map(f->g, GUEST, 1, &ref, false, &st);
    assert_non_null(p);
    assert_int_equal(st, GNTST_okay);
    assert_string_equal(p, msg);
    assert_int_equal(hvh_flags(f->gt, ref), GTF_permit_access | GTF_readonly | GTF_reading);

    /* A writable map of a read-only grant fails, and changes nothing. */
    assert_null(pv_gnt_map(f->g, GUEST, 1, &ref, true, &st));
    assert_int_equal(st, GNTST_general_error);
    assert_int_equal(hvh_flags(f->gt, ref), GTF_permit_access | GTF_readonly | GTF_reading);

    /* Ending access while mapped: EBUSY, still shared. */
    assert_int_equal(guest_unshare(f, slot, &err), -1);
    assert_int_equal(err, EBUSY);
    assert_int_equal(hvh_flags(f->gt, ref), GTF_permit_access | GTF_readonly | GTF_reading);

    assert_int_equal(pv_gnt_unmap(f->g, p, 1), 0);
    assert_int_equal(hvh_flags(f->gt, ref), GTF_permit_access | GTF_readonly);
    assert_int_equal(guest_unshare(f, slot, &err), 0);
    assert_int_equal(hvh_flags(f->gt, ref), 0);
    /* Unmapping twice is refused. */
    assert_int_equal(pv_gnt_unmap(f->g, p, 1), -1);
}

static void test_map_errors(void **state)
{
    struct fixture *f = *state;
    uint32_t w[2], other, refs[3];
    int16_t st[3];
    int err, sw = share(f, 2, 0, true, w), so = share(f, 1, OTHER, true, &other);
    uint32_t frame;

    /* Unknown domain, refs past the table, a grant for someone else, an
     * entry never granted. */
    assert_null(pv_gnt_map(f->g, 99, 1, &w[0], false, st));
    assert_int_equal(st[0], GNTST_bad_domain);
    refs[0] = HV_GNTTAB_ENTRIES;
    assert_null(pv_gnt_map(f->g, GUEST, 1, refs, false, st));
    assert_int_equal(st[0], GNTST_bad_gntref);
    refs[0] = 0xffffffffu;
    assert_null(pv_gnt_map(f->g, GUEST, 1, refs, false, st));
    assert_int_equal(st[0], GNTST_bad_gntref);
    assert_null(pv_gnt_map(f->g, GUEST, 1, &other, false, st));
    assert_int_equal(st[0], GNTST_general_error);
    refs[0] = HV_GNTTAB_ENTRIES - 1;
    assert_null(pv_gnt_map(f->g, GUEST, 1, refs, false, st));
    assert_int_equal(st[0], GNTST_general_error);

    /* The guest takes GTF_permit_access away: not mappable. */
    __atomic_store_n(&f->gt[w[1]].flags, 0, __ATOMIC_RELEASE);
    assert_null(pv_gnt_map(f->g, GUEST, 1, &w[1], false, st));
    assert_int_equal(st[0], GNTST_general_error);
    __atomic_store_n(&f->gt[w[1]].flags, GTF_permit_access, __ATOMIC_RELEASE);

    /* A frame outside the guest's memory. */
    frame = f->gt[w[1]].frame;
    f->gt[w[1]].frame = 0x7fffffff;
    assert_null(pv_gnt_map(f->g, GUEST, 1, &w[1], false, st));
    assert_int_equal(st[0], GNTST_bad_page);
    assert_int_equal(hvh_flags(f->gt, w[1]), GTF_permit_access);
    f->gt[w[1]].frame = frame;

    /* One bad ref in a batch: per-ref status, and nothing stays mapped. */
    refs[0] = w[0];
    refs[1] = HV_GNTTAB_ENTRIES + 5;
    refs[2] = w[1];
    errno = 0;
    assert_null(pv_gnt_map(f->g, GUEST, 3, refs, true, st));
    assert_int_not_equal(errno, 0);
    assert_int_equal(st[0], GNTST_okay);
    assert_int_equal(st[1], GNTST_bad_gntref);
    assert_int_equal(st[2], GNTST_okay);
    assert_int_equal(hvh_flags(f->gt, w[0]), GTF_permit_access);
    assert_int_equal(hvh_flags(f->gt, w[1]), GTF_permit_access);

    assert_int_equal(guest_unshare(f, sw, &err), 0);
    assert_int_equal(guest_unshare(f, so, &err), 0);

    /* A grant the guest ended is refused like one never made (what the
     * blkfront bad-gref attack relies on: refs are handed out round-robin,
     * so a fixed "never granted" ref is a live grant sooner or later). */
    assert_null(pv_gnt_map(f->g, GUEST, 1, &w[0], false, st));
    assert_int_equal(st[0], GNTST_general_error);
    assert_int_equal(hvh_flags(f->gt, w[0]), 0);
}

static void test_multi_ref_map_is_contiguous(void **state)
{
    struct fixture *f = *state;
    static uint8_t page[4096];
    const char reply[] = "written by dom0";
    uint32_t refs[4], order[4];
    int16_t st[4];
    int err, slot = share(f, 4, 0, true, refs);
    uint8_t *p;
    struct agent_rep *r;

    for (uint32_t i = 0; i < 4; i++) {
        memset(page, 'A' + (int)i, sizeof(page));
        guest_write(f, slot, i, 0, page, sizeof(page));
        order[i] = refs[3 - i];
    }
    /* Refs in reverse: page k of the mapping is the guest's page 3-k. */
    p = pv_gnt_map(f->g, GUEST, 4, order, true, st);
    assert_non_null(p);
    for (uint32_t k = 0; k < 4; k++) {
        assert_int_equal(st[k], GNTST_okay);
        assert_int_equal(p[k * 4096], 'A' + 3 - (int)k);
        assert_int_equal(p[k * 4096 + 4095], 'A' + 3 - (int)k);
        assert_int_equal(hvh_flags(f->gt, refs[k]), GTF_permit_access | GTF_reading | GTF_writing);
    }
    /* dom0 writes into the mapping's last page: the guest's first page. */
    memcpy(p + 3 * 4096 + 10, reply, sizeof(reply));
    r = agent_call(&f->guest, AG_READ, slot, 0, 0, NULL, 0);
    assert_string_equal((char *)r->data + 10, reply);
    assert_int_equal(r->data[0], 'A');

    assert_int_equal(pv_gnt_unmap(f->g, p, 4), 0);
    for (uint32_t k = 0; k < 4; k++)
        assert_int_equal(hvh_flags(f->gt, refs[k]), GTF_permit_access);
    assert_int_equal(guest_unshare(f, slot, &err), 0);
}

static void test_closing_handles_releases_mappings(void **state)
{
    struct fixture *f = *state;
    const char msg[] = "still here";
    uint32_t refs[2], ref;
    int16_t st[2];
    int err, slot = share(f, 2, 0, true, refs);
    struct pv_gnt *g2 = pv_gnt_open();
    void *a, *b;
    char *p;

    assert_non_null(g2);
    a = pv_gnt_map(g2, GUEST, 2, refs, true, st);
    b = pv_gnt_map(g2, GUEST, 1, &refs[0], false, st);
    assert_non_null(a);
    assert_non_null(b);
    assert_int_equal(guest_unshare(f, slot, &err), -1);
    assert_int_equal(err, EBUSY);
    pv_gnt_close(g2); /* like closing gntdev: both mappings go */
    assert_int_equal(hvh_flags(f->gt, refs[0]), GTF_permit_access);
    assert_int_equal(hvh_flags(f->gt, refs[1]), GTF_permit_access);
    assert_int_equal(guest_unshare(f, slot, &err), 0);

    /* The guest closes its sharing handle while dom0 maps a page: the page
     * stays granted and readable until dom0 unmaps it, then the grant ends. */
    slot = share(f, 1, 0, false, &ref);
    guest_write(f, slot, 0, 0, msg, sizeof(msg));
    p = pv_gnt_map(f->g, GUEST, 1, &ref, false, st);
    assert_non_null(p);
    assert_int_equal(agent_call(&f->guest, AG_GNTSHR_REOPEN, 0, 0, 0, NULL, 0)->rc, 0);
    assert_string_equal(p, msg);
    assert_int_equal(hvh_flags(f->gt, ref), GTF_permit_access | GTF_readonly | GTF_reading);
    assert_int_equal(pv_gnt_unmap(f->g, p, 1), 0);
    assert_int_equal(hvh_flags(f->gt, ref), 0);
}

static void seg_local_to_gref(xengnttab_grant_copy_segment_t *s, void *src, uint32_t ref,
                              uint16_t off, uint16_t domid, uint16_t len)
{
    memset(s, 0, sizeof(*s));
    s->source.virt = src;
    s->dest.foreign.ref = ref;
    s->dest.foreign.offset = off;
    s->dest.foreign.domid = domid;
    s->len = len;
    s->flags = GNTCOPY_dest_gref;
}

static void seg_gref_to_local(xengnttab_grant_copy_segment_t *s, uint32_t ref, uint16_t off,
                              uint16_t domid, void *dst, uint16_t len)
{
    memset(s, 0, sizeof(*s));
    s->source.foreign.ref = ref;
    s->source.foreign.offset = off;
    s->source.foreign.domid = domid;
    s->dest.virt = dst;
    s->len = len;
    s->flags = GNTCOPY_source_gref;
}

static void test_copy(void **state)
{
    struct fixture *f = *state;
    const char in[] = "copied in by dom0";
    const char ro[] = "read-only text";
    char out[64] = "", out_ro[64] = "", tail[8], big[300] = {0};
    uint32_t w[2], r;
    xengnttab_grant_copy_segment_t s[10];
    int err, sw = share(f, 2, 0, true, w), sr = share(f, 1, 0, false, &r);
    struct agent_rep *rep;

    guest_write(f, sr, 0, 0, ro, sizeof(ro));
    seg_local_to_gref(&s[0], (void *)in, w[0], 100, GUEST, sizeof(in));
    seg_gref_to_local(&s[1], w[0], 100, GUEST, out, sizeof(in));
    seg_gref_to_local(&s[2], r, 0, GUEST, out_ro, sizeof(ro));
    seg_local_to_gref(&s[3], (void *)in, r, 0, GUEST, sizeof(in)); /* read-only dest */
    seg_local_to_gref(&s[4], big, w[1], 4000, GUEST, sizeof(big)); /* crosses the page */
    seg_gref_to_local(&s[5], HV_GNTTAB_ENTRIES, 0, GUEST, out, 8);
    seg_gref_to_local(&s[6], w[0], 0, 99, out, 8);
    memset(&s[7], 0, sizeof(s[7])); /* grant to grant */
    s[7].source.foreign.ref = w[0];
    s[7].source.foreign.offset = 100;
    s[7].source.foreign.domid = GUEST;
    s[7].dest.foreign.ref = w[1];
    s[7].dest.foreign.offset = 8;
    s[7].dest.foreign.domid = GUEST;
    s[7].len = sizeof(in);
    s[7].flags = GNTCOPY_source_gref | GNTCOPY_dest_gref;
    seg_local_to_gref(&s[8], (void *)16, w[1], 0, GUEST, 8); /* bad local address */
    seg_gref_to_local(&s[9], w[0], 4090, GUEST, tail, 6);    /* ends exactly at the page end */

    assert_int_equal(pv_gnt_copy(f->g, 10, s), 0);
    assert_int_equal(s[0].status, GNTST_okay);
    assert_int_equal(s[1].status, GNTST_okay);
    assert_string_equal(out, in);
    assert_int_equal(s[2].status, GNTST_okay);
    assert_string_equal(out_ro, ro);
    assert_int_equal(s[3].status, GNTST_general_error);
    assert_int_equal(s[4].status, GNTST_bad_copy_arg);
    assert_int_equal(s[5].status, GNTST_bad_gntref);
    assert_int_equal(s[6].status, GNTST_bad_domain);
    assert_int_equal(s[7].status, GNTST_okay);
    assert_int_equal(s[8].status, GNTST_bad_virt_addr);
    assert_int_equal(s[9].status, GNTST_okay);

    rep = agent_call(&f->guest, AG_READ, sw, 1, 0, NULL, 0);
    assert_string_equal((char *)rep->data + 8, in);
    rep = agent_call(&f->guest, AG_READ, sr, 0, 0, NULL, 0);
    assert_string_equal((char *)rep->data, ro); /* the read-only page is untouched */
    /* Copies hold grants only while they run. */
    assert_int_equal(hvh_flags(f->gt, w[0]), GTF_permit_access);
    assert_int_equal(hvh_flags(f->gt, r), GTF_permit_access | GTF_readonly);
    assert_int_equal(pv_gnt_copy(f->g, 0, s), 0);

    assert_int_equal(guest_unshare(f, sw, &err), 0);
    assert_int_equal(guest_unshare(f, sr, &err), 0);
}

/* A batch larger than one message still works, segment by segment. */
static void test_copy_large_batch(void **state)
{
    struct fixture *f = *state;
    enum { N = HV_MAX_BATCH + 10 };
    static xengnttab_grant_copy_segment_t s[N];
    static uint32_t vals[N], back[N];
    uint32_t w;
    int err, sw = share(f, 1, 0, true, &w);

    for (uint32_t i = 0; i < N; i++) {
        vals[i] = i * 7 + 1;
        seg_local_to_gref(&s[i], &vals[i], w, (uint16_t)((i * 4) % 4096), GUEST, 4);
    }
    assert_int_equal(pv_gnt_copy(f->g, N, s), 0);
    for (uint32_t i = 0; i < N; i++)
        assert_int_equal(s[i].status, GNTST_okay);
    /* The last write of each slot wins, in order. */
    for (uint32_t i = 0; i < 1024; i++)
        seg_gref_to_local(&s[i], w, (uint16_t)(i * 4), GUEST, &back[i], 4);
    assert_int_equal(pv_gnt_copy(f->g, 1024, s), 0);
    for (uint32_t i = 0; i < 1024; i++) {
        uint32_t last = i + 1024 < N ? i + 1024 : i;
        assert_int_equal(back[i], vals[last]);
    }
    assert_int_equal(guest_unshare(f, sw, &err), 0);
}

/* One handle maps at most HV_MAX_MAPPED_PAGES pages at a time. */
static void test_mappings_are_bounded(void **state)
{
    struct fixture *f = *state;
    enum { MAPS = HV_MAX_MAPPED_PAGES / HV_MAX_BATCH };
    static uint32_t refs[HV_MAX_BATCH];
    static void *maps[MAPS];
    int err, slot = share(f, HV_MAX_BATCH, 0, false, refs);
    uint32_t one = refs[0];

    for (int i = 0; i < MAPS; i++) {
        maps[i] = pv_gnt_map(f->g, GUEST, HV_MAX_BATCH, refs, false, NULL);
        assert_non_null(maps[i]);
    }
    errno = 0;
    assert_null(pv_gnt_map(f->g, GUEST, 1, &one, false, NULL));
    assert_int_equal(errno, ENOMEM);
    /* Another handle still maps (the limit is per handle)... */
    struct pv_gnt *g2 = pv_gnt_open();
    void *p = pv_gnt_map(g2, GUEST, 1, &one, false, NULL);
    assert_non_null(p);
    pv_gnt_close(g2);
    /* ...and room comes back with each unmap. */
    assert_int_equal(pv_gnt_unmap(f->g, maps[0], HV_MAX_BATCH), 0);
    p = pv_gnt_map(f->g, GUEST, 1, &one, false, NULL);
    assert_non_null(p);
    assert_int_equal(pv_gnt_unmap(f->g, p, 1), 0);
    for (int i = 1; i < MAPS; i++)
        assert_int_equal(pv_gnt_unmap(f->g, maps[i], HV_MAX_BATCH), 0);
    assert_int_equal(hvh_flags(f->gt, one), GTF_permit_access | GTF_readonly);
    assert_int_equal(guest_unshare(f, slot, &err), 0);
}

/* A malformed message closes that connection only. */
static void test_malformed_message_closes_only_that_connection(void **state)
{
    struct fixture *f = *state;
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
    char junk[3] = {1, 2, 3}, buf[16];
    uint32_t ref;
    int16_t st;
    int err, slot = share(f, 1, 0, false, &ref);
    void *p;

    snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/hv0.sock", f->h->xs->dir);
    assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    assert_int_equal(send(fd, junk, sizeof(junk), 0), 3);
    assert_int_equal(recv(fd, buf, sizeof(buf), 0), 0); /* closed */
    close(fd);

    p = pv_gnt_map(f->g, GUEST, 1, &ref, false, &st);
    assert_non_null(p);
    assert_int_equal(pv_gnt_unmap(f->g, p, 1), 0);
    assert_int_equal(guest_unshare(f, slot, &err), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_readonly_grant_flags_and_unshare),
        cmocka_unit_test(test_map_errors),
        cmocka_unit_test(test_multi_ref_map_is_contiguous),
        cmocka_unit_test(test_closing_handles_releases_mappings),
        cmocka_unit_test(test_copy),
        cmocka_unit_test(test_copy_large_batch),
        cmocka_unit_test(test_mappings_are_bounded),
        cmocka_unit_test(test_malformed_message_closes_only_that_connection),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
