/* The store without any daemon: the errors xenstored gives, the watch
 * events each change produces, ownership counts, and transactions. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xenstored/xsd_store.h"

struct fixture {
    struct xsd_quota quota;
    struct xsd_store *store;
    char log[4096]; /* events as "path[!] " (! for exact), in order */
};

static void record(void *arg, const struct xsd_event *ev)
{
    struct fixture *f = arg;
    size_t n = strlen(f->log);

    snprintf(f->log + n, sizeof(f->log) - n, "%s%s ", ev->path, ev->exact ? "!" : "");
}

static int setup(void **state)
{
    static const struct xsd_quota q = XSD_QUOTA_DEFAULTS;
    struct fixture *f = calloc(1, sizeof(*f));

    f->quota = q;
    f->store = xsd_store_new(&f->quota, record, f);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;

    xsd_store_free(f->store);
    free(f);
    return 0;
}

static struct xsd_ctx as(struct fixture *f, unsigned domid)
{
    return (struct xsd_ctx){.store = f->store, .who = {.domid = domid, .target = -1}};
}

static void perms_of(struct fixture *f, const char *path, const char *wire, unsigned n)
{
    struct xsd_ctx c = as(f, 0);
    struct xsd_perms p;

    assert_int_equal(xsd_perms_parse(wire, n, &p), 0);
    assert_int_equal(xsd_store_set_perms(&c, path, &p), 0);
    xsd_perms_clear(&p);
}

static void events_of_changes(void **state)
{
    struct fixture *f = *state;
    struct xsd_ctx c = as(f, 0);

    assert_int_equal(xsd_store_write(&c, "/a/b/c", "v", 1), 0);
    assert_int_equal(xsd_store_mkdir(&c, "/a/d"), 0);
    assert_int_equal(xsd_store_mkdir(&c, "/a/d"), 0); /* exists: no event */
    perms_of(f, "/a/d", "n0\0r1", 2);
    assert_string_equal(f->log, "/a/b/c /a/d /a/d ");
    f->log[0] = '\0';
    /* Removal: the node itself for watches above, then each node below. */
    assert_int_equal(xsd_store_rm(&c, "/a"), 0);
    assert_string_equal(f->log, "/a /a/b! /a/b/c! /a/d! ");
    f->log[0] = '\0';
    /* Removing what is not there changes nothing and fires nothing. */
    assert_int_equal(xsd_store_rm(&c, "/a"), 0);
    assert_int_equal(xsd_store_rm(&c, "/a/x"), ENOENT);
    assert_string_equal(f->log, "");
    /* The whole tree went. */
    assert_int_equal(xsd_store_owned(f->store, 0), 1);
}

static void errors_hide_existence(void **state)
{
    struct fixture *f = *state;
    struct xsd_ctx d0 = as(f, 0), g = as(f, 4);
    const struct xsd_node *n;

    assert_int_equal(xsd_store_write(&d0, "/hidden/key", "v", 1), 0);
    assert_int_equal(xsd_store_write(&d0, "/open/key", "v", 1), 0);
    perms_of(f, "/open", "n0\0b4", 2);
    perms_of(f, "/open/key", "n0", 1);
    /* Below an unreadable parent: EACCES whether or not the node exists. */
    assert_int_equal(xsd_store_read(&g, "/hidden/key", &n), EACCES);
    assert_int_equal(xsd_store_read(&g, "/hidden/none", &n), EACCES);
    /* Below a readable one: ENOENT for missing, EACCES for forbidden. */
    assert_int_equal(xsd_store_read(&g, "/open/none", &n), ENOENT);
    assert_int_equal(xsd_store_read(&g, "/open/key", &n), EACCES);
    /* Writable parent: the guest creates, and owns, a new node. */
    assert_int_equal(xsd_store_write(&g, "/open/mine/deep", "x", 1), 0);
    assert_int_equal(xsd_store_read(&d0, "/open/mine/deep", &n), 0);
    assert_int_equal(n->perms.p[0].id, 4);
    assert_int_equal(n->perms.num, 2);
    assert_int_equal(xsd_store_owned(f->store, 4), 2);
    /* An unwritable ancestor: EACCES, nothing created. */
    assert_int_equal(xsd_store_write(&g, "/hidden/x/y", "x", 1), EACCES);
    assert_int_equal(xsd_store_read(&d0, "/hidden/x", &n), ENOENT);
}

static void ownership_counts(void **state)
{
    struct fixture *f = *state;
    struct xsd_ctx d0 = as(f, 0);

    assert_int_equal(xsd_store_write(&d0, "/g/a", "", 0), 0);
    assert_int_equal(xsd_store_owned(f->store, 0), 3); /* "/", /g, /g/a */
    perms_of(f, "/g/a", "n9", 1);
    assert_int_equal(xsd_store_owned(f->store, 0), 2);
    assert_int_equal(xsd_store_owned(f->store, 9), 1);
    /* Nodes dom0 creates below a guest's node stay the guest's. */
    assert_int_equal(xsd_store_write(&d0, "/g/a/b", "", 0), 0);
    assert_int_equal(xsd_store_owned(f->store, 9), 2);
    assert_int_equal(xsd_store_rm(&d0, "/g"), 0);
    assert_int_equal(xsd_store_owned(f->store, 9), 0);
    assert_int_equal(xsd_store_owned(f->store, 0), 1);
}

static void quota_checks_change_nothing(void **state)
{
    struct fixture *f = *state;
    struct xsd_ctx d0 = as(f, 0), g = as(f, 3);
    const struct xsd_node *n;

    f->quota.nodes = 3;
    assert_int_equal(xsd_store_mkdir(&d0, "/q"), 0);
    perms_of(f, "/q", "n3", 1); /* the guest owns 1 */
    assert_int_equal(xsd_store_write(&g, "/q/a/b/c", "", 0), ENOSPC);
    assert_int_equal(xsd_store_read(&d0, "/q/a", &n), ENOENT);
    assert_int_equal(xsd_store_write(&g, "/q/a/b", "", 0), 0);
    assert_int_equal(xsd_store_owned(f->store, 3), 3);
    f->quota.entry_size = 64; /* 20 + 8 + value must stay below */
    assert_int_equal(xsd_store_write(&g, "/q/a/b", "0123456789012345678901234567890123456", 36),
                     ENOSPC);
    assert_int_equal(xsd_store_write(&g, "/q/a/b", "012345678901234567890123456789012345", 35), 0);
    /* dom0 is not limited. */
    assert_int_equal(
        xsd_store_write(&d0, "/q/a/b/c/d", "0123456789012345678901234567890123456789", 40), 0);
}

static void transactions(void **state)
{
    struct fixture *f = *state;
    struct xsd_ctx d0 = as(f, 0), t = d0;
    const struct xsd_node *n;

    assert_int_equal(xsd_store_write(&d0, "/t/x", "0", 1), 0);
    f->log[0] = '\0';
    t.txn = xsd_txn_start(f->store, 0);
    assert_int_equal(xsd_store_write(&t, "/t/x", "1", 1), 0);
    assert_int_equal(xsd_store_rm(&t, "/t"), 0);
    assert_int_equal(xsd_store_write(&t, "/t/y", "2", 1), 0);
    assert_string_equal(f->log, ""); /* nothing fires before commit */
    assert_int_equal(xsd_store_read(&t, "/t/x", &n), ENOENT);
    assert_int_equal(xsd_store_read(&d0, "/t/x", &n), 0);
    assert_memory_equal(n->value, "0", 1);
    assert_int_equal(xsd_txn_end(t.txn, true), 0);
    assert_string_equal(f->log, "/t/x /t /t/x! /t/y ");
    assert_int_equal(xsd_store_read(&d0, "/t/x", &n), ENOENT);
    assert_int_equal(xsd_store_read(&d0, "/t/y", &n), 0);
    assert_int_equal(xsd_store_owned(f->store, 0), 3);

    /* A conflict drops everything, events included. */
    f->log[0] = '\0';
    t.txn = xsd_txn_start(f->store, 0);
    assert_int_equal(xsd_store_write(&t, "/t/y", "3", 1), 0);
    assert_int_equal(xsd_store_write(&d0, "/t/y", "4", 1), 0);
    assert_int_equal(xsd_txn_end(t.txn, true), EAGAIN);
    assert_string_equal(f->log, "/t/y ");
    assert_int_equal(xsd_store_read(&d0, "/t/y", &n), 0);
    assert_memory_equal(n->value, "4", 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(events_of_changes, setup, teardown),
        cmocka_unit_test_setup_teardown(errors_hide_existence, setup, teardown),
        cmocka_unit_test_setup_teardown(ownership_counts, setup, teardown),
        cmocka_unit_test_setup_teardown(quota_checks_change_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(transactions, setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
