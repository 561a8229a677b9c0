/* pvback-blk: the user-space blkif backend daemon.
 *
 *   pvback-blk [--platform xen|sim:DIR] [--frontend-domid N] [--type vbd|vbd3]
 *              [--max-queues N] [--max-persistent-grants N] [--engine aio|uring|null]
 *
 * --engine null stores nothing (every request succeeds at once): only for
 * measuring the ring path without storage.
 *
 * Serves <home>/backend/<type>/ (every frontend domain, or only N). Runs until
 * SIGTERM or SIGINT; xenstore is left as it is, so a restarted pvback-blk
 * takes the devices over. */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "journal.h"
#include "log.h"
#include "loop.h"
#include "platform.h"
#include "sandbox.h"
#include "status.h"
#include "vbd.h"
#include "xenbus.h"
#include "xs.h"

static void usage(FILE *out)
{
    fprintf(out, "usage: pvback-blk [--platform xen|sim:DIR] [--frontend-domid N] "
                 "[--type vbd|vbd3]\n"
                 "                  [--max-queues N] [--max-persistent-grants N] "
                 "[--engine aio|uring|null]\n"
                 "                  " PV_SANDBOX_USAGE "\n");
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"platform", required_argument, NULL, 'p'},
        {"frontend-domid", required_argument, NULL, 'd'},
        {"type", required_argument, NULL, 't'},
        {"max-queues", required_argument, NULL, 'q'},
        {"max-persistent-grants", required_argument, NULL, 'g'},
        {"engine", required_argument, NULL, 'e'},
        PV_SANDBOX_LONGOPTS,
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *platform = NULL;
    int fe_domid = -1, q = VBD_MAX_QUEUES_DEFAULT, g = VBD_MAX_PGRANTS_DEFAULT;
    struct vbd_config cfg = {0};
    struct pv_xenbus_ops ops = vbd_xenbus_ops;
    struct pv_sandbox sb = PV_SANDBOX_INIT;
    int c;

    pv_log_init("pvback-blk");
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        if (pv_sandbox_getopt(&sb, c, optarg))
            continue;
        switch (c) {
        case 'p':
            platform = optarg;
            break;
        case 'd':
            if (pv_parse_int_option("pvback-blk", "--frontend-domid", optarg, 1, 0x7fef,
                                    &fe_domid) < 0)
                return 2;
            break;
        case 't':
            if (strcmp(optarg, "vbd") && strcmp(optarg, "vbd3")) {
                fprintf(stderr, "pvback-blk: --type '%s': expected vbd or vbd3\n", optarg);
                return 2;
            }
            ops.type = optarg;
            break;
        case 'q':
            if (pv_parse_int_option("pvback-blk", "--max-queues", optarg, 1, 64, &q) < 0)
                return 2;
            break;
        case 'g':
            if (pv_parse_int_option("pvback-blk", "--max-persistent-grants", optarg, 0, 65536, &g) <
                0)
                return 2;
            break;
        case 'e':
            if (strcmp(optarg, "aio") && strcmp(optarg, "uring") && strcmp(optarg, "null")) {
                fprintf(stderr, "pvback-blk: --engine '%s': expected aio, uring or null\n", optarg);
                return 2;
            }
            cfg.engine = optarg;
            break;
        case 'h':
            usage(stdout);
            return 0;
        default:
            usage(stderr);
            return 2;
        }
    }
    if (optind != argc) {
        usage(stderr);
        return 2;
    }
    char err[256];
    if (sb.user && pv_sandbox_parse_user(sb.user, fe_domid, &sb, err, sizeof(err)) < 0) {
        fprintf(stderr, "pvback-blk: %s\n", err);
        return 2;
    }
    cfg.max_queues = (unsigned int)q;
    cfg.max_pgrants = (unsigned int)g;

    if (pv_platform_init(platform, err, sizeof(err)) < 0) {
        fprintf(stderr, "pvback-blk: %s\n", err);
        return 1;
    }
    struct pv_loop *loop = pv_loop_new();
    struct pv_xs *xs = loop ? pv_xs_open(loop) : NULL;
    if (!xs) {
        pv_err("cannot connect to xenstore: %s", strerror(errno));
        pv_loop_free(loop);
        return 1;
    }
    /* The in-flight journals, so that a successor replays what this process
     * took off the rings without answering (docs/hardening.md). */
    char proc[32], jdir[4096];
    if (fe_domid < 0)
        snprintf(proc, sizeof(proc), "%s-all", ops.type);
    else
        snprintf(proc, sizeof(proc), "%s-%d", ops.type, fe_domid);
    if (pv_journal_dir_prepare(proc, sb.uid, sb.gid, jdir, sizeof(jdir)) == 0)
        cfg.journal_dir = jdir;
    else
        pv_warn("no in-flight journal directory (%s): a restart re-reads the rings",
                strerror(errno));
    struct pv_status *status = pv_status_open(loop, ops.type, fe_domid);
    /* Everything opened at start is open: into the sandbox (images, grant
     * and event channel handles are opened later, as the sandboxed user). */
    if (pv_sandbox_enter(&sb, err, sizeof(err)) < 0) {
        pv_err("sandbox: %s", err);
        pv_status_close(status);
        pv_xs_close(xs);
        pv_loop_free(loop);
        return 1;
    }
    pv_loop_stop_on_signals(loop);
    struct pv_xenbus_backend *be =
        pv_xenbus_backend_new(xs, &ops, pv_platform_self_domid(), fe_domid, &cfg);
    int rc = 1;
    if (be) {
        pv_info("serving backend/%s/%s", ops.type, fe_domid < 0 ? "*" : "<domid>");
        rc = pv_loop_run(loop) < 0 ? 1 : 0;
        pv_xenbus_backend_free(be);
    }
    pv_status_close(status);
    pv_journal_dir_release(cfg.journal_dir);
    pv_xs_close(xs);
    pv_loop_free(loop);
    return rc;
}
