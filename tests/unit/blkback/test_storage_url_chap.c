/* The CHAP secrets file that iSCSI URLs are paired with: the exact target
 * wins over '*', comments and blank lines are skipped, malformed lines and
 * missing files give errors naming the file and line. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "storage_iscsi.h"

static char path[64];

static void write_file(const char *text)
{
    strcpy(path, "/tmp/pvback-chap.XXXXXX");
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
}

static int lookup(const char *target, char *user, char *pass, char *err)
{
    return pv_iscsi_secrets_lookup("chap-file", path, target, user, 64, pass, 64, err, 256);
}

static void test_exact_beats_wildcard(void **state)
{
    (void)state;
    char user[64], pass[64], err[256];
    write_file("# comment\n\n* anyuser anypass\n  iqn.a:disk1 u1 p1 # trailing comment\n"
               "iqn.a:disk2 u2 p2\n");
    assert_int_equal(lookup("iqn.a:disk2", user, pass, err), 1);
    assert_string_equal(user, "u2");
    assert_string_equal(pass, "p2");
    assert_int_equal(lookup("iqn.a:disk1", user, pass, err), 1);
    assert_string_equal(user, "u1");
    assert_int_equal(lookup("iqn.other", user, pass, err), 1);
    assert_string_equal(user, "anyuser");
    assert_string_equal(pass, "anypass");
    unlink(path);
}

static void test_no_entry(void **state)
{
    (void)state;
    char user[64] = "", pass[64] = "", err[256];
    write_file("iqn.a:disk1 u1 p1\n");
    assert_int_equal(lookup("iqn.b", user, pass, err), 0);
    assert_string_equal(user, "");
    unlink(path);
}

static void test_malformed(void **state)
{
    (void)state;
    char user[64], pass[64], err[256];
    write_file("iqn.a:disk1 u1 p1\niqn.a:disk2 only-a-user\n");
    /* An entry before the bad line is still found... */
    assert_int_equal(lookup("iqn.a:disk1", user, pass, err), 1);
    /* ...but reaching the bad line is an error naming it. */
    assert_int_equal(lookup("iqn.a:disk2", user, pass, err), -1);
    assert_non_null(strstr(err, path));
    assert_non_null(strstr(err, "line 2"));
    unlink(path);
    write_file("iqn.a u p extra\n");
    assert_int_equal(lookup("iqn.a", user, pass, err), -1);
    assert_non_null(strstr(err, "line 1"));
    unlink(path);
}

static void test_missing_file(void **state)
{
    (void)state;
    char user[64], pass[64], err[256];
    strcpy(path, "/nonexistent/pvback-secrets");
    assert_int_equal(lookup("iqn.a", user, pass, err), -1);
    assert_non_null(strstr(err, "/nonexistent/pvback-secrets"));
    assert_non_null(strstr(err, "No such file"));
}

/* A secrets file others may read is refused, naming the key and the path;
 * chmod 600 makes it usable. */
static void test_not_private(void **state)
{
    (void)state;
    char user[64], pass[64], err[256];
    write_file("iqn.a u p\n");
    const mode_t modes[] = {0640, 0604, 0660, 0620};
    for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
        assert_int_equal(chmod(path, modes[i]), 0);
        assert_int_equal(lookup("iqn.a", user, pass, err), -1);
        assert_non_null(strstr(err, "chap-file"));
        assert_non_null(strstr(err, path));
        assert_non_null(strstr(err, "readable by its owner only"));
        assert_null(strstr(err, " p\n")); /* the secret itself is not shown */
    }
    assert_int_equal(chmod(path, 0600), 0);
    assert_int_equal(lookup("iqn.a", user, pass, err), 1);
    assert_string_equal(pass, "p");
    unlink(path);
}

/* Only root or this process's user may own it. */
static void test_foreign_owner(void **state)
{
    (void)state;
    char user[64], pass[64], err[256];
    write_file("iqn.a u p\n");
    if (geteuid() != 0 || chown(path, 12345, 12345) < 0) {
        unlink(path);
        skip(); /* changing the owner needs root */
    }
    assert_int_equal(lookup("iqn.a", user, pass, err), -1);
    assert_non_null(strstr(err, path));
    assert_non_null(strstr(err, "owned by uid 12345"));
    unlink(path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_exact_beats_wildcard),
        cmocka_unit_test(test_no_entry),
        cmocka_unit_test(test_malformed),
        cmocka_unit_test(test_missing_file),
        cmocka_unit_test(test_not_private),
        cmocka_unit_test(test_foreign_owner),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
