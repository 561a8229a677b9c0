/* pvback-net: the user-space netif backend daemon.
 *
 *   pvback-net [--platform xen|sim:DIR] [--frontend-domid N] [--max-queues N]
 *              [--user NAME|UID[:GID]|+BASE[:GID]] [--seccomp]
 *
 * --user/--seccomp: the per-guest sandbox (common/sandbox.h), entered once
 * xenstore and the status socket are open; CAP_NET_ADMIN is kept across the
 * user switch, to create taps and attach them to bridges (docs/hardening.md).
 *
 * Serves <home>/backend/vif/ (every frontend domain, or only N): one tap per
 * vif, named vif<domid>.<handle>, on the bridge the vif's bridge key names.
 * Runs until SIGTERM or SIGINT; xenstore is left as it is, so a restarted
 * pvback-net takes the vifs over. */
#include <errno.h>
#include <getopt.h>
#include <linux/capability.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "journal.h"
#include "log.h"
#include "loop.h"
#include "platform.h"
#include "sandbox.h"
#include "vif.h"
#include "xenbus.h"
#include "xs.h"

static void usage(FILE *out)
{
    fprintf(out, "usage: pvback-net [--platform xen|sim:DIR] [--frontend-domid N] "
                 "[--max-queues N]\n                  " PV_SANDBOX_USAGE "\n");
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"platform", required_argument, NULL, 'p'},
        {"frontend-domid", required_argument, NULL, 'd'},
        {"max-queues", required_argument, NULL, 'q'},
        {"help", no_argument, NULL, 'h'},
        PV_SANDBOX_LONGOPTS,
        {NULL, 0, NULL, 0},
    };
    const char *platform = NULL;
    int fe_domid = -1, q = VIF_MAX_QUEUES_DEFAULT;
    struct pv_sandbox sb = PV_SANDBOX_INIT;
    int c;

    pv_log_init("pvback-net");
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        if (pv_sandbox_getopt(&sb, c, optarg))
            continue;
        switch (c) {
        case 'p':
            platform = optarg;
            break;
        case 'd':
            if (pv_parse_int_option("pvback-net", "--frontend-domid", optarg, 1, 0x7fef,
                                    &fe_domid) < 0)
                return 2;
            break;
        case 'q':
            if (pv_parse_int_option("pvback-net", "--max-queues", optarg, 1, TAP_MAX_QUEUES, &q) <
                0)
                return 2;
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
    struct vif_config cfg = {.max_queues = (unsigned)q};

    char err[256];
    if (sb.user && pv_sandbox_parse_user(sb.user, fe_domid, &sb, err, sizeof(err)) < 0) {
        fprintf(stderr, "pvback-net: %s\n", err);
        return 2;
    }
    if (sb.uid >= 0)
        sb.keep_cap = CAP_NET_ADMIN;
    if (pv_platform_init(platform, err, sizeof(err)) < 0) {
        fprintf(stderr, "pvback-net: %s\n", err);
        return 1;
    }
    /* A write to a tap whose link is gone must not kill the daemon. */
    signal(SIGPIPE, SIG_IGN);
    struct pv_loop *loop = pv_loop_new();
    struct pv_xs *xs = loop ? pv_xs_open(loop) : NULL;
    if (!xs) {
        pv_err("cannot connect to xenstore: %s", strerror(errno));
        pv_loop_free(loop);
        return 1;
    }
    pv_loop_stop_on_signals(loop);
    /* `pvback-ctl status` reads this; the vifs work without it. */
    cfg.status = pv_status_open(loop, "vif", fe_domid);
    /* The in-flight journals (docs/hardening.md). */
    char proc[32], jdir[4096];
    if (fe_domid < 0)
        snprintf(proc, sizeof(proc), "vif-all");
    else
        snprintf(proc, sizeof(proc), "vif-%d", fe_domid);
    if (pv_journal_dir_prepare(proc, sb.uid, sb.gid, jdir, sizeof(jdir)) == 0)
        cfg.journal_dir = jdir;
    else
        pv_warn("no in-flight journal directory (%s): a restart re-reads the rings",
                strerror(errno));
    if (pv_sandbox_enter(&sb, err, sizeof(err)) < 0) {
        pv_err("sandbox: %s", err);
        pv_status_close(cfg.status);
        pv_xs_close(xs);
        pv_loop_free(loop);
        return 1;
    }
    struct pv_xenbus_backend *be =
        pv_xenbus_backend_new(xs, &vif_xenbus_ops, pv_platform_self_domid(), fe_domid, &cfg);
    int rc = 1;
    if (be) {
        pv_info("serving backend/vif/%s", fe_domid < 0 ? "*" : "<domid>");
        rc = pv_loop_run(loop) < 0 ? 1 : 0;
        pv_xenbus_backend_free(be);
    }
    pv_status_close(cfg.status);
    pv_journal_dir_release(cfg.journal_dir);
    pv_xs_close(xs);
    pv_loop_free(loop);
    return rc;
}
