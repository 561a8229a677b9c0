/* The xenstore tree: nodes with values, children and permissions, the
 * operations clients ask for (with xenstored's permission and quota rules),
 * and transactions. It knows nothing about sockets or watches: a change
 * becomes a struct xsd_event given to the store's fire callback, at once or,
 * inside a transaction, when the transaction commits.
 *
 * Every operation returns 0 or an errno value that xenstored would send
 * (ENOENT, EACCES, EINVAL, ENOSPC, EPERM, E2BIG, EAGAIN). Paths given to it
 * are canonical and validated (see xsd_path.h). */
#ifndef XENSIM_XSD_STORE_H
#define XENSIM_XSD_STORE_H

#include <stdbool.h>
#include <stdint.h>

#include "xsd_perms.h"
#include "xsd_quota.h"

struct xsd_store;
struct xsd_txn;

struct xsd_node {
    char *path;
    char *value;
    unsigned vlen;
    char *children; /* nul-separated names, in creation order */
    unsigned childlen;
    struct xsd_perms perms;
    uint64_t gen; /* changes whenever the node does; 0 is never used */
};

/* A change that may fire watches. perms are the node's when it changed (for a
 * removal, before it went); old are the permissions a SET_PERMS replaced
 * (num 0 otherwise), so that a watcher losing access still hears of it.
 * exact: only watches on path itself fire (the nodes below a removed one). */
struct xsd_event {
    char *path;
    bool exact;
    struct xsd_perms perms;
    struct xsd_perms old;
};

typedef void (*xsd_fire_fn)(void *arg, const struct xsd_event *ev);

/* What an operation runs in: the store, the caller's transaction (NULL for
 * none) and the caller. */
struct xsd_ctx {
    struct xsd_store *store;
    struct xsd_txn *txn;
    struct xsd_who who;
};

/* A store holding "/" (owned by dom0, "n0"); quota is read at each use. */
struct xsd_store *xsd_store_new(const struct xsd_quota *quota, xsd_fire_fn fire, void *arg);
void xsd_store_free(struct xsd_store *s);

int xsd_store_read(const struct xsd_ctx *c, const char *path, const struct xsd_node **node);
int xsd_store_write(const struct xsd_ctx *c, const char *path, const void *data, unsigned len);
int xsd_store_mkdir(const struct xsd_ctx *c, const char *path);
int xsd_store_rm(const struct xsd_ctx *c, const char *path);
int xsd_store_set_perms(const struct xsd_ctx *c, const char *path, const struct xsd_perms *perms);

/* Nodes owned by domid in the committed tree. */
unsigned xsd_store_owned(const struct xsd_store *s, unsigned domid);

/* Calls fn for path and every node below it in the committed tree, parents
 * before children, children in creation order. */
void xsd_store_walk(struct xsd_store *s, const char *path,
                    void (*fn)(const struct xsd_node *node, void *arg), void *arg);

/* Transactions: an isolated view of the tree. A node is read from the
 * committed tree the first time the transaction touches it and is private
 * from then on. Ending with commit fails with EAGAIN (and changes nothing)
 * when any node the transaction read or wrote changed meanwhile; either way
 * the transaction is freed. */
struct xsd_txn *xsd_txn_start(struct xsd_store *s, unsigned domid);
int xsd_txn_end(struct xsd_txn *t, bool commit);

void xsd_event_free(struct xsd_event *ev);

#endif
