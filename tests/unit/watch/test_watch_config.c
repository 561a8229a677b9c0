/* pvback-watch's configuration: settings from the command line and the
 * config file, the messages for bad ones, and which kinds are claimed. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "watch_config.h"

static void test_defaults(void **state)
{
    struct watch_config c;
    (void)state;
    watch_config_defaults(&c);
    for (int k = 0; k < WATCH_NKINDS; k++)
        assert_int_equal(c.claim[k], CLAIM_AUTO);
    assert_string_equal(c.platform, "");
    assert_string_equal(c.sys_module_dir, "/sys/module");
    assert_int_equal(c.restart_limit, 5);
    assert_int_equal(c.restart_window_s, 60);
    assert_true(c.restart_delay_ms <= c.restart_delay_max_ms);
}

static void test_set_each_type(void **state)
{
    struct watch_config c;
    char err[256] = "";
    (void)state;
    watch_config_defaults(&c);
    assert_int_equal(watch_config_set(&c, "claim-vif", "no", err, sizeof(err)), 0);
    assert_int_equal(c.claim[WATCH_VIF], CLAIM_NO);
    assert_int_equal(watch_config_set(&c, "claim-vbd", "yes", err, sizeof(err)), 0);
    assert_int_equal(c.claim[WATCH_VBD], CLAIM_YES);
    assert_int_equal(watch_config_set(&c, "restart-limit", "3", err, sizeof(err)), 0);
    assert_int_equal(c.restart_limit, 3);
    assert_int_equal(watch_config_set(&c, "net-command", "/opt/x/pvback-net", err, sizeof(err)), 0);
    assert_string_equal(c.net_command, "/opt/x/pvback-net");
    assert_int_equal(watch_config_set(&c, "platform", "sim:/tmp/s", err, sizeof(err)), 0);
    assert_string_equal(c.platform, "sim:/tmp/s");
}

static void test_bad_values_name_key_and_value(void **state)
{
    struct watch_config c, before;
    char err[256];
    (void)state;
    watch_config_defaults(&c);
    before = c;
    assert_int_equal(watch_config_set(&c, "claim-vbd", "maybe", err, sizeof(err)), -1);
    assert_string_equal(err, "claim-vbd 'maybe': expected auto, yes or no");
    assert_int_equal(watch_config_set(&c, "restart-limit", "0", err, sizeof(err)), -1);
    assert_string_equal(err, "restart-limit '0': expected a number from 1 to 1000");
    assert_int_equal(watch_config_set(&c, "restart-delay", "-5", err, sizeof(err)), -1);
    assert_non_null(strstr(err, "restart-delay '-5'"));
    assert_int_equal(watch_config_set(&c, "stop-timeout", "12abc", err, sizeof(err)), -1);
    assert_non_null(strstr(err, "stop-timeout '12abc'"));
    assert_int_equal(watch_config_set(&c, "platform", "kvm", err, sizeof(err)), -1);
    assert_string_equal(err, "platform 'kvm': expected xen or sim:DIR");
    assert_int_equal(watch_config_set(&c, "claim-vbd4", "yes", err, sizeof(err)), -1);
    assert_string_equal(err, "unknown setting 'claim-vbd4'");
    char longv[400];
    memset(longv, 'a', sizeof(longv) - 1);
    longv[sizeof(longv) - 1] = '\0';
    assert_int_equal(watch_config_set(&c, "blk-command", longv, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "blk-command"));
    /* nothing was changed by a refused value */
    assert_memory_equal(&c, &before, sizeof(c));
}

static void test_lines(void **state)
{
    struct watch_config c;
    char err[256];
    (void)state;
    watch_config_defaults(&c);
    assert_int_equal(watch_config_line(&c, "", err, sizeof(err)), 0);
    assert_int_equal(watch_config_line(&c, "   # restart-limit = 9", err, sizeof(err)), 0);
    assert_int_equal(c.restart_limit, 5);
    assert_int_equal(watch_config_line(&c, "  restart-limit=9  ", err, sizeof(err)), 0);
    assert_int_equal(c.restart_limit, 9);
    assert_int_equal(watch_config_line(&c, "blk-command = \"/usr/sbin/b k\"", err, sizeof(err)), 0);
    assert_string_equal(c.blk_command, "/usr/sbin/b k");
    assert_int_equal(watch_config_line(&c, "claim-vbd3 = 'no'", err, sizeof(err)), 0);
    assert_int_equal(c.claim[WATCH_VBD3], CLAIM_NO);
    assert_int_equal(watch_config_line(&c, "restart-limit 9", err, sizeof(err)), -1);
    assert_string_equal(err, "'restart-limit 9': expected key = value");
}

static void test_load_file(void **state)
{
    struct watch_config c;
    char err[512], path[] = "/tmp/pvback-watch-conf.XXXXXX";
    (void)state;
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    FILE *f = fdopen(fd, "w");
    fputs("# pvback\nclaim-vif = no\n\nrestart-window = 7\nrestart-limit = lots\n", f);
    fclose(f);
    watch_config_defaults(&c);
    assert_int_equal(watch_config_load(&c, path, true, err, sizeof(err)), -1);
    char want[600];
    snprintf(want, sizeof(want), "%s:5: restart-limit 'lots': expected a number from 1 to 1000",
             path);
    assert_string_equal(err, want);
    assert_int_equal(c.claim[WATCH_VIF], CLAIM_NO); /* lines before the bad one applied */
    assert_int_equal(c.restart_window_s, 7);
    unlink(path);
    /* the default file may be missing; a file given with --config may not */
    assert_int_equal(watch_config_load(&c, path, false, err, sizeof(err)), 0);
    assert_int_equal(watch_config_load(&c, path, true, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "No such file"));
}

static void test_claims(void **state)
{
    struct watch_config c;
    char err[128];
    const unsigned vbd = 1u << WATCH_VBD, vbd3 = 1u << WATCH_VBD3, vif = 1u << WATCH_VIF;
    (void)state;
    watch_config_defaults(&c);
    /* auto: whatever the kernel does not serve, and vbd3 always */
    assert_int_equal(watch_claims(&c, false, false), vbd | vbd3 | vif);
    assert_int_equal(watch_claims(&c, true, false), vbd3 | vif);
    assert_int_equal(watch_claims(&c, false, true), vbd | vbd3);
    assert_int_equal(watch_claims(&c, true, true), vbd3);
    /* yes and no override the kernel check */
    watch_config_set(&c, "claim-vbd", "yes", err, sizeof(err));
    watch_config_set(&c, "claim-vbd3", "no", err, sizeof(err));
    watch_config_set(&c, "claim-vif", "no", err, sizeof(err));
    assert_int_equal(watch_claims(&c, true, false), vbd);
}

/* The backends' sandbox: seccomp on by default only for root, a user spec
 * checked as the backends will parse it, "none" meaning no switch. */
static void test_sandbox_settings(void **state)
{
    struct watch_config c;
    char err[256];
    (void)state;
    watch_config_defaults(&c);
    assert_true(watch_seccomp_on(&c, 0));
    assert_false(watch_seccomp_on(&c, 1000));
    assert_false(watch_user_on(&c));
    assert_int_equal(watch_config_line(&c, "seccomp = no", err, sizeof(err)), 0);
    assert_false(watch_seccomp_on(&c, 0));
    assert_int_equal(watch_config_set(&c, "seccomp", "yes", err, sizeof(err)), 0);
    assert_true(watch_seccomp_on(&c, 1000));
    assert_int_equal(watch_config_set(&c, "seccomp", "on", err, sizeof(err)), -1);
    assert_string_equal(err, "seccomp 'on': expected auto, yes or no");

    assert_int_equal(watch_config_line(&c, "user = +100000:990", err, sizeof(err)), 0);
    assert_true(watch_user_on(&c));
    assert_string_equal(c.user, "+100000:990");
    assert_int_equal(watch_config_set(&c, "user", "none", err, sizeof(err)), 0);
    assert_false(watch_user_on(&c));
    assert_int_equal(watch_config_set(&c, "user", "+x", err, sizeof(err)), -1);
    assert_string_equal(err,
                        "user '+x': expected a user name, UID[:GID] or +BASE[:GID] (ids from 1)");
    assert_int_equal(watch_config_set(&c, "user", "root", err, sizeof(err)), -1);
    assert_string_equal(err, "user 'root': no such unprivileged user");
    assert_string_equal(c.user, "none"); /* a refused value changes nothing */
}

static void test_kind_names(void **state)
{
    (void)state;
    for (int k = 0; k < WATCH_NKINDS; k++)
        assert_int_equal(watch_kind_from_name(watch_kind_name(k)), k);
    assert_int_equal(watch_kind_from_name("vbd4"), -1);
    assert_int_equal(watch_kind_from_name(""), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_set_each_type),
        cmocka_unit_test(test_bad_values_name_key_and_value),
        cmocka_unit_test(test_lines),
        cmocka_unit_test(test_load_file),
        cmocka_unit_test(test_claims),
        cmocka_unit_test(test_kind_names),
        cmocka_unit_test(test_sandbox_settings),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
