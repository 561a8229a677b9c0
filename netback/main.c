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
 * pvback-net takes the vifs over. The start-up common to the backends is
 * common/backend_main.c. */
#include <linux/capability.h>

#include "backend_main.h"
#include "vif.h"
#include "xenbus.h"
#include "xs.h"

enum { OPT_QUEUES = 'q' };

static int net_option(void *daemon, int code, const char *arg)
{
    struct vif_config *cfg = daemon;
    int n;

    if (code != OPT_QUEUES ||
        pv_parse_int_option("pvback-net", "--max-queues", arg, 1, TAP_MAX_QUEUES, &n) < 0)
        return -1;
    cfg->max_queues = (unsigned)n;
    return 0;
}

static const struct pv_xenbus_ops *net_xenbus_ops(void *daemon)
{
    (void)daemon;
    return &vif_xenbus_ops;
}

static int net_prepare(void *daemon, const struct pv_backend_env *env)
{
    struct vif_config *cfg = daemon;

    cfg->journal_dir = env->journal_dir;
    cfg->status = env->status;
    return 0;
}

int main(int argc, char **argv)
{
    static const struct option options[] = {
        {"max-queues", required_argument, NULL, OPT_QUEUES},
        {NULL, 0, NULL, 0},
    };
    static const struct pv_backend_main net_main = {
        .prog = "pvback-net",
        .usage = "[--max-queues N]",
        .options = options,
        .option = net_option,
        .xenbus_ops = net_xenbus_ops,
        .keep_cap = CAP_NET_ADMIN,
        .prepare = net_prepare,
    };
    struct vif_config cfg = {.max_queues = VIF_MAX_QUEUES_DEFAULT};

    return pv_backend_main_run(&net_main, &cfg, argc, argv);
}
