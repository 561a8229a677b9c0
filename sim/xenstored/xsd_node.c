/* Node copies and frees, and the committed tree's per-owner node counts. */
#include <stdlib.h>

#include "xsd_store_priv.h"
#include "xsd_util.h"

struct xsd_node *xsd_node_copy(const struct xsd_node *n)
{
    struct xsd_node *c = xsd_calloc(1, sizeof(*c));

    c->path = xsd_strdup(n->path);
    c->value = xsd_memdup(n->value, n->vlen);
    c->vlen = n->vlen;
    c->children = xsd_memdup(n->children, n->childlen);
    c->childlen = n->childlen;
    xsd_perms_copy(&c->perms, &n->perms);
    c->gen = n->gen;
    return c;
}

void xsd_node_free(struct xsd_node *n)
{
    if (!n)
        return;
    free(n->path);
    free(n->value);
    free(n->children);
    xsd_perms_clear(&n->perms);
    free(n);
}

void xsd_store_account(struct xsd_store *s, unsigned domid, int delta)
{
    for (unsigned i = 0; i < s->nowned; i++) {
        if (s->owned[i].domid == domid) {
            s->owned[i].count += (unsigned)delta;
            return;
        }
    }
    s->owned = xsd_realloc(s->owned, (s->nowned + 1) * sizeof(*s->owned));
    s->owned[s->nowned++] = (struct owned){domid, (unsigned)delta};
}

unsigned xsd_store_owned(const struct xsd_store *s, unsigned domid)
{
    for (unsigned i = 0; i < s->nowned; i++)
        if (s->owned[i].domid == domid)
            return s->owned[i].count;
    return 0;
}

void xsd_event_free(struct xsd_event *ev)
{
    free(ev->path);
    xsd_perms_clear(&ev->perms);
    xsd_perms_clear(&ev->old);
}
