/* The guest half of the demo (run it with `xensim exec GUEST -- ...`):
 * shares one page with dom0, offers an event channel, publishes both in its
 * xenstore directory and waits for dom0's event. */
#include "demo.h"

#include "log.h"
#include "platform.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xenstore.h>

static int publish(unsigned domid, uint32_t ref, int port)
{
    struct xs_handle *xs = xs_open(0);
    char path[128], val[16];
    bool ok;

    if (!xs) {
        fprintf(stderr, "[guest] cannot reach xenstore: %s\n", strerror(errno));
        return -1;
    }
    snprintf(path, sizeof(path), "/local/domain/%u/%s", domid, DEMO_KEY_REF);
    snprintf(val, sizeof(val), "%u", ref);
    ok = xs_write(xs, XBT_NULL, path, val, strlen(val));
    snprintf(path, sizeof(path), "/local/domain/%u/%s", domid, DEMO_KEY_PORT);
    snprintf(val, sizeof(val), "%d", port);
    ok = ok && xs_write(xs, XBT_NULL, path, val, strlen(val));
    if (!ok)
        fprintf(stderr, "[guest] cannot write %s: %s\n", path, strerror(errno));
    xs_close(xs);
    return ok ? 0 : -1;
}

int main(void)
{
    char err[256];
    struct pv_gntshr *s = NULL;
    struct pv_evtchn *e = NULL;
    char *page = NULL;
    uint32_t ref;
    int port, got, rc = 1;
    unsigned domid;
    struct pollfd p;

    pv_log_init("demo-guest");
    if (pv_platform_init(NULL, err, sizeof(err)) < 0 || !pv_platform_sim_dir()) {
        fprintf(stderr, "[guest] %s\n", err[0] ? err : "run me with `xensim exec GUEST -- ...`");
        return 1;
    }
    domid = pv_platform_self_domid();
    s = pv_gntshr_open();
    e = pv_evtchn_open();
    if (!s || !e) {
        fprintf(stderr, "[guest] cannot open grant/event handles: %s\n", strerror(errno));
        goto out;
    }
    page = pv_gntshr_share(s, 0, 1, &ref, true);
    if (!page) {
        fprintf(stderr, "[guest] cannot share a page: %s\n", strerror(errno));
        goto out;
    }
    snprintf(page, 4096, "%s", DEMO_MESSAGE);
    port = pv_evtchn_bind_unbound(e, 0);
    if (port < 0) {
        fprintf(stderr, "[guest] cannot allocate an event channel: %s\n", strerror(errno));
        goto out;
    }
    printf("[guest] domain %u: shared a page as grant ref %u, holding \"%s\"\n", domid, ref,
           DEMO_MESSAGE);
    printf("[guest] offered event channel port %d to dom0; published both under "
           "/local/domain/%u/data/demo\n",
           port, domid);
    fflush(stdout);
    if (publish(domid, ref, port) < 0)
        goto out;

    p = (struct pollfd){.fd = pv_evtchn_fd(e), .events = POLLIN};
    if (poll(&p, 1, DEMO_WAIT_MS) != 1 || (got = pv_evtchn_pending(e)) < 0) {
        fprintf(stderr, "[guest] no event from dom0 within %d s\n", DEMO_WAIT_MS / 1000);
        goto out;
    }
    pv_evtchn_unmask(e, (uint32_t)got);
    printf("[guest] got an event on port %d; dom0 wrote back: \"%s\"\n", got, page + DEMO_REPLY_AT);
    if (got != port || strcmp(page + DEMO_REPLY_AT, DEMO_REPLY) != 0) {
        fprintf(stderr, "[guest] that is not what dom0 should have sent\n");
        goto out;
    }
    if (pv_gntshr_unshare(s, page, 1) < 0) {
        fprintf(stderr, "[guest] cannot end the grant: %s\n", strerror(errno));
        goto out;
    }
    page = NULL;
    printf("[guest] ended the grant; done\n");
    rc = 0;
out:
    pv_evtchn_close(e);
    pv_gntshr_close(s);
    return rc;
}
