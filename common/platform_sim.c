/* The "sim" platform: grant and event-channel operations served by xensim.
 * Being written (see sim/hv/hv_proto.h); until then every operation fails
 * with ENOSYS so that nothing silently pretends to work. */
#include "platform.h"

#include <errno.h>
#include <stddef.h>

static void *fail_null(void)
{
    errno = ENOSYS;
    return NULL;
}

static struct pv_gnt *sim_gnt_open(void)
{
    return fail_null();
}

static struct pv_gntshr *sim_gntshr_open(void)
{
    return fail_null();
}

static struct pv_evtchn *sim_evtchn_open(void)
{
    return fail_null();
}

const struct pv_platform_ops pv_platform_sim_ops = {
    .name = "sim",
    .gnt_open = sim_gnt_open,
    .gntshr_open = sim_gntshr_open,
    .evtchn_open = sim_evtchn_open,
};
