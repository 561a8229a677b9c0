/* The xenstore changes libxl makes, computed as data ("plans") before any of
 * them is applied, so that key sets, values and permissions are unit-tested
 * without a xenstored and applied in one transaction by ts_xs.c. */
#ifndef XENSIM_TS_PLAN_H
#define XENSIM_TS_PLAN_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include <xenstore.h>

#include "toolstack/xlcfg.h"

enum ts_op {
    TS_RM,    /* remove the node and what is below it; a missing node is fine */
    TS_MKDIR, /* create an empty node, then set perms (libxl's xs_mkdir + set_permissions) */
    TS_WRITE, /* write value; perms when nperms > 0 (else the node inherits its parent's) */
};

struct ts_step {
    enum ts_op op;
    char *path;
    char *value;
    unsigned nperms;
    struct xs_permissions perms[2];
};

struct ts_plan {
    struct ts_step *steps;
    size_t n, cap;
    bool failed; /* an allocation failed: the plan is incomplete */
};

void ts_plan_init(struct ts_plan *p);
void ts_plan_free(struct ts_plan *p);
void ts_plan_rm(struct ts_plan *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void ts_plan_mkdir(struct ts_plan *p, const struct xs_permissions *perms, unsigned nperms,
                   const char *fmt, ...) __attribute__((format(printf, 4, 5)));
void ts_plan_write(struct ts_plan *p, const struct xs_permissions *perms, unsigned nperms,
                   const char *value, const char *fmt, ...) __attribute__((format(printf, 5, 6)));
/* The last step on path, or NULL. */
const struct ts_step *ts_plan_find(const struct ts_plan *p, const char *path);

/* A device as libxl addresses it. */
struct ts_dev {
    unsigned domid;         /* the guest */
    unsigned backend_domid; /* always 0 on xensim (no driver domains) */
    char kind[16];          /* frontend kind: "vbd" or "vif" */
    char backend_kind[16];  /* "vbd", "vbd3" (backendtype=tap), "qdisk" or "vif" */
    unsigned devid;
    char fe[64]; /* /local/domain/<domid>/device/<kind>/<devid> */
    char be[96]; /* /local/domain/0/backend/<backend_kind>/<domid>/<devid> */
    char lx[64]; /* /libxl/<domid>/device/<kind>/<devid> */
};

void ts_dev_init(struct ts_dev *dev, unsigned domid, const char *kind, const char *backend_kind,
                 unsigned devid);
/* libxl runs hotplug scripts for vbd, vbd3 and vif backends (not qdisk). */
bool ts_dev_has_script(const struct ts_dev *dev);
/* libxl waits for InitWait except for QEMU's backends (qdisk). */
bool ts_dev_waits_initwait(const struct ts_dev *dev);

/* libxl's choice of disk backend (libxl__device_disk_set_backend): the given
 * backendtype if it suits, else the first of phy, qdisk, tap that does.
 * target_mode is the target's st_mode when stat() was needed and done (phy
 * without script=), else 0. Writes "phy", "qdisk" or "tap" to backend. */
int ts_disk_backend(const struct xlcfg_disk *d, mode_t target_mode, char backend[16], char *err,
                    size_t errlen);
/* Whether ts_disk_backend needs the target's st_mode (libxl stats it then). */
bool ts_disk_needs_stat(const struct xlcfg_disk *d);

/* script= as libxl stores it: absolute, or relative to script_dir. */
int ts_script_path(const char *script, const char *dflt, const char *script_dir, char *out,
                   size_t outlen);

/* The steps of libxl__domain_make + libxl__build_post for a PV domain:
 * uuid is the domain's, start_time "<sec>.<centisec>". */
int ts_plan_domain(struct ts_plan *p, unsigned domid, const struct xlcfg *cfg, const char *uuid,
                   const char *start_time);
/* The steps of libxl's disk add for a disk whose backend ts_disk_backend chose;
 * fills dev. */
int ts_plan_disk(struct ts_plan *p, struct ts_dev *dev, unsigned domid, const struct xlcfg_disk *d,
                 const char *backend, const char *script_dir, char *err, size_t errlen);
/* The steps of libxl's nic add; mac is the vif's (given or generated). */
int ts_plan_vif(struct ts_plan *p, struct ts_dev *dev, unsigned domid, const struct xlcfg_vif *v,
                unsigned handle, const char *mac, const char *script_dir, char *err, size_t errlen);

#endif
