/* Watches: registering them per connection (with the per-domain quota) and
 * delivering events to the watches that match, but only to connections
 * allowed to read the node (or its parent), as xenstored does. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "xsd_path.h"
#include "xsd_priv.h"
#include "xsd_util.h"

struct xsd_perms *xsd_special_perms(struct xsd *xsd, const char *name)
{
    if (xsd_streq(name, "@introduceDomain"))
        return &xsd->special_introduce;
    if (xsd_streq(name, "@releaseDomain"))
        return &xsd->special_release;
    return NULL;
}

static const char *event_path(const struct xsd_watch *w, const char *path)
{
    if (!w->strip)
        return path;
    path += w->strip;
    return *path == '/' ? path + 1 : path;
}

int xsd_watch_add(struct xsd_conn *c, const char *path, const char *token)
{
    struct xsd_who who = xsd_conn_who(c);
    struct xsd_watch *w;
    char *canon = xsd_path_canonical(who.domid, path);

    for (w = c->watches; w; w = w->next) {
        if (xsd_streq(w->path, canon) && xsd_streq(w->token, token)) {
            free(canon);
            return EEXIST;
        }
    }
    if (!xsd_who_privileged(&who) && c->dom->nwatches >= c->xsd->quota.watches) {
        free(canon);
        return E2BIG;
    }
    w = xsd_calloc(1, sizeof(*w));
    w->path = canon;
    w->token = xsd_strdup(token);
    if (path[0] != '/' && path[0] != '@')
        w->strip = strlen(canon) - strlen(path) - 1;
    w->next = c->watches;
    c->watches = w;
    c->dom->nwatches++;
    return 0;
}

static void watch_free(struct xsd_conn *c, struct xsd_watch *w)
{
    if (c->dom)
        c->dom->nwatches--;
    free(w->path);
    free(w->token);
    free(w);
}

int xsd_watch_remove(struct xsd_conn *c, const char *path, const char *token)
{
    char *canon = xsd_path_canonical(xsd_conn_who(c).domid, path);

    for (struct xsd_watch **pw = &c->watches; *pw; pw = &(*pw)->next) {
        struct xsd_watch *w = *pw;
        if (xsd_streq(w->path, canon) && xsd_streq(w->token, token)) {
            *pw = w->next;
            watch_free(c, w);
            free(canon);
            return 0;
        }
    }
    free(canon);
    return ENOENT;
}

void xsd_watch_remove_all(struct xsd_conn *c)
{
    while (c->watches) {
        struct xsd_watch *w = c->watches;
        c->watches = w->next;
        watch_free(c, w);
    }
}

/* May conn see an event on this node? The node's permissions then or before
 * a SET_PERMS, or else its parent's now. */
static bool permitted(struct xsd *xsd, const struct xsd_who *who, const struct xsd_event *ev)
{
    struct xsd_ctx ctx = {.store = xsd->store, .who = {.domid = 0, .target = -1}};
    const struct xsd_node *parent;
    char *ppath;
    bool ok = false;

    if (xsd_perms_for(who, &ev->perms) & XSD_PERM_READ)
        return true;
    if (ev->old.num && (xsd_perms_for(who, &ev->old) & XSD_PERM_READ))
        return true;
    if (xsd_streq(ev->path, "/"))
        return false;
    ppath = xsd_path_parent(ev->path);
    if (xsd_store_read(&ctx, ppath, &parent) == 0)
        ok = xsd_perms_for(who, &parent->perms) & XSD_PERM_READ;
    free(ppath);
    return ok;
}

static void deliver(struct xsd *xsd, const struct xsd_event *ev)
{
    const struct xsd_perms *special = NULL;

    if (ev->path[0] == '@')
        special = xsd_special_perms(xsd, ev->path);
    for (struct xsd_conn *c = xsd->conns; c; c = c->next) {
        struct xsd_who who;

        if (c->closing || !c->watches)
            continue;
        who = xsd_conn_who(c);
        if (special ? !(xsd_perms_for(&who, special) & XSD_PERM_READ) : !permitted(xsd, &who, ev))
            continue;
        for (struct xsd_watch *w = c->watches; w && !c->closing; w = w->next) {
            bool match =
                ev->exact ? xsd_streq(ev->path, w->path) : xsd_path_is_child(ev->path, w->path);
            if (match)
                xsd_conn_send_event(c, event_path(w, ev->path), w->token);
        }
    }
}

void xsd_watch_fire(void *arg, const struct xsd_event *ev)
{
    deliver(arg, ev);
}

void xsd_watch_fire_special(struct xsd *xsd, const char *name)
{
    struct xsd_event ev = {.path = (char *)name, .perms = *xsd_special_perms(xsd, name)};

    deliver(xsd, &ev);
}
