/* The event loop: fds, timers, signals, and removal from inside callbacks. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <signal.h>
#include <unistd.h>

#include "common/loop.h"

struct pipe_ctx {
    int reads;
    struct pv_watch *self;
    struct pv_loop *loop;
};

static void on_pipe(int fd, uint32_t events, void *arg)
{
    struct pipe_ctx *c = arg;
    char b;

    assert_true(events & EPOLLIN);
    assert_int_equal(read(fd, &b, 1), 1);
    c->reads++;
    pv_watch_remove(c->self); /* removing itself while dispatching is allowed */
    pv_loop_stop(c->loop);
}

static void test_fd_and_self_removal(void **state)
{
    struct pv_loop *loop = pv_loop_new();
    struct pipe_ctx c = {0};
    int p[2];

    (void)state;
    assert_non_null(loop);
    assert_int_equal(pipe(p), 0);
    c.loop = loop;
    c.self = pv_loop_add_fd(loop, p[0], EPOLLIN, on_pipe, &c);
    assert_non_null(c.self);
    assert_int_equal(write(p[1], "xy", 2), 2);
    assert_int_equal(pv_loop_run(loop), 0);
    assert_int_equal(c.reads, 1);
    /* Removed: the second byte is not delivered. */
    assert_int_equal(pv_loop_run_once(loop, 10), 0);
    assert_int_equal(c.reads, 1);
    close(p[0]);
    close(p[1]);
    pv_loop_free(loop);
}

struct timer_ctx {
    int fired;
    struct pv_loop *loop;
};

static void on_timer(struct pv_timer *t, void *arg)
{
    struct timer_ctx *c = arg;

    (void)t;
    if (++c->fired == 3)
        pv_loop_stop(c->loop);
}

static void test_periodic_timer(void **state)
{
    struct pv_loop *loop = pv_loop_new();
    struct timer_ctx c = {0, loop};
    struct pv_timer *t = pv_timer_new(loop, on_timer, &c);
    uint64_t start = pv_now_ms();

    (void)state;
    assert_non_null(t);
    assert_int_equal(pv_timer_arm(t, 5, 5), 0);
    assert_int_equal(pv_loop_run(loop), 0);
    assert_int_equal(c.fired, 3);
    assert_true(pv_now_ms() - start >= 14);
    pv_timer_free(t);
    pv_loop_free(loop);
}

static void on_signal(int signo, void *arg)
{
    struct timer_ctx *c = arg;

    assert_int_equal(signo, SIGUSR1);
    c->fired++;
    pv_loop_stop(c->loop);
}

static void test_signal(void **state)
{
    struct pv_loop *loop = pv_loop_new();
    struct timer_ctx c = {0, loop};

    (void)state;
    assert_int_equal(pv_loop_add_signal(loop, SIGUSR1, on_signal, &c), 0);
    assert_int_equal(kill(getpid(), SIGUSR1), 0);
    assert_int_equal(pv_loop_run(loop), 0);
    assert_int_equal(c.fired, 1);
    pv_loop_free(loop);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fd_and_self_removal),
        cmocka_unit_test(test_periodic_timer),
        cmocka_unit_test(test_signal),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
