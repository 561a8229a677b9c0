/* `xensim migrate NAME DIR2`: xl migrate between two xensim instances on one
 * host. The steps are libxl's for a PV guest, with xensim's hypervisor part
 * in place of Xen's save/restore:
 *   1. suspend: the guest's kernel acknowledges control/shutdown=suspend
 *      (and stops its NIC drivers), then the domain is paused. Its drivers
 *      keep their in-flight requests, as a suspended Linux's do.
 *   2. the source's devices are removed as a detach does (online=0,
 *      Closing, wait for Closed, hotplug remove): every backend finishes and
 *      flushes what it has before anything connects on the destination.
 *   3. the memory moves (CTL_SAVE, CTL_RESTORE): a new domid there.
 *   4. the destination's toolstack creates the domain with the same config
 *      and uuid and adds its devices (its pvback-watch starts the backends,
 *      the hotplug scripts run).
 *   5. the guest's processes move (CTL_RELEASE, CTL_ADOPT), the start-info
 *      page says where the domain now is, the source domain is destroyed
 *      (nothing of it is left there) and the guest runs again: each of its
 *      frontends follows (pv_platform_rehome) and reconnects, replaying what
 *      was in flight. */
#include "xensim.h"

#include "hv/hv_proto.h"
#include "netns.h"
#include "toolstack/toolstack.h"
#include "toolstack/xlcfg.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <stddef.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <xenstore.h>

/* What a config may hold in xenstore (XENSTORE_PAYLOAD_MAX, with room). */
#define CFG_TEXT_MAX 4000u

static int cfg_path(char *buf, size_t len, unsigned domid, const char *leaf)
{
    return snprintf(buf, len, "/libxl/%u/xensim-%s", domid, leaf) < (int)len ? 0 : -1;
}

/* Writes the record: the config's text and the overrides, one a line. */
static int cfg_store(struct xs_handle *xs, unsigned domid, const char *text, const char *args,
                     char *err, size_t errlen)
{
    const char *leaf[2] = {"config", "args"}, *val[2] = {text, args};
    char key[64];

    for (int i = 0; i < 2; i++) {
        cfg_path(key, sizeof(key), domid, leaf[i]);
        if (!xs_write(xs, XBT_NULL, key, val[i], (unsigned)strlen(val[i]))) {
            snprintf(err, errlen, "unable to write %s: %s", key, strerror(errno));
            return -1;
        }
    }
    return 0;
}

int xsim_cfg_record(struct xs_handle *xs, unsigned domid, const char *path, int nargs, char **args,
                    char *err, size_t errlen)
{
    char text[CFG_TEXT_MAX + 1], joined[CFG_TEXT_MAX + 1] = "";
    size_t n = 0, at = 0;
    FILE *f = fopen(path, "re");

    if (f) {
        n = fread(text, 1, sizeof(text), f);
        fclose(f);
    }
    if (!f || n > CFG_TEXT_MAX || memchr(text, 0, n)) {
        snprintf(err, errlen, "%s: %s", path,
                 f ? "not a config xensim can keep for a migration" : strerror(errno));
        return -1;
    }
    text[n] = 0;
    for (int i = 0; i < nargs; i++) {
        int w = snprintf(joined + at, sizeof(joined) - at, "%s%s", at ? "\n" : "", args[i]);
        if (w < 0 || (size_t)w >= sizeof(joined) - at) {
            snprintf(err, errlen, "the overrides are too long to keep for a migration");
            return -1;
        }
        at += (size_t)w;
    }
    return cfg_store(xs, domid, text, joined, err, errlen);
}

/* The record (text and args, the caller frees them) and the config it
 * makes. */
static int cfg_recall(struct xs_handle *xs, unsigned domid, struct xlcfg *cfg, char **text,
                      char **args, char *err, size_t errlen)
{
    char key[64], *copy = NULL;
    unsigned len;

    cfg_path(key, sizeof(key), domid, "config");
    *text = xs_read(xs, XBT_NULL, key, &len);
    cfg_path(key, sizeof(key), domid, "args");
    *args = xs_read(xs, XBT_NULL, key, &len);
    if (!*text || !*args) {
        snprintf(err, errlen, "domain %u has no recorded config (not made by xensim create)",
                 domid);
        return -1;
    }
    if (xlcfg_parse(*text, cfg, err, errlen) < 0 || !(copy = strdup(*args))) {
        free(copy);
        return -1;
    }
    for (char *save = NULL, *kv = strtok_r(copy, "\n", &save); kv; kv = strtok_r(NULL, "\n", &save))
        if (xlcfg_apply_override(cfg, kv, err, errlen) < 0) {
            free(copy);
            return -1;
        }
    free(copy);
    return 0;
}

/* The uuid of domid: /local/domain/N/vm is /vm/<uuid>. */
static int domain_uuid(struct xs_handle *xs, unsigned domid, char uuid[37])
{
    char path[64];
    unsigned len;
    char *vm;
    int rc = -1;

    snprintf(path, sizeof(path), "/local/domain/%u/vm", domid);
    vm = xs_read(xs, XBT_NULL, path, &len);
    if (vm && !strncmp(vm, "/vm/", 4) && strlen(vm + 4) == 36) {
        memcpy(uuid, vm + 4, 37);
        rc = 0;
    }
    free(vm);
    return rc;
}

/* Step 2: each vbd and vif removed as a detach does. */
static int close_devices(struct xs_handle *xs, unsigned domid)
{
    static const char *const kinds[] = {"vbd", "vif"};
    char path[64], err[512];
    int rc = 0;

    for (size_t k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++) {
        unsigned n = 0;
        char **devs;

        snprintf(path, sizeof(path), "/libxl/%u/device/%s", domid, kinds[k]);
        devs = xs_directory(xs, XBT_NULL, path, &n);
        for (unsigned i = 0; devs && i < n; i++) {
            char *end;
            unsigned long devid = strtoul(devs[i], &end, 10);
            if (*end || end == devs[i])
                continue;
            if (ts_device_remove(xs, domid, kinds[k], (unsigned)devid, false, err, sizeof(err)) <
                0) {
                fprintf(stderr, "xensim: migrate: closing %s %lu: %s\n", kinds[k], devid, err);
                rc = -1;
            }
        }
        free(devs);
    }
    return rc;
}

/* Step 5: the start-info page tells the guest where it now is. */
static int write_start_info(int memfd, const char *dir2, unsigned domid2)
{
    struct hv_start_info si;
    const off_t at = (off_t)HV_START_INFO_FRAME * 4096;

    if (pread(memfd, &si, sizeof(si), at) != (ssize_t)sizeof(si))
        return -1;
    si.domid = domid2;
    snprintf(si.dir, sizeof(si.dir), "%s", dir2);
    /* epoch last: whoever sees it change reads the rest (the guest is
     * paused now, so plain writes in this order are enough). */
    const size_t rest = sizeof(si) - offsetof(struct hv_start_info, domid);
    if (pwrite(memfd, (const char *)&si + offsetof(struct hv_start_info, domid), rest,
               at + (off_t)offsetof(struct hv_start_info, domid)) != (ssize_t)rest)
        return -1;
    si.epoch++;
    return pwrite(memfd, &si.epoch, sizeof(si.epoch), at) == (ssize_t)sizeof(si.epoch) ? 0 : -1;
}

/* Step 5: the processes follow the domain to dir2. */
static int move_processes(const char *dir, unsigned domid, const char *dir2, unsigned domid2)
{
    static int32_t pids[CTL_MAX_PROCS];
    struct ctl_req req = {.op = CTL_RELEASE, .domid = (int)domid};
    struct ctl_rep rep;
    int rc = 0;

    if (xsim_ctl_call(dir, &req, &rep, pids, sizeof(pids), NULL) < 0)
        return -1;
    for (uint32_t i = 0; i < rep.count && i < CTL_MAX_PROCS; i++) {
        struct ctl_req a = {.op = CTL_ADOPT, .domid = (int)domid2, .pid = pids[i]};
        struct ctl_rep ar;
        if (xsim_ctl_call(dir2, &a, &ar, NULL, 0, NULL) < 0)
            rc = -1; /* it exited meanwhile, or cannot be followed: said */
    }
    return rc;
}

/* The destination's toolstack steps run in its dom0's network namespace,
 * as xl migrate's receiving side runs on the destination host: that is
 * where its hotplug scripts find the bridge and the backends' taps. */
static int enter_netns(const char *ns)
{
    char path[PATH_MAX];
    int fd, rc;

    snprintf(path, sizeof(path), "/run/netns/%s", ns);
    fd = open(path, O_RDONLY | O_CLOEXEC);
    rc = fd >= 0 ? setns(fd, CLONE_NEWNET) : -1;
    if (rc < 0)
        fprintf(stderr, "xensim: migrate: network namespace %s: %s\n", ns, strerror(errno));
    if (fd >= 0)
        close(fd);
    return rc;
}

/* Steps 3 to 5, once the source's devices are closed. Returns the new domid
 * or -1. */
struct migration {
    const char *dir, *dir2, *netns2;
    unsigned domid;
    struct xlcfg cfg;
    char *text, *args; /* the config's record, which goes along */
};

static int move_domain(struct migration *m)
{
    const char *dir = m->dir, *dir2 = m->dir2;
    unsigned domid = m->domid;
    struct xlcfg *cfg = &m->cfg;
    struct ctl_req req = {.op = CTL_SAVE, .domid = (int)domid};
    struct ctl_rep rep;
    struct xs_handle *xs2 = NULL;
    char err[1024];
    int memfd = -1, grants = -1, domid2 = -1;

    if (xsim_ctl_call(dir, &req, &rep, NULL, 0, &memfd) < 0 || memfd < 0)
        return -1;
    uint64_t mem_mb = rep.count;
    req = (struct ctl_req){.op = CTL_SAVE_GRANTS, .domid = (int)domid};
    if (xsim_ctl_call(dir, &req, &rep, NULL, 0, &grants) < 0 || grants < 0)
        goto out;
    req = (struct ctl_req){.op = CTL_RESTORE, .domid = -1, .mem_mb = mem_mb, .count = rep.count};
    int fds[2] = {memfd, grants};
    if (xsim_ctl_call_fds(dir2, &req, fds, 2, &rep, NULL, 0, NULL) < 0)
        goto out;
    domid2 = (int)rep.domid;
    if (m->netns2 && enter_netns(m->netns2) < 0)
        goto fail;
    xs2 = xsim_xs_dom0(dir2);
    if (!xs2 || ts_domain_create(xs2, (unsigned)domid2, cfg, err, sizeof(err)) < 0 ||
        cfg_store(xs2, (unsigned)domid2, m->text, m->args, err, sizeof(err)) < 0 ||
        ts_devices_add(xs2, (unsigned)domid2, cfg, err, sizeof(err)) < 0) {
        if (xs2)
            fprintf(stderr, "xensim: migrate: creating '%s' in %s: %s\n", cfg->name, dir2, err);
        goto fail;
    }
    if (move_processes(dir, domid, dir2, (unsigned)domid2) < 0)
        goto fail;
    if (write_start_info(memfd, dir2, (unsigned)domid2) < 0) {
        fprintf(stderr, "xensim: migrate: cannot write the start-info page: %s\n", strerror(errno));
        goto fail;
    }
    goto out;
fail:
    if (xs2)
        ts_domain_destroy(xs2, (unsigned)domid2, err, sizeof(err));
    req = (struct ctl_req){.op = CTL_DESTROY, .domid = domid2};
    xsim_ctl_call(dir2, &req, &rep, NULL, 0, NULL);
    domid2 = -1;
out:
    if (xs2)
        xs_close(xs2);
    if (grants >= 0)
        close(grants);
    close(memfd);
    return domid2;
}

int xsim_cmd_migrate(const char *dir, int nargs, char **args)
{
    struct migration *m = calloc(1, sizeof(*m));
    const char *name = NULL;
    struct xs_handle *xs = NULL;
    struct ctl_req req;
    struct ctl_rep rep;
    char err[1024];
    int domid = -1, domid2, rc = 1;

    if (!m) {
        perror("xensim");
        return 1;
    }
    m->dir = dir;
    for (int i = 0; i < nargs; i++) {
        if (!strcmp(args[i], "--netns") && i + 1 < nargs)
            m->netns2 = args[++i];
        else if (!name)
            name = args[i];
        else if (!m->dir2)
            m->dir2 = args[i];
        else
            name = NULL;
    }
    if (!name || !m->dir2) {
        fprintf(stderr, "xensim: usage: migrate NAME|DOMID DIR2 [--netns NS]\n");
        free(m);
        return 2;
    }
    if (!xsim_ctl_alive(m->dir2)) {
        fprintf(stderr, "xensim: migrate: no xensim running in %s\n", m->dir2);
        goto out;
    }
    xs = xsim_xs_dom0(dir);
    if (!xs)
        goto out;
    domid = xsim_resolve(xs, name);
    if (domid == 0)
        fprintf(stderr, "xensim: Domain-0 cannot be migrated\n");
    if (domid <= 0)
        goto out;
    m->domid = (unsigned)domid;
    if (cfg_recall(xs, m->domid, &m->cfg, &m->text, &m->args, err, sizeof(err)) < 0) {
        fprintf(stderr, "xensim: migrate: %s\n", err);
        goto out;
    }
    if (domain_uuid(xs, m->domid, m->cfg.uuid) < 0) {
        fprintf(stderr, "xensim: migrate: domain %d has no uuid\n", domid);
        goto out;
    }
    m->cfg.domid = -1; /* a new one there, as on Xen */
    /* 1. suspend */
    if (ts_domain_pvcontrol(xs, m->domid, "suspend", TS_PVCONTROL_TIMEOUT_MS, err, sizeof(err)) <
        0) {
        fprintf(stderr, "xensim: migrate: suspending domain %d: %s\n", domid, err);
        goto out;
    }
    req = (struct ctl_req){.op = CTL_PAUSE, .domid = domid};
    if (xsim_ctl_call(dir, &req, &rep, NULL, 0, NULL) < 0)
        goto out;
    /* 2. close the source's backends; 3-5. move */
    if (close_devices(xs, m->domid) < 0) {
        fprintf(stderr,
                "xensim: migrate: the source's devices did not all close; domain %d "
                "stays there, paused\n",
                domid);
        goto out;
    }
    domid2 = move_domain(m);
    if (domid2 < 0) {
        fprintf(stderr, "xensim: migrate: domain %d stays in %s, paused, without devices\n", domid,
                dir);
        goto out;
    }
    xsim_netns_move_owned(dir, m->dir2, m->cfg.name);
    if (ts_domain_destroy(xs, m->domid, err, sizeof(err)) < 0)
        fprintf(stderr, "xensim: migrate: destroying the source domain: %s\n", err);
    req = (struct ctl_req){.op = CTL_DESTROY, .domid = domid};
    xsim_ctl_call(dir, &req, &rep, NULL, 0, NULL);
    /* The guest runs again, now in dir2. */
    req = (struct ctl_req){.op = CTL_SIGNAL, .domid = domid2, .sig = SIGCONT};
    if (xsim_ctl_call(m->dir2, &req, &rep, NULL, 0, NULL) < 0)
        goto out;
    printf("%d\n", domid2);
    rc = 0;
out:
    if (xs)
        xs_close(xs);
    free(m->text);
    free(m->args);
    free(m);
    return rc;
}
