/* Storage engine benchmark: the same workloads through pvback's libaio and
 * io_uring engines on the same file, in the same run, to pick the default
 * engine (blkback/storage.c). Workloads: 4 KiB random read and write at
 * iodepth 32, 1 MiB sequential read and write at iodepth 8, O_DIRECT.
 *
 *   blk-storage-bench [--file PATH] [--size MiB] [--seconds S]
 *
 * Prints one line per workload and engine, then
 *   RATIO blk_engine_<workload> <uring/aio> (io_uring ops/s divided by libaio ops/s)
 * The file (default: a temporary one in TMPDIR) is filled first so that
 * reads hit allocated blocks. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "storage.h"

struct workload {
    const char *name;
    enum pv_storage_op op;
    bool random;
    uint32_t block;
    unsigned int depth;
};

static const struct workload workloads[] = {
    {"4k_randread_qd32", PV_STORAGE_READ, true, 4096, 32},
    {"4k_randwrite_qd32", PV_STORAGE_WRITE, true, 4096, 32},
    {"1m_seqread_qd8", PV_STORAGE_READ, false, 1 << 20, 8},
    {"1m_seqwrite_qd8", PV_STORAGE_WRITE, false, 1 << 20, 8},
};

struct slot {
    struct pv_storage_req req;
    struct iovec iov;
    struct run *run;
};

struct run {
    struct pv_storage *s;
    const struct workload *w;
    uint64_t blocks, next_seq, rng, done;
    int errors;
    bool stopping;
};

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static uint64_t next_offset(struct run *r)
{
    uint64_t b;
    if (r->w->random) {
        r->rng ^= r->rng << 13; /* xorshift64: cheap, reproducible */
        r->rng ^= r->rng >> 7;
        r->rng ^= r->rng << 17;
        b = r->rng % r->blocks;
    } else {
        b = r->next_seq++ % r->blocks;
    }
    return b * r->w->block;
}

static void issue(struct slot *sl);

static void on_done(struct pv_storage_req *req, int64_t result)
{
    struct slot *sl = req->arg;
    if (result < 0)
        sl->run->errors++;
    sl->run->done++;
    if (!sl->run->stopping)
        issue(sl);
}

static void issue(struct slot *sl)
{
    struct run *r = sl->run;
    sl->req = (struct pv_storage_req){.op = r->w->op,
                                      .offset = next_offset(r),
                                      .iov = &sl->iov,
                                      .iovcnt = 1,
                                      .cb = on_done,
                                      .arg = sl};
    if (pv_storage_submit(r->s, &sl->req) < 0)
        r->errors++;
}

/* Runs one workload for seconds; returns completed operations per second. */
static double run_one(const char *path, const char *engine, const struct workload *w,
                      double seconds)
{
    char err[256];
    struct pv_storage_params p = {.path = path, .engine = engine, .depth = w->depth};
    struct pv_storage *s = pv_storage_open(&p, err, sizeof(err));
    if (!s) {
        fprintf(stderr, "blk-storage-bench: %s\n", err);
        exit(1);
    }
    struct run r = {.s = s,
                    .w = w,
                    .blocks = pv_storage_info(s)->size / w->block,
                    .rng = 0x9e3779b97f4a7c15ull};
    struct slot *slots = calloc(w->depth, sizeof(*slots));
    void *mem = NULL;
    if (!slots || posix_memalign(&mem, 4096, (size_t)w->depth * w->block)) {
        fprintf(stderr, "blk-storage-bench: out of memory\n");
        exit(1);
    }
    memset(mem, 0xa7, (size_t)w->depth * w->block);
    for (unsigned int i = 0; i < w->depth; i++) {
        slots[i].run = &r;
        slots[i].iov = (struct iovec){(char *)mem + (size_t)i * w->block, w->block};
        issue(&slots[i]);
    }
    double start = now_s(), end = start + seconds;
    while (now_s() < end) {
        pv_storage_kick(s);
        struct pollfd pfd = {.fd = pv_storage_fd(s), .events = POLLIN};
        poll(&pfd, 1, 100);
        pv_storage_reap(s);
    }
    double elapsed = now_s() - start;
    uint64_t done = r.done;
    r.stopping = true;
    pv_storage_close(s);
    free(mem);
    free(slots);
    if (r.errors) {
        fprintf(stderr, "blk-storage-bench: %d I/O errors with %s\n", r.errors, engine);
        exit(1);
    }
    return (double)done / elapsed;
}

static int fill(const char *path, uint64_t bytes)
{
    FILE *f = fopen(path, "wb");
    if (!f)
        return -1;
    static char chunk[1 << 20];
    memset(chunk, 0x5a, sizeof(chunk));
    for (uint64_t off = 0; off < bytes; off += sizeof(chunk))
        if (fwrite(chunk, 1, sizeof(chunk), f) != sizeof(chunk))
            break;
    fflush(f);
    fsync(fileno(f));
    return fclose(f);
}

int main(int argc, char **argv)
{
    const char *file = NULL;
    uint64_t size_mib = 256;
    double seconds = 2.0;
    static const struct option opts[] = {{"file", required_argument, NULL, 'f'},
                                         {"size", required_argument, NULL, 's'},
                                         {"seconds", required_argument, NULL, 't'},
                                         {NULL, 0, NULL, 0}};
    int c;
    while ((c = getopt_long(argc, argv, "f:s:t:", opts, NULL)) != -1) {
        if (c == 'f')
            file = optarg;
        else if (c == 's')
            size_mib = strtoull(optarg, NULL, 10);
        else if (c == 't')
            seconds = strtod(optarg, NULL);
        else {
            fprintf(stderr, "usage: %s [--file PATH] [--size MiB] [--seconds S]\n", argv[0]);
            return 2;
        }
    }
    if (size_mib < 8 || seconds <= 0) {
        fprintf(stderr, "blk-storage-bench: --size must be >= 8 and --seconds > 0\n");
        return 2;
    }
    char tmp[256];
    if (!file) {
        const char *dir = getenv("TMPDIR") ? getenv("TMPDIR") : "/var/tmp";
        snprintf(tmp, sizeof(tmp), "%s/pvback-bench-XXXXXX", dir);
        int fd = mkstemp(tmp);
        if (fd < 0) {
            perror("mkstemp");
            return 1;
        }
        close(fd);
        file = tmp;
    }
    if (fill(file, size_mib << 20) < 0) {
        fprintf(stderr, "blk-storage-bench: cannot fill %s: %s\n", file, strerror(errno));
        return 1;
    }
    for (size_t i = 0; i < sizeof(workloads) / sizeof(workloads[0]); i++) {
        const struct workload *w = &workloads[i];
        double aio = run_one(file, "aio", w, seconds);
        double uring = run_one(file, "uring", w, seconds);
        printf("%-18s aio %10.0f ops/s %8.1f MiB/s   uring %10.0f ops/s %8.1f MiB/s\n", w->name,
               aio, aio * w->block / 1048576.0, uring, uring * w->block / 1048576.0);
        printf("RATIO blk_engine_%s %.3f (io_uring ops/s / libaio ops/s, O_DIRECT file)\n", w->name,
               uring / aio);
        fflush(stdout);
    }
    if (file == tmp)
        unlink(tmp);
    return 0;
}
