/* The backends' common command line (common/backend_main.c): --help, the
 * daemon's own options handed to its parser, every bad command line exiting
 * with 2 before anything is opened, and a good one going on to the platform
 * (which fails here on purpose: exit 1). */
#include <getopt.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "backend_main.h"
#include "xenbus.h"

struct toy {
    int queues;  /* --max-queues, -1 when not given */
    int options; /* how many options the daemon's parser saw */
    int prepared;
};

static const struct pv_xenbus_ops toy_ops = {.type = "toy"};

static int toy_option(void *daemon, int code, const char *arg)
{
    struct toy *t = daemon;
    t->options++;
    if (code != 'q' || strcmp(arg, "4"))
        return -1; /* only "--max-queues 4" is good */
    t->queues = 4;
    return 0;
}

static const struct pv_xenbus_ops *toy_xenbus_ops(void *daemon)
{
    (void)daemon;
    return &toy_ops;
}

static int toy_prepare(void *daemon, const struct pv_backend_env *env)
{
    (void)env;
    ((struct toy *)daemon)->prepared++;
    return 0;
}

static const struct option toy_options[] = {
    {"max-queues", required_argument, NULL, 'q'},
    {NULL, 0, NULL, 0},
};

static const struct pv_backend_main toy_main = {
    .prog = "pvback-toy",
    .usage = "[--max-queues N]",
    .options = toy_options,
    .option = toy_option,
    .xenbus_ops = toy_xenbus_ops,
    .keep_cap = -1,
    .prepare = toy_prepare,
};

/* Runs toy_main on a NULL-terminated argument list (after argv[0]). */
static int run(struct toy *t, ...)
{
    char *argv[16] = {"pvback-toy"};
    int argc = 1;
    va_list ap;
    va_start(ap, t);
    for (char *a; (a = va_arg(ap, char *)) && argc < 15;)
        argv[argc++] = a;
    va_end(ap);
    *t = (struct toy){.queues = -1};
    return pv_backend_main_run(&toy_main, t, argc, argv);
}

static void test_help(void **state)
{
    (void)state;
    struct toy t;
    assert_int_equal(run(&t, "--help", NULL), 0);
    assert_int_equal(t.prepared, 0);
}

static void test_bad_command_lines(void **state)
{
    (void)state;
    struct toy t;
    assert_int_equal(run(&t, "--bogus", NULL), 2);
    assert_int_equal(run(&t, "--max-queues", "5", NULL), 2); /* the daemon refused it */
    assert_int_equal(t.options, 1);
    assert_int_equal(run(&t, "--frontend-domid", "0", NULL), 2);
    assert_int_equal(run(&t, "--frontend-domid", "x", NULL), 2);
    assert_int_equal(run(&t, "--max-queues", NULL), 2); /* no value */
    assert_int_equal(run(&t, "extra", NULL), 2);
    assert_int_equal(run(&t, "--user", "+1000", NULL), 2); /* needs --frontend-domid */
    assert_int_equal(t.prepared, 0);
}

static void test_good_command_line_reaches_the_platform(void **state)
{
    (void)state;
    struct toy t;
    /* Every option accepted, the daemon's own parsed; the platform named is
     * not one: start-up fails there, before the daemon is prepared. */
    assert_int_equal(run(&t, "--frontend-domid", "7", "--max-queues", "4", "--seccomp",
                         "--platform", "nowhere", NULL),
                     1);
    assert_int_equal(t.queues, 4);
    assert_int_equal(t.options, 1);
    assert_int_equal(t.prepared, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_help),
        cmocka_unit_test(test_bad_command_lines),
        cmocka_unit_test(test_good_command_line_reaches_the_platform),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
