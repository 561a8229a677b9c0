/* Permissions through libxenstore: a guest sees only what the ACL grants,
 * new nodes inherit their parent's permissions with the creator as owner,
 * and only an owner or dom0 changes them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "xenstore_harness.h"

struct ctx {
    struct xsh *h;
    struct xs_handle *dom0, *g1, *g2;
};

static int setup(void **state)
{
    struct ctx *c = calloc(1, sizeof(*c));

    c->h = xsh_start();
    xsh_introduce(c->h, 1);
    xsh_introduce(c->h, 2);
    c->dom0 = xsh_open(c->h, 0);
    c->g1 = xsh_open(c->h, 1);
    c->g2 = xsh_open(c->h, 2);
    if (!c->dom0 || !c->g1 || !c->g2)
        return -1;
    *state = c;
    return 0;
}

static int teardown(void **state)
{
    struct ctx *c = *state;

    xs_close(c->dom0);
    xs_close(c->g1);
    xs_close(c->g2);
    xsh_stop(c->h);
    free(c);
    return 0;
}

static bool set_perms(struct xs_handle *xs, const char *path, const char *spec)
{
    struct xs_permissions p[8];
    unsigned n = 0;
    char buf[64], *tok, *save;

    snprintf(buf, sizeof(buf), "%s", spec);
    for (tok = strtok_r(buf, " ", &save); tok; tok = strtok_r(NULL, " ", &save)) {
        p[n].id = (unsigned)atoi(tok + 1);
        p[n].perms = tok[0] == 'r'   ? XS_PERM_READ
                     : tok[0] == 'w' ? XS_PERM_WRITE
                     : tok[0] == 'b' ? XS_PERM_READ | XS_PERM_WRITE
                                     : XS_PERM_NONE;
        n++;
    }
    return xs_set_permissions(xs, XBT_NULL, path, p, n);
}

static void guests_refused(void **state)
{
    struct ctx *c = *state;
    unsigned len;

    assert_true(xs_write(c->dom0, XBT_NULL, "/local/domain/0/secret", "s", 1));
    assert_true(xs_write(c->g2, XBT_NULL, "/local/domain/2/mine", "2", 1));

    /* dom0's keys. */
    assert_null(xs_read(c->g1, XBT_NULL, "/local/domain/0/secret", &len));
    assert_int_equal(errno, EACCES);
    assert_false(xs_write(c->g1, XBT_NULL, "/local/domain/0/secret", "x", 1));
    assert_int_equal(errno, EACCES);
    assert_false(xs_write(c->g1, XBT_NULL, "/tool/x", "x", 1));
    assert_int_equal(errno, EACCES);
    /* Another guest's keys, existing or not: EACCES, never ENOENT. */
    assert_null(xs_read(c->g1, XBT_NULL, "/local/domain/2/mine", &len));
    assert_int_equal(errno, EACCES);
    assert_null(xs_read(c->g1, XBT_NULL, "/local/domain/2/nothing", &len));
    assert_int_equal(errno, EACCES);
    assert_false(xs_write(c->g1, XBT_NULL, "/local/domain/2/mine", "x", 1));
    assert_int_equal(errno, EACCES);
    assert_false(xs_rm(c->g1, XBT_NULL, "/local/domain/2/mine"));
    assert_int_equal(errno, EACCES);
    assert_null(xs_directory(c->g1, XBT_NULL, "/local/domain/2", &len));
    assert_int_equal(errno, EACCES);
    assert_null(xs_get_permissions(c->g1, XBT_NULL, "/local/domain/2/mine", &len));
    assert_int_equal(errno, EACCES);
    assert_false(set_perms(c->g1, "/local/domain/2/mine", "n1"));
    assert_int_equal(errno, EACCES);
    /* Nothing changed. */
    char *v = xsh_read(c->g2, "/local/domain/2/mine");
    assert_string_equal(v, "2");
    free(v);
    /* Its own home: ENOENT for what is missing. */
    assert_null(xs_read(c->g1, XBT_NULL, "/local/domain/1/nothing", &len));
    assert_int_equal(errno, ENOENT);
}

static void acl_grants(void **state)
{
    struct ctx *c = *state;
    unsigned len;
    char *v;

    /* As libxl does for a frontend dir: dom0 owns, the guest may write. */
    assert_true(xs_write(c->dom0, XBT_NULL, "/local/domain/1/device/vbd/51712/state", "1", 1));
    assert_true(set_perms(c->dom0, "/local/domain/1/device/vbd/51712", "n1 r0"));
    assert_true(xs_write(c->dom0, XBT_NULL, "/backend/vbd/1/51712/state", "1", 1));
    assert_true(set_perms(c->dom0, "/backend/vbd/1/51712", "n0 r1"));
    assert_true(set_perms(c->dom0, "/backend/vbd/1/51712/state", "n0 r1"));

    /* r1 lets dom1 read but not write, and dom2 neither. */
    v = xsh_read(c->g1, "/backend/vbd/1/51712/state");
    assert_string_equal(v, "1");
    free(v);
    assert_false(xs_write(c->g1, XBT_NULL, "/backend/vbd/1/51712/state", "4", 1));
    assert_int_equal(errno, EACCES);
    assert_null(xs_read(c->g2, XBT_NULL, "/backend/vbd/1/51712/state", &len));
    assert_int_equal(errno, EACCES);

    /* The "everyone else" entry: b2 for one key. */
    assert_true(xs_write(c->dom0, XBT_NULL, "/backend/vbd/1/51712/shared", "s", 1));
    assert_true(set_perms(c->dom0, "/backend/vbd/1/51712/shared", "n0 b2"));
    assert_true(xs_write(c->g2, XBT_NULL, "/backend/vbd/1/51712/shared", "t", 1));
    v = xsh_read(c->g2, "/backend/vbd/1/51712/shared");
    assert_string_equal(v, "t");
    free(v);
    assert_null(xs_read(c->g1, XBT_NULL, "/backend/vbd/1/51712/shared", &len));
    assert_int_equal(errno, EACCES);
    assert_false(set_perms(c->dom0, "/backend/vbd/1/51712/nonexistent", "n0"));
    assert_int_equal(errno, ENOENT);
    assert_true(xs_write(c->dom0, XBT_NULL, "/pub", "p", 1));
    assert_true(set_perms(c->dom0, "/pub", "r0"));
    v = xsh_read(c->g2, "/pub");
    assert_string_equal(v, "p");
    free(v);
    assert_false(xs_write(c->g2, XBT_NULL, "/pub", "x", 1));
    assert_int_equal(errno, EACCES);
    assert_true(set_perms(c->dom0, "/pub", "w0"));
    assert_true(xs_write(c->g2, XBT_NULL, "/pub", "x", 1));
    assert_null(xs_read(c->g2, XBT_NULL, "/pub", &len));
    assert_int_equal(errno, EACCES);
}

static void inheritance_and_ownership(void **state)
{
    struct ctx *c = *state;
    struct xs_permissions *p;
    unsigned n;

    assert_true(xs_write(c->dom0, XBT_NULL, "/local/domain/1/device/vif/0/x", "", 0));
    assert_true(set_perms(c->dom0, "/local/domain/1/device/vif/0", "n0 b1"));
    /* The guest creates below: the node inherits n0,b1 but is the guest's. */
    assert_true(xs_write(c->g1, XBT_NULL, "/local/domain/1/device/vif/0/mac/y", "m", 1));
    p = xs_get_permissions(c->dom0, XBT_NULL, "/local/domain/1/device/vif/0/mac/y", &n);
    assert_non_null(p);
    assert_int_equal(n, 2);
    assert_int_equal(p[0].id, 1);
    assert_int_equal(p[0].perms, XS_PERM_NONE);
    assert_int_equal(p[1].id, 1);
    assert_int_equal(p[1].perms, XS_PERM_READ | XS_PERM_WRITE);
    free(p);
    /* dom0 creating keeps the parent's owner. */
    assert_true(xs_write(c->dom0, XBT_NULL, "/local/domain/1/device/vif/0/z", "", 0));
    p = xs_get_permissions(c->dom0, XBT_NULL, "/local/domain/1/device/vif/0/z", &n);
    assert_int_equal(p[0].id, 0);
    free(p);
    /* An owner may change permissions but not give the node away. */
    assert_true(set_perms(c->g1, "/local/domain/1/device/vif/0/mac/y", "n1 r2"));
    assert_false(set_perms(c->g1, "/local/domain/1/device/vif/0/mac/y", "n2"));
    assert_int_equal(errno, EPERM);
    /* b1 is not ownership: the guest cannot set perms on dom0's node. */
    assert_false(set_perms(c->g1, "/local/domain/1/device/vif/0", "n1"));
    assert_int_equal(errno, EACCES);
    /* dom0 may give a node away. */
    assert_true(set_perms(c->dom0, "/local/domain/1/device/vif/0/z", "n2"));
    p = xs_get_permissions(c->g2, XBT_NULL, "/local/domain/1/device/vif/0/z", &n);
    assert_non_null(p);
    assert_int_equal(p[0].id, 2);
    free(p);
}

static void target_shares_rights(void **state)
{
    struct ctx *c = *state;
    char *v;
    unsigned len;

    assert_true(xs_write(c->g2, XBT_NULL, "/local/domain/2/private", "p", 1));
    assert_null(xs_read(c->g1, XBT_NULL, "/local/domain/2/private", &len));
    /* A device model domain given SET_TARGET acts with its target's rights. */
    assert_true(xs_set_target(c->dom0, 1, 2));
    v = xsh_read(c->g1, "/local/domain/2/private");
    assert_non_null(v);
    assert_string_equal(v, "p");
    free(v);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(guests_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(acl_grants, setup, teardown),
        cmocka_unit_test_setup_teardown(inheritance_and_ownership, setup, teardown),
        cmocka_unit_test_setup_teardown(target_shares_rights, setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
