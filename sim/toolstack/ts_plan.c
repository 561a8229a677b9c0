/* Plans of the xenstore changes libxl makes (see ts_plan.h). The key lists
 * follow libxl's code (libxl_create.c libxl__domain_make, libxl_dom.c
 * libxl__build_post, libxl_disk.c device_disk_add, libxl_nic.c
 * libxl__set_xenstore_nic, libxl_device.c libxl__device_generic_add), in
 * libxl's order. */
#include "toolstack/ts_plan.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <xen/io/protocols.h>
#include <xen/io/xenbus.h>

#include "toolstack/toolstack.h"

void ts_plan_init(struct ts_plan *p)
{
    memset(p, 0, sizeof(*p));
}

void ts_plan_free(struct ts_plan *p)
{
    for (size_t i = 0; i < p->n; i++) {
        free(p->steps[i].path);
        free(p->steps[i].value);
    }
    free(p->steps);
    memset(p, 0, sizeof(*p));
}

static void add_step(struct ts_plan *p, enum ts_op op, const struct xs_permissions *perms,
                     unsigned nperms, const char *value, const char *fmt, va_list ap)
{
    if (p->failed)
        return;
    if (p->n == p->cap) {
        size_t cap = p->cap ? p->cap * 2 : 32;
        struct ts_step *s = realloc(p->steps, cap * sizeof(*s));
        if (!s) {
            p->failed = true;
            return;
        }
        p->steps = s;
        p->cap = cap;
    }
    struct ts_step *s = &p->steps[p->n];
    memset(s, 0, sizeof(*s));
    s->op = op;
    if (vasprintf(&s->path, fmt, ap) < 0) {
        p->failed = true;
        return;
    }
    if (value && !(s->value = strdup(value))) {
        free(s->path);
        p->failed = true;
        return;
    }
    s->nperms = nperms;
    for (unsigned i = 0; i < nperms && i < 2; i++)
        s->perms[i] = perms[i];
    p->n++;
}

void ts_plan_rm(struct ts_plan *p, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    add_step(p, TS_RM, NULL, 0, NULL, fmt, ap);
    va_end(ap);
}

void ts_plan_mkdir(struct ts_plan *p, const struct xs_permissions *perms, unsigned nperms,
                   const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    add_step(p, TS_MKDIR, perms, nperms, NULL, fmt, ap);
    va_end(ap);
}

void ts_plan_write(struct ts_plan *p, const struct xs_permissions *perms, unsigned nperms,
                   const char *value, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    add_step(p, TS_WRITE, perms, nperms, value, fmt, ap);
    va_end(ap);
}

const struct ts_step *ts_plan_find(const struct ts_plan *p, const char *path)
{
    for (size_t i = p->n; i-- > 0;) {
        if (!strcmp(p->steps[i].path, path))
            return &p->steps[i];
    }
    return NULL;
}

void ts_dev_init(struct ts_dev *dev, unsigned domid, const char *kind, const char *backend_kind,
                 unsigned devid)
{
    memset(dev, 0, sizeof(*dev));
    dev->domid = domid;
    dev->backend_domid = 0;
    snprintf(dev->kind, sizeof(dev->kind), "%s", kind);
    snprintf(dev->backend_kind, sizeof(dev->backend_kind), "%s", backend_kind);
    dev->devid = devid;
    snprintf(dev->fe, sizeof(dev->fe), "/local/domain/%u/device/%s/%u", domid, kind, devid);
    snprintf(dev->be, sizeof(dev->be), "/local/domain/%u/backend/%s/%u/%u", dev->backend_domid,
             backend_kind, domid, devid);
    snprintf(dev->lx, sizeof(dev->lx), "/libxl/%u/device/%s/%u", domid, kind, devid);
}

bool ts_dev_has_script(const struct ts_dev *dev)
{
    return !strcmp(dev->backend_kind, "vbd") || !strcmp(dev->backend_kind, "vbd3") ||
           !strcmp(dev->backend_kind, "vif");
}

bool ts_dev_waits_initwait(const struct ts_dev *dev)
{
    return strcmp(dev->backend_kind, "qdisk") != 0;
}

int ts_script_path(const char *script, const char *dflt, const char *script_dir, char *out,
                   size_t outlen)
{
    const char *s = script && *script ? script : dflt;
    int n = s[0] == '/' ? snprintf(out, outlen, "%s", s)
                        : snprintf(out, outlen, "%s/%s", script_dir, s);
    return n < 0 || (size_t)n >= outlen ? -1 : 0;
}

bool ts_disk_needs_stat(const struct xlcfg_disk *d)
{
    return strcmp(d->format, "empty") && (!d->backendtype[0] || !strcmp(d->backendtype, "phy")) &&
           !d->script[0];
}

/* disk_try_backend: whether one backend suits the disk. */
static bool backend_suits(const struct xlcfg_disk *d, const char *backend, mode_t mode)
{
    bool raw = !strcmp(d->format, "raw");
    if (!strcmp(backend, "phy")) {
        if (!raw)
            return false;
        if (d->script[0])
            return true; /* the script deals with whatever the target is */
        return S_ISBLK(mode) || S_ISREG(mode);
    }
    if (!strcmp(backend, "qdisk"))
        return !d->script[0];
    if (!strcmp(backend, "tap"))
        return raw || !strcmp(d->format, "vhd");
    return false;
}

int ts_disk_backend(const struct xlcfg_disk *d, mode_t target_mode, char backend[16], char *err,
                    size_t errlen)
{
    static const char *const order[] = {"phy", "qdisk", "tap"};
    if (!strcmp(d->format, "empty") && !d->cdrom) {
        snprintf(err, errlen, "Disk vdev=%s is empty but not cdrom", d->vdev);
        return -1;
    }
    if (d->backendtype[0]) {
        if (backend_suits(d, d->backendtype, target_mode)) {
            snprintf(backend, 16, "%s", d->backendtype);
            return 0;
        }
    } else {
        for (size_t i = 0; i < sizeof(order) / sizeof(order[0]); i++) {
            if (backend_suits(d, order[i], target_mode)) {
                snprintf(backend, 16, "%s", order[i]);
                return 0;
            }
        }
    }
    snprintf(err, errlen, "no suitable backend for disk %s", d->vdev);
    return -1;
}

/* Key/value lists as libxl's flexarrays: the backend's, the frontend's and
 * the read-only frontend's entries. */
#define KVS_MAX 24
struct kvs {
    size_t n;
    const char *key[KVS_MAX];
    char val[KVS_MAX][1100];
};

static void kv(struct kvs *k, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void kv(struct kvs *k, const char *key, const char *fmt, ...)
{
    va_list ap;
    if (k->n == KVS_MAX)
        return;
    k->key[k->n] = key;
    va_start(ap, fmt);
    vsnprintf(k->val[k->n], sizeof(k->val[0]), fmt, ap);
    va_end(ap);
    k->n++;
}

/* libxl__device_generic_add: the /libxl copy, the frontend dir (the guest
 * owns it, the backend domain reads it), the backend dir (the backend domain
 * owns it, the guest reads it), then the /libxl copy of the backend keys. */
static void plan_generic_add(struct ts_plan *p, const struct ts_dev *dev, const struct kvs *back,
                             const struct kvs *front, const struct kvs *ro_front)
{
    const struct xs_permissions fe_perms[2] = {{dev->domid, XS_PERM_NONE},
                                               {dev->backend_domid, XS_PERM_READ}};
    const struct xs_permissions be_perms[2] = {{dev->backend_domid, XS_PERM_NONE},
                                               {dev->domid, XS_PERM_READ}};

    ts_plan_rm(p, "%s", dev->lx);
    ts_plan_write(p, NULL, 0, dev->fe, "%s/frontend", dev->lx);
    ts_plan_write(p, NULL, 0, dev->be, "%s/backend", dev->lx);

    ts_plan_rm(p, "%s", dev->fe);
    ts_plan_mkdir(p, fe_perms, 2, "%s", dev->fe);
    ts_plan_write(p, NULL, 0, dev->be, "%s/backend", dev->fe);
    for (size_t i = 0; i < front->n; i++)
        ts_plan_write(p, fe_perms, 2, front->val[i], "%s/%s", dev->fe, front->key[i]);
    for (size_t i = 0; i < ro_front->n; i++)
        ts_plan_write(p, be_perms, 2, ro_front->val[i], "%s/%s", dev->fe, ro_front->key[i]);

    ts_plan_rm(p, "%s", dev->be);
    ts_plan_mkdir(p, be_perms, 2, "%s", dev->be);
    ts_plan_write(p, NULL, 0, dev->fe, "%s/frontend", dev->be);
    for (size_t i = 0; i < back->n; i++)
        ts_plan_write(p, NULL, 0, back->val[i], "%s/%s", dev->be, back->key[i]);

    for (size_t i = 0; i < back->n; i++)
        ts_plan_write(p, NULL, 0, back->val[i], "%s/%s", dev->lx, back->key[i]);
}

/* libxl__device_disk_string_of_format, for "<format>:<path>" params. */
static const char *tap_format(const char *format)
{
    if (!strcmp(format, "raw") || !strcmp(format, "empty"))
        return "aio";
    return format;
}

int ts_plan_disk(struct ts_plan *p, struct ts_dev *dev, unsigned domid, const struct xlcfg_disk *d,
                 const char *backend, const char *script_dir, char *err, size_t errlen)
{
    struct kvs back, front, ro_front;
    char script[512];
    int devid = ts_vdev_to_devid(d->vdev);
    if (devid < 0) {
        snprintf(err, errlen, "Invalid or unsupported virtual disk identifier %s", d->vdev);
        return -1;
    }
    const char *bkind = !strcmp(backend, "tap")     ? "vbd3"
                        : !strcmp(backend, "qdisk") ? "qdisk"
                                                    : "vbd";
    ts_dev_init(dev, domid, "vbd", bkind, (unsigned)devid);
    back.n = front.n = ro_front.n = 0;

    if (!strcmp(backend, "phy")) {
        kv(&back, "params", "%s", d->target);
        if (ts_script_path(d->script, "block", script_dir, script, sizeof(script)) < 0)
            goto too_long;
        kv(&back, "script", "%s", script);
    } else if (!strcmp(backend, "tap")) {
        kv(&back, "params", "%s:%s", tap_format(d->format), d->target);
        if (ts_script_path(d->script, "block-tap", script_dir, script, sizeof(script)) < 0)
            goto too_long;
        kv(&back, "script", "%s", script);
    } else {
        kv(&back, "params", "%s:%s", tap_format(d->format), d->target);
    }
    bool rw = !strcmp(d->access, "rw");
    kv(&back, "frontend-id", "%u", domid);
    kv(&back, "online", "1");
    kv(&back, "removable", "%d", d->cdrom ? 1 : 0);
    kv(&back, "bootable", "1");
    kv(&back, "state", "%d", XenbusStateInitialising);
    kv(&back, "dev", "%s", d->vdev);
    kv(&back, "type", "%s", !strcmp(backend, "tap") ? "vbd3" : backend);
    kv(&back, "mode", "%s", rw ? "w" : "r");
    kv(&back, "device-type", "%s", d->cdrom ? "cdrom" : "disk");
    if (d->direct_io_safe)
        kv(&back, "direct-io-safe", "1");
    /* libxl's default: discard on for writable disks */
    kv(&back, "discard-enable", "%d", d->discard >= 0 ? d->discard : rw);
    kv(&back, "specification", "xen");
    if (d->chap_file[0])
        kv(&back, "chap-file", "%s", d->chap_file);

    kv(&front, "backend-id", "%u", dev->backend_domid);
    kv(&front, "state", "%d", XenbusStateInitialising);
    kv(&front, "virtual-device", "%u", dev->devid);
    kv(&front, "device-type", "%s", d->cdrom ? "cdrom" : "disk");
    kv(&front, "trusted", "%d", d->trusted ? 1 : 0);
    /* libxl writes the native protocol for PV guests (old frontends need it) */
    kv(&front, "protocol", "%s", XEN_IO_PROTO_ABI_X86_64);

    plan_generic_add(p, dev, &back, &front, &ro_front);
    return p->failed ? (snprintf(err, errlen, "out of memory"), -1) : 0;

too_long:
    snprintf(err, errlen, "script path too long for disk %s", d->vdev);
    return -1;
}

int ts_plan_vif(struct ts_plan *p, struct ts_dev *dev, unsigned domid, const struct xlcfg_vif *v,
                unsigned handle, const char *mac, const char *script_dir, char *err, size_t errlen)
{
    struct kvs back, front, ro_front;
    char script[512];
    unsigned mtu = v->mtu ? v->mtu : 1500;
    ts_dev_init(dev, domid, "vif", "vif", handle);
    back.n = front.n = ro_front.n = 0;

    /* libxl__device_add_async's generic entries come first */
    kv(&back, "frontend-id", "%u", domid);
    kv(&back, "online", "1");
    kv(&back, "state", "%d", XenbusStateInitialising);
    kv(&front, "backend-id", "%u", dev->backend_domid);
    kv(&front, "state", "%d", XenbusStateInitialising);

    if (ts_script_path(v->script, "vif-bridge", script_dir, script, sizeof(script)) < 0) {
        snprintf(err, errlen, "script path too long for vif %u", handle);
        return -1;
    }
    kv(&back, "script", "%s", script);
    kv(&back, "mac", "%s", mac);
    if (v->rate[0]) {
        uint64_t bytes;
        uint32_t usecs;
        if (xlcfg_vif_rate(v->rate, &bytes, &usecs, err, errlen) < 0)
            return -1;
        kv(&back, "rate", "%" PRIu64 ",%" PRIu32, bytes, usecs);
    }
    if (mtu != 1500)
        kv(&back, "mtu", "%u", mtu);
    if (v->vlan[0])
        kv(&back, "vlan", "%s", v->vlan);
    kv(&back, "bridge", "%s", v->bridge[0] ? v->bridge : "xenbr0");
    kv(&back, "handle", "%u", handle);
    kv(&back, "type", "vif");

    kv(&front, "handle", "%u", handle);
    kv(&front, "mac", "%s", mac);
    /* the guest may read but not change its MTU */
    kv(&ro_front, "mtu", "%u", mtu);
    /* makes the backend wait for the hotplug script before Connected */
    kv(&back, "hotplug-status", "%s", "");
    kv(&front, "trusted", "%d", v->trusted ? 1 : 0);

    plan_generic_add(p, dev, &back, &front, &ro_front);
    return p->failed ? (snprintf(err, errlen, "out of memory"), -1) : 0;
}

int ts_plan_domain(struct ts_plan *p, unsigned domid, const struct xlcfg *cfg, const char *uuid,
                   const char *start_time)
{
    /* dom0 only; dom0 owns and the guest reads; the guest owns */
    const struct xs_permissions noperm[1] = {{0, XS_PERM_NONE}};
    const struct xs_permissions roperm[2] = {{0, XS_PERM_NONE}, {domid, XS_PERM_READ}};
    const struct xs_permissions rwperm[1] = {{domid, XS_PERM_NONE}};
    static const char *const guest_writable[] = {"device/suspend/event-channel",
                                                 "control/shutdown",
                                                 "control/feature-poweroff",
                                                 "control/feature-reboot",
                                                 "control/feature-suspend",
                                                 "control/sysrq",
                                                 "data",
                                                 "drivers",
                                                 "feature",
                                                 "attr",
                                                 "error"};
    char dom[48], vm[64], lx[32], buf[64];
    snprintf(dom, sizeof(dom), "/local/domain/%u", domid);
    snprintf(vm, sizeof(vm), "/vm/%s", uuid);
    snprintf(lx, sizeof(lx), "/libxl/%u", domid);

    /* libxl__domain_make */
    ts_plan_rm(p, "%s", dom);
    ts_plan_write(p, roperm, 2, "", "%s", dom);
    ts_plan_rm(p, "%s", vm);
    ts_plan_write(p, roperm, 2, "", "%s", vm);
    ts_plan_rm(p, "%s", lx);
    ts_plan_write(p, noperm, 1, "", "%s", lx);
    ts_plan_write(p, noperm, 1, "", "%s/device", lx);
    ts_plan_write(p, NULL, 0, vm, "%s/vm", dom);
    ts_plan_write(p, NULL, 0, cfg->name, "%s/name", dom); /* libxl__domain_rename */
    ts_plan_write(p, NULL, 0, cfg->name, "%s/name", vm);
    ts_plan_write(p, roperm, 2, "", "%s/cpu", dom);
    ts_plan_write(p, roperm, 2, "", "%s/memory", dom);
    ts_plan_write(p, roperm, 2, "", "%s/device", dom);
    ts_plan_write(p, roperm, 2, "", "%s/control", dom);
    for (size_t i = 0; i < sizeof(guest_writable) / sizeof(guest_writable[0]); i++)
        ts_plan_write(p, rwperm, 1, "", "%s/%s", dom, guest_writable[i]);
    ts_plan_write(p, NULL, 0, uuid, "%s/uuid", vm);
    ts_plan_write(p, NULL, 0, "1", "%s/control/platform-feature-multiprocessor-suspend", dom);
    ts_plan_write(p, NULL, 0, "1", "%s/control/platform-feature-xs_reset_watches", dom);
    ts_plan_write(p, NULL, 0, "pv", "%s/type", lx);

    /* libxl__build_post (store/port and store/ring-ref have no meaning on
     * xensim, whose guests reach xenstored through a socket) */
    snprintf(buf, sizeof(buf), "%" PRIu64, cfg->memory_mb * 1024);
    ts_plan_write(p, NULL, 0, buf, "%s/memory/static-max", dom);
    ts_plan_write(p, NULL, 0, buf, "%s/memory/target", dom);
    ts_plan_write(p, NULL, 0, "0", "%s/memory/videoram", dom);
    snprintf(buf, sizeof(buf), "%u", domid);
    ts_plan_write(p, NULL, 0, buf, "%s/domid", dom);
    ts_plan_write(p, NULL, 0, "online", "%s/cpu/0/availability", dom);
    /* the PV build's /vm entries (libxl__domain_build) */
    ts_plan_write(p, NULL, 0, "linux", "%s/image/ostype", vm);
    if (cfg->kernel[0])
        ts_plan_write(p, NULL, 0, cfg->kernel, "%s/image/kernel", vm);
    ts_plan_write(p, NULL, 0, start_time, "%s/start_time", vm);
    return p->failed ? -1 : 0;
}
