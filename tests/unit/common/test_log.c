/* Logging: lines are whole, the level filter works, and a flood of lines
 * (what a hostile frontend can cause) is bounded, with a count of what was
 * dropped once the flood is over. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"

/* Runs fn with stderr sent to a temp file; returns the file's text. */
static char *capture(void (*fn)(void))
{
    char path[] = "/tmp/pvback-log-test.XXXXXX";
    int fd = mkstemp(path), saved = dup(STDERR_FILENO);
    FILE *f;
    char *text;
    long n;

    assert_true(fd >= 0 && saved >= 0);
    assert_int_equal(dup2(fd, STDERR_FILENO), STDERR_FILENO);
    fn();
    assert_int_equal(dup2(saved, STDERR_FILENO), STDERR_FILENO);
    close(saved);
    f = fdopen(fd, "r");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    n = ftell(f);
    rewind(f);
    text = calloc(1, (size_t)n + 1);
    assert_non_null(text);
    assert_int_equal(fread(text, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    unlink(path);
    return text;
}

static unsigned count(const char *text, const char *needle)
{
    unsigned n = 0;

    for (const char *p = text; (p = strstr(p, needle)); p += strlen(needle))
        n++;
    return n;
}

static void log_levels(void)
{
    struct pv_logctx ctx;

    pv_log_set_level(PV_LOG_INFO);
    pv_logctx_set(&ctx, "vbd/%d/%d", 3, 51712);
    pv_dlog(&ctx, PV_LOG_WARN, "ring %s", "stopped");
    pv_debug("not shown");
}

static void test_prefix_and_level(void **state)
{
    char *text = capture(log_levels);

    (void)state;
    assert_non_null(strstr(text, "warning: vbd/3/51712: ring stopped\n"));
    assert_null(strstr(text, "not shown"));
    free(text);
}

static void log_flood(void)
{
    for (int i = 0; i < 20000; i++)
        pv_warn("flood line %d", i);
    usleep(100 * 1000); /* tokens come back: the next line reports the drops */
    pv_warn("after the flood");
}

static void test_flood_is_bounded(void **state)
{
    char *text = capture(log_flood);
    unsigned lines = count(text, "flood line ");

    (void)state;
    /* The burst, plus what the rate refills while the loop runs. */
    assert_true(lines >= 1000);
    assert_true(lines < 5000);
    assert_non_null(strstr(text, "lines suppressed"));
    assert_non_null(strstr(text, "after the flood"));
    free(text);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_prefix_and_level),
        cmocka_unit_test(test_flood_is_bounded),
    };
    pv_log_init("test_log");
    return cmocka_run_group_tests(tests, NULL, NULL);
}
