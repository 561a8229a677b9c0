/* common/xs against xensim's xenstored: typed reads and their messages,
 * writes, permissions, transaction retry, and the watch queue's coalescing,
 * collapse, fairness and removal from callbacks. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "test_xenbus_toy.h"

#define DATA "/local/domain/3/data"

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

static void test_typed_reads_and_messages(void **state)
{
    struct toy *t = *state;
    unsigned int u = 42;
    uint64_t big = 0;
    int i = 0;
    bool b = false;
    char *s;

    put(t->tool, "51712", "/k/num");
    put(t->tool, "abc", "/k/word");
    put(t->tool, "70000", "/k/big");
    put(t->tool, "-7", "/k/neg");
    put(t->tool, "1", "/k/yes");
    put(t->tool, "2", "/k/two");
    put(t->tool, "18446744073709551615", "/k/u64");

    assert_int_equal(pv_xs_read_uint(t->xs, XBT_NULL, "/k", "num", 0, 1u << 20, &u), 0);
    assert_int_equal(u, 51712);
    assert_int_equal(pv_xs_read_uint(t->xs, XBT_NULL, "/k", "word", 0, 10, &u), -1);
    assert_int_equal(errno, EINVAL);
    assert_string_equal(pv_xs_error(t->xs), "/k/word: 'abc' is not a number");
    assert_int_equal(u, 51712); /* untouched on failure */
    assert_int_equal(pv_xs_read_uint(t->xs, XBT_NULL, "/k", "big", 0, 65535, &u), -1);
    assert_int_equal(errno, ERANGE);
    assert_string_equal(pv_xs_error(t->xs), "/k/big: '70000' is out of range 0..65535");
    assert_int_equal(pv_xs_read_uint(t->xs, XBT_NULL, "/k", "nothere", 0, 1, &u), -1);
    assert_int_equal(errno, ENOENT);
    assert_string_equal(pv_xs_error(t->xs), "/k/nothere: missing");
    assert_int_equal(pv_xs_read_int(t->xs, XBT_NULL, "/k", "neg", -10, 10, &i), 0);
    assert_int_equal(i, -7);
    assert_int_equal(pv_xs_read_int(t->xs, XBT_NULL, "/k", "neg", 0, 10, &i), -1);
    assert_string_equal(pv_xs_error(t->xs), "/k/neg: '-7' is out of range 0..10");
    assert_int_equal(pv_xs_read_u64(t->xs, XBT_NULL, "/k", "u64", 0, UINT64_MAX, &big), 0);
    assert_true(big == UINT64_MAX);
    assert_int_equal(pv_xs_read_bool(t->xs, XBT_NULL, "/k", "yes", &b), 0);
    assert_true(b);
    assert_int_equal(pv_xs_read_bool(t->xs, XBT_NULL, "/k", "two", &b), -1);
    assert_string_equal(pv_xs_error(t->xs), "/k/two: '2' is not 0 or 1");
    assert_int_equal(pv_xs_read_str(t->xs, XBT_NULL, "/k/word", NULL, &s), 0);
    assert_string_equal(s, "abc");
    free(s);
    assert_int_equal(pv_xs_exists(t->xs, XBT_NULL, "/k", "num"), 1);
    assert_int_equal(pv_xs_exists(t->xs, XBT_NULL, "/k", "nothere"), 0);
}

static void test_guest_values_are_sanitised(void **state)
{
    struct toy *t = *state;
    char evil[300], want[200];
    unsigned int u;

    memset(evil, 'A', sizeof(evil) - 1);
    evil[0] = '\n';
    evil[sizeof(evil) - 1] = '\0';
    put(t->guest, evil, DATA "/ring-ref");
    assert_int_equal(pv_xs_read_uint(t->xs, XBT_NULL, DATA, "ring-ref", 0, 10, &u), -1);
    snprintf(want, sizeof(want), DATA "/ring-ref: '?%.63s...' is not a number", evil + 1);
    assert_string_equal(pv_xs_error(t->xs), want);
}

static void test_writes_mkdir_rm(void **state)
{
    struct toy *t = *state;
    struct xs_permissions perms[2] = {{0, XS_PERM_NONE}, {GUEST, XS_PERM_READ}};
    struct xs_permissions *got;
    unsigned int n;
    char *s;

    assert_int_equal(pv_xs_mkdir(t->xs, XBT_NULL, "/be", "dev", perms, 2), 0);
    got = xs_get_permissions(t->tool, XBT_NULL, "/be/dev", &n);
    assert_non_null(got);
    assert_int_equal(n, 2);
    assert_int_equal(got[0].id, 0);
    assert_int_equal(got[1].id, GUEST);
    assert_int_equal(got[1].perms, XS_PERM_READ);
    free(got);
    /* The guest may read but not write it. */
    s = xsh_read(t->guest, "/be/dev");
    assert_non_null(s);
    free(s);
    assert_false(xs_write(t->guest, XBT_NULL, "/be/dev/x", "1", 1));

    assert_int_equal(pv_xs_printf(t->xs, XBT_NULL, "/be/dev", "sectors", "%llu", 1ULL << 40), 0);
    s = xsh_read(t->tool, "/be/dev/sectors");
    assert_string_equal(s, "1099511627776");
    free(s);
    assert_int_equal(pv_xs_write_str(t->xs, XBT_NULL, "/be/dev", "mode", "w"), 0);
    assert_int_equal(pv_xs_rm(t->xs, XBT_NULL, "/be", "dev"), 0);
    assert_int_equal(pv_xs_exists(t->xs, XBT_NULL, "/be/dev", "mode"), 0);
    assert_int_equal(pv_xs_rm(t->xs, XBT_NULL, "/be", "dev"), 0); /* gone is fine */
}

struct txn_ctx {
    struct toy *t;
    int runs;
    bool interfere;
    bool fail;
};

/* Increments /counter; on its first run another client changes it behind
 * the transaction's back, so the commit conflicts and the helper reruns. */
static int bump(struct pv_xs *xs, xs_transaction_t tx, void *arg)
{
    struct txn_ctx *c = arg;
    unsigned int v;

    c->runs++;
    if (pv_xs_read_uint(xs, tx, "/counter", NULL, 0, 1000, &v) < 0)
        return -1;
    if (c->interfere && c->runs == 1)
        put(c->t->tool, "100", "/counter");
    if (pv_xs_printf(xs, tx, "/counter", NULL, "%u", v + 1) < 0)
        return -1;
    if (c->fail) {
        errno = EINVAL;
        return -1;
    }
    return 0;
}

static void test_transaction_retries_on_conflict(void **state)
{
    struct toy *t = *state;
    struct txn_ctx c = {.t = t, .interfere = true};
    char *v;

    put(t->tool, "1", "/counter");
    assert_int_equal(pv_xs_transaction(t->xs, bump, &c), 0);
    assert_int_equal(c.runs, 2);
    v = xsh_read(t->tool, "/counter");
    assert_string_equal(v, "101"); /* the rerun saw the other write */
    free(v);

    struct txn_ctx f = {.t = t, .fail = true};
    assert_int_equal(pv_xs_transaction(t->xs, bump, &f), -1);
    assert_int_equal(errno, EINVAL);
    assert_int_equal(f.runs, 1);
    v = xsh_read(t->tool, "/counter");
    assert_string_equal(v, "101"); /* aborted: nothing written */
    free(v);
}

static int dispatch_seq; /* counts callbacks over all watches */

struct seen {
    int calls;
    int first_seq; /* dispatch_seq of this watch's first callback */
    char paths[200][96];
    unsigned int max_queued;
    struct pv_xs_watch *self, *other;
    bool remove_self, remove_other;
};

static void on_event(struct pv_xs *xs, const char *path, void *arg)
{
    struct seen *s = arg;

    if (!s->calls)
        s->first_seq = ++dispatch_seq;
    else
        ++dispatch_seq;
    if (s->calls < 200)
        snprintf(s->paths[s->calls], sizeof(s->paths[0]), "%s", path);
    s->calls++;
    if (pv_xs_queued_events(xs) > s->max_queued)
        s->max_queued = pv_xs_queued_events(xs);
    if (s->remove_other && s->other) {
        pv_xs_watch_remove(s->other);
        s->other = NULL;
    }
    if (s->remove_self && s->self) {
        pv_xs_watch_remove(s->self);
        s->self = NULL;
    }
}

/* Makes sure libxenstore has received every event of the writes done so far:
 * xenstored sends them before the reply to this later request. */
static void sync_events(struct toy *t)
{
    char *v;

    if (pv_xs_read_str(t->xs, XBT_NULL, "/local/domain/0", NULL, &v) == 0)
        free(v);
}

static void settle(struct toy *t)
{
    sync_events(t);
    while (pv_loop_run_once(t->loop, 50) > 0)
        ;
}

static void test_watch_coalesces_repeats(void **state)
{
    struct toy *t = *state;
    struct seen s = {0};

    put(t->guest, "0", DATA "/k");
    assert_non_null(pv_xs_watch_add(t->xs, DATA, on_event, &s));
    settle(t);
    assert_int_equal(s.calls, 1); /* the initial event */
    assert_string_equal(s.paths[0], DATA);

    for (int i = 0; i < 300; i++)
        put(t->guest, i % 2 ? "1" : "2", DATA "/k");
    put(t->guest, "x", DATA "/other");
    settle(t);
    /* 300 writes of one key while nothing was dispatched: one event. */
    assert_int_equal(s.calls, 3);
    assert_string_equal(s.paths[1], DATA "/k");
    assert_string_equal(s.paths[2], DATA "/other");
}

static void test_watch_flood_collapses(void **state)
{
    struct toy *t = *state;
    struct seen s = {0};
    const int n = 3 * (int)PV_XS_WATCH_QUEUE_MAX / 2;

    assert_non_null(pv_xs_watch_add(t->xs, DATA, on_event, &s));
    settle(t);
    s.calls = 0;
    /* Few distinct keys: each reported, in order. */
    for (int i = 0; i < 5; i++)
        put(t->guest, "v", DATA "/a%d", i);
    settle(t);
    assert_int_equal(s.calls, 5);
    assert_string_equal(s.paths[0], DATA "/a0");
    assert_string_equal(s.paths[4], DATA "/a4");

    /* More distinct keys than a watch may queue: one "re-read all" event
     * for the watched path, and the queue never held more than the cap. */
    s.calls = 0;
    for (int i = 0; i < n; i++)
        put(t->guest, "v", DATA "/b%d", i);
    settle(t);
    assert_int_equal(s.calls, 1);
    assert_string_equal(s.paths[0], DATA);
    assert_true(s.max_queued < PV_XS_WATCH_QUEUE_MAX);

    /* Afterwards the watch works as before. */
    s.calls = 0;
    put(t->guest, "v", DATA "/c");
    settle(t);
    assert_int_equal(s.calls, 1);
    assert_string_equal(s.paths[0], DATA "/c");
}

static void test_flood_does_not_starve_other_watch(void **state)
{
    struct toy *t = *state;
    struct seen flood = {0}, quiet = {0};

    put(t->tool, "0", "/quiet");
    assert_non_null(pv_xs_watch_add(t->xs, DATA, on_event, &flood));
    assert_non_null(pv_xs_watch_add(t->xs, "/quiet", on_event, &quiet));
    settle(t);
    flood.calls = quiet.calls = 0;
    dispatch_seq = 0;
    for (int i = 0; i < 40; i++)
        put(t->guest, "v", DATA "/f%d", i);
    put(t->tool, "1", "/quiet");
    settle(t);
    /* The watches take turns: the quiet watch's event is dispatched second,
     * not after the flood's 40. */
    assert_int_equal(quiet.calls, 1);
    assert_int_equal(flood.calls, 40);
    assert_string_equal(quiet.paths[0], "/quiet");
    assert_int_equal(quiet.first_seq, 2);
}

static void test_remove_watches_from_callback(void **state)
{
    struct toy *t = *state;
    struct seen a = {0}, b = {0};

    a.self = pv_xs_watch_add(t->xs, DATA, on_event, &a);
    b.self = pv_xs_watch_add(t->xs, DATA "/sub", on_event, &b);
    assert_non_null(a.self);
    assert_non_null(b.self);
    settle(t);
    a.calls = b.calls = 0;
    /* Both have events queued; whichever runs first removes both. */
    a.other = b.self;
    b.other = a.self;
    a.remove_self = a.remove_other = true;
    b.remove_self = b.remove_other = true;
    for (int i = 0; i < 10; i++)
        put(t->guest, "v", DATA "/sub/k%d", i);
    settle(t);
    assert_int_equal(a.calls + b.calls, 1);
    assert_int_equal(pv_xs_queued_events(t->xs), 0);
    /* No more events for removed watches. */
    put(t->guest, "w", DATA "/sub/k0");
    settle(t);
    assert_int_equal(a.calls + b.calls, 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_typed_reads_and_messages, setup, teardown),
        cmocka_unit_test_setup_teardown(test_guest_values_are_sanitised, setup, teardown),
        cmocka_unit_test_setup_teardown(test_writes_mkdir_rm, setup, teardown),
        cmocka_unit_test_setup_teardown(test_transaction_retries_on_conflict, setup, teardown),
        cmocka_unit_test_setup_teardown(test_watch_coalesces_repeats, setup, teardown),
        cmocka_unit_test_setup_teardown(test_watch_flood_collapses, setup, teardown),
        cmocka_unit_test_setup_teardown(test_flood_does_not_starve_other_watch, setup, teardown),
        cmocka_unit_test_setup_teardown(test_remove_watches_from_callback, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
