/* Remote storage URL parsing: every field of good URLs, and for each kind
 * of bad one an error that names the faulty part (never the password). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "storage_url.h"

static void test_scheme(void **state)
{
    (void)state;
    assert_int_equal(pv_url_scheme("iscsi://h/t/0"), PV_URL_ISCSI);
    assert_int_equal(pv_url_scheme("ISCSI://h/t/0"), PV_URL_ISCSI);
    assert_int_equal(pv_url_scheme("nfs://h/e/f"), PV_URL_NFS);
    assert_int_equal(pv_url_scheme("/var/lib/xen/images/a.img"), PV_URL_NONE);
    assert_int_equal(pv_url_scheme("aio:/x"), PV_URL_NONE);
    assert_int_equal(pv_url_scheme("iscsi:/h/t/0"), PV_URL_NONE);
    assert_int_equal(pv_url_scheme(NULL), PV_URL_NONE);
}

static void test_iscsi_full(void **state)
{
    (void)state;
    struct pv_iscsi_url u;
    char err[256];
    assert_int_equal(pv_iscsi_url_parse("iscsi://alice%p@ss@10.0.0.5:3261/"
                                        "iqn.2001-04.com.example:storage.disk1/7",
                                        &u, err, sizeof(err)),
                     0);
    assert_string_equal(u.user, "alice");
    assert_string_equal(u.password, "p@ss"); /* the last '@' ends the credentials */
    assert_string_equal(u.host, "10.0.0.5");
    assert_int_equal(u.port, 3261);
    assert_string_equal(u.target, "iqn.2001-04.com.example:storage.disk1");
    assert_int_equal(u.lun, 7);
}

static void test_iscsi_defaults_and_v6(void **state)
{
    (void)state;
    struct pv_iscsi_url u;
    char err[256];
    assert_int_equal(pv_iscsi_url_parse("iscsi://san.example/iqn.x:y/0", &u, err, sizeof(err)), 0);
    assert_string_equal(u.host, "san.example");
    assert_int_equal(u.port, 3260);
    assert_string_equal(u.user, "");
    assert_string_equal(u.password, "");
    assert_int_equal(u.lun, 0);

    assert_int_equal(
        pv_iscsi_url_parse("iscsi://[fd00::1]:3262/iqn.x:y/16383", &u, err, sizeof(err)), 0);
    assert_string_equal(u.host, "fd00::1");
    assert_int_equal(u.port, 3262);
    assert_int_equal(u.lun, 16383);

    assert_int_equal(pv_iscsi_url_parse("iscsi://bob@h/iqn.x:y/1", &u, err, sizeof(err)), 0);
    assert_string_equal(u.user, "bob");
    assert_string_equal(u.password, "");
}

/* url must fail with a message containing want. */
static void expect_iscsi_error(const char *url, const char *want)
{
    struct pv_iscsi_url u;
    char err[256] = "";
    assert_int_equal(pv_iscsi_url_parse(url, &u, err, sizeof(err)), -1);
    if (!strstr(err, want))
        fail_msg("%s: error '%s' lacks '%s'", url, err, want);
    assert_null(strstr(err, "secret"));
}

static void test_iscsi_errors(void **state)
{
    (void)state;
    expect_iscsi_error("nfs://h/iqn.x/1", "does not start with iscsi://");
    expect_iscsi_error("iscsi://host", "expected iscsi://host[:port]/target-iqn/lun");
    expect_iscsi_error("iscsi://host/iqn.x:y", "expected /target-iqn/lun");
    expect_iscsi_error("iscsi://host//1", "expected /target-iqn/lun");
    expect_iscsi_error("iscsi://host/iqn.x:y/", "invalid LUN ''");
    expect_iscsi_error("iscsi://host/iqn.x:y/16384", "invalid LUN '16384'");
    expect_iscsi_error("iscsi://host/iqn.x:y/-1", "invalid LUN '-1'");
    expect_iscsi_error("iscsi://host/iqn.x:y/1x", "invalid LUN '1x'");
    expect_iscsi_error("iscsi://host/iqn.x:y/99999999999", "invalid LUN");
    expect_iscsi_error("iscsi://host:0/iqn.x:y/1", "invalid port '0'");
    expect_iscsi_error("iscsi://host:65536/iqn.x:y/1", "invalid port '65536'");
    expect_iscsi_error("iscsi://host:/iqn.x:y/1", "invalid port ''");
    expect_iscsi_error("iscsi:///iqn.x:y/1", "the host is missing");
    expect_iscsi_error("iscsi://ho st/iqn.x:y/1", "invalid character ' ' in the host");
    expect_iscsi_error("iscsi://[fd00::1/iqn.x:y/1", "unterminated '['");
    expect_iscsi_error("iscsi://[fd00::1]x/iqn.x:y/1", "after ']'");
    expect_iscsi_error("iscsi://host/iqn x/1", "invalid character ' ' in the target name");
    expect_iscsi_error("iscsi://host/a/b/1", "invalid character '/' in the target name");
    expect_iscsi_error("iscsi://host/iqn.x:y/1?x=1", "query and fragment");
    expect_iscsi_error("iscsi://%secret@host/iqn.x:y/1", "user name before '@' is empty");
    expect_iscsi_error("iscsi://bob%@host/iqn.x:y/1", "password after '%' is empty");

    char long_target[400] = "iscsi://h/";
    memset(long_target + strlen(long_target), 'a', 300);
    strcat(long_target, "/1");
    expect_iscsi_error(long_target, "target name is longer than");
}

static void test_nfs_good(void **state)
{
    (void)state;
    struct pv_nfs_url u;
    char err[256];
    assert_int_equal(
        pv_nfs_url_parse("nfs://filer.example/exports/vm/disk.raw", &u, err, sizeof(err)), 0);
    assert_string_equal(u.host, "filer.example");
    assert_int_equal(u.port, 0);
    assert_string_equal(u.path, "/exports/vm/disk.raw");
    assert_string_equal(u.dir, "/exports/vm");
    assert_string_equal(u.file, "disk.raw");
    assert_int_equal(u.version, 3);

    assert_int_equal(pv_nfs_url_parse("nfs://[::1]:2049/disk.raw?version=4", &u, err, sizeof(err)),
                     0);
    assert_string_equal(u.host, "::1");
    assert_int_equal(u.port, 2049);
    assert_string_equal(u.dir, "/");
    assert_string_equal(u.file, "disk.raw");
    assert_int_equal(u.version, 4);

    assert_int_equal(pv_nfs_url_parse("nfs://h/e/x.img?version=3", &u, err, sizeof(err)), 0);
    assert_int_equal(u.version, 3);
}

static void expect_nfs_error(const char *url, const char *want)
{
    struct pv_nfs_url u;
    char err[256] = "";
    assert_int_equal(pv_nfs_url_parse(url, &u, err, sizeof(err)), -1);
    if (!strstr(err, want))
        fail_msg("%s: error '%s' lacks '%s'", url, err, want);
}

static void test_nfs_errors(void **state)
{
    (void)state;
    expect_nfs_error("iscsi://h/e/f", "does not start with nfs://");
    expect_nfs_error("nfs://h", "expected nfs://server[:port]/path/image");
    expect_nfs_error("nfs:///e/f", "the host is missing");
    expect_nfs_error("nfs://u@h/e/f", "credentials are not supported");
    expect_nfs_error("nfs://h/", "empty, '.' or '..' component");
    expect_nfs_error("nfs://h/e/", "empty, '.' or '..' component");
    expect_nfs_error("nfs://h/e//f", "empty, '.' or '..' component");
    expect_nfs_error("nfs://h/e/../f", "'..' component");
    expect_nfs_error("nfs://h/e/./f", "'.' or");
    expect_nfs_error("nfs://h/e/f?version=2", "unsupported query 'version=2'");
    expect_nfs_error("nfs://h/e/f?version=4&uid=0", "unsupported query");
    expect_nfs_error("nfs://h/e/f#x", "fragment");
    expect_nfs_error("nfs://h:x/e/f", "invalid port 'x'");
}

static void test_redact(void **state)
{
    (void)state;
    char buf[256];
    pv_url_redact("iscsi://bob%secret@h:3260/iqn.x:y/1", buf, sizeof(buf));
    assert_string_equal(buf, "iscsi://bob%***@h:3260/iqn.x:y/1");
    pv_url_redact("iscsi://bob@h/iqn.x:y/1", buf, sizeof(buf));
    assert_string_equal(buf, "iscsi://bob@h/iqn.x:y/1");
    pv_url_redact("nfs://h/e/f", buf, sizeof(buf));
    assert_string_equal(buf, "nfs://h/e/f");
    /* A '%' after the authority is not a password. */
    pv_url_redact("iscsi://h/iqn%x/1", buf, sizeof(buf));
    assert_string_equal(buf, "iscsi://h/iqn%x/1");
    pv_url_redact("iscsi://bob%secret@h/iqn.x:y/1", buf, 12);
    assert_null(strstr(buf, "secret"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_scheme),
        cmocka_unit_test(test_iscsi_full),
        cmocka_unit_test(test_iscsi_defaults_and_v6),
        cmocka_unit_test(test_iscsi_errors),
        cmocka_unit_test(test_nfs_good),
        cmocka_unit_test(test_nfs_errors),
        cmocka_unit_test(test_redact),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
