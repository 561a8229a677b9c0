/* Internals shared by the store (xsd_store.c) and its transactions
 * (xsd_txn.c): both sides of the "view" an operation reads and changes. */
#ifndef XENSIM_XSD_STORE_PRIV_H
#define XENSIM_XSD_STORE_PRIV_H

#include "xsd_store.h"
#include "xsd_table.h"

struct owned {
    unsigned domid;
    unsigned count;
};

struct xsd_store {
    struct xsd_table *nodes; /* committed tree: path -> struct xsd_node */
    uint64_t gen;            /* last generation handed out */
    const struct xsd_quota *quota;
    xsd_fire_fn fire;
    void *fire_arg;
    struct owned *owned; /* nodes per owner in the committed tree */
    unsigned nowned;
};

struct xsd_node *xsd_node_copy(const struct xsd_node *n);
void xsd_node_free(struct xsd_node *n);

/* Changes the committed node count of domid by delta. */
void xsd_store_account(struct xsd_store *s, unsigned domid, int delta);

/* Transaction side of the view (xsd_txn.c). */
/* The transaction's node at path, fetched from the committed tree on first
 * touch; NULL when it does not exist (in the transaction's eyes). */
struct xsd_node *xsd_txn_get(struct xsd_txn *t, const char *path);
/* Marks the node at path as changed by the transaction; node replaces what
 * the transaction had there (NULL: removed). */
void xsd_txn_set(struct xsd_txn *t, const char *path, struct xsd_node *node);
/* Nodes the transaction's domain gained (or lost) so far. */
int xsd_txn_owned_delta(const struct xsd_txn *t);
void xsd_txn_account(struct xsd_txn *t, unsigned domid, int delta);
void xsd_txn_queue(struct xsd_txn *t, const struct xsd_event *ev);

#endif
