/* Node permissions: parsing and formatting the wire strings, and what each
 * domain may do with a node. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <errno.h>
#include <string.h>

#include "xenstored/xsd_perms.h"

static void parse_and_format(void **state)
{
    static const char wire[] = "n3\0r0\0w7\0b65535";
    struct xsd_perms p;
    char buf[8];

    (void)state;
    assert_int_equal(xsd_perms_parse(wire, 4, &p), 0);
    assert_int_equal(p.num, 4);
    assert_int_equal(p.p[0].id, 3);
    assert_int_equal(p.p[0].perms, XSD_PERM_NONE);
    assert_int_equal(p.p[1].perms, XSD_PERM_READ);
    assert_int_equal(p.p[2].perms, XSD_PERM_WRITE);
    assert_int_equal(p.p[3].perms, XSD_PERM_READ | XSD_PERM_WRITE);
    assert_int_equal(p.p[3].id, 65535);
    xsd_perm_format(&p.p[3], buf, sizeof(buf));
    assert_string_equal(buf, "b65535");
    xsd_perm_format(&p.p[0], buf, sizeof(buf));
    assert_string_equal(buf, "n3");
    xsd_perms_clear(&p);
}

static void parse_rejects(void **state)
{
    static const char *bad[] = {"x1", "r", "r-1", "r65536", "r1x", "R1", "r 1", ""};
    struct xsd_perms p;

    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_int_equal(xsd_perms_parse(bad[i], 1, &p), EINVAL);
    assert_int_equal(xsd_perms_parse("r1", 0, &p), EINVAL);
}

static void who_may_do_what(void **state)
{
    struct xsd_perm e[] = {{.id = 5, .perms = XSD_PERM_READ},
                           {.id = 6, .perms = XSD_PERM_NONE},
                           {.id = 7, .perms = XSD_PERM_WRITE}};
    struct xsd_perms p = {.p = e, .num = 3};
    const unsigned all = XSD_PERM_READ | XSD_PERM_WRITE | XSD_PERM_OWNER;
    struct xsd_who dom0 = {0, -1}, owner = {5, -1}, six = {6, -1}, seven = {7, -1}, other = {9, -1},
                   dm = {9, 7};

    (void)state;
    assert_int_equal(xsd_perms_for(&dom0, &p), all);
    assert_int_equal(xsd_perms_for(&owner, &p), all);
    assert_int_equal(xsd_perms_for(&six, &p), XSD_PERM_NONE);
    assert_int_equal(xsd_perms_for(&seven, &p), XSD_PERM_WRITE);
    assert_int_equal(xsd_perms_for(&other, &p), XSD_PERM_READ); /* the default */
    assert_int_equal(xsd_perms_for(&dm, &p), XSD_PERM_WRITE);   /* its target's */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(parse_and_format),
        cmocka_unit_test(parse_rejects),
        cmocka_unit_test(who_may_do_what),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
