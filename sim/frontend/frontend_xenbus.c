/* See frontend_xenbus.h. */
#include "frontend_xenbus.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <xen/io/xenbus.h>

#include "platform.h"

#define POLL_US 2000

uint64_t fe_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Our directory for this domid, and the backend it names. */
static int find_backend(struct fe_bus *b, char *err, size_t errlen)
{
    char *be = NULL;
    unsigned be_id = 0;

    snprintf(b->fe_path, sizeof(b->fe_path), "/local/domain/%u/device/%s/%u",
             pv_platform_self_domid(), b->kind, b->devid);
    if (pv_xs_read_str(b->xs, XBT_NULL, b->fe_path, "backend", &be) < 0 ||
        pv_xs_read_uint(b->xs, XBT_NULL, b->fe_path, "backend-id", 0, 0x7fef, &be_id) < 0) {
        snprintf(err, errlen, "%s", pv_xs_error(b->xs));
        free(be);
        return -1;
    }
    snprintf(b->be_path, sizeof(b->be_path), "%s", be);
    free(be);
    b->backend_domid = be_id;
    return 0;
}

static int connect_xs(struct fe_bus *b, char *err, size_t errlen)
{
    b->xs = pv_xs_open(NULL);
    if (!b->xs) {
        snprintf(err, errlen, "cannot connect to xenstore: %s", strerror(errno));
        return -1;
    }
    if (find_backend(b, err, errlen) < 0) {
        fe_bus_close(b);
        return -1;
    }
    return 0;
}

int fe_bus_open(struct fe_bus *b, const char *kind, uint32_t devid, unsigned timeout_ms,
                struct pv_gntshr **shr, char *err, size_t errlen)
{
    memset(b, 0, sizeof(*b));
    b->kind = kind;
    b->devid = devid;
    b->timeout_ms = timeout_ms;
    /* Where we start is home (0 on xen, where the guest kernel moves us). */
    b->home_epoch = pv_platform_home_epoch();
    if (connect_xs(b, err, errlen) < 0)
        return -1;
    *shr = pv_gntshr_open();
    if (!*shr) {
        snprintf(err, errlen, "cannot open the grant-sharing device: %s", strerror(errno));
        fe_bus_close(b);
        return -1;
    }
    /* A driver (re)starting: Initialising, which also makes a backend left
     * Closed by an earlier user of the device go back to InitWait. */
    if (fe_set_state(b, XenbusStateInitialising, err, errlen) < 0) {
        pv_gntshr_close(*shr);
        *shr = NULL;
        fe_bus_close(b);
        return -1;
    }
    return 0;
}

void fe_bus_close(struct fe_bus *b)
{
    if (b->xs)
        pv_xs_close(b->xs);
    b->xs = NULL;
}

unsigned fe_be_state(struct fe_bus *b)
{
    unsigned st = XenbusStateUnknown;
    if (pv_xs_read_uint(b->xs, XBT_NULL, b->be_path, "state", 0, 8, &st) < 0)
        return XenbusStateUnknown;
    return st;
}

unsigned fe_be_uint(struct fe_bus *b, const char *key, unsigned dflt)
{
    unsigned v = dflt;
    if (pv_xs_read_uint(b->xs, XBT_NULL, b->be_path, key, 0, UINT32_MAX, &v) < 0)
        v = dflt;
    return v;
}

void fe_be_error(struct fe_bus *b, char *out, size_t len)
{
    char path[320], *msg = NULL;
    const char *dev = strstr(b->be_path, "/backend/");
    unsigned d = 0;

    sscanf(b->be_path, "/local/domain/%u/", &d);
    snprintf(path, sizeof(path), "/local/domain/%u/error%s", d, dev ? dev : "");
    pv_xs_read_str(b->xs, XBT_NULL, path, "error", &msg);
    snprintf(out, len, "%s", msg ? msg : "no error node");
    free(msg);
}

int fe_set_state(struct fe_bus *b, unsigned st, char *err, size_t errlen)
{
    if (pv_xs_printf(b->xs, XBT_NULL, b->fe_path, "state", "%u", st) < 0) {
        snprintf(err, errlen, "%s", pv_xs_error(b->xs));
        return -1;
    }
    return 0;
}

int fe_wait_be(struct fe_bus *b, unsigned want, bool fail_on_close, char *err, size_t errlen)
{
    uint64_t end = fe_now_ms() + b->timeout_ms;
    unsigned st;

    while ((st = fe_be_state(b)) != want) {
        if (fail_on_close && want < XenbusStateClosing && st >= XenbusStateClosing) {
            char msg[256];
            fe_be_error(b, msg, sizeof(msg));
            snprintf(err, errlen, "backend went to state %u while waiting for %u: %s", st, want,
                     msg);
            return -1;
        }
        if (fe_now_ms() > end) {
            snprintf(err, errlen, "backend %s stayed in state %u, not %u", b->be_path, st, want);
            return -1;
        }
        usleep(POLL_US);
    }
    return 0;
}

void fe_close_device(struct fe_bus *b)
{
    char err[256];
    uint64_t end = fe_now_ms() + b->timeout_ms;

    if (fe_set_state(b, XenbusStateClosing, err, sizeof(err)) < 0)
        return;
    while (fe_be_state(b) < XenbusStateClosing && fe_now_ms() < end)
        usleep(POLL_US);
    fe_set_state(b, XenbusStateClosed, err, sizeof(err));
    while (fe_be_state(b) != XenbusStateClosed && fe_now_ms() < end)
        usleep(POLL_US);
}

bool fe_moved(const struct fe_bus *b)
{
    return pv_platform_home_epoch() != b->home_epoch;
}

int fe_follow_home(struct fe_bus *b, char *err, size_t errlen)
{
    uint32_t epoch = pv_platform_home_epoch();

    if (pv_platform_rehome() < 0) {
        snprintf(err, errlen, "following the domain to its new host: %s", strerror(errno));
        return -1;
    }
    b->home_epoch = epoch;
    fe_bus_close(b);
    return connect_xs(b, err, errlen);
}
