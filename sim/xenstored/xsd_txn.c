/* Transactions: a private copy of every node the transaction touches, the
 * generation each had when first touched, and the watch events its changes
 * will fire. Commit checks those generations against the committed tree
 * (any difference: EAGAIN, as xenstored), then moves the changed nodes in. */
#include <errno.h>
#include <stdlib.h>

#include "xsd_store_priv.h"
#include "xsd_util.h"

struct entry {
    struct xsd_node *node; /* NULL: absent in the transaction's eyes */
    uint64_t base_gen;     /* generation when first touched, 0 if absent */
    bool changed;
};

struct xsd_txn {
    struct xsd_store *store;
    unsigned domid;
    struct xsd_table *entries; /* path -> struct entry */
    int owned_delta;
    bool conflict; /* set by the commit check */
    struct xsd_event *events;
    unsigned nevents;
};

struct xsd_txn *xsd_txn_start(struct xsd_store *s, unsigned domid)
{
    struct xsd_txn *t = xsd_calloc(1, sizeof(*t));

    t->store = s;
    t->domid = domid;
    t->entries = xsd_table_new();
    return t;
}

static struct entry *touch(struct xsd_txn *t, const char *path)
{
    void *v;
    struct entry *e;

    if (xsd_table_get(t->entries, path, &v))
        return v;
    e = xsd_calloc(1, sizeof(*e));
    if (xsd_table_get(t->store->nodes, path, &v)) {
        e->node = xsd_node_copy(v);
        e->base_gen = e->node->gen;
    }
    xsd_table_put(t->entries, path, e);
    return e;
}

struct xsd_node *xsd_txn_get(struct xsd_txn *t, const char *path)
{
    return touch(t, path)->node;
}

void xsd_txn_set(struct xsd_txn *t, const char *path, struct xsd_node *node)
{
    struct entry *e = touch(t, path);

    if (e->node != node)
        xsd_node_free(e->node);
    e->node = node;
    e->changed = true;
}

int xsd_txn_owned_delta(const struct xsd_txn *t)
{
    return t->owned_delta;
}

void xsd_txn_account(struct xsd_txn *t, unsigned domid, int delta)
{
    if (domid == t->domid)
        t->owned_delta += delta;
}

void xsd_txn_queue(struct xsd_txn *t, const struct xsd_event *ev)
{
    struct xsd_event *q;

    t->events = xsd_realloc(t->events, (t->nevents + 1) * sizeof(*t->events));
    q = &t->events[t->nevents++];
    q->path = xsd_strdup(ev->path);
    q->exact = ev->exact;
    xsd_perms_copy(&q->perms, &ev->perms);
    if (ev->old.num)
        xsd_perms_copy(&q->old, &ev->old);
    else
        q->old = (struct xsd_perms){0};
}

static void check_one(const char *path, void *value, void *arg)
{
    struct xsd_txn *t = arg;
    struct entry *e = value;
    void *live;
    uint64_t gen = 0;

    if (xsd_table_get(t->store->nodes, path, &live))
        gen = ((struct xsd_node *)live)->gen;
    if (gen != e->base_gen)
        t->conflict = true;
}

static void apply_one(const char *path, void *value, void *arg)
{
    struct xsd_txn *t = arg;
    struct xsd_store *s = t->store;
    struct entry *e = value;
    struct xsd_node *old;

    if (!e->changed)
        return;
    old = xsd_table_del(s->nodes, path);
    if (old) {
        xsd_store_account(s, old->perms.p[0].id, -1);
        xsd_node_free(old);
    }
    if (e->node) {
        e->node->gen = ++s->gen;
        xsd_table_put(s->nodes, path, e->node);
        xsd_store_account(s, e->node->perms.p[0].id, 1);
        e->node = NULL;
    }
}

static void free_entry(void *value)
{
    struct entry *e = value;

    xsd_node_free(e->node);
    free(e);
}

int xsd_txn_end(struct xsd_txn *t, bool commit)
{
    int err = 0;

    if (commit) {
        xsd_table_each(t->entries, check_one, t);
        if (t->conflict) {
            err = EAGAIN;
        } else {
            xsd_table_each(t->entries, apply_one, t);
            for (unsigned i = 0; i < t->nevents && t->store->fire; i++)
                t->store->fire(t->store->fire_arg, &t->events[i]);
        }
    }
    for (unsigned i = 0; i < t->nevents; i++)
        xsd_event_free(&t->events[i]);
    free(t->events);
    xsd_table_free(t->entries, free_entry);
    free(t);
    return err;
}
