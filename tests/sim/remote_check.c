/* pvback-remote-check: drives the storage layer (pv_storage_*) on a remote
 * URL from a pv_loop, as pvback-blk does, and checks what a user would:
 *
 *   open URL                 opening fails: prints the error, exits 0 (the
 *                            script checks the message names the culprit)
 *   io URL BACKING           patterns of many sizes and iovec shapes written,
 *                            read back, flushed, found in the server's
 *                            BACKING file; discard (where offered) reads
 *                            back zeros there too
 *   soak URL BACKING SECS    16 slots, each writing a new generation, reading
 *                            it back and verifying, for SECS seconds (the
 *                            script restarts the server meanwhile); no
 *                            request may fail; BACKING holds the last ones
 *   idle URL BACKING SECS    the store open and idle for SECS seconds (the
 *                            script takes the server away meanwhile), then
 *                            one write, read back and found in BACKING
 *
 * Exit status 0 on success, 1 with a message on the first failure. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "loop.h"
#include "storage.h"

#define SLOT_SIZE  (64u << 10)
#define SOAK_SLOTS 16u

static struct pv_loop *loop;
static struct pv_storage *st;

static void fail(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));

static void fail(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "remote-check: FAIL: ");
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\n");
    va_end(ap);
    exit(1);
}

/* The pattern: every 8-byte word says where it is and which generation. */
static uint64_t word_at(uint64_t off, uint32_t gen)
{
    uint64_t x = (off + 1) * 0x9e3779b97f4a7c15ull ^ ((uint64_t)gen << 32 | gen);
    x ^= x >> 29;
    return x * 0xbf58476d1ce4e5b9ull;
}

static void fill(uint8_t *buf, uint64_t off, size_t len, uint32_t gen)
{
    for (size_t i = 0; i < len; i += 8) {
        uint64_t w = word_at(off + i, gen);
        memcpy(buf + i, &w, 8);
    }
}

static bool matches(const uint8_t *buf, uint64_t off, size_t len, uint32_t gen)
{
    for (size_t i = 0; i < len; i += 8) {
        uint64_t w = word_at(off + i, gen);
        if (memcmp(buf + i, &w, 8))
            return false;
    }
    return true;
}

/* A page-aligned buffer, as the guest's pages are. */
static uint8_t *alloc_buf(size_t len)
{
    void *p;
    if (posix_memalign(&p, 4096, len))
        fail("out of memory");
    return p;
}

struct done {
    bool finished;
    int64_t result;
};

static void on_done(struct pv_storage_req *req, int64_t result)
{
    struct done *d = req->arg;
    d->finished = true;
    d->result = result;
}

static void on_storage(int fd, uint32_t events, void *arg)
{
    (void)fd;
    (void)events;
    (void)arg;
    int n = pv_storage_reap(st);
    if (n < 0)
        fail("reap: %s", strerror(-n));
}

/* One request, waited for through the loop. Returns its result. */
static int64_t run(enum pv_storage_op op, uint64_t off, uint64_t len, const struct iovec *iov,
                   int iovcnt)
{
    struct done d = {0};
    struct pv_storage_req req = {
        .op = op,
        .offset = off,
        .length = len,
        .iov = iov,
        .iovcnt = iovcnt,
        .cb = on_done,
        .arg = &d,
    };
    int rc = pv_storage_submit(st, &req);
    if (rc < 0)
        return rc;
    pv_storage_kick(st);
    uint64_t deadline = pv_now_ms() + 120000;
    while (!d.finished && pv_now_ms() < deadline)
        pv_loop_run_once(loop, 1000);
    if (!d.finished)
        fail("request op %d at %" PRIu64 " never completed", op, off);
    return d.result;
}

static void check_backing(const char *backing, uint64_t off, size_t len, uint32_t gen, bool zeros)
{
    int fd = open(backing, O_RDONLY);
    if (fd < 0)
        fail("%s: %s", backing, strerror(errno));
    uint8_t *buf = malloc(len);
    if (!buf || pread(fd, buf, len, (off_t)off) != (ssize_t)len)
        fail("%s: short read at %" PRIu64, backing, off);
    close(fd);
    for (size_t i = 0; zeros && i < len; i++)
        if (buf[i])
            fail("%s: byte %" PRIu64 " is %u after discard, expected 0", backing, off + i, buf[i]);
    if (!zeros && !matches(buf, off, len, gen))
        fail("%s: bytes at %" PRIu64 "+%zu are not what was written", backing, off, len);
    free(buf);
}

static int cmd_io(const char *backing)
{
    const struct pv_storage_info *in = pv_storage_info(st);
    /* (offset, length, iovec count): small and large, aligned and split. */
    static const struct {
        uint64_t off;
        uint32_t len;
        int niov;
    } cases[] = {
        {0, 4096, 1},          {4096, 512, 1},          {8192 + 512, 3584, 7},
        {1 << 20, 1 << 20, 1}, {3 << 20, 1 << 20, 256}, {5 << 20, 65536, 16},
        {7 << 20, 131072, 3},
    };
    uint32_t gen = 1;
    for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++, gen++) {
        uint64_t off = cases[c].off;
        uint32_t len = cases[c].len;
        int niov = cases[c].niov;
        if (off + len > in->size)
            fail("the store (%" PRIu64 " bytes) is too small for the test", in->size);
        uint8_t *wbuf = alloc_buf(len), *rbuf = alloc_buf(len);
        struct iovec *iov = calloc((size_t)niov, sizeof(*iov));
        fill(wbuf, off, len, gen);
        memset(rbuf, 0xa5, len);
        /* Split into niov pieces, each a multiple of 512 bytes. */
        uint32_t sectors = len / 512, at = 0;
        for (int i = 0; i < niov; i++) {
            uint32_t n = (sectors / (uint32_t)niov + (i < (int)(sectors % (uint32_t)niov))) * 512;
            iov[i] = (struct iovec){wbuf + at, n};
            at += n;
        }
        int64_t r = run(PV_STORAGE_WRITE, off, 0, iov, niov);
        if (r != len)
            fail("write %" PRIu64 "+%u (%d iovecs): %" PRId64, off, len, niov, r);
        for (int i = 0; i < niov; i++)
            iov[i].iov_base = rbuf + ((uint8_t *)iov[i].iov_base - wbuf);
        r = run(PV_STORAGE_READ, off, 0, iov, niov);
        if (r != len)
            fail("read %" PRIu64 "+%u: %" PRId64, off, len, r);
        if (!matches(rbuf, off, len, gen))
            fail("read %" PRIu64 "+%u: data differs from what was written", off, len);
        r = run(PV_STORAGE_FLUSH, 0, 0, NULL, 0);
        if (r != 0)
            fail("flush: %" PRId64, r);
        check_backing(backing, off, len, gen, false);
        free(wbuf);
        free(rbuf);
        free(iov);
    }
    printf("io: %zu write/read/flush cases verified in the backing file\n",
           sizeof(cases) / sizeof(cases[0]));

    /* Discard: the range written above at 1 MiB. */
    int64_t r = run(PV_STORAGE_DISCARD, 1 << 20, 1 << 20, NULL, 0);
    if (!in->can_discard) {
        if (r != -EOPNOTSUPP)
            fail("discard on a store without discard: %" PRId64 ", expected EOPNOTSUPP", r);
        printf("io: discard not offered (refused with EOPNOTSUPP)\n");
        return 0;
    }
    if (r != 1 << 20)
        fail("discard: %" PRId64, r);
    uint8_t *buf = alloc_buf(1 << 20);
    memset(buf, 0xa5, 1 << 20);
    struct iovec iov = {buf, 1 << 20};
    r = run(PV_STORAGE_READ, 1 << 20, 0, &iov, 1);
    if (r != 1 << 20)
        fail("read after discard: %" PRId64, r);
    for (size_t i = 0; i < (1u << 20); i++)
        if (buf[i])
            fail("byte %zu reads %u after discard, expected 0", i, buf[i]);
    free(buf);
    check_backing(backing, 1 << 20, 1 << 20, 0, true);
    printf("io: discard reads back zeros, in the backing file too\n");
    return 0;
}

struct slot {
    struct pv_storage_req req;
    struct iovec iov;
    uint8_t *buf;
    uint32_t gen; /* last generation written and completed */
    bool reading;
    unsigned int done;
};

static uint64_t soak_end;
static unsigned int soak_active;

static void soak_next(struct slot *s);

static void on_soak(struct pv_storage_req *req, int64_t result)
{
    struct slot *s = req->arg;
    uint64_t off = req->offset;
    if (result != SLOT_SIZE)
        fail("soak: %s at %" PRIu64 " failed: %" PRId64 " (%s)", s->reading ? "read" : "write", off,
             result, result < 0 ? strerror((int)-result) : "short");
    if (s->reading) {
        if (!matches(s->buf, off, SLOT_SIZE, s->gen))
            fail("soak: slot at %" PRIu64 " reads back other data than generation %u", off, s->gen);
        s->done++;
    }
    s->reading = !s->reading;
    soak_next(s);
}

static void soak_next(struct slot *s)
{
    if (!s->reading && pv_now_ms() >= soak_end) {
        soak_active--;
        return;
    }
    if (!s->reading)
        fill(s->buf, s->req.offset, SLOT_SIZE, ++s->gen);
    else
        memset(s->buf, 0, SLOT_SIZE);
    s->req.op = s->reading ? PV_STORAGE_READ : PV_STORAGE_WRITE;
    s->req.iov = &s->iov;
    s->req.iovcnt = 1;
    s->req.cb = on_soak;
    s->req.arg = s;
    int rc = pv_storage_submit(st, &s->req);
    if (rc < 0)
        fail("soak: submit: %s", strerror(-rc));
}

static int cmd_soak(const char *backing, unsigned int secs)
{
    struct slot slots[SOAK_SLOTS];
    soak_end = pv_now_ms() + secs * 1000ull;
    soak_active = SOAK_SLOTS;
    for (unsigned int i = 0; i < SOAK_SLOTS; i++) {
        slots[i] = (struct slot){.buf = alloc_buf(SLOT_SIZE)};
        slots[i].iov = (struct iovec){slots[i].buf, SLOT_SIZE};
        slots[i].req.offset = (uint64_t)i * SLOT_SIZE * 2;
        soak_next(&slots[i]);
    }
    pv_storage_kick(st);
    uint64_t hard_end = soak_end + 300000;
    while (soak_active && pv_now_ms() < hard_end) {
        pv_loop_run_once(loop, 1000);
        pv_storage_kick(st);
    }
    if (soak_active)
        fail("soak: %u slots still waiting 300 s after the end", soak_active);
    if (run(PV_STORAGE_FLUSH, 0, 0, NULL, 0) != 0)
        fail("soak: final flush failed");
    unsigned int total = 0;
    for (unsigned int i = 0; i < SOAK_SLOTS; i++) {
        check_backing(backing, slots[i].req.offset, SLOT_SIZE, slots[i].gen, false);
        total += slots[i].done;
        free(slots[i].buf);
    }
    printf("soak: %u write+read+verify rounds, no error, backing file holds the last ones\n",
           total);
    return 0;
}

static int cmd_idle(const char *backing, unsigned int secs)
{
    uint64_t end = pv_now_ms() + secs * 1000ull;
    while (pv_now_ms() < end)
        pv_loop_run_once(loop, 200);
    uint8_t *w = alloc_buf(SLOT_SIZE), *r = alloc_buf(SLOT_SIZE);
    fill(w, 0, SLOT_SIZE, 77);
    struct iovec iov = {w, SLOT_SIZE};
    int64_t rc = run(PV_STORAGE_WRITE, 0, 0, &iov, 1);
    if (rc != SLOT_SIZE)
        fail("idle: write after the outage: %" PRId64, rc);
    iov.iov_base = r;
    rc = run(PV_STORAGE_READ, 0, 0, &iov, 1);
    if (rc != SLOT_SIZE || !matches(r, 0, SLOT_SIZE, 77))
        fail("idle: read after the outage: %" PRId64, rc);
    if (run(PV_STORAGE_FLUSH, 0, 0, NULL, 0) != 0)
        fail("idle: flush after the outage failed");
    check_backing(backing, 0, SLOT_SIZE, 77, false);
    free(w);
    free(r);
    printf("idle: I/O after the outage verified in the backing file\n");
    return 0;
}

int main(int argc, char **argv)
{
    pv_log_init("remote-check");
    if (argc < 3) {
        fprintf(stderr, "usage: %s open|io|soak|idle URL [BACKING [SECS]]\n", argv[0]);
        return 2;
    }
    const char *cmd = argv[1];
    char err[512];
    struct pv_storage_params p = {
        .path = argv[2],
        .depth = 64,
        .chap_file = getenv("REMOTE_CHAP_FILE"),
        .reconnect_timeout =
            getenv("REMOTE_TIMEOUT") ? (unsigned)atoi(getenv("REMOTE_TIMEOUT")) : 0,
    };
    st = pv_storage_open(&p, err, sizeof(err));
    if (!strcmp(cmd, "open")) {
        if (st)
            fail("opening %s succeeded, expected an error", argv[2]);
        printf("%s\n", err);
        return 0;
    }
    if (!st)
        fail("open: %s", err);
    loop = pv_loop_new();
    if (!pv_loop_add_fd(loop, pv_storage_fd(st), EPOLLIN, on_storage, NULL))
        fail("loop: %s", strerror(errno));
    int rc;
    if (!strcmp(cmd, "io") && argc == 4)
        rc = cmd_io(argv[3]);
    else if (!strcmp(cmd, "soak") && argc == 5)
        rc = cmd_soak(argv[3], (unsigned)atoi(argv[4]));
    else if (!strcmp(cmd, "idle") && argc == 5)
        rc = cmd_idle(argv[3], (unsigned)atoi(argv[4]));
    else
        fail("bad arguments");
    pv_storage_close(st);
    pv_loop_free(loop);
    return rc;
}
