/* pvback-fakeback: a stand-in backend for pvback-watch's tests, taking the
 * same options as pvback-blk and pvback-net. It runs the real xenbus state
 * machine (common/xenbus.h) with a device class that maps nothing: devices
 * go to InitWait, and to Connected once the hotplug script reported
 * connected and the frontend is ready, as netback does. Each device is in
 * the status socket, with one "request" counted per connect.
 *
 *   pvback-fakeback [--platform P] [--frontend-domid N] [--type vbd|vbd3|vif]
 *                   [--user SPEC] [--seccomp] */
#include <stdlib.h>
#include <string.h>

#include "backend_main.h"
#include "status.h"
#include "xenbus.h"
#include "xs.h"

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

static int fake_disconnect(struct pv_xenbus_dev *dev, bool may_defer)
{
    struct fake_dev *f = pv_xenbus_dev_priv(dev);
    (void)may_defer;
    f->counters.rings = 0;
    return 0;
}

static void fake_remove(struct pv_xenbus_dev *dev)
{
    struct fake_dev *f = pv_xenbus_dev_priv(dev);
    pv_status_dev_remove(f->st);
}

struct fake_daemon {
    struct pv_xenbus_ops ops;
    struct pv_status *status; /* the devices' context */
};

static int fake_option(void *daemon, int code, const char *arg)
{
    (void)code; /* only --type */
    ((struct fake_daemon *)daemon)->ops.type = arg;
    return 0;
}

static const struct pv_xenbus_ops *fake_xenbus_ops(void *daemon)
{
    return &((struct fake_daemon *)daemon)->ops;
}

static int fake_prepare(void *daemon, const struct pv_backend_env *env)
{
    ((struct fake_daemon *)daemon)->status = env->status;
    return 0;
}

static void *fake_ctx(void *daemon)
{
    return ((struct fake_daemon *)daemon)->status;
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"type", required_argument, NULL, 't'},
        {NULL, 0, NULL, 0},
    };
    static struct fake_daemon d = {
        .ops =
            {
                .type = "vif",
                .priv_size = sizeof(struct fake_dev),
                .probe = fake_probe,
                .ready = fake_ready,
                .connect = fake_connect,
                .disconnect = fake_disconnect,
                .remove = fake_remove,
            },
    };
    /* The backends' own start-up (common/backend_main.h), so that it takes
     * every option pvback-watch passes them, --user and --seccomp too. */
    static const struct pv_backend_main m = {
        .prog = "pvback-fakeback",
        .usage = "[--type vbd|vbd3|vif]",
        .options = opts,
        .option = fake_option,
        .xenbus_ops = fake_xenbus_ops,
        .keep_cap = -1,
        .prepare = fake_prepare,
        .xenbus_ctx = fake_ctx,
    };
    return pv_backend_main_run(&m, &d, argc, argv);
}
