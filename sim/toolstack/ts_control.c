/* The PV control requests of xl shutdown / reboot (libxl__domain_pvcontrol):
 * write the command to the guest's control/shutdown and wait for the guest
 * to acknowledge it by clearing the node. */
#include "toolstack/toolstack.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "toolstack/ts_xs.h"

/* acknowledged: the guest emptied or removed the node (pvcontrol_acked) */
static bool acked(const char *value)
{
    return !value || !*value;
}

int ts_domain_pvcontrol(struct xs_handle *xs, unsigned domid, const char *cmd, unsigned timeout_ms,
                        char *err, size_t errlen)
{
    static const char *const commands[] = {"poweroff", "reboot", "suspend", "crash", "halt"};
    char dom[48], path[80];
    bool known = false;
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
        known |= !strcmp(cmd, commands[i]);
    if (!known) {
        snprintf(err, errlen, "unknown control request '%.16s'", cmd);
        return -1;
    }
    snprintf(dom, sizeof(dom), "/local/domain/%u", domid);
    char *exists = ts_read(xs, XBT_NULL, dom);
    if (!exists) {
        snprintf(err, errlen, "domain %u does not exist", domid);
        return -1;
    }
    free(exists);
    snprintf(path, sizeof(path), "%s/control/shutdown", dom);
    if (!xs_write(xs, XBT_NULL, path, cmd, (unsigned)strlen(cmd))) {
        snprintf(err, errlen, "unable to write %s", path);
        return -1;
    }
    pv_info("toolstack: %s requested from domain %u", cmd, domid);

    const char *paths[1] = {path};
    bool done;
    char *v;
    if (ts_wait_nodes(xs, 1, paths, acked, timeout_ms, &done, &v, err, errlen) < 0)
        return -1;
    if (!done) {
        snprintf(err, errlen, "guest didn't acknowledge control request: %s (timed out)", cmd);
        free(v);
        return -1;
    }
    free(v);
    return 0;
}
