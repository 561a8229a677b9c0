/* xensim's xenstored through the real libxenstore: reading, writing,
 * directories (including ones too big for one reply), removal, relative
 * paths and the path rules. */
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

static void initial_tree(void **state)
{
    struct xs_handle *xs = xsh_open(*state, 0);
    unsigned n;
    char **d;

    assert_non_null(xs);
    d = xs_directory(xs, XBT_NULL, "/", &n);
    assert_non_null(d);
    assert_int_equal(n, 2);
    assert_string_equal(d[0], "local");
    assert_string_equal(d[1], "tool");
    free(d);
    d = xs_directory(xs, XBT_NULL, "/local/domain", &n);
    assert_non_null(d);
    assert_int_equal(n, 0);
    free(d);
    xs_close(xs);
}

static void write_read_rm(void **state)
{
    struct xs_handle *xs = xsh_open(*state, 0);
    char *v;
    unsigned len, n;
    char **d;

    assert_true(xs_write(xs, XBT_NULL, "/a/b/c", "hello", 5));
    v = xs_read(xs, XBT_NULL, "/a/b/c", &len);
    assert_non_null(v);
    assert_int_equal(len, 5);
    assert_string_equal(v, "hello");
    free(v);
    /* Intermediate nodes exist with empty values. */
    v = xs_read(xs, XBT_NULL, "/a/b", &len);
    assert_non_null(v);
    assert_int_equal(len, 0);
    free(v);
    /* Binary values keep their bytes. */
    assert_true(xs_write(xs, XBT_NULL, "/a/bin", "x\0y", 3));
    v = xs_read(xs, XBT_NULL, "/a/bin", &len);
    assert_int_equal(len, 3);
    assert_memory_equal(v, "x\0y", 3);
    free(v);
    /* Children in creation order. */
    d = xs_directory(xs, XBT_NULL, "/a", &n);
    assert_int_equal(n, 2);
    assert_string_equal(d[0], "b");
    assert_string_equal(d[1], "bin");
    free(d);

    assert_true(xs_mkdir(xs, XBT_NULL, "/a/dir"));
    assert_true(xs_mkdir(xs, XBT_NULL, "/a/dir")); /* exists: fine */
    assert_true(xs_rm(xs, XBT_NULL, "/a/b"));
    assert_null(xs_read(xs, XBT_NULL, "/a/b/c", &len));
    assert_int_equal(errno, ENOENT);
    assert_true(xs_rm(xs, XBT_NULL, "/a/b"));      /* gone, parent there: fine */
    assert_false(xs_rm(xs, XBT_NULL, "/a/b/c/d")); /* parent gone too */
    assert_int_equal(errno, ENOENT);
    assert_false(xs_rm(xs, XBT_NULL, "/"));
    assert_int_equal(errno, EINVAL);
    d = xs_directory(xs, XBT_NULL, "/a", &n);
    assert_int_equal(n, 2);
    assert_string_equal(d[0], "bin");
    assert_string_equal(d[1], "dir");
    free(d);
    xs_close(xs);
}

static void invalid_paths(void **state)
{
    struct xs_handle *xs = xsh_open(*state, 0);
    static const char *bad[] = {"/a/", "/a//b", "/a b", "/a\xc3\xa9", "@foo", "/a*"};
    char *longpath;
    unsigned len;

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_false(xs_write(xs, XBT_NULL, bad[i], "v", 1));
        assert_int_equal(errno, EINVAL);
        assert_null(xs_read(xs, XBT_NULL, bad[i], &len));
        assert_int_equal(errno, EINVAL);
    }
    /* Longer than XENSTORE_ABS_PATH_MAX. */
    longpath = malloc(XENSTORE_ABS_PATH_MAX + 2);
    longpath[0] = '/';
    memset(longpath + 1, 'x', XENSTORE_ABS_PATH_MAX);
    longpath[XENSTORE_ABS_PATH_MAX + 1] = '\0';
    assert_false(xs_write(xs, XBT_NULL, longpath, "v", 1));
    assert_int_equal(errno, EINVAL);
    longpath[XENSTORE_ABS_PATH_MAX] = '\0'; /* exactly the limit: fine */
    assert_true(xs_write(xs, XBT_NULL, longpath, "v", 1));
    free(longpath);
    xs_close(xs);
}

static void relative_paths(void **state)
{
    struct xsh *h = *state;
    struct xs_handle *g, *xs;
    char *v, *p;

    xsh_introduce(h, 3);
    g = xsh_open(h, 3);
    xs = xsh_open(h, 0);
    assert_non_null(g);
    assert_true(xs_write(g, XBT_NULL, "data/x", "1", 1));
    v = xsh_read(xs, "/local/domain/3/data/x");
    assert_string_equal(v, "1");
    free(v);
    v = xsh_read(g, "data/x");
    assert_string_equal(v, "1");
    free(v);
    p = xs_get_domain_path(g, 7);
    assert_string_equal(p, "/local/domain/7");
    free(p);
    /* Relative paths of dom0 resolve under /local/domain/0. */
    assert_true(xs_write(xs, XBT_NULL, "name", "Domain-0", 8));
    v = xsh_read(xs, "/local/domain/0/name");
    assert_string_equal(v, "Domain-0");
    free(v);
    xs_close(g);
    xs_close(xs);
}

/* A directory whose child list exceeds one message: libxenstore gets E2BIG
 * for DIRECTORY and falls back to DIRECTORY_PART. */
static void big_directory(void **state)
{
    struct xs_handle *xs = xsh_open(*state, 0);
    char path[64];
    unsigned n;
    char **d;

    for (int i = 0; i < 600; i++) {
        snprintf(path, sizeof(path), "/big/child-number-%04d", i);
        assert_true(xs_write(xs, XBT_NULL, path, "", 0));
    }
    d = xs_directory(xs, XBT_NULL, "/big", &n);
    assert_non_null(d);
    assert_int_equal(n, 600);
    for (int i = 0; i < 600; i++) {
        snprintf(path, sizeof(path), "child-number-%04d", i);
        assert_string_equal(d[i], path);
    }
    free(d);
    xs_close(xs);
}

static void domains(void **state)
{
    struct xsh *h = *state;
    struct xs_handle *xs = xsh_open(h, 0), *g;
    struct xs_permissions *perms;
    unsigned n;

    assert_true(xs_is_domain_introduced(xs, 0));
    assert_false(xs_is_domain_introduced(xs, 4));
    xsh_introduce(h, 4);
    assert_true(xs_is_domain_introduced(xs, 4));
    /* Its home exists and is its own. */
    perms = xs_get_permissions(xs, XBT_NULL, "/local/domain/4", &n);
    assert_non_null(perms);
    assert_int_equal(n, 1);
    assert_int_equal(perms[0].id, 4);
    assert_int_equal(perms[0].perms, XS_PERM_NONE);
    free(perms);
    g = xsh_open(h, 4);
    assert_non_null(g);
    /* Privileged requests are refused to a guest. */
    assert_false(xs_is_domain_introduced(g, 0));
    assert_int_equal(errno, EACCES);
    assert_false(xs_release_domain(g, 4));
    assert_int_equal(errno, EACCES);
    /* SET_TARGET and RESUME are accepted from dom0. */
    xsh_introduce(h, 5);
    assert_true(xs_set_target(xs, 5, 4));
    assert_true(xs_resume_domain(xs, 4));
    /* RELEASE over the wire closes the guest's connection. */
    assert_true(xs_release_domain(xs, 4));
    assert_false(xs_is_domain_introduced(xs, 4));
    assert_null(xsh_read(g, "name"));
    xs_close(g);
    /* The daemon serves on. */
    assert_true(xs_write(xs, XBT_NULL, "/after", "x", 1));
    xs_close(xs);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(initial_tree, setup, teardown),
        cmocka_unit_test_setup_teardown(write_read_rm, setup, teardown),
        cmocka_unit_test_setup_teardown(invalid_paths, setup, teardown),
        cmocka_unit_test_setup_teardown(relative_paths, setup, teardown),
        cmocka_unit_test_setup_teardown(big_directory, setup, teardown),
        cmocka_unit_test_setup_teardown(domains, setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
