/* pvback-watch's xenstore side: a watch per claimed backend directory starts
 * a guest's backend process when the guest has devices and stops it when
 * they are all gone; @releaseDomain (and start-up) cleans up after domains
 * that no longer exist. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xen/io/xenbus.h>

#include "log.h"
#include "watch.h"

/* errno written into a failed device's error node (EIO, as blkback uses for
 * a backend that cannot serve). */
#define FAIL_ERRNO 5

static int kind_dir(const struct watch *w, enum watch_kind kind, char *buf, size_t len)
{
    int n = snprintf(buf, len, "%s/backend/%s", w->home, watch_kind_name(kind));
    return n < 0 || (size_t)n >= len ? -1 : 0;
}

bool watch_domain_alive(struct watch *w, uint32_t domid)
{
    if (domid == w->self_domid)
        return true;
    /* libxenstore answers false for "not introduced" and for a failed
     * request alike; only the first may cost a guest its backends. */
    errno = 0;
    if (xs_is_domain_introduced(pv_xs_handle(w->xs), domid))
        return true;
    if (errno) {
        pv_warn("cannot tell whether domain %u exists (%s): leaving it alone", domid,
                strerror(errno));
        return true;
    }
    return false;
}

bool watch_domain_has_devices(struct watch *w, enum watch_kind kind, uint32_t domid)
{
    char dir[128];
    unsigned num = 0;

    if (kind_dir(w, kind, dir, sizeof(dir)) < 0)
        return false;
    size_t l = strlen(dir);
    snprintf(dir + l, sizeof(dir) - l, "/%u", domid);
    char **devs = pv_xs_directory(w->xs, XBT_NULL, dir, &num);
    bool has = devs && num > 0;
    free(devs);
    return has;
}

/* Parses a domid directory name: digits only, below DOMID_FIRST_RESERVED. */
static bool parse_domid(const char *s, uint32_t *out)
{
    uint64_t v;
    if (pv_parse_u64(s, 0, 0x7fef, &v) < 0)
        return false;
    *out = (uint32_t)v;
    return true;
}

void watch_fail_devices(struct watch *w, enum watch_kind kind, uint32_t domid, const char *why)
{
    char dir[160], err_dir[200];
    unsigned num = 0;

    if (kind_dir(w, kind, dir, sizeof(dir)) < 0)
        return;
    size_t l = strlen(dir);
    snprintf(dir + l, sizeof(dir) - l, "/%u", domid);
    char **devs = pv_xs_directory(w->xs, XBT_NULL, dir, &num);
    for (unsigned i = 0; devs && i < num; i++) {
        char be[200];
        snprintf(be, sizeof(be), "%s/%s", dir, devs[i]);
        snprintf(err_dir, sizeof(err_dir), "%s/error/backend/%s/%u/%s", w->home,
                 watch_kind_name(kind), domid, devs[i]);
        if (pv_xs_printf(w->xs, XBT_NULL, err_dir, "error", "%d %s", FAIL_ERRNO, why) < 0)
            pv_warn("%s", pv_xs_error(w->xs));
        /* Only a device that still exists gets a state: never recreate a
         * directory the toolstack removed. */
        if (pv_xs_exists(w->xs, XBT_NULL, be, "state") == 1 &&
            pv_xs_printf(w->xs, XBT_NULL, be, "state", "%d", XenbusStateClosed) < 0)
            pv_warn("%s", pv_xs_error(w->xs));
    }
    free(devs);
}

/* Starts or stops the process of (kind, domid) to match its devices. */
static void sync_domain(struct watch *w, enum watch_kind kind, uint32_t domid)
{
    if (domid == w->self_domid)
        return; /* dom0's own devices (a driver domain's) are not ours */
    if (!watch_domain_alive(w, domid))
        return; /* the @releaseDomain sweep cleans up */
    if (watch_domain_has_devices(w, kind, domid))
        watch_proc_ensure(w, kind, domid);
    else
        watch_proc_stop(w, kind, domid);
}

/* Removes what a dead domain left: its processes, backend directories and
 * error nodes of the claimed kinds, run-directory files, taps. */
static void cleanup_domain(struct watch *w, uint32_t domid)
{
    char dir[160], sub[16];
    int removed = 0;

    snprintf(sub, sizeof(sub), "%u", domid);
    for (int k = 0; k < WATCH_NKINDS; k++) {
        if (!(w->claims & (1u << k)) && !watch_proc_find(w, k, domid))
            continue;
        watch_proc_stop(w, k, domid);
        if (kind_dir(w, k, dir, sizeof(dir)) == 0 && pv_xs_exists(w->xs, XBT_NULL, dir, sub) == 1) {
            if (pv_xs_rm(w->xs, XBT_NULL, dir, sub) < 0)
                pv_warn("%s", pv_xs_error(w->xs));
            else
                removed++;
        }
        snprintf(dir, sizeof(dir), "%s/error/backend/%s", w->home, watch_kind_name(k));
        pv_xs_rm(w->xs, XBT_NULL, dir, sub);
        if (!watch_proc_find(w, k, domid)) { /* else when its process exits */
            watch_proc_forget_files(w, k, domid);
            watch_proc_forget_journal(w, k, domid);
        }
    }
    int taps = (w->claims & (1u << WATCH_VIF)) ? watch_delete_taps(domid) : 0;
    pv_info("domain %u is gone: removed %d backend director%s and %d tap%s", domid, removed,
            removed == 1 ? "y" : "ies", taps, taps == 1 ? "" : "s");
}

/* Adds domid to a small set (no duplicates); false when full. */
static bool set_add(uint32_t *set, unsigned *n, unsigned cap, uint32_t domid)
{
    for (unsigned i = 0; i < *n; i++)
        if (set[i] == domid)
            return true;
    if (*n == cap)
        return false;
    set[(*n)++] = domid;
    return true;
}

struct dead_set {
    struct watch *w;
    uint32_t *v;
    unsigned n;
};

/* Xen has at most 0x7ff0 domains; a set of that size is 128 KiB. */
#define DEAD_CAP 0x7ff0

static void add_if_dead(uint32_t domid, void *arg)
{
    struct dead_set *s = arg;
    if (!watch_domain_alive(s->w, domid))
        set_add(s->v, &s->n, DEAD_CAP, domid);
}

/* Every domain we know of (processes, backend directories of claimed kinds,
 * vif interfaces) that no longer exists gets cleaned up. */
static void sweep_dead(struct watch *w)
{
    enum { CAP = DEAD_CAP };
    uint32_t *dead = malloc(CAP * sizeof(*dead));
    unsigned ndead = 0;

    if (!dead)
        return;
    for (struct watch_proc *p = w->procs; p; p = p->next)
        if (!watch_domain_alive(w, p->domid))
            set_add(dead, &ndead, CAP, p->domid);
    for (int k = 0; k < WATCH_NKINDS; k++) {
        char dir[128];
        unsigned num = 0;
        if (!(w->claims & (1u << k)) || kind_dir(w, k, dir, sizeof(dir)) < 0)
            continue;
        char **doms = pv_xs_directory(w->xs, XBT_NULL, dir, &num);
        for (unsigned i = 0; doms && i < num; i++) {
            uint32_t domid;
            if (parse_domid(doms[i], &domid) && !watch_domain_alive(w, domid))
                set_add(dead, &ndead, CAP, domid);
        }
        free(doms);
    }
    if (w->claims & (1u << WATCH_VIF)) {
        struct dead_set set = {w, dead, ndead};
        watch_tap_domains(add_if_dead, &set);
        ndead = set.n;
    }
    for (unsigned i = 0; i < ndead; i++)
        cleanup_domain(w, dead[i]);
    free(dead);
}

/* A change below <home>/backend/<kind>: the path says which domain, or is the
 * directory itself (first event, or a collapsed queue), meaning all. */
static void on_kind(struct pv_xs *xs, const char *path, void *arg)
{
    struct watch_kind_watch *kw = arg;
    struct watch *w = kw->w;
    char dir[128];
    (void)xs;

    if (kind_dir(w, kw->kind, dir, sizeof(dir)) < 0)
        return;
    size_t l = strlen(dir);
    if (!strncmp(path, dir, l) && path[l] == '/') {
        char sub[16];
        size_t n = strcspn(path + l + 1, "/");
        uint32_t domid;
        if (n < sizeof(sub)) {
            memcpy(sub, path + l + 1, n);
            sub[n] = '\0';
            if (parse_domid(sub, &domid))
                sync_domain(w, kw->kind, domid);
        }
        return;
    }
    /* The whole directory: every domain with devices, and every process. */
    unsigned num = 0;
    char **doms = pv_xs_directory(w->xs, XBT_NULL, dir, &num);
    for (unsigned i = 0; doms && i < num; i++) {
        uint32_t domid;
        if (parse_domid(doms[i], &domid))
            sync_domain(w, kw->kind, domid);
    }
    free(doms);
    for (struct watch_proc *p = w->procs, *next; p; p = next) {
        next = p->next; /* sync may free p */
        if (p->kind == kw->kind)
            sync_domain(w, p->kind, p->domid);
    }
}

static void on_release(struct pv_xs *xs, const char *path, void *arg)
{
    (void)xs;
    (void)path;
    sweep_dead(arg);
}

int watch_xs_start(struct watch *w)
{
    for (int k = 0; k < WATCH_NKINDS; k++) {
        char dir[128];
        if (!(w->claims & (1u << k)))
            continue;
        w->kind_watch[k].w = w;
        w->kind_watch[k].kind = k;
        if (kind_dir(w, k, dir, sizeof(dir)) < 0 ||
            !pv_xs_watch_add(w->xs, dir, on_kind, &w->kind_watch[k])) {
            pv_err("cannot watch %s: %s", dir, strerror(errno));
            return -1;
        }
        pv_info("claiming %s", dir);
    }
    /* Domains that died while no pvback-watch ran. */
    sweep_dead(w);
    if (!pv_xs_watch_add(w->xs, "@releaseDomain", on_release, w)) {
        pv_err("cannot watch @releaseDomain: %s", strerror(errno));
        return -1;
    }
    return 0;
}
