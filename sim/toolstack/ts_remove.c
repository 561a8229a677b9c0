/* Device removal and domain destroy as libxl does them
 * (libxl__initiate_device_generic_remove, device_hotplug with REMOVE,
 * libxl__device_destroy, libxl__devices_destroy, devices_destroy_cb). All the
 * devices of a destroy close in parallel, so a domain whose backends do not
 * answer costs one 10 s timeout, not one per device. */
#include "toolstack/toolstack.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xen/io/xenbus.h>

#include "log.h"
#include "toolstack/ts_hotplug.h"
#include "toolstack/ts_plan.h"
#include "toolstack/ts_xs.h"

struct removal {
    struct ts_dev dev;
    char state[160];
    bool gone;   /* the backend had already removed its dir */
    bool closed; /* reached state 6 */
};

/* Finds a device from its /libxl entry (as libxl__devices_destroy does). */
static int lookup(struct xs_handle *xs, unsigned domid, const char *kind, unsigned devid,
                  struct ts_dev *dev)
{
    char lx[96], bkind[16];
    unsigned bdom, fdom, bdevid;
    char extra;
    snprintf(lx, sizeof(lx), "/libxl/%u/device/%s/%u/backend", domid, kind, devid);
    char *be = ts_read(xs, XBT_NULL, lx);
    if (!be)
        return -1;
    int n = sscanf(be, "/local/domain/%u/backend/%15[^/]/%u/%u%c", &bdom, bkind, &fdom, &bdevid,
                   &extra);
    free(be);
    if (n != 4 || bdom != 0 || fdom != domid || bdevid != devid)
        return -1;
    ts_dev_init(dev, domid, kind, bkind, devid);
    return 0;
}

/* Step 1: online=0 and state 5 unless already 6, in one transaction; with
 * force the frontend dir goes first. */
static int start_close(struct xs_handle *xs, struct removal *r, bool force, char *err,
                       size_t errlen)
{
    char online[160];
    snprintf(r->state, sizeof(r->state), "%s/state", r->dev.be);
    snprintf(online, sizeof(online), "%s/online", r->dev.be);
    for (int tries = 0; tries < 50; tries++) {
        xs_transaction_t t = xs_transaction_start(xs);
        if (t == XBT_NULL) {
            snprintf(err, errlen, "unable to start transaction: %s", strerror(errno));
            return -1;
        }
        if (force)
            ts_path_cleanup(xs, t, r->dev.fe);
        char *state = ts_read(xs, t, r->state);
        if (!state) {
            pv_info("toolstack: backend %s already removed, cleanup frontend only", r->dev.be);
            r->gone = true;
            xs_transaction_end(xs, t, false);
            return 0;
        }
        bool ok = xs_write(xs, t, online, "0", 1);
        if (ok && atoi(state) != XenbusStateClosed)
            ok = xs_write(xs, t, r->state, "5", 1);
        free(state);
        if (!ok) {
            int e = errno;
            xs_transaction_end(xs, t, true);
            if (e == EAGAIN)
                continue;
            snprintf(err, errlen, "unable to write to xenstore path %s: %s", r->state, strerror(e));
            return -1;
        }
        if (xs_transaction_end(xs, t, false))
            return 0;
        if (errno != EAGAIN) {
            snprintf(err, errlen, "xs transaction failed: %s", strerror(errno));
            return -1;
        }
    }
    snprintf(err, errlen, "xs transaction failed: too many conflicts");
    return -1;
}

/* The hotplug script's remove/offline; its failure is only logged, as libxl
 * carries on with a removal whatever the script says. */
static void run_remove_script(struct xs_handle *xs, const struct ts_dev *dev)
{
    char key[160], msg[512];
    if (!ts_dev_has_script(dev))
        return;
    snprintf(key, sizeof(key), "%s/script", dev->be);
    char *script = ts_read(xs, XBT_NULL, key);
    if (!script) {
        pv_err("toolstack: unable to read script from %s", dev->be);
        return;
    }
    snprintf(key, sizeof(key), "%s/gatewaydev", dev->be);
    char *gw = ts_read(xs, XBT_NULL, key);
    const char *argv[4];
    char *env[8], buf[2048];
    ts_hotplug_argv(dev, script, false, argv);
    if (ts_hotplug_env(dev, script, gw, env, buf, sizeof(buf)) == 0) {
        pv_info("toolstack: running %s %s for %s", argv[0], argv[1], dev->be);
        if (ts_hotplug_run(argv, env, TS_HOTPLUG_TIMEOUT_MS, msg, sizeof(msg)) < 0)
            pv_err("toolstack: %s", msg);
    }
    free(gw);
    free(script);
}

/* libxl__device_destroy: the frontend, /libxl and backend dirs. */
static int destroy_paths(struct xs_handle *xs, const struct ts_dev *dev, char *err, size_t errlen)
{
    for (int tries = 0; tries < 50; tries++) {
        xs_transaction_t t = xs_transaction_start(xs);
        if (t == XBT_NULL)
            break;
        ts_path_cleanup(xs, t, dev->fe);
        ts_path_cleanup(xs, t, dev->lx);
        ts_path_cleanup(xs, t, dev->be);
        if (xs_transaction_end(xs, t, false))
            return 0;
        if (errno != EAGAIN)
            break;
    }
    snprintf(err, errlen, "unable to remove the xenstore dirs of %s: %s", dev->be, strerror(errno));
    return -1;
}

static bool is_closed(const char *state)
{
    return state && !strcmp(state, "6");
}

/* Removes n devices together; reports the first error, carries on. */
static int remove_devices(struct xs_handle *xs, struct removal *r, size_t n, bool force, char *err,
                          size_t errlen)
{
    int rc = 0;
    char msg[512];
#define FIRST_ERROR(...)                                                                           \
    do {                                                                                           \
        if (rc == 0)                                                                               \
            snprintf(err, errlen, __VA_ARGS__);                                                    \
        rc = -1;                                                                                   \
    } while (0)

    const char **paths = calloc(n ? n : 1, sizeof(*paths));
    bool *done = calloc(n ? n : 1, sizeof(*done));
    size_t *which = calloc(n ? n : 1, sizeof(*which));
    size_t nwait = 0;
    if (!paths || !done || !which) {
        FIRST_ERROR("out of memory");
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        if (start_close(xs, &r[i], force, msg, sizeof(msg)) < 0) {
            FIRST_ERROR("unable to remove device with path %s: %s", r[i].dev.be, msg);
            continue;
        }
        if (!r[i].gone) {
            paths[nwait] = r[i].state;
            which[nwait++] = i;
        }
    }
    if (nwait) {
        pv_debug("toolstack: waiting %u ms for %zu backend(s) to close", TS_DESTROY_TIMEOUT_MS,
                 nwait);
        if (ts_wait_nodes(xs, nwait, paths, is_closed, TS_DESTROY_TIMEOUT_MS, done, NULL, msg,
                          sizeof(msg)) < 0)
            FIRST_ERROR("%s", msg);
        for (size_t k = 0; k < nwait; k++)
            r[which[k]].closed = done[k];
    }
    for (size_t i = 0; i < n; i++) {
        if (r[i].closed) {
            run_remove_script(xs, &r[i].dev);
        } else if (!r[i].gone) {
            FIRST_ERROR("unable to remove device with path %s: backend %s wanted state 6 "
                        "timed out",
                        r[i].dev.be, r[i].state);
            pv_err("toolstack: backend %s did not close within %u ms", r[i].dev.be,
                   TS_DESTROY_TIMEOUT_MS);
            if (!force)
                continue; /* a detach leaves a device that did not close */
        }
        if (destroy_paths(xs, &r[i].dev, msg, sizeof(msg)) < 0)
            FIRST_ERROR("%s", msg);
        else
            pv_info("toolstack: %s removed", r[i].dev.be);
    }
out:
    free(paths);
    free(done);
    free(which);
    return rc;
#undef FIRST_ERROR
}

int ts_device_remove(struct xs_handle *xs, unsigned domid, const char *kind, unsigned devid,
                     bool force, char *err, size_t errlen)
{
    struct removal r;
    memset(&r, 0, sizeof(r));
    if (lookup(xs, domid, kind, devid, &r.dev) < 0) {
        snprintf(err, errlen, "no %s device %u in domain %u", kind, devid, domid);
        return -1;
    }
    return remove_devices(xs, &r, 1, force, err, errlen);
}

int ts_domain_destroy(struct xs_handle *xs, unsigned domid, char *err, size_t errlen)
{
    char path[96];
    struct removal *r = NULL;
    size_t n = 0;
    int rc = 0;

    snprintf(path, sizeof(path), "/libxl/%u/device", domid);
    unsigned nkinds;
    char **kinds = xs_directory(xs, XBT_NULL, path, &nkinds);
    for (unsigned k = 0; kinds && k < nkinds; k++) {
        if (strcmp(kinds[k], "vbd") && strcmp(kinds[k], "vif"))
            continue;
        char kpath[128];
        unsigned ndevs;
        snprintf(kpath, sizeof(kpath), "%s/%s", path, kinds[k]);
        char **devs = xs_directory(xs, XBT_NULL, kpath, &ndevs);
        for (unsigned d = 0; devs && d < ndevs; d++) {
            char *end;
            unsigned long devid = strtoul(devs[d], &end, 10);
            if (*end || end == devs[d])
                continue;
            struct removal *nr = realloc(r, (n + 1) * sizeof(*r));
            if (!nr)
                break;
            r = nr;
            memset(&r[n], 0, sizeof(r[n]));
            if (lookup(xs, domid, kinds[k], (unsigned)devid, &r[n].dev) == 0)
                n++;
        }
        free(devs);
    }
    free(kinds);
    if (n)
        rc = remove_devices(xs, r, n, true, err, errlen);
    free(r);

    /* devices_destroy_cb: /vm/<uuid>, the domain's dir and /libxl/<domid> */
    snprintf(path, sizeof(path), "/local/domain/%u/vm", domid);
    char *vm = ts_read(xs, XBT_NULL, path);
    if (vm && !strncmp(vm, "/vm/", 4) && !strchr(vm + 4, '/') && !xs_rm(xs, XBT_NULL, vm) &&
        errno != ENOENT && rc == 0) {
        snprintf(err, errlen, "xs_rm failed for %s: %s", vm, strerror(errno));
        rc = -1;
    }
    free(vm);
    snprintf(path, sizeof(path), "/local/domain/%u", domid);
    if (!xs_rm(xs, XBT_NULL, path) && errno != ENOENT && rc == 0) {
        snprintf(err, errlen, "xs_rm failed for %s: %s", path, strerror(errno));
        rc = -1;
    }
    snprintf(path, sizeof(path), "/libxl/%u", domid);
    xs_rm(xs, XBT_NULL, path);
    pv_info("toolstack: domain %u xenstore keys removed", domid);
    return rc;
}
