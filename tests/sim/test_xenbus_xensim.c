/* The xenbus state machine against the whole of xensim: a private
 * `xensim start`, `xensim create` with a disk whose toolstack waits for
 * InitWait and runs the hotplug script as libxl does, a guest connecting
 * through its own socket, and `xensim destroy`, which must not hit libxl's
 * 10 s timeout because the backend closes at once. The backend here is the
 * toy device class under the "vbd" type. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "test_xenbus_toy.h"

extern char **environ;

struct env {
    char dir[64];
    char xensim[512];
    struct toy t; /* only loop, xs, be and st are used */
    struct pv_xenbus_ops ops;
};

/* Runs "xensim --dir DIR args..." in the background; its stdout goes to
 * *out_fd when out_fd is not NULL. */
static pid_t spawn_xensim(struct env *e, int *out_fd, const char *a1, const char *a2)
{
    char *argv[] = {e->xensim, "--dir", e->dir, (char *)a1, (char *)a2, NULL};
    posix_spawn_file_actions_t fa;
    int p[2];
    pid_t pid;

    assert_int_equal(pipe(p), 0);
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, p[1], STDOUT_FILENO);
    posix_spawn_file_actions_addclose(&fa, p[0]);
    assert_int_equal(posix_spawn(&pid, e->xensim, &fa, NULL, argv, environ), 0);
    posix_spawn_file_actions_destroy(&fa);
    close(p[1]);
    if (out_fd)
        *out_fd = p[0];
    else
        close(p[0]);
    return pid;
}

/* Serves the backend's loop while the child runs; returns its exit status
 * and the time it took in *ms. */
static int serve_until_exit(struct env *e, pid_t pid, uint64_t *ms)
{
    uint64_t start = pv_now_ms();
    int status;

    for (;;) {
        pid_t r = waitpid(pid, &status, WNOHANG);
        if (r == pid)
            break;
        assert_int_equal(r, 0);
        pv_loop_run_once(e->t.loop, 20);
        if (pv_now_ms() - start > 60000) {
            kill(pid, SIGKILL);
            fail_msg("xensim did not finish");
        }
    }
    *ms = pv_now_ms() - start;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
}

static int run_xensim(struct env *e, const char *a1, const char *a2)
{
    uint64_t ms;

    return serve_until_exit(e, spawn_xensim(e, NULL, a1, a2), &ms);
}

static int setup(void **state)
{
    struct env *e = calloc(1, sizeof(*e));
    const char *bin = getenv("PVBACK_BIN");
    char sock[128];

    assert_non_null(e);
    assert_non_null(bin);
    pv_log_init("test");
    snprintf(e->xensim, sizeof(e->xensim), "%s/xensim", bin);
    snprintf(e->dir, sizeof(e->dir), "/tmp/pvback-xb.XXXXXX");
    assert_non_null(mkdtemp(e->dir));
    e->t.loop = pv_loop_new();
    assert_non_null(e->t.loop);
    assert_int_equal(run_xensim(e, "start", NULL), 0);
    snprintf(sock, sizeof(sock), "%s/xenstored.sock", e->dir);
    setenv("XENSTORED_PATH", sock, 1); /* the hotplug script's xenstore-write too */
    e->t.xs = pv_xs_open(e->t.loop);
    assert_non_null(e->t.xs);
    e->ops = toy_ops;
    e->ops.type = "vbd";
    e->t.be = pv_xenbus_backend_new(e->t.xs, &e->ops, 0, -1, &e->t);
    assert_non_null(e->t.be);
    *state = e;
    return 0;
}

static int teardown(void **state)
{
    struct env *e = *state;
    char cmd[128];

    pv_xenbus_backend_free(e->t.be);
    pv_xs_close(e->t.xs);
    run_xensim(e, "stop", NULL);
    pv_loop_free(e->t.loop);
    unsetenv("XENSTORED_PATH");
    snprintf(cmd, sizeof(cmd), "rm -rf %s", e->dir);
    assert_int_equal(system(cmd), 0);
    free(e);
    return 0;
}

static void write_file(const char *path, const char *text, mode_t mode)
{
    FILE *f = fopen(path, "w");

    assert_non_null(f);
    fputs(text, f);
    fclose(f);
    assert_int_equal(chmod(path, mode), 0);
}

static void test_create_connect_destroy(void **state)
{
    struct env *e = *state;
    char path[256], cfg[512], be[128], fe[128], out[32] = "";
    struct xs_handle *guest;
    uint64_t ms;
    unsigned domid, be_state_now;
    int fd, status;
    pid_t pid;
    ssize_t n;

    /* A hotplug script that does what Xen's block script reports. */
    snprintf(path, sizeof(path), "%s/hotplug", e->dir);
    write_file(path,
               "#!/bin/sh\n"
               "[ \"$1\" = add ] || exit 0\n"
               "exec xenstore-write \"$XENBUS_PATH/hotplug-status\" connected\n",
               0755);
    snprintf(cfg, sizeof(cfg), "%s/img", e->dir);
    write_file(cfg, "", 0644);
    snprintf(cfg, sizeof(cfg),
             "name = \"g1\"\nmemory = 64\ndisk = [\"%s/img,raw,xvda,w,script=%s\"]\n", e->dir,
             path);
    snprintf(path, sizeof(path), "%s/g1.cfg", e->dir);
    write_file(path, cfg, 0644);

    /* xensim create waits for our InitWait, then for the script. */
    pid = spawn_xensim(e, &fd, "create", path);
    status = serve_until_exit(e, pid, &ms);
    n = read(fd, out, sizeof(out) - 1);
    close(fd);
    assert_int_equal(status, 0);
    assert_true(n > 0);
    domid = (unsigned)strtoul(out, NULL, 10);
    assert_true(domid > 0);
    assert_int_equal(pv_xenbus_backend_count(e->t.be), 1);
    assert_int_equal(e->t.st.probes, 1);

    /* The guest connects through its own socket. */
    snprintf(path, sizeof(path), "%s/dom%u.sock", e->dir, domid);
    setenv("XENSTORED_PATH", path, 1);
    guest = xs_open(0);
    snprintf(path, sizeof(path), "%s/xenstored.sock", e->dir);
    setenv("XENSTORED_PATH", path, 1);
    assert_non_null(guest);
    snprintf(fe, sizeof(fe), "/local/domain/%u/device/vbd/51712", domid);
    snprintf(be, sizeof(be), "/local/domain/0/backend/vbd/%u/51712", domid);
    put(guest, "77", "%s/ring-ref", fe);
    put(guest, "3", "%s/state", fe);
    for (uint64_t end = pv_now_ms() + toy_patience_ms();
         pv_now_ms() < end && e->t.st.connects == 0;)
        pv_loop_run_once(e->t.loop, 20);
    assert_int_equal(e->t.st.connects, 1);
    assert_int_equal(e->t.st.ring_ref, 77);
    assert_int_equal(pv_xs_read_uint(e->t.xs, XBT_NULL, be, "state", 0, 9, &be_state_now), 0);
    assert_int_equal(be_state_now, XenbusStateConnected);
    xs_close(guest);

    /* xl destroy: Closing from the toolstack, and we answer at once. */
    pid = spawn_xensim(e, NULL, "destroy", "g1");
    status = serve_until_exit(e, pid, &ms);
    assert_int_equal(status, 0);
    assert_true(ms < 5000); /* libxl's timeout is 10 s */
    pv_loop_run_once(e->t.loop, 50);
    assert_int_equal(e->t.st.disconnects, 1);
    assert_int_equal(e->t.st.removes, 1);
    assert_int_equal(pv_xenbus_backend_count(e->t.be), 0);
    assert_int_equal(pv_xs_exists(e->t.xs, XBT_NULL, be, NULL), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_create_connect_destroy, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
