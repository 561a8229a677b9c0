/* The dom0 half of the demo (run it with `xensim exec Domain-0 -- ... DOMID`):
 * waits for the guest's keys, maps its page, reads the message, writes a
 * reply, binds the guest's event channel and notifies it. */
#include "demo.h"

#include "log.h"
#include "loop.h"
#include "platform.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <xen/grant_table.h>
#include <xenstore.h>

/* Reads /local/domain/<domid>/<key> as a number, waiting for the guest to
 * write it. -1 when it did not come in time. */
static long read_key(struct xs_handle *xs, unsigned domid, const char *key)
{
    char path[128];
    uint64_t end = pv_now_ms() + DEMO_WAIT_MS;

    snprintf(path, sizeof(path), "/local/domain/%u/%s", domid, key);
    while (pv_now_ms() < end) {
        unsigned len;
        char *v = xs_read(xs, XBT_NULL, path, &len), *tail;
        if (v) {
            long n = strtol(v, &tail, 10);
            bool ok = *v && !*tail && n >= 0;
            free(v);
            if (ok)
                return n;
            fprintf(stderr, "[dom0] %s holds a bad value\n", path);
            return -1;
        }
        usleep(50000);
    }
    fprintf(stderr, "[dom0] %s did not appear within %d s\n", path, DEMO_WAIT_MS / 1000);
    return -1;
}

int main(int argc, char **argv)
{
    char err[256];
    struct xs_handle *xs = NULL;
    struct pv_gnt *g = NULL;
    struct pv_evtchn *e = NULL;
    char *page = NULL;
    long domid, ref, port;
    int16_t status;
    int lport, rc = 1;

    pv_log_init("demo-dom0");
    if (argc != 2 || (domid = strtol(argv[1], NULL, 10)) <= 0) {
        fprintf(stderr, "usage: %s GUEST-DOMID\n", argv[0]);
        return 2;
    }
    if (pv_platform_init(NULL, err, sizeof(err)) < 0) {
        fprintf(stderr, "[dom0] %s\n", err);
        return 1;
    }
    xs = xs_open(0);
    g = pv_gnt_open();
    e = pv_evtchn_open();
    if (!xs || !g || !e) {
        fprintf(stderr, "[dom0] cannot open xenstore/grant/event handles: %s\n", strerror(errno));
        goto out;
    }
    ref = read_key(xs, (unsigned)domid, DEMO_KEY_REF);
    port = read_key(xs, (unsigned)domid, DEMO_KEY_PORT);
    if (ref < 0 || port < 0)
        goto out;
    printf("[dom0] guest %ld offers grant ref %ld and event channel port %ld\n", domid, ref, port);

    uint32_t r = (uint32_t)ref;
    page = pv_gnt_map(g, (uint32_t)domid, 1, &r, true, &status);
    if (!page) {
        fprintf(stderr, "[dom0] mapping grant %ld of domain %ld failed: status %d (%s)\n", ref,
                domid, status, strerror(errno));
        goto out;
    }
    printf("[dom0] mapped the page; it says: \"%.200s\"\n", page);
    snprintf(page + DEMO_REPLY_AT, 4096 - DEMO_REPLY_AT, "%s", DEMO_REPLY);
    /* Done with the page before telling the guest, as a backend finishes a
     * request before it notifies: the guest may then end the grant. */
    if (pv_gnt_unmap(g, page, 1) < 0) {
        fprintf(stderr, "[dom0] unmap failed: %s\n", strerror(errno));
        page = NULL;
        goto out;
    }
    page = NULL;

    lport = pv_evtchn_bind_interdomain(e, (uint32_t)domid, (uint32_t)port);
    if (lport < 0) {
        fprintf(stderr, "[dom0] binding to port %ld of domain %ld failed: %s\n", port, domid,
                strerror(errno));
        goto out;
    }
    if (pv_evtchn_notify(e, (uint32_t)lport) < 0) {
        fprintf(stderr, "[dom0] notify failed: %s\n", strerror(errno));
        goto out;
    }
    printf("[dom0] wrote a reply, unmapped the page, bound local port %d and notified the guest\n",
           lport);
    rc = 0;
out:
    if (page)
        pv_gnt_unmap(g, page, 1);
    pv_evtchn_close(e);
    pv_gnt_close(g);
    if (xs)
        xs_close(xs);
    return rc;
}
