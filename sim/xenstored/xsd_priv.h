/* The daemon's internals: domains, connections, watches. Shared by
 * xsd.c (lifecycle, dump), xsd_domain.c (sockets, introduce/release),
 * xsd_conn.c (framing and queues), xsd_watch.c and xsd_ops.c (requests). */
#ifndef XENSIM_XSD_PRIV_H
#define XENSIM_XSD_PRIV_H

#include <stdint.h>
#include <errno.h>
#include <stdint.h>
#include <xen/io/xs_wire.h>

#include "xsd.h"
#include "xsd_perms.h"
#include "xsd_quota.h"
#include "xsd_store.h"

/* A connection stops reading requests while this much output waits, so a
 * client that does not read its replies cannot make them pile up. */
#define XSD_OUT_PAUSE (64u * 1024)

struct pv_watch;

struct xsd_domain {
    struct xsd_domain *next;
    struct xsd *xsd;
    unsigned domid;
    int target; /* SET_TARGET: the domain whose rights it shares, or -1 */
    int listen_fd;
    struct pv_watch *listen_w;
    char *sock_path;
    unsigned nwatches; /* over all its connections */
    unsigned ntxns;
    unsigned nconns;
};

struct xsd_watch {
    struct xsd_watch *next;
    char *path; /* canonical, or an '@' name */
    char *token;
    size_t strip; /* a relative watch: leading characters cut from event paths */
};

struct xsd_outbuf {
    struct xsd_outbuf *next;
    size_t len, off;
    bool event;
    char data[];
};

struct xsd_conn_txn {
    struct xsd_conn_txn *next;
    uint32_t id;
    struct xsd_txn *txn;
};

struct xsd_conn {
    struct xsd_conn *next;
    struct xsd *xsd;
    struct xsd_domain *dom; /* NULL once detached */
    int fd;
    struct pv_watch *w;
    uint32_t mask; /* epoll events asked for */
    struct xsd_sockmsg hdr;
    size_t got; /* bytes of header then payload received */
    char payload[XENSTORE_PAYLOAD_MAX + 1];
    struct xsd_outbuf *out, *out_tail;
    size_t out_bytes;
    unsigned out_events;
    struct xsd_watch *watches;
    struct xsd_conn_txn *txns;
    uint32_t next_txid;
    bool closing; /* freed when the current dispatch ends */
};

struct xsd {
    struct pv_loop *loop;
    char *dir;
    struct xsd_hooks hooks;
    struct xsd_quota quota;
    struct xsd_store *store;
    struct xsd_domain *domains; /* dom0 first */
    struct xsd_conn *conns;
    struct xsd_perms special_introduce; /* who hears @introduceDomain */
    struct xsd_perms special_release;   /* who hears @releaseDomain */
    int depth;                          /* nested entries; see xsd_enter */
};

/* Every entry point (loop callback or public function) brackets its work
 * with these, so that connections closed meanwhile are freed only once no
 * caller can still be walking the lists. */
void xsd_enter(struct xsd *xsd);
void xsd_leave(struct xsd *xsd);

struct xsd_domain *xsd_domain_find(struct xsd *xsd, unsigned domid);
struct xsd_domain *xsd_domain_new_dom0(struct xsd *xsd);
/* Closes every domain's socket and connections. */
void xsd_domain_free_all(struct xsd *xsd);
/* Starts listening on path for connections acting as dom. */
int xsd_domain_listen(struct xsd *xsd, struct xsd_domain *dom, const char *path);

/* Connections (xsd_conn.c). */
void xsd_conn_accept(int fd, uint32_t events, void *arg);
/* Queues a message; closes the connection past the quotas. */
void xsd_conn_send(struct xsd_conn *c, uint32_t type, uint32_t req_id, uint32_t tx_id,
                   const void *data, size_t len);
void xsd_conn_send_event(struct xsd_conn *c, const char *path, const char *token);
/* Marks for closing (safe anywhere); the fd goes at once, the rest later. */
void xsd_conn_close(struct xsd_conn *c, const char *why);
/* Drops what a connection holds (watches, transactions, queue, fd). */
void xsd_conn_detach(struct xsd_conn *c);
void xsd_conn_reap(struct xsd *xsd);
struct xsd_who xsd_conn_who(const struct xsd_conn *c);

/* Requests (xsd_ops.c). */
void xsd_ops_handle(struct xsd_conn *c);

/* Watches (xsd_watch.c). */
int xsd_watch_add(struct xsd_conn *c, const char *path, const char *token);
int xsd_watch_remove(struct xsd_conn *c, const char *path, const char *token);
void xsd_watch_remove_all(struct xsd_conn *c);
/* The store's fire callback: queues the event to every matching watch whose
 * connection may see it. */
void xsd_watch_fire(void *xsd, const struct xsd_event *ev);
void xsd_watch_fire_special(struct xsd *xsd, const char *name);
/* The permissions of "@introduceDomain"/"@releaseDomain", NULL for others. */
struct xsd_perms *xsd_special_perms(struct xsd *xsd, const char *name);

/* Transactions of a connection (xsd_ops.c). */
void xsd_conn_txns_drop(struct xsd_conn *c);

#endif
