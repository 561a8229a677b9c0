/* xenbus path helpers: splitting watch events below backend/<type> and the
 * error node's directory. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "common/xenbus_path.h"

#define BASE "/local/domain/0/backend/vbd"

static void test_split_depths(void **state)
{
    struct pv_xenbus_where w;

    (void)state;
    assert_int_equal(pv_xenbus_split(BASE, BASE, &w), 0);
    assert_int_equal(w.depth, 0);
    assert_int_equal(pv_xenbus_split(BASE, BASE "/3", &w), 0);
    assert_int_equal(w.depth, 1);
    assert_int_equal(w.domid, 3);
    assert_int_equal(pv_xenbus_split(BASE, BASE "/3/51712", &w), 0);
    assert_int_equal(w.depth, 2);
    assert_int_equal(w.devid, 51712);
    assert_int_equal(pv_xenbus_split(BASE, BASE "/3/51712/state", &w), 0);
    assert_int_equal(w.depth, 3);
    assert_string_equal(w.key, "state");
    assert_int_equal(pv_xenbus_split(BASE, BASE "/3/51712/queue-0/ring-ref", &w), 0);
    assert_string_equal(w.key, "queue-0/ring-ref");
}

static void test_split_refuses_foreign_paths(void **state)
{
    struct pv_xenbus_where w;

    (void)state;
    assert_int_equal(pv_xenbus_split(BASE, "/local/domain/0/backend/vif/3", &w), -1);
    assert_int_equal(pv_xenbus_split(BASE, BASE "3/1", &w), -1); /* vbd3 is not vbd */
    assert_int_equal(pv_xenbus_split(BASE, BASE "/x/1", &w), -1);
    assert_int_equal(pv_xenbus_split(BASE, BASE "/3/abc", &w), -1);
    assert_int_equal(pv_xenbus_split(BASE, BASE "/-3/1", &w), -1);
    assert_int_equal(pv_xenbus_split(BASE, BASE "/32752/1", &w), -1);      /* DOMID_IO... */
    assert_int_equal(pv_xenbus_split(BASE, BASE "/3/2147483648", &w), -1); /* > INT_MAX */
    assert_int_equal(pv_xenbus_split(BASE, BASE "/3/1/", &w), -1);
    assert_int_equal(pv_xenbus_split(BASE, BASE "/3//state", &w), -1);
    assert_int_equal(pv_xenbus_split(BASE, BASE "/99999999999999999999", &w), -1);
}

static void test_key_below(void **state)
{
    (void)state;
    assert_string_equal(pv_xenbus_key_below("/a/b", "/a/b"), "");
    assert_string_equal(pv_xenbus_key_below("/a/b", "/a/b/rate"), "rate");
    assert_null(pv_xenbus_key_below("/a/b", "/a/bc"));
    assert_null(pv_xenbus_key_below("/a/b", "/a"));
}

static void test_error_dir_like_linux(void **state)
{
    char buf[128];

    (void)state;
    assert_int_equal(pv_xenbus_error_dir(buf, sizeof(buf), BASE "/3/51712"), 0);
    assert_string_equal(buf, "/local/domain/0/error/backend/vbd/3/51712");
    assert_int_equal(pv_xenbus_error_dir(buf, sizeof(buf), "/local/domain/7/backend/vif/3/0"), 0);
    assert_string_equal(buf, "/local/domain/7/error/backend/vif/3/0");
    assert_int_equal(pv_xenbus_error_dir(buf, sizeof(buf), "/local/domain/0/device/vbd/1"), -1);
    assert_int_equal(pv_xenbus_error_dir(buf, 20, BASE "/3/51712"), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_split_depths),
        cmocka_unit_test(test_split_refuses_foreign_paths),
        cmocka_unit_test(test_key_below),
        cmocka_unit_test(test_error_dir_like_linux),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
