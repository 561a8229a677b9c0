/* The xenstore keys, values and permissions xensim's toolstack writes,
 * checked against what libxl 4.17/4.19 writes (the reference dump of a real
 * `xl create`: backend/vbd/1/51712, backend/vif/1/0 and their frontends),
 * plus the disk backend choice and the hotplug script's argv/environment. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "toolstack/toolstack.h"
#include "toolstack/ts_hotplug.h"
#include "toolstack/ts_plan.h"

static struct ts_plan plan;
static struct ts_dev dev;
static char err[512];

static int setup(void **state)
{
    (void)state;
    ts_plan_init(&plan);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    ts_plan_free(&plan);
    return 0;
}

/* The path was written with value (and, when perms is not NULL, exactly
 * these permissions; NULL means "inherits", i.e. written without any). */
static void written(const char *path, const char *value, const char *perms)
{
    const struct ts_step *s = ts_plan_find(&plan, path);
    if (!s)
        fail_msg("%s not written", path);
    if (value) {
        if (s->op != TS_WRITE)
            fail_msg("%s: not a write", path);
        if (strcmp(s->value, value))
            fail_msg("%s = '%s', want '%s'", path, s->value, value);
    }
    char got[32] = "";
    for (unsigned i = 0; i < s->nperms; i++) {
        char c = s->perms[i].perms == XS_PERM_NONE    ? 'n'
                 : s->perms[i].perms == XS_PERM_READ  ? 'r'
                 : s->perms[i].perms == XS_PERM_WRITE ? 'w'
                                                      : 'b';
        snprintf(got + strlen(got), sizeof(got) - strlen(got), "%s%c%u", i ? "," : "", c,
                 s->perms[i].id);
    }
    if (strcmp(got, perms ? perms : ""))
        fail_msg("%s: perms '%s', want '%s'", path, got, perms ? perms : "(inherited)");
}

/* The exact set of keys written directly below dir. */
static void keys_are(const char *dir, const char *const *keys)
{
    size_t dl = strlen(dir), want = 0, got = 0;
    for (; keys[want]; want++) {
        char p[256];
        snprintf(p, sizeof(p), "%s/%s", dir, keys[want]);
        if (!ts_plan_find(&plan, p))
            fail_msg("%s missing", p);
    }
    for (size_t i = 0; i < plan.n; i++) {
        const char *p = plan.steps[i].path;
        if (plan.steps[i].op == TS_WRITE && !strncmp(p, dir, dl) && p[dl] == '/' &&
            !strchr(p + dl + 1, '/')) {
            bool listed = false;
            for (size_t k = 0; keys[k]; k++)
                listed |= !strcmp(p + dl + 1, keys[k]);
            if (!listed)
                fail_msg("%s written but not expected", p);
            got++;
        }
    }
    assert_int_equal(got, want);
}

static struct xlcfg_disk disk(const char *spec)
{
    struct xlcfg_disk d;
    if (xlcfg_parse_disk(spec, &d, err, sizeof(err)) < 0)
        fail_msg("%s", err);
    return d;
}

static void test_disk_phy_keys(void **state)
{
    (void)state;
    struct xlcfg_disk d = disk("phy:/dev/loop0,xvda,w");
    assert_int_equal(ts_plan_disk(&plan, &dev, 1, &d, "phy", "/etc/xen/scripts", err, sizeof(err)),
                     0);
    assert_string_equal(dev.be, "/local/domain/0/backend/vbd/1/51712");
    assert_string_equal(dev.fe, "/local/domain/1/device/vbd/51712");
    assert_string_equal(dev.lx, "/libxl/1/device/vbd/51712");

    static const char *const be_keys[] = {
        "frontend",  "params",      "script",         "frontend-id",   "online",
        "removable", "bootable",    "state",          "dev",           "type",
        "mode",      "device-type", "discard-enable", "specification", NULL};
    keys_are(dev.be, be_keys);
    written(dev.be, NULL, "n0,r1");
    written("/local/domain/0/backend/vbd/1/51712/frontend", "/local/domain/1/device/vbd/51712",
            NULL);
    written("/local/domain/0/backend/vbd/1/51712/params", "/dev/loop0", NULL);
    written("/local/domain/0/backend/vbd/1/51712/script", "/etc/xen/scripts/block", NULL);
    written("/local/domain/0/backend/vbd/1/51712/frontend-id", "1", NULL);
    written("/local/domain/0/backend/vbd/1/51712/online", "1", NULL);
    written("/local/domain/0/backend/vbd/1/51712/removable", "0", NULL);
    written("/local/domain/0/backend/vbd/1/51712/bootable", "1", NULL);
    written("/local/domain/0/backend/vbd/1/51712/state", "1", NULL);
    written("/local/domain/0/backend/vbd/1/51712/dev", "xvda", NULL);
    written("/local/domain/0/backend/vbd/1/51712/type", "phy", NULL);
    written("/local/domain/0/backend/vbd/1/51712/mode", "w", NULL);
    written("/local/domain/0/backend/vbd/1/51712/device-type", "disk", NULL);
    written("/local/domain/0/backend/vbd/1/51712/discard-enable", "1", NULL);
    written("/local/domain/0/backend/vbd/1/51712/specification", "xen", NULL);

    static const char *const fe_keys[] = {"backend",     "backend-id", "state",    "virtual-device",
                                          "device-type", "trusted",    "protocol", NULL};
    keys_are(dev.fe, fe_keys);
    written(dev.fe, NULL, "n1,r0");
    written("/local/domain/1/device/vbd/51712/backend", "/local/domain/0/backend/vbd/1/51712",
            NULL);
    written("/local/domain/1/device/vbd/51712/backend-id", "0", "n1,r0");
    written("/local/domain/1/device/vbd/51712/state", "1", "n1,r0");
    written("/local/domain/1/device/vbd/51712/virtual-device", "51712", "n1,r0");
    written("/local/domain/1/device/vbd/51712/device-type", "disk", "n1,r0");
    written("/local/domain/1/device/vbd/51712/trusted", "1", "n1,r0");
    written("/local/domain/1/device/vbd/51712/protocol", "x86_64-abi", "n1,r0");

    /* /libxl keeps frontend, backend and a copy of the backend keys */
    static const char *const lx_keys[] = {
        "frontend",    "backend",        "params",        "script", "frontend-id", "online",
        "removable",   "bootable",       "state",         "dev",    "type",        "mode",
        "device-type", "discard-enable", "specification", NULL};
    keys_are(dev.lx, lx_keys);
    written("/libxl/1/device/vbd/51712/params", "/dev/loop0", NULL);

    /* the old dirs go first, so a stale device never leaks keys into the new one */
    assert_int_equal(plan.steps[0].op, TS_RM);
    assert_string_equal(plan.steps[0].path, dev.lx);
}

static void test_disk_variants(void **state)
{
    (void)state;
    struct xlcfg_disk d = disk("vdev=xvdb,access=ro,no-discard,untrusted,direct-io-safe,"
                               "script=block-pvback,target=/img/b.img");
    assert_int_equal(ts_plan_disk(&plan, &dev, 7, &d, "phy", "/etc/xen/scripts", err, sizeof(err)),
                     0);
    written("/local/domain/0/backend/vbd/7/51728/script", "/etc/xen/scripts/block-pvback", NULL);
    written("/local/domain/0/backend/vbd/7/51728/mode", "r", NULL);
    written("/local/domain/0/backend/vbd/7/51728/discard-enable", "0", NULL);
    written("/local/domain/0/backend/vbd/7/51728/direct-io-safe", "1", NULL);
    written("/local/domain/7/device/vbd/51728/trusted", "0", "n7,r0");
    ts_plan_free(&plan);

    /* read-only disks default to discard off; absolute scripts are kept */
    d = disk("vdev=xvdc,access=ro,script=/opt/pv/block-x,target=/img/c.img");
    assert_int_equal(ts_plan_disk(&plan, &dev, 7, &d, "phy", "/etc/xen/scripts", err, sizeof(err)),
                     0);
    written("/local/domain/0/backend/vbd/7/51744/discard-enable", "0", NULL);
    written("/local/domain/0/backend/vbd/7/51744/script", "/opt/pv/block-x", NULL);
    ts_plan_free(&plan);

    /* backendtype=tap: a vbd3 backend dir, format-prefixed params, block-tap */
    d = disk("vdev=xvdd,backendtype=tap,format=vhd,target=/img/d.vhd");
    assert_int_equal(ts_plan_disk(&plan, &dev, 7, &d, "tap", "/etc/xen/scripts", err, sizeof(err)),
                     0);
    assert_string_equal(dev.be, "/local/domain/0/backend/vbd3/7/51760");
    assert_string_equal(dev.fe, "/local/domain/7/device/vbd/51760");
    written("/local/domain/0/backend/vbd3/7/51760/params", "vhd:/img/d.vhd", NULL);
    written("/local/domain/0/backend/vbd3/7/51760/type", "vbd3", NULL);
    written("/local/domain/0/backend/vbd3/7/51760/script", "/etc/xen/scripts/block-tap", NULL);
    written("/local/domain/7/device/vbd/51760/backend", "/local/domain/0/backend/vbd3/7/51760",
            NULL);
    assert_true(ts_dev_has_script(&dev));
    ts_plan_free(&plan);

    /* qdisk: no script, raw shown as "aio:", a cdrom is removable and read-only */
    d = disk("/iso/x.iso,raw,hdc,r,devtype=cdrom");
    assert_int_equal(
        ts_plan_disk(&plan, &dev, 7, &d, "qdisk", "/etc/xen/scripts", err, sizeof(err)), 0);
    assert_string_equal(dev.be, "/local/domain/0/backend/qdisk/7/5632");
    assert_null(ts_plan_find(&plan, "/local/domain/0/backend/qdisk/7/5632/script"));
    written("/local/domain/0/backend/qdisk/7/5632/params", "aio:/iso/x.iso", NULL);
    written("/local/domain/0/backend/qdisk/7/5632/removable", "1", NULL);
    written("/local/domain/0/backend/qdisk/7/5632/device-type", "cdrom", NULL);
    written("/local/domain/7/device/vbd/5632/device-type", "cdrom", "n7,r0");
    assert_false(ts_dev_has_script(&dev));
    assert_false(ts_dev_waits_initwait(&dev));
    ts_plan_free(&plan);

    d = disk("vdev=xvda,target=/a");
    strcpy(d.vdev, "vda");
    assert_int_equal(ts_plan_disk(&plan, &dev, 7, &d, "phy", "/s", err, sizeof(err)), -1);
    assert_non_null(strstr(err, "virtual disk identifier vda"));
}

static void backend_is(const char *spec, mode_t mode, const char *want)
{
    struct xlcfg_disk d = disk(spec);
    char b[16];
    if (ts_disk_backend(&d, mode, b, err, sizeof(err)) < 0)
        fail_msg("%s: %s", spec, err);
    if (strcmp(b, want))
        fail_msg("%s: backend %s, want %s", spec, b, want);
}

static void no_backend(const char *spec, mode_t mode, const char *why)
{
    struct xlcfg_disk d = disk(spec);
    char b[16];
    assert_int_equal(ts_disk_backend(&d, mode, b, err, sizeof(err)), -1);
    if (!strstr(err, why))
        fail_msg("%s: error '%s' lacks '%s'", spec, err, why);
}

static void test_disk_backend_choice(void **state)
{
    (void)state;
    backend_is("phy:/dev/loop0,xvda,w", S_IFBLK, "phy");
    backend_is("/img/a.img,raw,xvda,w", S_IFREG, "phy");
    /* a script makes phy fit whatever the target is (libxl does not stat) */
    backend_is("vdev=xvda,script=block-pvback,target=iscsi://h/iqn.x/0", 0, "phy");
    assert_false(ts_disk_needs_stat(&(struct xlcfg_disk){.format = "raw", .script = "s"}));
    assert_true(ts_disk_needs_stat(&(struct xlcfg_disk){.format = "raw"}));
    /* not raw: QEMU's qdisk, as libxl picks it */
    backend_is("/img/a.qcow2,qcow2,xvda,w", S_IFREG, "qdisk");
    backend_is("vdev=xvda,backendtype=tap,format=vhd,target=/a", 0, "tap");
    backend_is("vdev=xvda,backendtype=qdisk,target=/a", 0, "qdisk");
    no_backend("vdev=xvda,backendtype=phy,format=qcow2,target=/a", S_IFREG,
               "no suitable backend for disk xvda");
    no_backend("vdev=xvda,backendtype=qdisk,script=s,target=/a", S_IFREG, "no suitable");
    no_backend("vdev=xvda,backendtype=tap,format=qcow2,target=/a", 0, "no suitable");
    no_backend("vdev=xvda,backendtype=phy,target=/dev/null", S_IFCHR, "no suitable");
    no_backend("vdev=xvda,script=s,format=qcow2,target=/a", 0, "no suitable");
}

static void test_vif_keys(void **state)
{
    (void)state;
    struct xlcfg_vif v;
    assert_int_equal(xlcfg_parse_vif("bridge=xenbr0", &v, err, sizeof(err)), 0);
    assert_int_equal(ts_plan_vif(&plan, &dev, 1, &v, 0, "00:16:3e:00:00:01", "/etc/xen/scripts",
                                 err, sizeof(err)),
                     0);
    assert_string_equal(dev.be, "/local/domain/0/backend/vif/1/0");
    static const char *const be_keys[] = {
        "frontend", "frontend-id", "online", "state",          "script", "mac",
        "bridge",   "handle",      "type",   "hotplug-status", NULL};
    keys_are(dev.be, be_keys);
    written(dev.be, NULL, "n0,r1");
    written("/local/domain/0/backend/vif/1/0/script", "/etc/xen/scripts/vif-bridge", NULL);
    written("/local/domain/0/backend/vif/1/0/mac", "00:16:3e:00:00:01", NULL);
    written("/local/domain/0/backend/vif/1/0/bridge", "xenbr0", NULL);
    written("/local/domain/0/backend/vif/1/0/handle", "0", NULL);
    written("/local/domain/0/backend/vif/1/0/type", "vif", NULL);
    written("/local/domain/0/backend/vif/1/0/state", "1", NULL);
    written("/local/domain/0/backend/vif/1/0/hotplug-status", "", NULL);
    static const char *const fe_keys[] = {"backend", "backend-id", "state",   "handle",
                                          "mac",     "mtu",        "trusted", NULL};
    keys_are(dev.fe, fe_keys);
    written(dev.fe, NULL, "n1,r0");
    written("/local/domain/1/device/vif/0/mac", "00:16:3e:00:00:01", "n1,r0");
    written("/local/domain/1/device/vif/0/handle", "0", "n1,r0");
    written("/local/domain/1/device/vif/0/trusted", "1", "n1,r0");
    /* the MTU is the backend domain's: the guest may only read it */
    written("/local/domain/1/device/vif/0/mtu", "1500", "n0,r1");
    ts_plan_free(&plan);

    assert_int_equal(xlcfg_parse_vif("mac=00:16:3e:aa:bb:cc,vlan=10p/20,rate=10Mb/s@20ms,"
                                     "mtu=9000,script=vif-pvback",
                                     &v, err, sizeof(err)),
                     0);
    assert_int_equal(ts_plan_vif(&plan, &dev, 4, &v, 2, v.mac, "/usr/lib/xen", err, sizeof(err)),
                     0);
    written("/local/domain/0/backend/vif/4/2/script", "/usr/lib/xen/vif-pvback", NULL);
    written("/local/domain/0/backend/vif/4/2/bridge", "xenbr0", NULL); /* libxl's default */
    written("/local/domain/0/backend/vif/4/2/vlan", "10p/20", NULL);
    written("/local/domain/0/backend/vif/4/2/rate", "25000,20000", NULL);
    written("/local/domain/0/backend/vif/4/2/mtu", "9000", NULL);
    written("/local/domain/0/backend/vif/4/2/handle", "2", NULL);
    written("/local/domain/4/device/vif/2/mtu", "9000", "n0,r4");
}

static void test_domain_keys(void **state)
{
    (void)state;
    struct xlcfg cfg;
    assert_int_equal(xlcfg_parse("name='web'\nmemory=256\n", &cfg, err, sizeof(err)), 0);
    const char *uuid = "6b3c1a2e-0000-4000-8000-00000000ab01";
    assert_int_equal(ts_plan_domain(&plan, 3, &cfg, uuid, "1700000000.25"), 0);
    written("/local/domain/3", "", "n0,r3");
    written("/local/domain/3/vm", "/vm/6b3c1a2e-0000-4000-8000-00000000ab01", NULL);
    written("/local/domain/3/name", "web", NULL);
    written("/local/domain/3/domid", "3", NULL);
    written("/local/domain/3/memory/static-max", "262144", NULL);
    written("/local/domain/3/memory/target", "262144", NULL);
    written("/local/domain/3/memory/videoram", "0", NULL);
    written("/local/domain/3/cpu/0/availability", "online", NULL);
    written("/local/domain/3/cpu", "", "n0,r3");
    written("/local/domain/3/memory", "", "n0,r3");
    written("/local/domain/3/device", "", "n0,r3");
    written("/local/domain/3/control", "", "n0,r3");
    /* what the guest writes: shutdown acks, features, data, drivers, ... */
    written("/local/domain/3/control/shutdown", "", "n3");
    written("/local/domain/3/control/feature-poweroff", "", "n3");
    written("/local/domain/3/control/feature-reboot", "", "n3");
    written("/local/domain/3/control/feature-suspend", "", "n3");
    written("/local/domain/3/control/sysrq", "", "n3");
    written("/local/domain/3/device/suspend/event-channel", "", "n3");
    written("/local/domain/3/data", "", "n3");
    written("/local/domain/3/drivers", "", "n3");
    written("/local/domain/3/feature", "", "n3");
    written("/local/domain/3/attr", "", "n3");
    written("/local/domain/3/error", "", "n3");
    written("/local/domain/3/control/platform-feature-multiprocessor-suspend", "1", NULL);
    written("/local/domain/3/control/platform-feature-xs_reset_watches", "1", NULL);
    written("/vm/6b3c1a2e-0000-4000-8000-00000000ab01", "", "n0,r3");
    written("/vm/6b3c1a2e-0000-4000-8000-00000000ab01/uuid", uuid, NULL);
    written("/vm/6b3c1a2e-0000-4000-8000-00000000ab01/name", "web", NULL);
    written("/vm/6b3c1a2e-0000-4000-8000-00000000ab01/image/ostype", "linux", NULL);
    written("/vm/6b3c1a2e-0000-4000-8000-00000000ab01/start_time", "1700000000.25", NULL);
    /* no kernel= in the config: nothing made up for image/kernel */
    assert_null(ts_plan_find(&plan, "/vm/6b3c1a2e-0000-4000-8000-00000000ab01/image/kernel"));
    written("/libxl/3", "", "n0");
    written("/libxl/3/device", "", "n0");
    written("/libxl/3/type", "pv", NULL);
    ts_plan_free(&plan);

    assert_int_equal(xlcfg_parse("name='web'\nkernel='/boot/vmlinuz'\n", &cfg, err, sizeof(err)),
                     0);
    assert_int_equal(ts_plan_domain(&plan, 3, &cfg, uuid, "1700000000.25"), 0);
    written("/vm/6b3c1a2e-0000-4000-8000-00000000ab01/image/kernel", "/boot/vmlinuz", NULL);
}

static void test_script_path(void **state)
{
    (void)state;
    char out[64];
    assert_int_equal(ts_script_path("", "block", "/etc/xen/scripts", out, sizeof(out)), 0);
    assert_string_equal(out, "/etc/xen/scripts/block");
    assert_int_equal(ts_script_path("noop", "block", "/etc/xen/scripts", out, sizeof(out)), 0);
    assert_string_equal(out, "/etc/xen/scripts/noop");
    assert_int_equal(ts_script_path("/x/y", "block", "/etc/xen/scripts", out, sizeof(out)), 0);
    assert_string_equal(out, "/x/y");
    assert_int_equal(ts_script_path("a-very-long-script-name-that-will-not-fit-in-the-buffer",
                                    "block", "/etc/xen/scripts", out, sizeof(out)),
                     -1);
}

static void test_hotplug_argv_env(void **state)
{
    (void)state;
    const char *argv[4];
    char *env[8], buf[1024];

    ts_dev_init(&dev, 1, "vbd", "vbd", 51712);
    ts_hotplug_argv(&dev, "/etc/xen/scripts/block", true, argv);
    assert_string_equal(argv[0], "/etc/xen/scripts/block");
    assert_string_equal(argv[1], "add");
    assert_null(argv[2]);
    ts_hotplug_argv(&dev, "/etc/xen/scripts/block", false, argv);
    assert_string_equal(argv[1], "remove");
    assert_int_equal(ts_hotplug_env(&dev, "/etc/xen/scripts/block", NULL, env, buf, sizeof(buf)),
                     0);
    assert_string_equal(env[0], "script=/etc/xen/scripts/block");
    assert_string_equal(env[1], "XENBUS_TYPE=vbd");
    assert_string_equal(env[2], "XENBUS_PATH=backend/vbd/1/51712");
    assert_string_equal(env[3], "XENBUS_BASE_PATH=backend");
    assert_null(env[4]);

    ts_dev_init(&dev, 1, "vbd", "vbd3", 51712);
    assert_int_equal(ts_hotplug_env(&dev, "/s/block-tap", NULL, env, buf, sizeof(buf)), 0);
    assert_string_equal(env[1], "XENBUS_TYPE=vbd3");
    assert_string_equal(env[2], "XENBUS_PATH=backend/vbd3/1/51712");

    ts_dev_init(&dev, 3, "vif", "vif", 0);
    ts_hotplug_argv(&dev, "/etc/xen/scripts/vif-bridge", true, argv);
    assert_string_equal(argv[1], "online");
    assert_string_equal(argv[2], "type_if=vif");
    assert_null(argv[3]);
    ts_hotplug_argv(&dev, "/etc/xen/scripts/vif-bridge", false, argv);
    assert_string_equal(argv[1], "offline");
    assert_string_equal(argv[2], "type_if=vif");
    assert_int_equal(
        ts_hotplug_env(&dev, "/etc/xen/scripts/vif-bridge", NULL, env, buf, sizeof(buf)), 0);
    assert_string_equal(env[2], "XENBUS_PATH=backend/vif/3/0");
    assert_string_equal(env[4], "netdev=");
    assert_string_equal(env[5], "vif=vif3.0");
    assert_null(env[6]);
    assert_int_equal(ts_hotplug_env(&dev, "/s", "eth1", env, buf, sizeof(buf)), 0);
    assert_string_equal(env[4], "netdev=eth1");
    assert_int_equal(ts_hotplug_env(&dev, "/s", NULL, env, buf, 40), -1);
}

static void test_hotplug_run(void **state)
{
    (void)state;
    const char *ok_argv[] = {"/bin/sh", "-c",
                             "test \"$XENBUS_PATH\" = backend/vbd/1/2 && "
                             "test \"$(cat)\" = \"\"",
                             NULL};
    char e1[] = "XENBUS_PATH=backend/vbd/1/2";
    char *env[] = {e1, NULL};
    assert_int_equal(ts_hotplug_run(ok_argv, env, 5000, err, sizeof(err)), 0);

    const char *fail_argv[] = {"/bin/sh", "-c", "exit 3", NULL};
    assert_int_equal(ts_hotplug_run(fail_argv, env, 5000, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "/bin/sh -c ["));
    assert_non_null(strstr(err, "exited with error status 3"));

    const char *slow_argv[] = {"/bin/sh", "-c", "sleep 5", NULL};
    assert_int_equal(ts_hotplug_run(slow_argv, env, 100, err, sizeof(err)), -1);
    assert_string_equal(err, "killing execution of /bin/sh -c because of timeout");

    const char *missing[] = {"/nonexistent/script", "add", NULL};
    assert_int_equal(ts_hotplug_run(missing, env, 5000, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "exited with error status 127"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_disk_phy_keys, setup, teardown),
        cmocka_unit_test_setup_teardown(test_disk_variants, setup, teardown),
        cmocka_unit_test(test_disk_backend_choice),
        cmocka_unit_test_setup_teardown(test_vif_keys, setup, teardown),
        cmocka_unit_test_setup_teardown(test_domain_keys, setup, teardown),
        cmocka_unit_test(test_script_path),
        cmocka_unit_test(test_hotplug_argv_env),
        cmocka_unit_test(test_hotplug_run),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
