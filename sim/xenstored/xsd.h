/* xensim's xenstored: the xenstore daemon of the simulated hypervisor,
 * speaking xen/io/xs_wire.h on unix sockets. DIR/xenstored.sock is dom0's
 * (privileged) socket; DIR/dom<N>.sock is guest N's, and every connection
 * accepted on it acts as domain N with that domain's rights only. */
#ifndef XENSIM_XSD_H
#define XENSIM_XSD_H

#include <stdbool.h>
#include <stdio.h>

struct pv_loop;
struct xsd;

/* What xenstored asks of the rest of the simulator. */
struct xsd_hooks {
    /* True when domid is a live domain (for INTRODUCE, IS_DOMAIN_INTRODUCED). */
    bool (*domain_exists)(void *arg, unsigned domid);
    void *arg;
};

/* Creates the store (with "/", "/local", "/local/domain", "/tool" as xenstored
 * does) and listens on DIR/xenstored.sock. NULL with errno on failure. */
struct xsd *xsd_new(struct pv_loop *loop, const char *dir, const struct xsd_hooks *hooks);
/* Closes every connection and socket, frees the store. */
void xsd_free(struct xsd *xsd);

/* A new domain: creates /local/domain/<domid> owned by it, opens
 * DIR/dom<domid>.sock, fires @introduceDomain. */
int xsd_introduce(struct xsd *xsd, unsigned domid);
/* A domain is gone: closes its socket and connections, drops its watches
 * and transactions, fires @releaseDomain. Its nodes stay (the toolstack
 * removes them, as on Xen). */
int xsd_release(struct xsd *xsd, unsigned domid);

/* The daemon's limits, which a caller (a test, a config) may change at any
 * time; they apply from the next request on. See xsd_quota.h. */
struct xsd_quota *xsd_quota(struct xsd *xsd);

/* Writes the whole tree with permissions, like "xenstore-ls -fp". */
void xsd_dump(struct xsd *xsd, FILE *out);

#endif
