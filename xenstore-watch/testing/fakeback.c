/* pvback-fakeback: a stand-in backend for pvback-watch's tests, taking the
 * same options as pvback-blk and pvback-net. It runs the real xenbus state
 * machine (common/xenbus.h) with a device class that maps nothing: devices
 * go to InitWait, and to Connected once the hotplug script reported
 * connected and the frontend is ready, as netback does. Each device is in
 * the status socket, with one "request" counted per connect.
 *
 *   pvback-fakeback [--platform P] [--frontend-domid N] [--type vbd|vbd3|vif] */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "platform.h"
#include "sandbox.h"
#include "status.h"
#include "xenbus.h"

struct fake_dev {
    struct pv_status_counters counters;
    struct pv_status_dev *st;
};

static int fake_probe(struct pv_xenbus_dev *dev)
{
    struct fake_dev *f = pv_xenbus_dev_priv(dev);
    f->st = pv_status_dev_add(pv_xenbus_dev_ctx(dev), dev, &f->counters);
    return 0;
}

static bool fake_ready(struct pv_xenbus_dev *dev)
{
    char *hs = NULL;
    bool ok = pv_xs_read_str(pv_xenbus_dev_xs(dev), XBT_NULL, pv_xenbus_dev_be_path(dev),
                             "hotplug-status", &hs) == 0 &&
              !strcmp(hs, "connected");
    free(hs);
    return ok;
}

static int fake_connect(struct pv_xenbus_dev *dev)
{
    struct fake_dev *f = pv_xenbus_dev_priv(dev);
    f->counters.rings = 1;
    f->counters.requests++;
    return 0;
}

static void fake_disconnect(struct pv_xenbus_dev *dev)
{
    struct fake_dev *f = pv_xenbus_dev_priv(dev);
    f->counters.rings = 0;
}

static void fake_remove(struct pv_xenbus_dev *dev)
{
    struct fake_dev *f = pv_xenbus_dev_priv(dev);
    pv_status_dev_remove(f->st);
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"platform", required_argument, NULL, 'p'},
        {"frontend-domid", required_argument, NULL, 'd'},
        {"type", required_argument, NULL, 't'},
        PV_SANDBOX_LONGOPTS,
        {NULL, 0, NULL, 0},
    };
    struct pv_xenbus_ops ops = {
        .type = "vif",
        .priv_size = sizeof(struct fake_dev),
        .probe = fake_probe,
        .ready = fake_ready,
        .connect = fake_connect,
        .disconnect = fake_disconnect,
        .remove = fake_remove,
    };
    const char *platform = NULL;
    struct pv_sandbox sb = PV_SANDBOX_INIT;
    int fe_domid = -1, c;
    char err[256];

    pv_log_init("pvback-fakeback");
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (pv_sandbox_getopt(&sb, c, optarg))
            continue; /* pvback-watch passes --user/--seccomp as to the real ones */
        switch (c) {
        case 'p':
            platform = optarg;
            break;
        case 'd':
            if (pv_parse_int(optarg, 0, 0x7fef, &fe_domid) < 0) {
                fprintf(stderr, "pvback-fakeback: --frontend-domid '%s'\n", optarg);
                return 2;
            }
            break;
        case 't':
            ops.type = optarg;
            break;
        default:
            return 2;
        }
    }
    if (sb.user && pv_sandbox_parse_user(sb.user, fe_domid, &sb, err, sizeof(err)) < 0) {
        fprintf(stderr, "pvback-fakeback: %s\n", err);
        return 2;
    }
    if (pv_platform_init(platform, err, sizeof(err)) < 0) {
        fprintf(stderr, "pvback-fakeback: %s\n", err);
        return 1;
    }
    struct pv_loop *loop = pv_loop_new();
    struct pv_xs *xs = loop ? pv_xs_open(loop) : NULL;
    if (!xs) {
        pv_err("cannot connect to xenstore: %s", strerror(errno));
        pv_loop_free(loop);
        return 1;
    }
    pv_loop_stop_on_signals(loop);
    struct pv_status *st = pv_status_open(loop, ops.type, fe_domid);
    if (pv_sandbox_enter(&sb, err, sizeof(err)) < 0) {
        pv_err("sandbox: %s", err);
        pv_status_close(st);
        pv_xs_close(xs);
        pv_loop_free(loop);
        return 1;
    }
    struct pv_xenbus_backend *be =
        pv_xenbus_backend_new(xs, &ops, pv_platform_self_domid(), fe_domid, st);
    int rc = 1;
    if (be) {
        rc = pv_loop_run(loop) < 0 ? 1 : 0;
        pv_xenbus_backend_free(be);
    }
    pv_status_close(st);
    pv_xs_close(xs);
    pv_loop_free(loop);
    return rc;
}
