/* The status socket (common/status.h) and pvback-ctl's reading of it
 * (ctl_report.h): a backend's registered devices and counters reach the
 * table an operator reads, over a real socket in a private run directory. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "common/status.h"
#include "ctl_report.h"

static char run_dir[64];

static int setup(void **state)
{
    (void)state;
    snprintf(run_dir, sizeof(run_dir), "/tmp/pvback-status.XXXXXX");
    if (!mkdtemp(run_dir))
        return -1;
    setenv("PVBACK_RUN_DIR", run_dir, 1);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    rmdir(run_dir);
    return 0;
}

static void test_run_dir_choice(void **state)
{
    char buf[128];
    (void)state;
    assert_int_equal(pv_run_dir(buf, sizeof(buf)), 0);
    assert_string_equal(buf, run_dir);
    unsetenv("PVBACK_RUN_DIR");
    setenv("XENSIM_DIR", "/tmp/sim", 1);
    assert_int_equal(pv_run_dir(buf, sizeof(buf)), 0);
    assert_string_equal(buf, "/tmp/sim/pvback");
    unsetenv("XENSIM_DIR");
    assert_int_equal(pv_run_dir(buf, sizeof(buf)), 0);
    assert_string_equal(buf, "/run/pvback");
    assert_int_equal(pv_run_dir(buf, 5), -1);
    assert_int_equal(errno, ENAMETOOLONG);
    setenv("PVBACK_RUN_DIR", run_dir, 1);
}

/* Connects to path, lets the loop serve one client, returns what was sent. */
static char *query(struct pv_loop *loop, const char *path)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    static char buf[8192];
    size_t len = 0;
    ssize_t n;

    snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    assert_true(fd >= 0);
    assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    assert_true(pv_loop_run_once(loop, 1000) >= 0);
    while ((n = read(fd, buf + len, sizeof(buf) - 1 - len)) > 0)
        len += (size_t)n;
    close(fd);
    buf[len] = '\0';
    return buf;
}

static void test_socket_report_round_trip(void **state)
{
    (void)state;
    struct pv_loop *loop = pv_loop_new();
    assert_non_null(loop);
    struct pv_status *st = pv_status_open(loop, "vif", 7);
    assert_non_null(st);
    char path[128];
    struct stat sb;
    snprintf(path, sizeof(path), "%s/vif-7.sock", run_dir);
    assert_int_equal(stat(path, &sb), 0);
    assert_true(S_ISSOCK(sb.st_mode));
    assert_int_equal(sb.st_mode & 0777, 0600);

    struct pv_status_counters c0 = {0}, c1 = {0};
    struct pv_status_dev *d0 = pv_status_dev_add_named(st, "vif/7/0", &c0);
    struct pv_status_dev *d1 = pv_status_dev_add_named(st, "vif/7/1", &c1);
    assert_non_null(d0);
    assert_non_null(d1);
    /* the backend counts in place; the report reads the live values */
    c0.rings = 2;
    c0.requests = 12345678901ull;
    c0.bytes = 99;
    c1.errors = 3;

    char *text = query(loop, path);
    char want[512];
    snprintf(want, sizeof(want),
             "process type=vif domid=7 pid=%ld uid=%ld seccomp=", (long)getpid(), (long)getuid());
    assert_memory_equal(text, want, strlen(want));
    assert_non_null(strstr(text, "\ndevice name=vif/7/0 state=- fe-state=- rings=2 "
                                 "requests=12345678901 bytes=99 errors=0\n"
                                 "device name=vif/7/1 state=- fe-state=- rings=0 requests=0 "
                                 "bytes=0 errors=3\nend\n"));

    struct ctl_procs ps = {0};
    struct ctl_key key;
    const char *ext;
    assert_int_equal(ctl_parse_run_file("vif-7.sock", &key, &ext), 0);
    struct ctl_proc *p = ctl_procs_get(&ps, &key);
    assert_non_null(p);
    assert_int_equal(ctl_parse_report(p, text), 0);
    assert_int_equal(p->pid, getpid());
    assert_int_equal(p->ndevs, 2);
    assert_string_equal(p->devs[0].name, "vif/7/0");
    assert_true(p->devs[0].requests == 12345678901ull);
    assert_int_equal(p->devs[0].rings, 2);
    assert_int_equal(p->devs[1].errors, 3);
    assert_int_equal(p->devs[0].state, -1);
    ctl_procs_free(&ps);

    /* a removed device leaves the report */
    pv_status_dev_remove(d0);
    text = query(loop, path);
    assert_null(strstr(text, "vif/7/0"));
    assert_non_null(strstr(text, "vif/7/1"));
    pv_status_dev_remove(NULL); /* a backend run without status */
    assert_null(pv_status_dev_add_named(NULL, "x", &c0));

    pv_status_close(st); /* d1 is dropped with it */
    assert_int_equal(stat(path, &sb), -1);
    pv_loop_free(loop);
}

static void test_stale_socket_replaced(void **state)
{
    (void)state;
    struct pv_loop *loop = pv_loop_new();
    /* a crashed predecessor's socket is in the way */
    struct pv_status *old = pv_status_open(loop, "vbd", -1);
    assert_non_null(old);
    struct pv_status *st = pv_status_open(loop, "vbd", -1);
    assert_non_null(st);
    char path[128];
    snprintf(path, sizeof(path), "%s/vbd-all.sock", run_dir);
    assert_non_null(strstr(query(loop, path), "process type=vbd domid=all "));
    pv_status_close(st);
    /* old's socket file was replaced; closing it must not fail */
    pv_status_close(old);
    pv_loop_free(loop);
}

static void test_run_file_names(void **state)
{
    struct ctl_key k;
    const char *ext;
    (void)state;
    assert_int_equal(ctl_parse_run_file("vbd3-12.pid", &k, &ext), 0);
    assert_string_equal(k.kind, "vbd3");
    assert_int_equal(k.domid, 12);
    assert_string_equal(ext, "pid");
    assert_int_equal(ctl_parse_run_file("vif-3.failed", &k, &ext), 0);
    assert_string_equal(ext, "failed");
    const char *bad[] = {"vbd-3.pid.tmp", "vbd-x.sock",     "-3.sock",   "vbd-.sock",
                         "vbd-3",         "vbd-99999.sock", "vbd-3.log", "README"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_int_equal(ctl_parse_run_file(bad[i], &k, &ext), -1);
}

static void test_bad_reports(void **state)
{
    struct ctl_procs ps = {0};
    struct ctl_key key = {"vbd", 3};
    (void)state;
    struct ctl_proc *p = ctl_procs_get(&ps, &key);
    /* cut before "end" */
    assert_int_equal(
        ctl_parse_report(p, "process type=vbd domid=3 pid=5 uid=0 seccomp=2 uptime=1\n"), -1);
    assert_int_equal(ctl_parse_report(p, "garbage\nend\n"), -1);
    assert_int_equal(ctl_parse_report(p, "device name=x state=4\nend\n"), -1);
    assert_int_equal(ctl_parse_report(p, "process type=vbd domid=3 pid=5 uid=0 seccomp=2 "
                                         "uptime=1\ndevice name=vbd/3/51712 state=4 fe-state=3 "
                                         "rings=1 requests=2 bytes=3 errors=0\nend\n"),
                     0);
    assert_int_equal(p->seccomp, 2);
    ctl_procs_free(&ps);
}

static void test_table(void **state)
{
    struct ctl_procs ps = {0};
    struct ctl_key k1 = {"vif", 5}, k2 = {"vbd", 5}, k3 = {"vbd", 2}, k4 = {"vif", 2};
    char *out = NULL;
    size_t len = 0;
    (void)state;

    struct ctl_proc *p = ctl_procs_get(&ps, &k1);
    p->failed = strdup("backend process crashed 6 times within 60 s; not restarted");
    p = ctl_procs_get(&ps, &k2);
    snprintf(p->name, sizeof(p->name), "web");
    assert_int_equal(ctl_parse_report(p, "process type=vbd domid=5 pid=77 uid=0 seccomp=0 "
                                         "uptime=9\ndevice name=vbd/5/51712 state=4 fe-state=4 "
                                         "rings=2 requests=10 bytes=40960 errors=1\nend\n"),
                     0);
    p->answered = p->has_socket = true;
    p = ctl_procs_get(&ps, &k3);
    p->pid = 42; /* pid file only: the process does not answer */
    p->has_socket = true;
    p = ctl_procs_get(&ps, &k4);
    p->has_socket = p->denied = true; /* pvback-ctl run by a user */

    FILE *f = open_memstream(&out, &len);
    ctl_print_status(f, &ps);
    fclose(f);
    /* sorted by domain, then kind; one row per device or per silent process */
    const char *l0 = strstr(out, "DOMID");
    const char *l1 = strstr(out, "\n2 ");
    const char *l2 = strstr(out, "\n5 ");
    assert_non_null(l0);
    assert_non_null(l1);
    assert_non_null(l2);
    assert_true(l0 < l1 && l1 < l2);
    assert_non_null(strstr(l1, "vbd   42 "));
    assert_non_null(strstr(l1, "not-answering"));
    assert_non_null(strstr(l1, "vif   -        -     -        -              permission-denied"));
    assert_non_null(strstr(l2, "web"));
    assert_non_null(strstr(l2, "vbd/5/51712"));
    assert_non_null(strstr(l2, "Connected     Connected"));
    assert_non_null(strstr(l2, "40960"));
    assert_non_null(strstr(out, "failed"));
    assert_non_null(strstr(out, "vif 5: backend process crashed 6 times"));
    free(out);
    ctl_procs_free(&ps);

    out = NULL;
    f = open_memstream(&out, &len);
    ctl_print_status(f, &ps);
    fclose(f);
    assert_string_equal(out, "no pvback backends running\n");
    free(out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_run_dir_choice),
        cmocka_unit_test(test_socket_report_round_trip),
        cmocka_unit_test(test_stale_socket_replaced),
        cmocka_unit_test(test_run_file_names),
        cmocka_unit_test(test_bad_reports),
        cmocka_unit_test(test_table),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
