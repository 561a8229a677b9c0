/* Running a device's hotplug script the way libxl does (libxl_linux.c
 * get_hotplug_env / libxl__hotplug_disk / libxl__hotplug_nic and
 * libxl_device.c device_hotplug): argv, environment, stdin /dev/null,
 * stdout onto stderr, a timeout, and libxl's error messages. */
#ifndef XENSIM_TS_HOTPLUG_H
#define XENSIM_TS_HOTPLUG_H

#include <stdbool.h>
#include <stddef.h>

#include "toolstack/ts_plan.h"

/* The argv libxl passes: {script, "add"|"remove"} for vbd/vbd3,
 * {script, "online"|"offline", "type_if=vif"} for vif. adding selects the
 * first of each pair. argv has room for 4 entries, NULL-terminated. */
void ts_hotplug_argv(const struct ts_dev *dev, const char *script, bool adding,
                     const char *argv[4]);

/* The variables libxl adds to its own environment for the script, as
 * "NAME=value" strings in env (room for 8, NULL-terminated) backed by buf:
 * script, XENBUS_TYPE, XENBUS_PATH, XENBUS_BASE_PATH, and for a vif netdev
 * (the gatewaydev key, "" when absent) and vif (vif<domid>.<devid>). */
int ts_hotplug_env(const struct ts_dev *dev, const char *script, const char *gatewaydev,
                   char *env[8], char *buf, size_t buflen);

/* Runs the script and waits at most timeout_ms. 0 when it exited with
 * status 0; otherwise -1 and err as libxl reports it ("<script> <action>
 * [pid] exited with error status N", "... died due to fatal signal ...",
 * or "killing execution of <script> <action> because of timeout"). */
int ts_hotplug_run(const char *const argv[], char *const env[], unsigned timeout_ms, char *err,
                   size_t errlen);

#endif
