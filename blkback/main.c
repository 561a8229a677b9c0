/* pvback-blk: the user-space blkif backend daemon.
 *
 *   pvback-blk [--platform xen|sim:DIR] [--frontend-domid N] [--type vbd|vbd3]
 *              [--max-queues N] [--max-persistent-grants N] [--max-bounce-pages N]
 *              [--engine ENGINE] [--user NAME|UID[:GID]|+BASE[:GID]] [--seccomp]
 *
 * --engine aio, uring or aio+uring (requests of 64 KiB and more through
 * io_uring, the rest through libaio) overrides the default: aio where the
 * store takes O_DIRECT, aio+uring where it does not (blkback/storage.c).
 * --engine null stores nothing (every request succeeds at once): only for
 * measuring the ring path without storage.
 * --max-bounce-pages bounds each ring's bounce pages (blkback/bounce.h) for
 * data pages without a persistent grant; 0 maps such pages instead.
 *
 * Serves <home>/backend/<type>/ (every frontend domain, or only N). Runs until
 * SIGTERM or SIGINT; xenstore is left as it is, so a restarted pvback-blk
 * takes the devices over. The start-up common to the backends is
 * common/backend_main.c. */
#include <stdio.h>
#include <string.h>

#include "backend_main.h"
#include "vbd.h"
#include "xenbus.h"
#include "xs.h"

struct blk_daemon {
    struct vbd_config cfg;
    struct pv_xenbus_ops ops; /* vbd_xenbus_ops, of --type */
};

enum {
    OPT_TYPE = 't',
    OPT_QUEUES = 'q',
    OPT_PGRANTS = 'g',
    OPT_ENGINE = 'e',
    OPT_BOUNCE = 'b',
    OPT_CONTIG = 'c',
    OPT_CONTIG_ABOVE = 'a',
};

static int blk_option(void *daemon, int code, const char *arg)
{
    struct blk_daemon *d = daemon;
    int n;

    switch (code) {
    case OPT_TYPE:
        if (strcmp(arg, "vbd") && strcmp(arg, "vbd3")) {
            fprintf(stderr, "pvback-blk: --type '%s': expected vbd or vbd3\n", arg);
            return -1;
        }
        d->ops.type = arg;
        return 0;
    case OPT_QUEUES:
        if (pv_parse_int_option("pvback-blk", "--max-queues", arg, 1, 64, &n) < 0)
            return -1;
        d->cfg.max_queues = (unsigned int)n;
        return 0;
    case OPT_PGRANTS:
        if (pv_parse_int_option("pvback-blk", "--max-persistent-grants", arg, 0, 65536, &n) < 0)
            return -1;
        d->cfg.max_pgrants = (unsigned int)n;
        return 0;
    case OPT_BOUNCE:
        if (pv_parse_int_option("pvback-blk", "--max-bounce-pages", arg, 0, 65536, &n) < 0)
            return -1;
        d->cfg.max_bounce = (unsigned int)n;
        return 0;
    case OPT_CONTIG:
        if (pv_parse_int_option("pvback-blk", "--max-contiguous-buffers", arg, 0, 1024, &n) < 0)
            return -1;
        d->cfg.max_contig = (unsigned int)n;
        return 0;
    case OPT_CONTIG_ABOVE:
        if (!strcmp(arg, "auto")) {
            d->cfg.contig_above = VBD_CONTIG_AUTO;
            return 0;
        }
        if (pv_parse_int_option("pvback-blk", "--contiguous-above", arg, 0, BLKIF_OP_MAX_SEGS, &n) <
            0)
            return -1;
        d->cfg.contig_above = n;
        return 0;
    case OPT_ENGINE:
        if (strcmp(arg, "aio") && strcmp(arg, "uring") && strcmp(arg, "aio+uring") &&
            strcmp(arg, "null")) {
            fprintf(stderr, "pvback-blk: --engine '%s': expected aio, uring, aio+uring or null\n",
                    arg);
            return -1;
        }
        d->cfg.engine = arg;
        return 0;
    }
    return -1;
}

static const struct pv_xenbus_ops *blk_xenbus_ops(void *daemon)
{
    return &((struct blk_daemon *)daemon)->ops;
}

static int blk_prepare(void *daemon, const struct pv_backend_env *env)
{
    ((struct blk_daemon *)daemon)->cfg.journal_dir = env->journal_dir;
    ((struct blk_daemon *)daemon)->cfg.status = env->status;
    return 0;
}

static void *blk_xenbus_ctx(void *daemon)
{
    return &((struct blk_daemon *)daemon)->cfg;
}

int main(int argc, char **argv)
{
    static const struct option options[] = {
        {"type", required_argument, NULL, OPT_TYPE},
        {"max-queues", required_argument, NULL, OPT_QUEUES},
        {"max-persistent-grants", required_argument, NULL, OPT_PGRANTS},
        {"max-bounce-pages", required_argument, NULL, OPT_BOUNCE},
        {"max-contiguous-buffers", required_argument, NULL, OPT_CONTIG},
        {"contiguous-above", required_argument, NULL, OPT_CONTIG_ABOVE},
        {"engine", required_argument, NULL, OPT_ENGINE},
        {NULL, 0, NULL, 0},
    };
    static const struct pv_backend_main blk_main = {
        .prog = "pvback-blk",
        .usage = "[--type vbd|vbd3]\n"
                 "                  [--max-queues N] [--max-persistent-grants N] "
                 "[--max-bounce-pages N]\n"
                 "                  [--max-contiguous-buffers N] [--contiguous-above N|auto]\n"
                 "                  [--engine aio|uring|aio+uring|null]",
        .options = options,
        .option = blk_option,
        .xenbus_ops = blk_xenbus_ops,
        .keep_cap = -1,
        .prepare = blk_prepare,
        .xenbus_ctx = blk_xenbus_ctx,
    };
    struct blk_daemon d = {
        .cfg = {.max_queues = VBD_MAX_QUEUES_DEFAULT,
                .max_pgrants = VBD_MAX_PGRANTS_DEFAULT,
                .max_bounce = VBD_MAX_BOUNCE_DEFAULT,
                .max_contig = VBD_MAX_CONTIG_DEFAULT,
                .contig_above = VBD_CONTIG_AUTO},
        .ops = vbd_xenbus_ops,
    };

    return pv_backend_main_run(&blk_main, &d, argc, argv);
}
