/* The store's operations, written once against a "view": the committed tree
 * outside a transaction, the transaction's private copy inside one. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "xsd_path.h"
#include "xsd_store_priv.h"
#include "xsd_util.h"

/* ---- the view ---- */

static struct xsd_node *view_get(const struct xsd_ctx *c, const char *path)
{
    void *node = NULL;

    if (c->txn)
        return xsd_txn_get(c->txn, path);
    xsd_table_get(c->store->nodes, path, &node);
    return node;
}

/* A node of the view was changed in place. */
static void view_changed(const struct xsd_ctx *c, struct xsd_node *node)
{
    if (c->txn)
        xsd_txn_set(c->txn, node->path, node);
    else
        node->gen = ++c->store->gen;
}

static void view_insert(const struct xsd_ctx *c, struct xsd_node *node)
{
    if (c->txn) {
        xsd_txn_set(c->txn, node->path, node);
    } else {
        node->gen = ++c->store->gen;
        xsd_table_put(c->store->nodes, node->path, node);
    }
}

static void view_remove(const struct xsd_ctx *c, const char *path)
{
    if (c->txn)
        xsd_txn_set(c->txn, path, NULL);
    else
        xsd_node_free(xsd_table_del(c->store->nodes, path));
}

static void view_account(const struct xsd_ctx *c, unsigned domid, int delta)
{
    if (c->txn)
        xsd_txn_account(c->txn, domid, delta);
    else
        xsd_store_account(c->store, domid, delta);
}

static unsigned view_owned(const struct xsd_ctx *c)
{
    unsigned n = xsd_store_owned(c->store, c->who.domid);

    if (c->txn)
        n += (unsigned)xsd_txn_owned_delta(c->txn);
    return n;
}

static void view_fire(const struct xsd_ctx *c, const char *path, bool exact,
                      const struct xsd_perms *perms, const struct xsd_perms *old)
{
    struct xsd_event ev = {
        .path = (char *)path,
        .exact = exact,
        .perms = *perms,
    };

    if (old)
        ev.old = *old;
    if (c->txn)
        xsd_txn_queue(c->txn, &ev);
    else if (c->store->fire)
        c->store->fire(c->store->fire_arg, &ev);
}

/* ---- helpers ---- */

static bool limited(const struct xsd_ctx *c)
{
    return !xsd_who_privileged(&c->who);
}

static bool too_big(const struct xsd_ctx *c, size_t vlen, size_t childlen, unsigned nperms)
{
    return limited(c) && xsd_entry_size(vlen, childlen, nperms) >= c->store->quota->entry_size;
}

/* The nearest existing ancestor of a path that does not exist. */
static struct xsd_node *nearest_ancestor(const struct xsd_ctx *c, const char *path)
{
    char *p = xsd_strdup(path);
    struct xsd_node *node = NULL;

    while (!node && !xsd_streq(p, "/")) {
        char *parent = xsd_path_parent(p);
        free(p);
        p = parent;
        node = view_get(c, p);
    }
    free(p);
    return node;
}

/* xenstored's get_node: the node when the caller may do all of need with
 * it. Otherwise ENOENT if it does not exist and its nearest ancestor grants
 * need, else EACCES, so that a refused caller does not learn whether the
 * node exists. */
static int get_node(const struct xsd_ctx *c, const char *path, unsigned need, struct xsd_node **out)
{
    struct xsd_node *node = view_get(c, path), *anc;

    if (node && (xsd_perms_for(&c->who, &node->perms) & need) == need) {
        *out = node;
        return 0;
    }
    anc = nearest_ancestor(c, path);
    if (!anc || !(xsd_perms_for(&c->who, &anc->perms) & need))
        return EACCES;
    return node ? EACCES : ENOENT;
}

static void add_child(struct xsd_node *node, const char *name)
{
    size_t len = strlen(name) + 1;

    node->children = xsd_realloc(node->children, node->childlen + len);
    memcpy(node->children + node->childlen, name, len);
    node->childlen += (unsigned)len;
}

static void remove_child(struct xsd_node *node, const char *name)
{
    for (unsigned off = 0; off < node->childlen;) {
        size_t len = strlen(node->children + off) + 1;
        if (xsd_streq(node->children + off, name)) {
            memmove(node->children + off, node->children + off + len, node->childlen - off - len);
            node->childlen -= (unsigned)len;
            return;
        }
        off += (unsigned)len;
    }
}

/* Creates path and its missing ancestors; the leaf gets data. A new node
 * inherits its parent's permissions, and an unprivileged creator becomes
 * its owner. Checks the quotas first so that nothing changes on failure. */
static int create(const struct xsd_ctx *c, const char *path, const void *data, unsigned len)
{
    struct xsd_node *anc = nearest_ancestor(c, path), *parent;
    unsigned missing = 0, depth = 0;
    const char *p;
    size_t first_len;

    /* The missing nodes are the components of path after anc's. */
    p = path + (xsd_streq(anc->path, "/") ? 0 : strlen(anc->path));
    for (const char *q = p; *q; q++)
        if (*q == '/')
            missing++;
    first_len = strcspn(p + 1, "/");
    if (limited(c)) {
        if (view_owned(c) + missing > c->store->quota->nodes)
            return ENOSPC;
        if (too_big(c, anc->vlen, anc->childlen + first_len + 1, anc->perms.num) ||
            too_big(c, len, 0, anc->perms.num))
            return ENOSPC;
    }

    parent = anc;
    while (depth++ < missing) {
        struct xsd_node *node = xsd_calloc(1, sizeof(*node));
        size_t clen = strcspn(p + 1, "/");

        node->path = xsd_asprintf("%.*s", (int)(p + 1 + clen - path), path);
        xsd_perms_copy(&node->perms, &parent->perms);
        if (limited(c))
            node->perms.p[0].id = c->who.domid;
        if (depth == missing) {
            node->value = xsd_memdup(data, len);
            node->vlen = len;
        }
        add_child(parent, xsd_path_base(node->path));
        view_changed(c, parent);
        view_insert(c, node);
        view_account(c, node->perms.p[0].id, 1);
        parent = node;
        p += 1 + clen;
    }
    return 0;
}

/* ---- operations ---- */

int xsd_store_read(const struct xsd_ctx *c, const char *path, const struct xsd_node **out)
{
    struct xsd_node *node;
    int err = get_node(c, path, XSD_PERM_READ, &node);

    if (!err)
        *out = node;
    return err;
}

int xsd_store_write(const struct xsd_ctx *c, const char *path, const void *data, unsigned len)
{
    struct xsd_node *node;
    int err = get_node(c, path, XSD_PERM_WRITE, &node);

    if (err == ENOENT) {
        err = create(c, path, data, len);
        if (err)
            return err;
        node = view_get(c, path);
    } else if (err) {
        return err;
    } else {
        if (too_big(c, len, node->childlen, node->perms.num))
            return ENOSPC;
        free(node->value);
        node->value = xsd_memdup(data, len);
        node->vlen = len;
        view_changed(c, node);
    }
    view_fire(c, path, false, &node->perms, NULL);
    return 0;
}

int xsd_store_mkdir(const struct xsd_ctx *c, const char *path)
{
    struct xsd_node *node;
    int err = get_node(c, path, XSD_PERM_WRITE, &node);

    if (err != ENOENT)
        return err; /* 0: it exists, which is fine */
    err = create(c, path, NULL, 0);
    if (err)
        return err;
    view_fire(c, path, false, &view_get(c, path)->perms, NULL);
    return 0;
}

/* Fires for every node below node (exact), then removes node and them. */
static void remove_tree(const struct xsd_ctx *c, struct xsd_node *node)
{
    char *path = xsd_strdup(node->path);

    while (node->childlen) {
        char *child = xsd_path_join(path, node->children);
        struct xsd_node *cn = view_get(c, child);

        if (cn) {
            view_fire(c, child, true, &cn->perms, NULL);
            remove_tree(c, cn);
        }
        /* The child removed itself from node's list; drop a dangling name. */
        node = view_get(c, path);
        if (!cn)
            remove_child(node, xsd_path_base(child));
        free(child);
    }
    {
        char *parent_path = xsd_path_parent(path);
        struct xsd_node *parent = view_get(c, parent_path);

        remove_child(parent, xsd_path_base(path));
        view_changed(c, parent);
        free(parent_path);
    }
    view_account(c, node->perms.p[0].id, -1);
    view_remove(c, path);
    free(path);
}

int xsd_store_rm(const struct xsd_ctx *c, const char *path)
{
    struct xsd_node *node;
    int err = get_node(c, path, XSD_PERM_WRITE, &node);

    if (err == ENOENT) {
        /* Removing what is not there is fine if its parent is. */
        char *parent = xsd_path_parent(path);
        bool there = view_get(c, parent) != NULL;
        free(parent);
        return there ? 0 : ENOENT;
    }
    if (err)
        return err;
    if (xsd_streq(path, "/"))
        return EINVAL;
    view_fire(c, path, false, &node->perms, NULL);
    remove_tree(c, node);
    return 0;
}

int xsd_store_set_perms(const struct xsd_ctx *c, const char *path, const struct xsd_perms *perms)
{
    struct xsd_node *node;
    struct xsd_perms old;
    int err;

    if (limited(c) && perms->num > c->store->quota->perms)
        return ENOSPC;
    err = get_node(c, path, XSD_PERM_WRITE | XSD_PERM_OWNER, &node);
    if (err)
        return err;
    /* Only dom0 gives a node away. */
    if (limited(c) && perms->p[0].id != node->perms.p[0].id)
        return EPERM;
    if (too_big(c, node->vlen, node->childlen, perms->num))
        return ENOSPC;
    old = node->perms;
    xsd_perms_copy(&node->perms, perms);
    view_account(c, old.p[0].id, -1);
    view_account(c, perms->p[0].id, 1);
    view_changed(c, node);
    view_fire(c, path, false, &node->perms, &old);
    xsd_perms_clear(&old);
    return 0;
}

/* ---- the store ---- */

struct xsd_store *xsd_store_new(const struct xsd_quota *quota, xsd_fire_fn fire, void *arg)
{
    struct xsd_store *s = xsd_calloc(1, sizeof(*s));
    struct xsd_node *root = xsd_calloc(1, sizeof(*root));

    s->nodes = xsd_table_new();
    s->quota = quota;
    s->fire = fire;
    s->fire_arg = arg;
    root->path = xsd_strdup("/");
    root->perms.num = 1;
    root->perms.p = xsd_calloc(1, sizeof(*root->perms.p)); /* n0 */
    root->gen = ++s->gen;
    xsd_table_put(s->nodes, "/", root);
    xsd_store_account(s, 0, 1);
    return s;
}

static void free_node_value(void *node)
{
    xsd_node_free(node);
}

void xsd_store_free(struct xsd_store *s)
{
    if (!s)
        return;
    xsd_table_free(s->nodes, free_node_value);
    free(s->owned);
    free(s);
}

void xsd_store_walk(struct xsd_store *s, const char *path,
                    void (*fn)(const struct xsd_node *node, void *arg), void *arg)
{
    void *v;
    const struct xsd_node *node;

    if (!xsd_table_get(s->nodes, path, &v))
        return;
    node = v;
    fn(node, arg);
    for (unsigned off = 0; off < node->childlen;) {
        const char *name = node->children + off;
        char *child = xsd_path_join(path, name);
        xsd_store_walk(s, child, fn, arg);
        free(child);
        off += (unsigned)strlen(name) + 1;
    }
}
