/* xensim's toolstack: what libxl (xl) does in xenstore when it creates and
 * destroys a PV domain and its disks and vifs, with libxl's keys, values,
 * permissions, timeouts and hotplug-script calls (Xen 4.19's libxl; 4.17
 * differs only where docs/toolstack.md says).
 *
 * Every function is a blocking libxenstore client: call them from the xensim
 * CLI process (as xl runs in its own process), never from inside the daemon
 * that serves the xenstore they talk to. xs is any dom0 connection
 * (xs_open(0) with XENSTORED_PATH pointing at xensim's socket).
 *
 * Errors: -1 and a message in err (first line of what libxl would log, the
 * cause after ': '), e.g.
 *   "unable to add disk devices: unable to add device with path
 *    /local/domain/0/backend/vbd/3/51712: backend
 *    /local/domain/0/backend/vbd/3/51712/state wanted state 2 timed out"
 * Progress and every step are logged through common/log.h (pv_info/pv_debug). */
#ifndef XENSIM_TOOLSTACK_H
#define XENSIM_TOOLSTACK_H

#include <stdbool.h>
#include <stddef.h>
#include <xenstore.h>

#include "toolstack/xlcfg.h"

/* libxl's timeouts (LIBXL_INIT_TIMEOUT, LIBXL_DESTROY_TIMEOUT, LIBXL_HOTPLUG_TIMEOUT). */
#define TS_INIT_TIMEOUT_MS    10000u
#define TS_DESTROY_TIMEOUT_MS 10000u
#define TS_HOTPLUG_TIMEOUT_MS 40000u

/* Where relative script= names are looked up: $XEN_SCRIPT_DIR if set, else
 * /etc/xen/scripts (libxl's XEN_SCRIPT_DIR). */
const char *ts_script_dir(void);

/* Writes the keys libxl writes for a new PV domain whose hypervisor side
 * already exists with id domid: /local/domain/N/{vm,name,domid,memory/...,
 * cpu/...,control/...,device,data,...}, /vm/<uuid>/{uuid,name,image/...,
 * start_time} and /libxl/N/{type,device}, with libxl's permissions, in one
 * transaction. A cfg->uuid of "" gets a random one. Fails (writing nothing)
 * when another domain already has the name. */
int ts_domain_create(struct xs_handle *xs, unsigned domid, const struct xlcfg *cfg, char *err,
                     size_t errlen);

/* Adds cfg's disks, then its vifs (handle = index in vif=[...]), each as
 * ts_disk_add / ts_vif_add. Stops at the first failure; devices added so far
 * stay (xl destroys the half-built domain: call ts_domain_destroy). */
int ts_devices_add(struct xs_handle *xs, unsigned domid, const struct xlcfg *cfg, char *err,
                   size_t errlen);

/* One device, as libxl's device add: the backend, frontend and /libxl dirs
 * in one transaction (state 1), wait up to TS_INIT_TIMEOUT_MS for the
 * backend's state 2 (InitWait), run the hotplug script (`add` for a vbd/vbd3,
 * `online type_if=vif` for a vif) with libxl's environment, and require
 * hotplug-status "connected". qdisk disks (QEMU's) get no wait and no script,
 * as in libxl. */
int ts_disk_add(struct xs_handle *xs, unsigned domid, const struct xlcfg_disk *disk, char *err,
                size_t errlen);
int ts_vif_add(struct xs_handle *xs, unsigned domid, const struct xlcfg_vif *vif, unsigned handle,
               char *err, size_t errlen);

/* Removes one device as libxl does: online=0 and state 5 (Closing) in one
 * transaction, wait up to TS_DESTROY_TIMEOUT_MS for state 6 (Closed), then the
 * hotplug script's `remove` / `offline type_if=vif`, then the frontend,
 * backend and /libxl dirs. force (domain destroy) also removes the frontend
 * dir first and removes everything even when the backend did not close (the
 * script then does not run, as in libxl); without force (detach) a timeout
 * leaves the device in place. kind is the frontend kind ("vbd" or "vif"). */
int ts_device_remove(struct xs_handle *xs, unsigned domid, const char *kind, unsigned devid,
                     bool force, char *err, size_t errlen);

/* Destroys the domain's xenstore side: every device under /libxl/N/device
 * (forced removal, in parallel for the timeouts' sake), then /vm/<uuid>,
 * /local/domain/N and /libxl/N. Continues past failures and reports the
 * first; the hypervisor side is the caller's. */
int ts_domain_destroy(struct xs_handle *xs, unsigned domid, char *err, size_t errlen);

/* libxl's wait for a guest to acknowledge a control request. */
#define TS_PVCONTROL_TIMEOUT_MS 60000u

/* xl shutdown / reboot: writes cmd ("poweroff", "reboot", "suspend", "crash",
 * "halt") to the guest's control/shutdown and waits up to timeout_ms
 * (libxl: TS_PVCONTROL_TIMEOUT_MS) for the guest to acknowledge by emptying
 * it. Waiting for the domain to go away afterwards is the caller's. */
int ts_domain_pvcontrol(struct xs_handle *xs, unsigned domid, const char *cmd, unsigned timeout_ms,
                        char *err, size_t errlen);

/* The domid whose /local/domain/N/name is name, or -1 (errno ENOENT). */
int ts_domid_by_name(struct xs_handle *xs, const char *name);

/* --- pure helpers (unit-tested) ------------------------------------------ */

/* libxl's vdev -> device number (libxl__device_disk_dev_number): xvda ->
 * 51712, xvdq -> 268439552 (extended), hda -> 768, sdb -> 2064, d0p1,
 * or a plain number. -1 when invalid. */
int ts_vdev_to_devid(const char *vdev);

#endif
