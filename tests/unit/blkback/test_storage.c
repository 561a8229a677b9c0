/* The file storage engines (libaio, io_uring, and both split by request
 * size) on temporary files: data
 * written reads back, flush succeeds, discard reads back as zeros, batches
 * complete, read-only refuses every change, bad requests are refused. */
#include <errno.h>
#include <poll.h>
#include <setjmp.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/magic.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <cmocka.h>

#include "storage.h"

#define FILE_SIZE (4u << 20)

struct fixture {
    const char *engine;
    char path[256];
    struct pv_storage *s;
};

struct done {
    int calls;
    int64_t result;
};

static void on_done(struct pv_storage_req *req, int64_t result)
{
    struct done *d = req->arg;
    d->calls++;
    d->result = result;
}

static int setup_file(struct fixture *f)
{
    const char *dir = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
    snprintf(f->path, sizeof(f->path), "%s/pvback-storage-XXXXXX", dir);
    int fd = mkstemp(f->path);
    if (fd < 0 || ftruncate(fd, FILE_SIZE) < 0)
        return -1;
    close(fd);
    return 0;
}

static struct pv_storage *open_store(struct fixture *f, bool ro, bool buffered, unsigned depth)
{
    struct pv_storage_params p = {.path = f->path,
                                  .read_only = ro,
                                  .engine = f->engine,
                                  .depth = depth,
                                  .buffered = buffered};
    char err[256] = "";
    struct pv_storage *s = pv_storage_open(&p, err, sizeof(err));
    if (!s)
        fprintf(stderr, "open failed: %s\n", err);
    return s;
}

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    f->engine = *state;
    if (setup_file(f) < 0)
        return -1;
    f->s = open_store(f, false, false, 0);
    *state = f;
    return f->s ? 0 : -1;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    pv_storage_close(f->s);
    unlink(f->path);
    free(f);
    return 0;
}

/* Runs the completion side until nothing is in flight. */
static void wait_all(struct pv_storage *s)
{
    assert_int_equal(pv_storage_kick(s), 0);
    for (int i = 0; i < 1000 && pv_storage_in_flight(s); i++) {
        struct pollfd pfd = {.fd = pv_storage_fd(s), .events = POLLIN};
        assert_true(poll(&pfd, 1, 5000) >= 0);
        assert_true(pv_storage_reap(s) >= 0);
    }
    assert_int_equal(pv_storage_in_flight(s), 0);
}

static void *aligned_buf(size_t len, int fill)
{
    void *p = NULL;
    assert_int_equal(posix_memalign(&p, 4096, len), 0);
    memset(p, fill, len);
    return p;
}

static int64_t do_io(struct pv_storage *s, enum pv_storage_op op, uint64_t off,
                     const struct iovec *iov, int n, uint64_t len)
{
    struct done d = {0, 0};
    struct pv_storage_req r = {
        .op = op, .offset = off, .length = len, .iov = iov, .iovcnt = n, .cb = on_done, .arg = &d};
    assert_int_equal(pv_storage_submit(s, &r), 0);
    assert_int_equal(d.calls, 0); /* never called back from inside submit */
    wait_all(s);
    assert_int_equal(d.calls, 1);
    return d.result;
}

static void test_info(void **state)
{
    struct fixture *f = *state;
    const struct pv_storage_info *in = pv_storage_info(f->s);
    assert_int_equal(in->size, FILE_SIZE);
    assert_string_equal(in->engine, f->engine);
    assert_true(in->logical_block >= 512 && in->logical_block <= 4096);
    assert_int_equal(in->physical_block % in->logical_block, 0);
    assert_false(in->read_only);
    assert_false(in->block_device);
    assert_true(in->discard_granularity >= in->logical_block);
}

static void test_write_read_back(void **state)
{
    struct fixture *f = *state;
    uint8_t *a = aligned_buf(8192, 0), *b = aligned_buf(4096, 0), *in = aligned_buf(12288, 0);
    for (int i = 0; i < 8192; i++)
        a[i] = (uint8_t)(i * 7 + 1);
    memset(b, 0x5c, 4096);
    struct iovec w[2] = {{a, 8192}, {b, 4096}};
    assert_int_equal(do_io(f->s, PV_STORAGE_WRITE, 65536, w, 2, 0), 12288);
    assert_int_equal(do_io(f->s, PV_STORAGE_FLUSH, 0, NULL, 0, 0), 0);

    struct iovec r = {in, 12288};
    assert_int_equal(do_io(f->s, PV_STORAGE_READ, 65536, &r, 1, 0), 12288);
    assert_memory_equal(in, a, 8192);
    assert_memory_equal(in + 8192, b, 4096);

    /* The file itself holds the data, read by an independent descriptor. */
    FILE *fp = fopen(f->path, "rb");
    assert_non_null(fp);
    uint8_t check[12288];
    assert_int_equal(fseek(fp, 65536, SEEK_SET), 0);
    assert_int_equal(fread(check, 1, sizeof(check), fp), sizeof(check));
    fclose(fp);
    assert_memory_equal(check, a, 8192);
    assert_memory_equal(check + 8192, b, 4096);
    free(a);
    free(b);
    free(in);
}

static void test_discard_reads_zeros(void **state)
{
    struct fixture *f = *state;
    const struct pv_storage_info *info = pv_storage_info(f->s);
    assert_true(info->can_discard); /* the test filesystem punches holes */
    uint8_t *buf = aligned_buf(262144, 0xee);
    struct iovec v = {buf, 262144};
    assert_int_equal(do_io(f->s, PV_STORAGE_WRITE, 1 << 20, &v, 1, 0), 262144);
    /* Discard the middle 128 KiB: it reads back as zeros, the rest stays. */
    assert_int_equal(do_io(f->s, PV_STORAGE_DISCARD, (1 << 20) + 65536, NULL, 0, 131072), 0);
    memset(buf, 0x11, 262144);
    assert_int_equal(do_io(f->s, PV_STORAGE_READ, 1 << 20, &v, 1, 0), 262144);
    for (size_t i = 0; i < 262144; i++) {
        uint8_t want = (i >= 65536 && i < 196608) ? 0 : 0xee;
        if (buf[i] != want)
            fail_msg("byte %zu is %#x, want %#x", i, buf[i], want);
    }
    /* A file has no secure erase. */
    assert_int_equal(do_io(f->s, PV_STORAGE_SECURE_DISCARD, 0, NULL, 0, 4096), -EOPNOTSUPP);
    free(buf);
}

static void test_batch(void **state)
{
    struct fixture *f = *state;
    enum { N = 64 };
    uint8_t *buf = aligned_buf(N * 4096, 0);
    struct iovec v[N];
    struct pv_storage_req r[N];
    struct done d[N];
    for (int i = 0; i < N; i++) {
        memset(buf + i * 4096, i + 1, 4096);
        v[i] = (struct iovec){buf + i * 4096, 4096};
        d[i] = (struct done){0, 0};
        r[i] = (struct pv_storage_req){.op = PV_STORAGE_WRITE,
                                       .offset = (uint64_t)i * 8192,
                                       .iov = &v[i],
                                       .iovcnt = 1,
                                       .cb = on_done,
                                       .arg = &d[i]};
        assert_int_equal(pv_storage_submit(f->s, &r[i]), 0);
    }
    assert_int_equal(pv_storage_in_flight(f->s), N);
    wait_all(f->s);
    for (int i = 0; i < N; i++) {
        assert_int_equal(d[i].calls, 1);
        assert_int_equal(d[i].result, 4096);
    }
    memset(buf, 0, N * 4096);
    for (int i = 0; i < N; i++) {
        r[i].op = PV_STORAGE_READ;
        assert_int_equal(pv_storage_submit(f->s, &r[i]), 0);
    }
    wait_all(f->s);
    for (int i = 0; i < N; i++) {
        assert_int_equal(d[i].result, 4096);
        assert_int_equal(buf[i * 4096], i + 1);
        assert_int_equal(buf[i * 4096 + 4095], i + 1);
    }
    free(buf);
}

static void test_bad_requests(void **state)
{
    struct fixture *f = *state;
    const uint32_t lb = pv_storage_info(f->s)->logical_block;
    uint8_t *buf = aligned_buf(8192, 0);
    struct done d = {0, 0};
    struct iovec v = {buf, 4096};
    struct pv_storage_req r = {
        .op = PV_STORAGE_READ, .offset = lb / 2, .iov = &v, .iovcnt = 1, .cb = on_done, .arg = &d};
    assert_int_equal(pv_storage_submit(f->s, &r), -EINVAL); /* misaligned offset */
    r.offset = FILE_SIZE - 2048;
    assert_int_equal(pv_storage_submit(f->s, &r), -EINVAL); /* past the end */
    r.offset = FILE_SIZE;
    assert_int_equal(pv_storage_submit(f->s, &r), -EINVAL);
    r.offset = 0;
    r.iovcnt = 0;
    assert_int_equal(pv_storage_submit(f->s, &r), -EINVAL);
    r.op = PV_STORAGE_DISCARD;
    r.length = 0;
    assert_int_equal(pv_storage_submit(f->s, &r), -EINVAL);
    r.length = UINT64_MAX - 4095;
    r.offset = 4096;
    assert_int_equal(pv_storage_submit(f->s, &r), -EINVAL);
    if (pv_storage_info(f->s)->direct) {
        struct iovec odd = {buf + 1, 4096};
        r = (struct pv_storage_req){
            .op = PV_STORAGE_WRITE, .iov = &odd, .iovcnt = 1, .cb = on_done, .arg = &d};
        assert_int_equal(pv_storage_submit(f->s, &r), -EINVAL);
    }
    assert_int_equal(pv_storage_in_flight(f->s), 0);
    assert_int_equal(d.calls, 0);
    free(buf);
}

static void test_depth_limit(void **state)
{
    struct fixture *f = *state;
    struct pv_storage *s = open_store(f, false, false, 4);
    assert_non_null(s);
    uint8_t *buf = aligned_buf(4096, 1);
    struct iovec v = {buf, 4096};
    struct pv_storage_req r[5];
    struct done d[5];
    for (int i = 0; i < 5; i++) {
        d[i] = (struct done){0, 0};
        r[i] = (struct pv_storage_req){.op = PV_STORAGE_READ,
                                       .offset = 0,
                                       .iov = &v,
                                       .iovcnt = 1,
                                       .cb = on_done,
                                       .arg = &d[i]};
    }
    for (int i = 0; i < 4; i++)
        assert_int_equal(pv_storage_submit(s, &r[i]), 0);
    assert_int_equal(pv_storage_submit(s, &r[4]), -EAGAIN);
    wait_all(s);
    assert_int_equal(pv_storage_submit(s, &r[4]), 0);
    /* Closing with a request in flight finishes it first. */
    assert_int_equal(pv_storage_kick(s), 0);
    pv_storage_close(s);
    assert_int_equal(d[4].calls, 1);
    assert_int_equal(d[4].result, 4096);
    free(buf);
}

static void test_read_only(void **state)
{
    struct fixture *f = *state;
    uint8_t *buf = aligned_buf(4096, 0x77);
    struct iovec v = {buf, 4096};
    assert_int_equal(do_io(f->s, PV_STORAGE_WRITE, 0, &v, 1, 0), 4096);

    struct pv_storage *ro = open_store(f, true, false, 0);
    assert_non_null(ro);
    assert_true(pv_storage_info(ro)->read_only);
    assert_false(pv_storage_info(ro)->can_discard);
    memset(buf, 0, 4096);
    struct done d = {0, 0};
    struct pv_storage_req r = {
        .op = PV_STORAGE_WRITE, .offset = 0, .iov = &v, .iovcnt = 1, .cb = on_done, .arg = &d};
    assert_int_equal(pv_storage_submit(ro, &r), -EROFS);
    r.op = PV_STORAGE_FLUSH;
    assert_int_equal(pv_storage_submit(ro, &r), -EROFS);
    r.op = PV_STORAGE_DISCARD;
    r.length = 4096;
    assert_int_equal(pv_storage_submit(ro, &r), -EROFS);
    assert_int_equal(d.calls, 0);
    assert_int_equal(do_io(ro, PV_STORAGE_READ, 0, &v, 1, 0), 4096);
    assert_int_equal(buf[0], 0x77); /* the image is untouched */
    assert_int_equal(buf[4095], 0x77);
    pv_storage_close(ro);
    free(buf);
}

static void test_buffered(void **state)
{
    struct fixture *f = *state;
    struct pv_storage *s = open_store(f, false, true, 0);
    assert_non_null(s);
    assert_false(pv_storage_info(s)->direct);
    uint8_t *buf = aligned_buf(4096, 0x3c);
    struct iovec v = {buf, 4096};
    assert_int_equal(do_io(s, PV_STORAGE_WRITE, 8192, &v, 1, 0), 4096);
    memset(buf, 0, 4096);
    assert_int_equal(do_io(f->s, PV_STORAGE_READ, 8192, &v, 1, 0), 4096);
    assert_int_equal(buf[100], 0x3c);
    pv_storage_close(s);
    free(buf);
}

/* Small and large requests at once, so that the split engine has requests
 * in both of its halves together: each completes once with its full length,
 * and what was written reads back. */
static void test_mixed_sizes(void **state)
{
    struct fixture *f = *state;
    enum { N = 16, SMALL = 4096, LARGE = 131072, SLOT = 262144 };
    uint8_t *buf = aligned_buf((size_t)N * LARGE, 0);
    struct iovec v[N];
    struct pv_storage_req r[N + 1];
    struct done d[N + 1];
    for (int i = 0; i < N; i++) {
        size_t len = i % 2 ? LARGE : SMALL;
        for (size_t j = 0; j < len; j++)
            buf[(size_t)i * LARGE + j] = (uint8_t)(i * 31 + j / 512);
        v[i] = (struct iovec){buf + (size_t)i * LARGE, len};
        d[i] = (struct done){0, 0};
        r[i] = (struct pv_storage_req){.op = PV_STORAGE_WRITE,
                                       .offset = (uint64_t)i * SLOT,
                                       .iov = &v[i],
                                       .iovcnt = 1,
                                       .cb = on_done,
                                       .arg = &d[i]};
        assert_int_equal(pv_storage_submit(f->s, &r[i]), 0);
    }
    d[N] = (struct done){0, 1};
    r[N] = (struct pv_storage_req){.op = PV_STORAGE_FLUSH, .cb = on_done, .arg = &d[N]};
    assert_int_equal(pv_storage_submit(f->s, &r[N]), 0);
    assert_int_equal(pv_storage_in_flight(f->s), N + 1);
    wait_all(f->s);
    for (int i = 0; i < N; i++) {
        assert_int_equal(d[i].calls, 1);
        assert_int_equal(d[i].result, (int64_t)v[i].iov_len);
    }
    assert_int_equal(d[N].calls, 1);
    assert_int_equal(d[N].result, 0);

    uint8_t *in = aligned_buf((size_t)N * LARGE, 0);
    for (int i = 0; i < N; i++) {
        v[i].iov_base = in + (size_t)i * LARGE;
        r[i].op = PV_STORAGE_READ;
        d[i] = (struct done){0, 0};
        assert_int_equal(pv_storage_submit(f->s, &r[i]), 0);
    }
    wait_all(f->s);
    for (int i = 0; i < N; i++) {
        assert_int_equal(d[i].result, (int64_t)v[i].iov_len);
        assert_memory_equal(in + (size_t)i * LARGE, buf + (size_t)i * LARGE, v[i].iov_len);
    }
    free(in);
    free(buf);
}

/* Without an engine named, a store with O_DIRECT gets libaio, and one whose
 * I/O is page-cache copies (no O_DIRECT, or tmpfs) the split engine
 * (blkback/storage.c says why). */
static void test_default_engine(void **state)
{
    (void)state;
    struct fixture f = {.engine = NULL};
    assert_int_equal(setup_file(&f), 0);
    for (int buffered = 0; buffered < 2; buffered++) {
        struct pv_storage *s = open_store(&f, false, buffered, 0);
        assert_non_null(s);
        const struct pv_storage_info *in = pv_storage_info(s);
        assert_string_equal(in->engine, in->page_cache ? "aio+uring" : "aio");
        if (buffered)
            assert_true(!in->direct && in->page_cache);
        pv_storage_close(s);
    }
    unlink(f.path);

    /* tmpfs takes O_DIRECT on newer kernels, but it is still a page-cache
     * copy: the split engine there too. */
    struct statfs fs;
    char path[] = "/dev/shm/pvback-storage-XXXXXX";
    if (statfs("/dev/shm", &fs) < 0 || fs.f_type != TMPFS_MAGIC)
        return;
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(ftruncate(fd, FILE_SIZE), 0);
    close(fd);
    struct pv_storage_params p = {.path = path};
    char err[256] = "";
    struct pv_storage *s = pv_storage_open(&p, err, sizeof(err));
    unlink(path);
    if (!s)
        fail_msg("%s", err);
    assert_true(pv_storage_info(s)->page_cache);
    assert_string_equal(pv_storage_info(s)->engine, "aio+uring");
    pv_storage_close(s);
}

static void test_open_errors(void **state)
{
    (void)state;
    char err[256];
    struct pv_storage_params p = {.path = "/nonexistent/pvback/disk.img"};
    assert_null(pv_storage_open(&p, err, sizeof(err)));
    assert_non_null(strstr(err, "/nonexistent/pvback/disk.img"));
    p.path = "/dev/null"; /* a character device is neither file nor disk */
    assert_null(pv_storage_open(&p, err, sizeof(err)));
    assert_non_null(strstr(err, "/dev/null"));
    p.path = "/etc/hostname";
    p.engine = "spdk";
    assert_null(pv_storage_open(&p, err, sizeof(err)));
    assert_non_null(strstr(err, "spdk"));
    assert_non_null(strstr(err, "aio+uring")); /* the choices */
}

/* The benchmark engine: answers at once (never inside submit), stores nothing,
 * and still refuses what the store would refuse. */
static void test_null_engine(void **state)
{
    struct fixture *f = *state;
    struct pv_storage *s = open_store(f, false, false, 0);
    assert_non_null(s);
    assert_string_equal(pv_storage_info(s)->engine, "null");
    uint8_t *buf = aligned_buf(8192, 0x42);
    struct iovec v = {buf, 8192};
    assert_int_equal(do_io(s, PV_STORAGE_WRITE, 4096, &v, 1, 0), 8192);
    assert_int_equal(do_io(s, PV_STORAGE_READ, 4096, &v, 1, 0), 8192);
    assert_int_equal(buf[0], 0x42); /* untouched */
    assert_int_equal(do_io(s, PV_STORAGE_FLUSH, 0, NULL, 0, 0), 0);
    struct done d = {0, 0};
    struct pv_storage_req r = {.op = PV_STORAGE_READ,
                               .offset = FILE_SIZE,
                               .iov = &v,
                               .iovcnt = 1,
                               .cb = on_done,
                               .arg = &d};
    assert_int_equal(pv_storage_submit(s, &r), -EINVAL);
    pv_storage_close(s);
    /* Nothing reached the file. */
    FILE *fp = fopen(f->path, "rb");
    assert_non_null(fp);
    uint8_t check[8192];
    assert_int_equal(fseek(fp, 4096, SEEK_SET), 0);
    assert_int_equal(fread(check, 1, sizeof(check), fp), sizeof(check));
    fclose(fp);
    for (size_t i = 0; i < sizeof(check); i++)
        assert_int_equal(check[i], 0);
    free(buf);
}

/* A loop device over the fixture's file: the block-device path. Secure
 * erase must be claimed exactly when the kernel performs it: offered, a
 * secure discard of written blocks succeeds; not offered (loop devices
 * have no secure erase), the kernel refuses it with EOPNOTSUPP. A plain
 * discard reads back as zeros either way. Needs root and loop devices;
 * skipped without them. */
static void test_block_device_discard(void **state)
{
    struct fixture *f = *state;
    char cmd[512], dev[64] = "";
    snprintf(cmd, sizeof(cmd), "losetup -f --show %s 2>/dev/null", f->path);
    FILE *p = geteuid() == 0 ? popen(cmd, "r") : NULL;
    if (p) {
        if (!fgets(dev, sizeof(dev), p))
            dev[0] = 0;
        pclose(p);
    }
    dev[strcspn(dev, "\n")] = 0;
    if (!dev[0])
        skip();
    struct pv_storage_params prm = {.path = dev, .engine = f->engine};
    char err[256] = "";
    struct pv_storage *s = pv_storage_open(&prm, err, sizeof(err));
    const struct pv_storage_info *in = s ? pv_storage_info(s) : NULL;
    bool ok = in && in->block_device && in->size == FILE_SIZE && in->can_discard;
    uint8_t *buf = aligned_buf(65536, 0x5a);
    struct iovec v = {buf, 65536};
    if (ok) {
        assert_int_equal(do_io(s, PV_STORAGE_WRITE, 65536, &v, 1, 0), 65536);
        int64_t sec = do_io(s, PV_STORAGE_SECURE_DISCARD, 65536, NULL, 0, 4096);
        ok = in->can_secure_discard ? sec == 0 : sec == -EOPNOTSUPP;
        if (!ok)
            fprintf(stderr, "%s: secure erase %s, secure discard answered %lld\n", dev,
                    in->can_secure_discard ? "offered" : "not offered", (long long)sec);
    }
    if (ok) {
        assert_int_equal(do_io(s, PV_STORAGE_DISCARD, 65536, NULL, 0, 65536), 0);
        memset(buf, 0x11, 65536);
        assert_int_equal(do_io(s, PV_STORAGE_READ, 65536, &v, 1, 0), 65536);
        for (size_t i = 0; i < 65536; i++)
            ok = ok && buf[i] == 0;
    }
    pv_storage_close(s);
    snprintf(cmd, sizeof(cmd), "losetup -d %s", dev);
    int rc = system(cmd);
    free(buf);
    if (!in)
        fail_msg("opening %s: %s", dev, err);
    assert_int_equal(rc, 0);
    assert_true(ok);
}

#define ENGINE_TEST(f, e) cmocka_unit_test_prestate_setup_teardown(f, setup, teardown, (void *)e)
#define ALL(f)            ENGINE_TEST(f, "aio"), ENGINE_TEST(f, "uring"), ENGINE_TEST(f, "aio+uring")

int main(void)
{
    const struct CMUnitTest tests[] = {
        ALL(test_info),
        ALL(test_write_read_back),
        ALL(test_discard_reads_zeros),
        ALL(test_batch),
        ALL(test_bad_requests),
        ALL(test_depth_limit),
        ALL(test_read_only),
        ALL(test_buffered),
        ALL(test_mixed_sizes),
        ALL(test_block_device_discard),
        cmocka_unit_test(test_default_engine),
        cmocka_unit_test(test_open_errors),
        ENGINE_TEST(test_null_engine, "null"),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
