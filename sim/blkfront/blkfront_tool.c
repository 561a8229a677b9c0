/* pvback-blkfront: the simulated guest's disk as a command-line workload.
 * Run as guest N (XENSIM_DOMID=N, or `xensim exec`):
 *
 *   pvback-blkfront [options] COMMAND
 *     info         negotiate, print the disk's properties as key=value lines
 *     verify       a random mix of writes and reads (and flushes, barriers,
 *                  discards) checked against a shadow copy of the disk, then
 *                  the whole disk read back and compared; --dump FILE saves
 *                  the expected contents so that a test can compare the image
 *     readonly     a write must fail with BLKIF_RSP_ERROR, a read succeed
 *     wait-sectors N   wait until the backend announces N sectors (resize)
 *     ordering IMAGE   16 writes then a barrier: the barrier must be answered
 *                  after all of them; then a flush carrying data: once it is
 *                  answered, IMAGE (the backend's file) must hold the data
 *     hostile KIND     send one request breaking a rule (blkfront_hostile.h);
 *                  succeeds when the backend answers it with an error (or, for
 *                  prod-overflow, does not answer; for event-storm, still serves
 *                  a valid read)
 *   options: --devid N (51712) --queues N --ring-order N --depth N
 *            --no-persistent --no-indirect --x86-32 --ops N --align 512|4096
 *            --max-io BYTES --seed N --reconnect-after N --dump FILE
 *
 * Exit status 0 only when every check passed. */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <xen/io/blkif.h>

#include "blkfront.h"
#include "blkfront_hostile.h"
#include "platform.h"
#include "xs.h"

struct opts {
    struct blkfront_opts bf;
    unsigned long ops;
    unsigned int align;
    size_t max_io;
    uint64_t seed;
    unsigned long reconnect_after;
    const char *dump;
};

/* One request of the workload, with the buffer it owns. */
struct job {
    struct blkfront_io io;
    uint8_t *buf;
    bool busy;
    bool capture; /* a read that defines the shadow instead of checking it */
    int status;
    struct ctx *ctx;
};

struct ctx {
    struct blkfront *f;
    uint8_t *shadow; /* expected contents of the disk */
    uint64_t disk_bytes;
    unsigned long errors, done;
};

static uint64_t rng_state;
static uint64_t rnd(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

static void fail(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void fail(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "pvback-blkfront: ");
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\n");
    va_end(ap);
    exit(1);
}

static void on_done(struct blkfront_io *io, int status)
{
    struct job *j = io->arg;
    struct ctx *c = j->ctx;
    j->busy = false;
    j->status = status;
    c->done++;
    if (status != BLKIF_RSP_OKAY) {
        fprintf(stderr, "request op %d at %" PRIu64 " len %zu failed: status %d\n", io->op,
                io->offset, io->len, status);
        c->errors++;
        return;
    }
    if (io->op == BLKFRONT_READ && j->capture) {
        memcpy(c->shadow + io->offset, io->buf, io->len);
    } else if (io->op == BLKFRONT_READ && memcmp(io->buf, c->shadow + io->offset, io->len)) {
        size_t k = 0;
        while (((uint8_t *)io->buf)[k] == c->shadow[io->offset + k])
            k++;
        fprintf(stderr, "read at %" PRIu64 " len %zu: byte %zu differs (got %#x, want %#x)\n",
                io->offset, io->len, k, ((uint8_t *)io->buf)[k], c->shadow[io->offset + k]);
        c->errors++;
    }
}

/* Runs one request synchronously. */
static int run_sync(struct ctx *c, struct job *j)
{
    j->busy = true;
    j->ctx = c;
    j->io.done = on_done;
    j->io.arg = j;
    int rc = blkfront_submit(c->f, &j->io);
    if (rc < 0)
        fail("submit: %s", strerror(-rc));
    for (int i = 0; j->busy && i < 200; i++)
        if (blkfront_wait(c->f, 100) < 0)
            fail("waiting for a response: %s", strerror(errno));
    if (j->busy)
        fail("no response within 20 s");
    return j->status;
}

static bool overlaps(const struct job *jobs, unsigned int n, uint64_t off, size_t len)
{
    for (unsigned int i = 0; i < n; i++)
        if (jobs[i].busy && off < jobs[i].io.offset + jobs[i].io.len &&
            jobs[i].io.offset < off + len)
            return true;
    return false;
}

/* Fills j with a random request that overlaps no request in flight, and
 * updates the shadow for what it will write. */
static void make_request(struct ctx *c, const struct opts *o, struct job *jobs, unsigned int n,
                         struct job *j)
{
    const struct blkfront_info *in = blkfront_info(c->f);
    size_t max = o->max_io < in->max_io ? o->max_io : in->max_io;
    for (;;) {
        uint64_t r = rnd() % 100;
        enum blkfront_op op = r < 45   ? BLKFRONT_WRITE
                              : r < 90 ? BLKFRONT_READ
                              : r < 94 ? BLKFRONT_FLUSH
                              : r < 97 ? BLKFRONT_BARRIER
                                       : BLKFRONT_DISCARD;
        if ((op == BLKFRONT_FLUSH && !in->flush) || (op == BLKFRONT_BARRIER && !in->barrier) ||
            (op == BLKFRONT_DISCARD && !in->discard))
            op = BLKFRONT_WRITE;
        size_t units = max / o->align;
        /* Mostly small requests, sometimes up to the largest. */
        size_t len =
            (rnd() % 4 ? 1 + rnd() % (units < 16 ? units : 16) : 1 + rnd() % units) * o->align;
        if ((op == BLKFRONT_FLUSH || op == BLKFRONT_BARRIER) &&
            len > BLKIF_MAX_SEGMENTS_PER_REQUEST * 4096)
            len = BLKIF_MAX_SEGMENTS_PER_REQUEST * 4096;
        if (op == BLKFRONT_DISCARD) /* whole logical sectors */
            len = (len + in->sector_size - 1) / in->sector_size * in->sector_size;
        uint64_t slots = (c->disk_bytes - len) / o->align + 1;
        uint64_t off = (rnd() % slots) * o->align;
        if (op == BLKFRONT_DISCARD)
            off = off / in->sector_size * in->sector_size;
        if (overlaps(jobs, n, off, len))
            continue;
        /* Flushes and barriers without data, sometimes. */
        if ((op == BLKFRONT_FLUSH || op == BLKFRONT_BARRIER) && rnd() % 2)
            len = 0;
        j->io = (struct blkfront_io){.op = op, .offset = off, .len = len, .buf = j->buf};
        if (op == BLKFRONT_WRITE || ((op == BLKFRONT_FLUSH || op == BLKFRONT_BARRIER) && len)) {
            for (size_t k = 0; k < len; k += 8) {
                uint64_t v = rnd();
                memcpy(j->buf + k, &v, 8);
            }
            memcpy(c->shadow + off, j->buf, len);
        } else if (op == BLKFRONT_DISCARD) {
            memset(c->shadow + off, 0, len);
        }
        return;
    }
}

/* Reads the whole disk: capturing it into the shadow, or checking it. */
static void read_all(struct ctx *c, struct job *j, size_t chunk, bool capture)
{
    for (uint64_t off = 0; off < c->disk_bytes; off += chunk) {
        size_t len = c->disk_bytes - off < chunk ? c->disk_bytes - off : chunk;
        j->io = (struct blkfront_io){.op = BLKFRONT_READ, .offset = off, .len = len, .buf = j->buf};
        j->capture = capture;
        if (run_sync(c, j) != BLKIF_RSP_OKAY)
            fail("reading the disk at %" PRIu64 " failed", off);
        j->capture = false;
    }
}

static int cmd_verify(struct ctx *c, const struct opts *o)
{
    const struct blkfront_info *in = blkfront_info(c->f);
    unsigned int depth = o->bf.depth * in->queues;
    struct job *jobs = calloc(depth, sizeof(*jobs));
    if (!jobs)
        fail("out of memory");
    for (unsigned int i = 0; i < depth; i++) {
        jobs[i].buf = malloc(in->max_io);
        jobs[i].ctx = c;
        if (!jobs[i].buf)
            fail("out of memory");
    }
    read_all(c, &jobs[0], in->max_io, true);

    unsigned long issued = 0;
    bool reconnected = false;
    while (issued < o->ops || blkfront_in_flight(c->f)) {
        for (unsigned int i = 0; i < depth && issued < o->ops; i++) {
            struct job *j = &jobs[i];
            if (j->busy)
                continue;
            make_request(c, o, jobs, depth, j);
            j->busy = true;
            j->io.done = on_done;
            j->io.arg = j;
            int rc = blkfront_submit(c->f, &j->io);
            if (rc == -EAGAIN) {
                j->busy = false;
                break;
            }
            if (rc < 0)
                fail("submit: %s", strerror(-rc));
            issued++;
        }
        if (o->reconnect_after && !reconnected && issued >= o->reconnect_after) {
            char err[256];
            unsigned int pending = blkfront_in_flight(c->f);
            if (blkfront_reconnect(c->f, err, sizeof(err)) < 0)
                fail("reconnect: %s", err);
            printf("reconnected with %u requests in flight\n", pending);
            reconnected = true;
        }
        if (blkfront_wait(c->f, 1000) < 0)
            fail("waiting for responses: %s", strerror(errno));
    }
    read_all(c, &jobs[0], in->max_io, false);
    printf("ops=%lu completed=%lu errors=%lu\n", issued, c->done, c->errors);
    if (o->dump) {
        FILE *fp = fopen(o->dump, "wb");
        if (!fp || fwrite(c->shadow, 1, c->disk_bytes, fp) != c->disk_bytes || fclose(fp))
            fail("cannot write %s: %s", o->dump, strerror(errno));
    }
    for (unsigned int i = 0; i < depth; i++)
        free(jobs[i].buf);
    free(jobs);
    return c->errors ? 1 : 0;
}

static int cmd_readonly(struct ctx *c)
{
    struct job j = {.buf = malloc(4096)};
    if (!j.buf)
        fail("out of memory");
    j.io = (struct blkfront_io){.op = BLKFRONT_READ, .offset = 0, .len = 4096, .buf = j.buf};
    j.capture = true;
    int rd = run_sync(c, &j);
    memset(j.buf, 0xab, 4096);
    j.io = (struct blkfront_io){.op = BLKFRONT_WRITE, .offset = 0, .len = 4096, .buf = j.buf};
    j.capture = false;
    int wr = run_sync(c, &j);
    free(j.buf);
    printf("read=%d write=%d vdisk_info=%u\n", rd, wr, blkfront_info(c->f)->vdisk_info);
    c->errors = 0;
    return rd == BLKIF_RSP_OKAY && wr == BLKIF_RSP_ERROR &&
                   (blkfront_info(c->f)->vdisk_info & VDISK_READONLY)
               ? 0
               : 1;
}

static int cmd_wait_sectors(struct blkfront *f, unsigned int devid, uint64_t want)
{
    /* A frontend learns of a resize from the backend's state being written
     * again; it then reads "sectors", which is what this does. */
    (void)f;
    struct pv_xs *xs = pv_xs_open(NULL);
    char fe[128], *be = NULL;
    snprintf(fe, sizeof(fe), "/local/domain/%u/device/vbd/%u", pv_platform_self_domid(), devid);
    if (!xs || pv_xs_read_str(xs, XBT_NULL, fe, "backend", &be) < 0)
        fail("cannot read %s/backend", fe);
    uint64_t got = 0;
    for (int i = 0; i < 1000; i++) {
        if (pv_xs_read_u64(xs, XBT_NULL, be, "sectors", 0, UINT64_MAX, &got) == 0 && got == want)
            break;
        usleep(10000);
    }
    printf("sectors=%" PRIu64 "\n", got);
    free(be);
    pv_xs_close(xs);
    return got == want ? 0 : 1;
}

/* Completion order of the ordering check. */
static struct job *order_log[32];
static unsigned int order_n;

static void on_ordered(struct blkfront_io *io, int status)
{
    struct job *j = io->arg;
    j->busy = false;
    j->status = status;
    order_log[order_n++] = j;
}

static int cmd_ordering(struct ctx *c, const char *image)
{
    enum { N = 16, LEN = 65536 };
    struct job jobs[N + 1];
    int rc = 0;
    if (!blkfront_info(c->f)->barrier || !blkfront_info(c->f)->flush)
        fail("the backend offers no barrier or flush");
    for (unsigned int i = 0; i <= N; i++) {
        jobs[i] = (struct job){.buf = malloc(LEN), .ctx = c};
        if (!jobs[i].buf)
            fail("out of memory");
        memset(jobs[i].buf, 0x10 + i, LEN);
        jobs[i].io = (struct blkfront_io){.op = i < N ? BLKFRONT_WRITE : BLKFRONT_BARRIER,
                                          .offset = (uint64_t)i * LEN,
                                          .len = i < N ? LEN : 4096,
                                          .buf = jobs[i].buf,
                                          .done = on_ordered,
                                          .arg = &jobs[i]};
        jobs[i].busy = true;
        int r = blkfront_submit(c->f, &jobs[i].io);
        if (r < 0)
            fail("submit: %s", strerror(-r));
    }
    for (int i = 0; i < 200 && order_n < N + 1; i++)
        if (blkfront_wait(c->f, 100) < 0)
            fail("waiting: %s", strerror(errno));
    if (order_n != N + 1)
        fail("only %u of %u answered", order_n, N + 1);
    for (unsigned int i = 0; i <= N; i++)
        if (jobs[i].status != BLKIF_RSP_OKAY)
            fail("request %u failed: %d", i, jobs[i].status);
    if (order_log[N] != &jobs[N]) {
        fprintf(stderr, "the barrier was answered before an earlier write\n");
        rc = 1;
    }
    /* A flush carrying data: the data is in the image once it is answered. */
    memset(jobs[0].buf, 0x7e, LEN);
    jobs[0].io = (struct blkfront_io){.op = BLKFRONT_FLUSH,
                                      .offset = 20 * LEN,
                                      .len = 32768,
                                      .buf = jobs[0].buf,
                                      .done = on_ordered,
                                      .arg = &jobs[0]};
    order_n = 0;
    if (run_sync(c, &jobs[0]) != BLKIF_RSP_OKAY)
        fail("flush with data failed");
    FILE *fp = fopen(image, "rb");
    uint8_t back[32768];
    if (!fp || fseek(fp, 20 * LEN, SEEK_SET) || fread(back, 1, sizeof(back), fp) != sizeof(back))
        fail("cannot read %s", image);
    fclose(fp);
    if (memcmp(back, jobs[0].buf, sizeof(back))) {
        fprintf(stderr, "the flushed data is not in the image\n");
        rc = 1;
    }
    for (unsigned int i = 0; i <= N; i++)
        free(jobs[i].buf);
    printf("barrier answered last, flushed data in the image: %s\n", rc ? "no" : "yes");
    return rc;
}

static void usage(FILE *out)
{
    fprintf(out,
            "usage: pvback-blkfront [--devid N] [--queues N] [--ring-order N] [--depth N]\n"
            "       [--no-persistent] [--no-indirect] [--x86-32] [--ops N] [--align 512|4096]\n"
            "       [--max-io BYTES] [--seed N] [--reconnect-after N] [--dump FILE]\n"
            "       info|verify|readonly|ordering IMAGE|wait-sectors N|hostile KIND\n");
}

int main(int argc, char **argv)
{
    static const struct option lopts[] = {{"devid", required_argument, NULL, 'd'},
                                          {"queues", required_argument, NULL, 'q'},
                                          {"ring-order", required_argument, NULL, 'r'},
                                          {"depth", required_argument, NULL, 'D'},
                                          {"no-persistent", no_argument, NULL, 'P'},
                                          {"no-indirect", no_argument, NULL, 'I'},
                                          {"x86-32", no_argument, NULL, '3'},
                                          {"ops", required_argument, NULL, 'n'},
                                          {"align", required_argument, NULL, 'a'},
                                          {"max-io", required_argument, NULL, 'm'},
                                          {"seed", required_argument, NULL, 's'},
                                          {"reconnect-after", required_argument, NULL, 'R'},
                                          {"dump", required_argument, NULL, 'o'},
                                          {"help", no_argument, NULL, 'h'},
                                          {NULL, 0, NULL, 0}};
    struct opts o = {.bf = {.devid = 51712,
                            .queues = 1,
                            .ring_order = 0,
                            .persistent = true,
                            .indirect = true,
                            .depth = 32},
                     .ops = 2000,
                     .align = 4096,
                     .max_io = 1 << 20,
                     .seed = 1};
    int c;
    while ((c = getopt_long(argc, argv, "h", lopts, NULL)) != -1) {
        switch (c) {
        case 'd':
            o.bf.devid = (uint32_t)strtoul(optarg, NULL, 0);
            break;
        case 'q':
            o.bf.queues = (unsigned)strtoul(optarg, NULL, 0);
            break;
        case 'r':
            o.bf.ring_order = (unsigned)strtoul(optarg, NULL, 0);
            break;
        case 'D':
            o.bf.depth = (unsigned)strtoul(optarg, NULL, 0);
            break;
        case 'P':
            o.bf.persistent = false;
            break;
        case 'I':
            o.bf.indirect = false;
            break;
        case '3':
            o.bf.x86_32 = true;
            break;
        case 'n':
            o.ops = strtoul(optarg, NULL, 0);
            break;
        case 'a':
            o.align = (unsigned)strtoul(optarg, NULL, 0);
            break;
        case 'm':
            o.max_io = strtoul(optarg, NULL, 0);
            break;
        case 's':
            o.seed = strtoull(optarg, NULL, 0);
            break;
        case 'R':
            o.reconnect_after = strtoul(optarg, NULL, 0);
            break;
        case 'o':
            o.dump = optarg;
            break;
        case 'h':
            usage(stdout);
            return 0;
        default:
            usage(stderr);
            return 2;
        }
    }
    if (optind >= argc || (o.align != 512 && o.align != 4096) || o.max_io < o.align ||
        o.bf.depth == 0) {
        usage(stderr);
        return 2;
    }
    const char *cmd = argv[optind];
    /* --depth is the total: the guest's grant table is shared by the queues. */
    o.bf.depth = (o.bf.depth + o.bf.queues - 1) / (o.bf.queues ? o.bf.queues : 1);
    rng_state = o.seed * 0x9e3779b97f4a7c15ull + 1;

    char err[256];
    if (pv_platform_init(NULL, err, sizeof(err)) < 0)
        fail("%s", err);
    struct ctx ctx = {0};
    ctx.f = blkfront_open(&o.bf, err, sizeof(err));
    if (!ctx.f)
        fail("%s", err);
    const struct blkfront_info *in = blkfront_info(ctx.f);
    ctx.disk_bytes = in->sectors * 512;
    int rc = 0;
    if (!strcmp(cmd, "info")) {
        printf("sectors=%" PRIu64 "\nsector_size=%u\nphysical_sector_size=%u\ninfo=%u\n"
               "flush=%d\nbarrier=%d\ndiscard=%d\ndiscard_secure=%d\npersistent=%d\n"
               "max_indirect_segments=%u\nqueues=%u\nring_pages=%u\n",
               in->sectors, in->sector_size, in->physical_sector_size, in->vdisk_info, in->flush,
               in->barrier, in->discard, in->discard_secure, in->persistent,
               in->max_indirect_segments, in->queues, in->ring_pages);
    } else if (!strcmp(cmd, "verify")) {
        ctx.shadow = malloc(ctx.disk_bytes ? ctx.disk_bytes : 1);
        if (!ctx.shadow)
            fail("out of memory for a %" PRIu64 "-byte shadow", ctx.disk_bytes);
        if (o.align < in->sector_size)
            o.align = in->sector_size;
        rc = cmd_verify(&ctx, &o);
        free(ctx.shadow);
    } else if (!strcmp(cmd, "readonly")) {
        ctx.shadow = malloc(4096);
        rc = cmd_readonly(&ctx);
        free(ctx.shadow);
    } else if (!strcmp(cmd, "ordering") && optind + 1 < argc) {
        rc = cmd_ordering(&ctx, argv[optind + 1]);
    } else if (!strcmp(cmd, "hostile") && optind + 1 < argc) {
        enum blkfront_attack a;
        int16_t st = 0;
        if (blkfront_attack_by_name(argv[optind + 1], &a) < 0)
            fail("unknown attack '%s'", argv[optind + 1]);
        int r = blkfront_attack(ctx.f, a, &st, 3000);
        if (r < 0)
            fail("attack %s: %s", argv[optind + 1], strerror(errno));
        if (r == 1)
            printf("no response\n");
        else
            printf("status=%d\n", st);
        int want = a == BF_ATTACK_BAD_OP        ? BLKIF_RSP_EOPNOTSUPP
                   : a == BF_ATTACK_EVENT_STORM ? BLKIF_RSP_OKAY
                                                : BLKIF_RSP_ERROR;
        rc = a == BF_ATTACK_PROD_OVERFLOW ? (r == 1 ? 0 : 1) : (r == 0 && st == want ? 0 : 1);
        /* Double fetch: either image, taken whole, is a correct outcome. */
        if (a == BF_ATTACK_DOUBLE_FETCH)
            rc = r == 0 && (st == BLKIF_RSP_OKAY || st == BLKIF_RSP_ERROR) ? 0 : 1;
    } else if (!strcmp(cmd, "wait-sectors") && optind + 1 < argc) {
        rc = cmd_wait_sectors(ctx.f, o.bf.devid, strtoull(argv[optind + 1], NULL, 0));
    } else {
        usage(stderr);
        rc = 2;
    }
    blkfront_close(ctx.f);
    return rc;
}
