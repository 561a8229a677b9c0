/* Device add, detach and destroy of xensim's toolstack against xensim's
 * xenstored running in this process (so valgrind sees both), with a fake
 * backend thread and a hotplug script: what a detach does when the backend
 * closes and when it does not, the forced removal of a destroy, a device
 * that already exists, a backend that removed its own dir, and that the
 * permissions libxl sets really keep the guest out of the backend's keys. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdatomic.h>
#include <sys/stat.h>

#include "../../sim/xenstore_harness.h"
#include "toolstack/toolstack.h"

#define GUEST 5

static struct xsh *h;
static struct xs_handle *xs;
static char dir[128], script[160], logpath[160], image[160];
static char err[1024];

/* xsh_open clears XENSTORED_PATH: put dom0's back, for the hotplug scripts
 * (children of the toolstack) to reach this xenstored. */
static struct xs_handle *open_as(unsigned domid)
{
    char sock[160];
    struct xs_handle *x = xsh_open(h, domid);
    xsh_sock(h, 0, sock, sizeof(sock));
    setenv("XENSTORED_PATH", sock, 1);
    return x;
}

/* A backend that moves its device to InitWait and, if `closes`, to Closed. */
struct fake_backend {
    pthread_t thread;
    struct xs_handle *xs;
    char state[160];
    bool closes;
    atomic_bool stop;
};

static void *fake_backend_run(void *arg)
{
    struct fake_backend *f = arg;
    while (!atomic_load(&f->stop)) {
        char *v = xsh_read(f->xs, f->state);
        if (v && !strcmp(v, "1"))
            xs_write(f->xs, XBT_NULL, f->state, "2", 1);
        else if (v && !strcmp(v, "5") && f->closes)
            xs_write(f->xs, XBT_NULL, f->state, "6", 1);
        free(v);
        usleep(5000);
    }
    return NULL;
}

static struct fake_backend *fake_backend_start(const char *be, bool closes)
{
    struct fake_backend *f = calloc(1, sizeof(*f));
    assert_non_null(f);
    snprintf(f->state, sizeof(f->state), "%s/state", be);
    f->closes = closes;
    f->xs = open_as(0);
    assert_non_null(f->xs);
    assert_int_equal(pthread_create(&f->thread, NULL, fake_backend_run, f), 0);
    return f;
}

static void fake_backend_stop(struct fake_backend *f)
{
    atomic_store(&f->stop, true);
    pthread_join(f->thread, NULL);
    xs_close(f->xs);
    free(f);
}

/* A guest that acknowledges control requests by emptying control/shutdown. */
struct acker {
    pthread_t thread;
    struct xs_handle *xs;
    char last[32];
    atomic_bool stop;
};

static void *acker_run(void *arg)
{
    struct acker *a = arg;
    while (!atomic_load(&a->stop)) {
        char *v = xsh_read(a->xs, "/local/domain/5/control/shutdown");
        if (v && *v) {
            snprintf(a->last, sizeof(a->last), "%s", v);
            xs_write(a->xs, XBT_NULL, "/local/domain/5/control/shutdown", "", 0);
        }
        free(v);
        usleep(5000);
    }
    return NULL;
}

static char *slurp(const char *path)
{
    static char buf[4096];
    FILE *f = fopen(path, "r");
    size_t n = f ? fread(buf, 1, sizeof(buf) - 1, f) : 0;
    buf[n] = '\0';
    if (f)
        fclose(f);
    return buf;
}

static bool exists(const char *path)
{
    char *v = xsh_read(xs, path);
    free(v);
    return v != NULL;
}

static int setup(void **state)
{
    (void)state;
    h = xsh_start();
    xsh_introduce(h, GUEST);
    xs = open_as(0);
    if (!xs)
        return -1;
    snprintf(dir, sizeof(dir), "/tmp/pvback-tsdev.XXXXXX");
    if (!mkdtemp(dir))
        return -1;
    snprintf(script, sizeof(script), "%s/hotplug", dir);
    snprintf(logpath, sizeof(logpath), "%s/log", dir);
    snprintf(image, sizeof(image), "%s/disk.img", dir);
    FILE *f = fopen(script, "w");
    if (!f)
        return -1;
    fprintf(f,
            "#!/bin/sh\necho \"$1 $XENBUS_PATH\" >>%s\n"
            "case $1 in add|online) xenstore-write \"$XENBUS_PATH/hotplug-status\" "
            "connected;; esac\n",
            logpath);
    fclose(f);
    chmod(script, 0755);
    f = fopen(image, "w");
    if (f)
        fclose(f);
    return f ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[200];
    xs_close(xs);
    xsh_stop(h);
    unsetenv("XENSTORED_PATH");
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    return system(cmd) == 0 ? 0 : -1;
}

static struct xlcfg_disk disk_xvda(void)
{
    struct xlcfg_disk d;
    char spec[400];
    snprintf(spec, sizeof(spec), "vdev=xvda,script=%s,target=%s", script, image);
    if (xlcfg_parse_disk(spec, &d, err, sizeof(err)) < 0)
        fail_msg("%s", err);
    return d;
}

#define BE  "/local/domain/0/backend/vbd/5/51712"
#define FE  "/local/domain/5/device/vbd/51712"
#define LX  "/libxl/5/device/vbd/51712"
#define VBE "/local/domain/0/backend/vif/5/0"
#define VFE "/local/domain/5/device/vif/0"

static void test_attach_detach(void **state)
{
    (void)state;
    struct xlcfg_disk d = disk_xvda();
    struct fake_backend *f = fake_backend_start(BE, true);
    unlink(logpath);
    assert_int_equal(ts_disk_add(xs, GUEST, &d, err, sizeof(err)), 0);
    char *st = xsh_read(xs, BE "/hotplug-status");
    assert_string_equal(st, "connected");
    free(st);

    /* the same device again: libxl's refusal, nothing changed */
    assert_int_equal(ts_disk_add(xs, GUEST, &d, err, sizeof(err)), -1);
    assert_string_equal(err, "device already exists in xenstore");

    assert_int_equal(ts_device_remove(xs, GUEST, "vbd", 51712, false, err, sizeof(err)), 0);
    assert_false(exists(BE));
    assert_false(exists(FE));
    assert_false(exists(LX));
    /* emptied parents go too, the domain's own dirs stay */
    assert_false(exists("/local/domain/0/backend/vbd/5"));
    assert_true(exists("/local/domain/0"));
    char want[512];
    snprintf(want, sizeof(want), "add backend/vbd/5/51712\nremove backend/vbd/5/51712\n");
    assert_string_equal(slurp(logpath), want);
    fake_backend_stop(f);

    assert_int_equal(ts_device_remove(xs, GUEST, "vbd", 51712, false, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "no vbd device 51712 in domain 5"));
}

static void test_guest_is_kept_out(void **state)
{
    (void)state;
    struct xlcfg_vif v;
    assert_int_equal(xlcfg_parse_vif("mac=00:16:3e:00:00:05,script=x", &v, err, sizeof(err)), 0);
    snprintf(v.script, sizeof(v.script), "%s", script);
    struct fake_backend *f = fake_backend_start(VBE, true);
    assert_int_equal(ts_vif_add(xs, GUEST, &v, 0, err, sizeof(err)), 0);

    struct xs_handle *guest = open_as(GUEST);
    assert_non_null(guest);
    /* the guest reads its backend's keys but cannot change them */
    char *mac = xsh_read(guest, VBE "/mac");
    assert_string_equal(mac, "00:16:3e:00:00:05");
    free(mac);
    assert_false(xs_write(guest, XBT_NULL, VBE "/state", "4", 1));
    assert_int_equal(errno, EACCES);
    assert_false(xs_write(guest, XBT_NULL, VBE "/mac", "x", 1));
    /* it writes its own frontend keys, but not the MTU libxl gave it */
    assert_true(xs_write(guest, XBT_NULL, VFE "/state", "3", 1));
    char *mtu = xsh_read(guest, VFE "/mtu");
    assert_string_equal(mtu, "1500");
    free(mtu);
    assert_false(xs_write(guest, XBT_NULL, VFE "/mtu", "9000", 4));
    /* nor the toolstack's own records */
    assert_null(xsh_read(guest, "/libxl/5/device/vif/0/backend"));
    xs_close(guest);

    /* a forced removal (destroy's) takes the frontend away first */
    unlink(logpath);
    assert_int_equal(ts_device_remove(xs, GUEST, "vif", 0, true, err, sizeof(err)), 0);
    fake_backend_stop(f);
    assert_false(exists(VBE));
    assert_false(exists(VFE));
    assert_string_equal(slurp(logpath), "offline backend/vif/5/0\n");
}

static void test_detach_backend_does_not_close(void **state)
{
    (void)state;
    struct xlcfg_disk d = disk_xvda();
    struct fake_backend *f = fake_backend_start(BE, false);
    unlink(logpath);
    assert_int_equal(ts_disk_add(xs, GUEST, &d, err, sizeof(err)), 0);
    uint64_t t0 = pv_now_ms();
    assert_int_equal(ts_device_remove(xs, GUEST, "vbd", 51712, false, err, sizeof(err)), -1);
    uint64_t took = pv_now_ms() - t0;
    fake_backend_stop(f);
    assert_true(took >= TS_DESTROY_TIMEOUT_MS && took < TS_DESTROY_TIMEOUT_MS + 3000);
    assert_string_equal(err, "unable to remove device with path " BE ": backend " BE
                             "/state wanted state 6 timed out");
    /* a detach that timed out leaves the device, asked to close and offline */
    char *s = xsh_read(xs, BE "/state");
    char *o = xsh_read(xs, BE "/online");
    assert_string_equal(s, "5");
    assert_string_equal(o, "0");
    free(s);
    free(o);
    assert_true(exists(FE));
    /* no remove script for a device that did not close */
    assert_null(strstr(slurp(logpath), "remove"));

    /* the backend is gone and took its dir: destroy cleans the rest at once */
    assert_true(xs_rm(xs, XBT_NULL, BE));
    t0 = pv_now_ms();
    assert_int_equal(ts_domain_destroy(xs, GUEST, err, sizeof(err)), 0);
    assert_true(pv_now_ms() - t0 < 2000);
    assert_false(exists(FE));
    assert_false(exists(LX));
}

static void test_domain_keys_and_destroy(void **state)
{
    (void)state;
    struct xlcfg cfg;
    assert_int_equal(xlcfg_parse("name='tsdev'\nmemory=32\n", &cfg, err, sizeof(err)), 0);
    assert_int_equal(ts_domain_create(xs, GUEST, &cfg, err, sizeof(err)), 0);
    assert_int_equal(ts_domid_by_name(xs, "tsdev"), GUEST);
    assert_int_equal(ts_domid_by_name(xs, "nobody"), -1);
    /* another domain may not take the name */
    assert_int_equal(ts_domain_create(xs, GUEST + 1, &cfg, err, sizeof(err)), -1);
    assert_string_equal(err, "Domain with name \"tsdev\" already exists.");
    assert_false(exists("/local/domain/6"));

    struct xs_handle *guest = open_as(GUEST);
    assert_non_null(guest);
    assert_true(xs_write(guest, XBT_NULL, "/local/domain/5/control/shutdown", "poweroff", 8));
    assert_true(xs_write(guest, XBT_NULL, "/local/domain/5/data/x", "1", 1));
    assert_false(xs_write(guest, XBT_NULL, "/local/domain/5/name", "evil", 4));
    assert_false(xs_write(guest, XBT_NULL, "/local/domain/5/memory/target", "1", 1));
    xs_close(guest);

    /* xl shutdown: the request, and the guest's acknowledgement */
    struct acker a = {.xs = open_as(GUEST)};
    assert_non_null(a.xs);
    assert_int_equal(pthread_create(&a.thread, NULL, acker_run, &a), 0);
    assert_int_equal(ts_domain_pvcontrol(xs, GUEST, "poweroff", 5000, err, sizeof(err)), 0);
    atomic_store(&a.stop, true);
    pthread_join(a.thread, NULL);
    xs_close(a.xs);
    assert_string_equal(a.last, "poweroff");
    /* a guest that does not answer: libxl's error once the wait is over */
    assert_int_equal(ts_domain_pvcontrol(xs, GUEST, "reboot", 200, err, sizeof(err)), -1);
    assert_string_equal(err, "guest didn't acknowledge control request: reboot (timed out)");
    assert_int_equal(ts_domain_pvcontrol(xs, GUEST, "explode", 200, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "unknown control request"));
    assert_int_equal(ts_domain_pvcontrol(xs, 9, "poweroff", 200, err, sizeof(err)), -1);
    assert_string_equal(err, "domain 9 does not exist");

    char *vm = xsh_read(xs, "/local/domain/5/vm");
    assert_non_null(vm);
    assert_int_equal(ts_domain_destroy(xs, GUEST, err, sizeof(err)), 0);
    assert_false(exists(vm));
    assert_false(exists("/local/domain/5"));
    assert_false(exists("/libxl/5"));
    free(vm);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_attach_detach),
        cmocka_unit_test(test_guest_is_kept_out),
        cmocka_unit_test(test_detach_backend_does_not_close),
        cmocka_unit_test(test_domain_keys_and_destroy),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
