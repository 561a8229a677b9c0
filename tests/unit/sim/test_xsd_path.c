/* xenstored's path rules: valid names, relative paths, parents, subtrees. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "xenstored/xsd_path.h"

static void valid_names(void **state)
{
    (void)state;
    assert_true(xsd_path_valid("/", true));
    assert_true(xsd_path_valid("/local/domain/1/device/vbd/51712/ring-ref0", false));
    assert_true(xsd_path_valid("/a_b-c@d", false));
    assert_false(xsd_path_valid("", true));
    assert_false(xsd_path_valid("a/b", true));
    assert_false(xsd_path_valid("/a/", true));
    assert_false(xsd_path_valid("/a//b", true));
    assert_false(xsd_path_valid("/a.b", true));
    assert_false(xsd_path_valid("/a b", true));
    assert_false(xsd_path_valid("/a\n", true));
}

static char *repeat(char c, size_t n, const char *prefix)
{
    size_t p = strlen(prefix);
    char *s = malloc(p + n + 1);

    memcpy(s, prefix, p);
    memset(s + p, c, n);
    s[p + n] = '\0';
    return s;
}

static void length_limits(void **state)
{
    char *s;

    (void)state;
    /* Everyone: at most XENSTORE_ABS_PATH_MAX (3072) characters. */
    s = repeat('x', 3071, "/");
    assert_true(xsd_path_valid(s, true));
    free(s);
    s = repeat('x', 3072, "/");
    assert_false(xsd_path_valid(s, true));
    free(s);
    /* A guest: at most XENSTORE_REL_PATH_MAX (2048) below its domain path. */
    s = repeat('x', 2048, "/local/domain/12/");
    assert_true(xsd_path_valid(s, false));
    free(s);
    s = repeat('x', 2049, "/local/domain/12/");
    assert_false(xsd_path_valid(s, false));
    assert_true(xsd_path_valid(s, true));
    free(s);
    s = repeat('x', 2048, "/"); /* 2049 characters elsewhere */
    assert_false(xsd_path_valid(s, false));
    free(s);
}

static void canonical(void **state)
{
    char *s;

    (void)state;
    s = xsd_path_canonical(5, "device/vif");
    assert_string_equal(s, "/local/domain/5/device/vif");
    free(s);
    s = xsd_path_canonical(5, "/abs");
    assert_string_equal(s, "/abs");
    free(s);
    s = xsd_path_canonical(5, "@releaseDomain");
    assert_string_equal(s, "@releaseDomain");
    free(s);
}

static void parents_and_children(void **state)
{
    char *s;

    (void)state;
    s = xsd_path_parent("/a/b/c");
    assert_string_equal(s, "/a/b");
    free(s);
    s = xsd_path_parent("/a");
    assert_string_equal(s, "/");
    free(s);
    assert_string_equal(xsd_path_base("/a/b/c"), "c");
    s = xsd_path_join("/", "x");
    assert_string_equal(s, "/x");
    free(s);
    s = xsd_path_join("/a", "x");
    assert_string_equal(s, "/a/x");
    free(s);
    assert_true(xsd_path_is_child("/a/b", "/a"));
    assert_true(xsd_path_is_child("/a", "/a"));
    assert_false(xsd_path_is_child("/ab", "/a"));
    assert_false(xsd_path_is_child("/a", "/a/b"));
    assert_true(xsd_path_is_child("/anything", "/"));
    assert_true(xsd_path_is_child("@releaseDomain", "/"));
    assert_true(xsd_path_is_child("@releaseDomain", "@releaseDomain"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(valid_names),
        cmocka_unit_test(length_limits),
        cmocka_unit_test(canonical),
        cmocka_unit_test(parents_and_children),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
