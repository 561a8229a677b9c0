/* The in-flight journal (common/journal.h): records outlive the process
 * (a reopen finds them), a record is found only at its exact ring position,
 * a header that does not match (other key, other geometry, garbage) resets
 * the file, and a file that is not our own regular file is never written. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/journal.h"

struct rec {
    unsigned long long id;
    char data[40];
};

static char dir[] = "/tmp/pvback-journal-XXXXXX";
static char path[256];

static int setup(void **state)
{
    (void)state;
    if (!mkdtemp(dir))
        return -1;
    snprintf(path, sizeof(path), "%s/j", dir);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    unlink(path);
    rmdir(dir);
    return 0;
}

static struct pv_journal *open_j(const char *key, unsigned slots, bool *reused)
{
    return pv_journal_open(path, key, slots, sizeof(struct rec), reused);
}

static void test_outlives_the_handle(void **state)
{
    (void)state;
    bool reused = true;
    unlink(path);
    struct pv_journal *j = open_j("k1", 32, &reused);
    assert_non_null(j);
    assert_false(reused);
    struct rec r = {.id = 77, .data = "hello"}, out;
    pv_journal_put(j, 5, &r);
    r.id = 78;
    pv_journal_put(j, 6, &r);
    pv_journal_close(j); /* as a SIGKILLed process leaves it */

    j = open_j("k1", 32, &reused);
    assert_non_null(j);
    assert_true(reused);
    assert_true(pv_journal_get(j, 5, &out));
    assert_int_equal(out.id, 77);
    assert_string_equal(out.data, "hello");
    assert_true(pv_journal_get(j, 6, &out));
    assert_int_equal(out.id, 78);
    /* Same slot, another lap of the ring: not that request. */
    assert_false(pv_journal_get(j, 5 + 32, &out));
    assert_false(pv_journal_get(j, 7, &out));
    pv_journal_reset(j);
    assert_false(pv_journal_get(j, 5, &out));
    pv_journal_close(j);
}

static void test_mismatch_resets(void **state)
{
    (void)state;
    bool reused;
    struct rec r = {.id = 1}, out;
    unlink(path);
    struct pv_journal *j = open_j("conn-a", 32, &reused);
    pv_journal_put(j, 3, &r);
    pv_journal_close(j);
    /* another connection */
    j = open_j("conn-b", 32, &reused);
    assert_false(reused);
    assert_false(pv_journal_get(j, 3, &out));
    pv_journal_put(j, 3, &r);
    pv_journal_close(j);
    /* another ring size */
    j = open_j("conn-b", 64, &reused);
    assert_false(reused);
    assert_false(pv_journal_get(j, 3, &out));
    pv_journal_close(j);
    /* a damaged header of the right size */
    FILE *f = fopen(path, "r+");
    assert_non_null(f);
    fputs("garbage", f);
    fclose(f);
    j = open_j("conn-b", 64, &reused);
    assert_false(reused);
    pv_journal_close(j);
}

static void test_bad_arguments_and_files(void **state)
{
    (void)state;
    assert_null(open_j("k", 0, NULL));
    assert_null(open_j("k", 24, NULL)); /* not a power of 2 */
    char longkey[PV_JOURNAL_KEY_MAX + 1];
    memset(longkey, 'x', sizeof(longkey) - 1);
    longkey[sizeof(longkey) - 1] = '\0';
    assert_null(open_j(longkey, 32, NULL));
    /* a symbolic link planted at the path is replaced, never followed */
    char target[300];
    snprintf(target, sizeof(target), "%s/target", dir);
    FILE *f = fopen(target, "w");
    fputs("keep", f);
    fclose(f);
    unlink(path);
    assert_int_equal(symlink(target, path), 0);
    struct pv_journal *j = open_j("k", 32, NULL);
    assert_non_null(j);
    pv_journal_close(j);
    char buf[8] = {0};
    f = fopen(target, "r");
    assert_non_null(fgets(buf, sizeof(buf), f));
    fclose(f);
    assert_string_equal(buf, "keep");
    unlink(target);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_outlives_the_handle),
        cmocka_unit_test(test_mismatch_resets),
        cmocka_unit_test(test_bad_arguments_and_files),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
