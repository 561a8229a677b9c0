/* xl config file syntax and the domain-level keys (name, memory, domid),
 * overrides from the command line, and the errors a user sees. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <unistd.h>

#include "toolstack/xlcfg.h"

static struct xlcfg cfg;
static char err[1024];

static void parse_ok(const char *text)
{
    err[0] = '\0';
    if (xlcfg_parse(text, &cfg, err, sizeof(err)) != 0)
        fail_msg("parse failed: %s", err);
}

/* The text must fail, with every fragment in the message. */
static void parse_err(const char *text, ...)
{
    va_list ap;
    err[0] = '\0';
    assert_int_equal(xlcfg_parse(text, &cfg, err, sizeof(err)), -1);
    va_start(ap, text);
    for (const char *frag; (frag = va_arg(ap, const char *));) {
        if (!strstr(err, frag))
            fail_msg("error '%s' lacks '%s'", err, frag);
    }
    va_end(ap);
}

static void test_minimal_defaults(void **state)
{
    (void)state;
    parse_ok("name = \"g1\"\n");
    assert_string_equal(cfg.name, "g1");
    assert_int_equal(cfg.memory_mb, 128);
    assert_int_equal(cfg.domid, -1);
    assert_int_equal(cfg.ndisks, 0);
    assert_int_equal(cfg.nvifs, 0);
}

static void test_full_syntax(void **state)
{
    (void)state;
    parse_ok("# a guest\n"
             "  name='web1'   # trailing comment\n"
             "memory=256; domid = 7\n"
             "kernel = \"/boot/vmlinuz\"\n"
             "extra = \"a \\\"quoted\\\" \\x41\"\n"
             "on_crash = 'destroy';;\n"
             "vcpus = 2");
    assert_string_equal(cfg.name, "web1");
    assert_int_equal(cfg.memory_mb, 256);
    assert_int_equal(cfg.domid, 7);
    assert_string_equal(cfg.kernel, "/boot/vmlinuz");
}

static void test_later_key_wins(void **state)
{
    (void)state;
    parse_ok("name=\"a\"\nmemory=64\nname=\"b\"\nmemory=0x100\n");
    assert_string_equal(cfg.name, "b");
    assert_int_equal(cfg.memory_mb, 256);
}

static void test_memory_as_string(void **state)
{
    (void)state;
    /* libxlu stores every atom as a string: memory="512" is accepted by xl. */
    parse_ok("name=\"a\"\nmemory=\"512\"\n");
    assert_int_equal(cfg.memory_mb, 512);
}

static void test_errors_quote_line_and_key(void **state)
{
    (void)state;
    parse_err("name=\"a\"\nmemory = lots\n", "line 2", "memory = lots", NULL);
    parse_err("name=\"a\"\n\nmemory = \"lots\"\n", "line 3", "'memory = \"lots\"'",
              "memory:", "lots", NULL);
    parse_err("name=\"a\"\nmemory = 0\n", "line 2", "memory:", NULL);
    parse_err("name=\"a\"\nmemory = -5\n", "memory:", "-5", NULL);
    parse_err("name=\"a\"\nmemory = 99999999999999999999\n", "memory:", NULL);
    parse_err("name=\"a\"\nmemory = [ 1 ]\n", "memory:", "list", NULL);
    parse_err("name=\"a\"\ndomid = 0\n", "domid:", "line 2", NULL);
    parse_err("name=\"a\"\ndomid = 32752\n", "domid:", "32752", NULL);
    parse_err("name=\"\"\n", "line 1", "name:", "empty", NULL);
    parse_err("name=\"a b\"\n", "name:", NULL);
    parse_err("name=\"a/b\"\n", "name:", NULL);
    parse_err("name=\"42\"\n", "name:", "number", NULL);
    parse_err("name=\"0123456789012345678901234567890123456789012345678901234567890123\"\n",
              "name:", "longer", NULL);
    parse_err("memory=64\n", "name", "must be specified", NULL);
    parse_err("name += \"x\"\n", "name:", "+=", NULL);
}

static void test_syntax_errors(void **state)
{
    (void)state;
    parse_err("name=\"a\"\nmemory 64\n", "line 2", "memory 64", "expected '='", NULL);
    parse_err("name=\"a\nmemory=64\n", "line 1", "unterminated", NULL);
    parse_err("name=\"a\"\nmemory=\n", "line 2", "missing value", NULL);
    parse_err("name=\"a\"\nmemory=abc\n", "line 2", "unexpected 'a'", NULL);
    parse_err("name=\"a\" x\n", "line 1", "after the value", NULL);
    parse_err("name=\"a\"\n= 5\n", "line 2", "expected a key", NULL);
    parse_err("name=\"a\\q\"\n", "line 1", "bad escape", NULL);
    parse_err("name=\"a\\x00\"\n", "line 1", "NUL", NULL);
    parse_err("name=\"a\"\nx=[ \"1\",\n \"2\"\n", "list not closed", NULL);
    parse_err("name=\"a\"\nx=[ \"1\" \"2\" ]\n", "line 2", "expected ','", NULL);
    parse_err("name=\"a\"\nx=[ [\"1\"] ]\n", "nested", NULL);
}

static void test_lists_span_lines(void **state)
{
    (void)state;
    /* Unknown keys with lists are still checked for syntax, then ignored. */
    parse_ok("name=\"a\"\n"
             "pci = [ \"01:00.0\", # first\n"
             "        '02:00.0',\n"
             "]\n"
             "memory = 32\n");
    assert_int_equal(cfg.memory_mb, 32);
}

static void test_devices(void **state)
{
    (void)state;
    parse_ok("name = \"g\"\n"
             "uuid = \"6B3C1A2E-0000-4000-8000-00000000AB01\"\n"
             "disk = [ 'phy:/dev/loop0,xvda,w',\n"
             "         \"vdev=xvdb,access=ro,script=block-pvback,target=/img/b.img\", ]\n"
             "vif = [ 'mac=00:16:3e:00:00:01,bridge=xenbr0',\n"
             "        'bridge=br1,vlan=10' ]\n"
             "vif += [ 'script=vif-pvback' ]\n");
    assert_string_equal(cfg.uuid, "6b3c1a2e-0000-4000-8000-00000000ab01");
    assert_int_equal(cfg.ndisks, 2);
    assert_string_equal(cfg.disks[0].target, "/dev/loop0");
    assert_string_equal(cfg.disks[1].vdev, "xvdb");
    assert_string_equal(cfg.disks[1].script, "block-pvback");
    assert_int_equal(cfg.nvifs, 3);
    assert_string_equal(cfg.vifs[0].mac, "00:16:3e:00:00:01");
    assert_string_equal(cfg.vifs[1].vlan, "10");
    assert_string_equal(cfg.vifs[2].script, "vif-pvback");

    /* a later disk= replaces the list */
    parse_ok("name=\"g\"\ndisk=['phy:/a,xvda,w','phy:/b,xvdb,w']\ndisk=['phy:/c,xvdc,w']\n");
    assert_int_equal(cfg.ndisks, 1);
    assert_string_equal(cfg.disks[0].vdev, "xvdc");
}

static void test_device_errors(void **state)
{
    (void)state;
    /* the error names the line of the bad item, not of the key */
    parse_err("name=\"g\"\n"
              "disk = [ 'phy:/a,xvda,w',\n"
              "         '/b,xvdb,w' ]\n",
              "line 3", "'/b,xvdb,w' ]'", "disk:", "unknown value for format", NULL);
    parse_err("name=\"g\"\nvif = [ 'bridge=br0,colour=blue' ]\n", "line 2",
              "vif:", "unrecognized argument 'colour'", NULL);
    parse_err("name=\"g\"\ndisk = 'phy:/a,xvda,w'\n", "line 2", "disk:", "list", NULL);
    parse_err("name=\"g\"\ndisk = ['phy:/a,xvda,w', 'phy:/b,xvda,w']\n",
              "disk:", "vdev xvda and vdev xvda are the same device", NULL);
    parse_err("name=\"g\"\ndisk = ['phy:/a,xvda,w', 'phy:/b,d0p0,w']\n",
              "disk:", "vdev xvda and vdev d0p0 are the same device", NULL);
    parse_err("name=\"g\"\nuuid = \"1234\"\n", "uuid:", "not a UUID", NULL);

    char text[4096] = "name=\"g\"\ndisk=[";
    for (int i = 0; i <= XLCFG_MAX_DISKS; i++)
        sprintf(text + strlen(text), "'phy:/a,xvd%c,w',", 'a' + i);
    strcat(text, "]\n");
    parse_err(text, "disk:", "more than 16 disks", NULL);
    strcpy(text, "name=\"g\"\nvif=[");
    for (int i = 0; i <= XLCFG_MAX_VIFS; i++)
        strcat(text, "'',");
    strcat(text, "]\n");
    parse_err(text, "vif:", "more than 16 vifs", NULL);
}

static void test_overrides(void **state)
{
    (void)state;
    parse_ok("name=\"a\"\nmemory=64\n");
    assert_int_equal(xlcfg_apply_override(&cfg, "memory=512", err, sizeof(err)), 0);
    assert_int_equal(cfg.memory_mb, 512);
    assert_int_equal(xlcfg_apply_override(&cfg, "name=\"quoted\"", err, sizeof(err)), 0);
    assert_string_equal(cfg.name, "quoted");
    assert_int_equal(xlcfg_apply_override(&cfg, "name=bare-word", err, sizeof(err)), 0);
    assert_string_equal(cfg.name, "bare-word");
    assert_int_equal(xlcfg_apply_override(&cfg, "domid=9", err, sizeof(err)), 0);
    assert_int_equal(cfg.domid, 9);

    assert_int_equal(xlcfg_apply_override(&cfg, "memory=lots", err, sizeof(err)), -1);
    assert_non_null(strstr(err, "override 'memory=lots'"));
    assert_non_null(strstr(err, "memory:"));
    assert_int_equal(cfg.memory_mb, 512);
    assert_int_equal(xlcfg_apply_override(&cfg, "memory", err, sizeof(err)), -1);
    assert_non_null(strstr(err, "key=value"));
    assert_int_equal(xlcfg_apply_override(&cfg, "memory=1\nname=x", err, sizeof(err)), -1);

    /* device lists can be replaced or extended from the command line */
    assert_int_equal(xlcfg_apply_override(&cfg, "disk=['phy:/a,xvda,w']", err, sizeof(err)), 0);
    assert_int_equal(xlcfg_apply_override(&cfg, "disk+=['phy:/b,xvdb,w']", err, sizeof(err)), 0);
    assert_int_equal(cfg.ndisks, 2);
    assert_int_equal(xlcfg_apply_override(&cfg, "vif=['bridge=br0']", err, sizeof(err)), 0);
    assert_int_equal(cfg.nvifs, 1);
    assert_int_equal(xlcfg_apply_override(&cfg, "vif=['mtu=1']", err, sizeof(err)), -1);
    assert_non_null(strstr(err, "override 'vif=['mtu=1']': vif: mtu:"));
    assert_int_equal(cfg.nvifs, 1);
    assert_int_equal(cfg.vifs[0].mtu, 0);
    assert_string_equal(cfg.vifs[0].bridge, "br0");
}

static void test_parse_file(void **state)
{
    (void)state;
    char path[] = "/tmp/test_xlcfg.XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    const char *text = "name = \"filed\"\nmemory = 96\n";
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    assert_int_equal(xlcfg_parse_file(path, &cfg, err, sizeof(err)), 0);
    assert_string_equal(cfg.name, "filed");
    assert_int_equal(cfg.memory_mb, 96);

    fd = open(path, O_WRONLY | O_TRUNC);
    assert_int_equal(write(fd, "name=\"a\"\nmemory=x\n", 18), 18);
    close(fd);
    assert_int_equal(xlcfg_parse_file(path, &cfg, err, sizeof(err)), -1);
    assert_non_null(strstr(err, path));
    assert_non_null(strstr(err, "line 2"));

    /* DOS line ends are fine, a NUL byte is not text */
    fd = open(path, O_WRONLY | O_TRUNC);
    assert_int_equal(write(fd, "name=\"dos\"\r\nmemory=8\r\n", 22), 22);
    close(fd);
    assert_int_equal(xlcfg_parse_file(path, &cfg, err, sizeof(err)), 0);
    assert_string_equal(cfg.name, "dos");
    assert_int_equal(cfg.memory_mb, 8);
    fd = open(path, O_WRONLY | O_TRUNC);
    assert_int_equal(write(fd, "name=\"a\"\0\n", 10), 10);
    close(fd);
    assert_int_equal(xlcfg_parse_file(path, &cfg, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "NUL"));
    unlink(path);

    assert_int_equal(xlcfg_parse_file(path, &cfg, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "No such file"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_minimal_defaults),
        cmocka_unit_test(test_full_syntax),
        cmocka_unit_test(test_later_key_wins),
        cmocka_unit_test(test_memory_as_string),
        cmocka_unit_test(test_errors_quote_line_and_key),
        cmocka_unit_test(test_syntax_errors),
        cmocka_unit_test(test_lists_span_lines),
        cmocka_unit_test(test_overrides),
        cmocka_unit_test(test_parse_file),
        cmocka_unit_test(test_devices),
        cmocka_unit_test(test_device_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
