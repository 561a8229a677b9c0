/* xensim's toolstack: domains and devices as libxl creates and destroys them
 * (see toolstack.h). The key sets come from ts_plan.c, the xenstore work
 * from ts_xs.c, the scripts from ts_hotplug.c; this file is the sequence. */
#include "toolstack/toolstack.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>

#include "log.h"
#include "loop.h"
#include "toolstack/ts_hotplug.h"
#include "toolstack/ts_plan.h"
#include "toolstack/ts_xs.h"

const char *ts_script_dir(void)
{
    const char *d = getenv("XEN_SCRIPT_DIR");
    return d && *d ? d : "/etc/xen/scripts";
}

int ts_domid_by_name(struct xs_handle *xs, const char *name)
{
    unsigned num;
    char **doms = xs_directory(xs, XBT_NULL, "/local/domain", &num);
    int found = -1;
    for (unsigned i = 0; doms && i < num && found < 0; i++) {
        char path[64], *end;
        unsigned long id = strtoul(doms[i], &end, 10);
        if (*end || end == doms[i])
            continue;
        snprintf(path, sizeof(path), "/local/domain/%lu/name", id);
        char *n = ts_read(xs, XBT_NULL, path);
        if (n && !strcmp(n, name))
            found = (int)id;
        free(n);
    }
    free(doms);
    if (found < 0)
        errno = ENOENT;
    return found;
}

/* A random (version 4) UUID, as libxl_uuid_generate makes. */
static int random_uuid(char out[37])
{
    uint8_t b[16];
    if (getrandom(b, sizeof(b), 0) != (ssize_t)sizeof(b))
        return -1;
    b[6] = (uint8_t)((b[6] & 0x0f) | 0x40);
    b[8] = (uint8_t)((b[8] & 0x3f) | 0x80);
    snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0],
             b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13],
             b[14], b[15]);
    return 0;
}

int ts_domain_create(struct xs_handle *xs, unsigned domid, const struct xlcfg *cfg, char *err,
                     size_t errlen)
{
    char uuid[37], start[48];
    struct timespec now;
    int other = ts_domid_by_name(xs, cfg->name);
    if (other >= 0 && (unsigned)other != domid) {
        snprintf(err, errlen, "Domain with name \"%s\" already exists.", cfg->name);
        return -1;
    }
    if (cfg->uuid[0])
        snprintf(uuid, sizeof(uuid), "%s", cfg->uuid);
    else if (random_uuid(uuid) < 0) {
        snprintf(err, errlen, "unable to generate a uuid: %s", strerror(errno));
        return -1;
    }
    clock_gettime(CLOCK_REALTIME, &now);
    snprintf(start, sizeof(start), "%jd.%02d", (intmax_t)now.tv_sec, (int)(now.tv_nsec / 10000000));

    struct ts_plan p;
    ts_plan_init(&p);
    int rc = ts_plan_domain(&p, domid, cfg, uuid, start);
    if (rc < 0)
        snprintf(err, errlen, "out of memory");
    else
        rc = ts_plan_apply(xs, &p, err, errlen);
    ts_plan_free(&p);
    if (rc == 0)
        pv_info("toolstack: domain %u '%s' uuid %s: keys written", domid, cfg->name, uuid);
    return rc;
}

/* Appends ": <cause>" context: turns err into "<prefix>: <err>". */
static void wrap(char *err, size_t errlen, const char *fmt, const char *arg)
{
    char prefix[256], *old = strdup(err);
    snprintf(prefix, sizeof(prefix), fmt, arg);
    snprintf(err, errlen, "%s: %s", prefix, old ? old : "");
    free(old);
}

static bool is_initwait(const char *state)
{
    return state && !strcmp(state, "2");
}

/* The script's verdict in hotplug-status. */
static bool hotplug_done(const char *status)
{
    return status && (!strcmp(status, "connected") || !strcmp(status, "error"));
}

/* After the keys are written: libxl__wait_device_connection and
 * device_hotplug for an added device. */
static int device_connect(struct xs_handle *xs, const struct ts_dev *dev, char *err, size_t errlen)
{
    char state[160], status_path[160], error_path[160];
    uint64_t start = pv_now_ms();
    snprintf(state, sizeof(state), "%s/state", dev->be);
    snprintf(status_path, sizeof(status_path), "%s/hotplug-status", dev->be);
    snprintf(error_path, sizeof(error_path), "%s/hotplug-error", dev->be);

    if (ts_dev_waits_initwait(dev)) {
        const char *paths[1] = {state};
        bool done;
        char *last;
        pv_debug("toolstack: waiting %u ms for %s to be 2 (InitWait)", TS_INIT_TIMEOUT_MS, state);
        int n =
            ts_wait_nodes(xs, 1, paths, is_initwait, TS_INIT_TIMEOUT_MS, &done, &last, err, errlen);
        if (n < 0)
            return -1;
        if (!done) {
            if (last)
                snprintf(err, errlen, "backend %s wanted state 2 timed out (state is %s)", state,
                         last);
            else
                snprintf(err, errlen, "backend %s wanted state 2 but it was removed", state);
            free(last);
            return -1;
        }
        free(last);
    }
    if (!ts_dev_has_script(dev))
        return 0;

    /* libxl reads the script back from the backend dir */
    char script_key[160];
    snprintf(script_key, sizeof(script_key), "%s/script", dev->be);
    char *script = ts_read(xs, XBT_NULL, script_key);
    if (!script) {
        snprintf(err, errlen, "unable to read script from %s", dev->be);
        return -1;
    }
    char gw_key[160];
    snprintf(gw_key, sizeof(gw_key), "%s/gatewaydev", dev->be);
    char *gatewaydev = ts_read(xs, XBT_NULL, gw_key);
    const char *argv[4];
    char *env[8], envbuf[2048];
    ts_hotplug_argv(dev, script, true, argv);
    int rc = ts_hotplug_env(dev, script, gatewaydev, env, envbuf, sizeof(envbuf));
    free(gatewaydev);
    if (rc < 0) {
        snprintf(err, errlen, "unable to get args/env to execute hotplug script for device %s",
                 dev->be);
        free(script);
        return -1;
    }
    pv_info("toolstack: running %s %s%s%s for %s", argv[0], argv[1], argv[2] ? " " : "",
            argv[2] ? argv[2] : "", dev->be);
    rc = ts_hotplug_run(argv, env, TS_HOTPLUG_TIMEOUT_MS, err, errlen);
    free(script);
    if (rc < 0) {
        char *herr = ts_read(xs, XBT_NULL, error_path);
        if (herr) {
            size_t l = strlen(err);
            snprintf(err + l, errlen - l, "; script: %s", herr);
        }
        free(herr);
        return -1;
    }

    /* The script has said how it went in hotplug-status (Xen's scripts
     * write it before they exit; allow a late writer the rest of the
     * hotplug timeout). */
    const char *paths[1] = {status_path};
    bool done;
    char *status;
    uint64_t spent = pv_now_ms() - start;
    unsigned left = spent < TS_HOTPLUG_TIMEOUT_MS ? TS_HOTPLUG_TIMEOUT_MS - (unsigned)spent : 0;
    if (ts_wait_nodes(xs, 1, paths, hotplug_done, left, &done, &status, err, errlen) < 0)
        return -1;
    if (!done) {
        snprintf(err, errlen, "hotplug script %s %s did not write hotplug-status", argv[0],
                 argv[1]);
        free(status);
        return -1;
    }
    if (!strcmp(status, "error")) {
        char *herr = ts_read(xs, XBT_NULL, error_path);
        snprintf(err, errlen, "script: %s", herr ? herr : "hotplug-status is error");
        free(herr);
        free(status);
        return -1;
    }
    free(status);
    return 0;
}

/* Writes a device's plan unless the device exists, then connects it. */
static int device_add(struct xs_handle *xs, const struct ts_plan *p, const struct ts_dev *dev,
                      char *err, size_t errlen)
{
    char *exists = ts_read(xs, XBT_NULL, dev->lx);
    if (exists) {
        free(exists);
        snprintf(err, errlen, "device already exists in xenstore");
        return -1;
    }
    if (ts_plan_apply(xs, p, err, errlen) < 0)
        return -1;
    pv_info("toolstack: %s written (frontend %s)", dev->be, dev->fe);
    if (device_connect(xs, dev, err, errlen) < 0) {
        wrap(err, errlen, "unable to add device with path %s", dev->be);
        return -1;
    }
    pv_info("toolstack: %s connected", dev->be);
    return 0;
}

int ts_disk_add(struct xs_handle *xs, unsigned domid, const struct xlcfg_disk *disk, char *err,
                size_t errlen)
{
    mode_t mode = 0;
    char backend[16];
    if (ts_disk_needs_stat(disk)) {
        struct stat st;
        if (stat(disk->target, &st) < 0) {
            snprintf(err, errlen, "Disk vdev=%s failed to stat: %s: %s", disk->vdev, disk->target,
                     strerror(errno));
            return -1;
        }
        mode = st.st_mode;
    }
    if (ts_disk_backend(disk, mode, backend, err, errlen) < 0)
        return -1;
    struct ts_plan p;
    struct ts_dev dev;
    ts_plan_init(&p);
    int rc = ts_plan_disk(&p, &dev, domid, disk, backend, ts_script_dir(), err, errlen);
    if (rc == 0)
        rc = device_add(xs, &p, &dev, err, errlen);
    ts_plan_free(&p);
    return rc;
}

int ts_vif_add(struct xs_handle *xs, unsigned domid, const struct xlcfg_vif *vif, unsigned handle,
               char *err, size_t errlen)
{
    char mac[18];
    if (vif->mac[0]) {
        snprintf(mac, sizeof(mac), "%s", vif->mac);
    } else {
        /* libxl's default: Xen's OUI and three random bytes, the first < 0x80 */
        uint8_t r[3];
        if (getrandom(r, sizeof(r), 0) != (ssize_t)sizeof(r)) {
            snprintf(err, errlen, "unable to generate a mac: %s", strerror(errno));
            return -1;
        }
        snprintf(mac, sizeof(mac), "00:16:3e:%02x:%02x:%02x", r[0] & 0x7f, r[1], r[2]);
    }
    struct ts_plan p;
    struct ts_dev dev;
    ts_plan_init(&p);
    int rc = ts_plan_vif(&p, &dev, domid, vif, handle, mac, ts_script_dir(), err, errlen);
    if (rc == 0)
        rc = device_add(xs, &p, &dev, err, errlen);
    ts_plan_free(&p);
    return rc;
}

int ts_devices_add(struct xs_handle *xs, unsigned domid, const struct xlcfg *cfg, char *err,
                   size_t errlen)
{
    for (unsigned i = 0; i < cfg->ndisks; i++) {
        if (ts_disk_add(xs, domid, &cfg->disks[i], err, errlen) < 0) {
            wrap(err, errlen, "%s", "unable to add disk devices");
            return -1;
        }
    }
    for (unsigned i = 0; i < cfg->nvifs; i++) {
        if (ts_vif_add(xs, domid, &cfg->vifs[i], i, err, errlen) < 0) {
            wrap(err, errlen, "%s", "unable to add vif devices");
            return -1;
        }
    }
    return 0;
}
