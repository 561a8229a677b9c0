/* Domains as xenstored sees them: dom0 on DIR/xenstored.sock, each
 * introduced guest on its own DIR/dom<N>.sock, so that a connection's
 * identity comes from the socket it arrived on. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "common/log.h"
#include "common/loop.h"
#include "xsd_priv.h"
#include "xsd_util.h"

struct xsd_domain *xsd_domain_find(struct xsd *xsd, unsigned domid)
{
    for (struct xsd_domain *d = xsd->domains; d; d = d->next)
        if (d->domid == domid)
            return d;
    return NULL;
}

int xsd_domain_listen(struct xsd *xsd, struct xsd_domain *dom, const char *path)
{
    struct sockaddr_un addr = {.sun_family = AF_UNIX};
    int fd;

    if (strlen(path) >= sizeof(addr.sun_path)) {
        errno = ENAMETOOLONG;
        return -1;
    }
    strcpy(addr.sun_path, path);
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    unlink(path); /* a stale socket of an earlier run */
    if (bind(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0 || listen(fd, 64) < 0)
        goto fail;
    dom->listen_w = pv_loop_add_fd(xsd->loop, fd, EPOLLIN, xsd_conn_accept, dom);
    if (!dom->listen_w)
        goto fail;
    dom->listen_fd = fd;
    dom->sock_path = xsd_strdup(path);
    return 0;
fail : {
    int e = errno;
    close(fd);
    unlink(path);
    errno = e;
    return -1;
}
}

static struct xsd_domain *domain_new(struct xsd *xsd, unsigned domid)
{
    struct xsd_domain *d = xsd_calloc(1, sizeof(*d)), **pd = &xsd->domains;

    d->xsd = xsd;
    d->domid = domid;
    d->target = -1;
    d->listen_fd = -1;
    while (*pd)
        pd = &(*pd)->next;
    *pd = d;
    return d;
}

/* Closes a domain's socket and connections and forgets it. */
static void domain_free(struct xsd *xsd, struct xsd_domain *d)
{
    for (struct xsd_conn *c = xsd->conns; c; c = c->next)
        if (c->dom == d)
            xsd_conn_detach(c);
    pv_watch_remove(d->listen_w);
    if (d->listen_fd >= 0)
        close(d->listen_fd);
    if (d->sock_path)
        unlink(d->sock_path);
    free(d->sock_path);
    for (struct xsd_domain **pd = &xsd->domains; *pd; pd = &(*pd)->next) {
        if (*pd == d) {
            *pd = d->next;
            break;
        }
    }
    free(d);
}

struct xsd_domain *xsd_domain_new_dom0(struct xsd *xsd)
{
    return domain_new(xsd, 0);
}

void xsd_domain_free_all(struct xsd *xsd)
{
    while (xsd->domains)
        domain_free(xsd, xsd->domains);
}

/* Creates /local/domain/<domid> owned by the domain unless it exists. */
static void make_home(struct xsd *xsd, unsigned domid)
{
    struct xsd_ctx ctx = {.store = xsd->store, .who = {.domid = 0, .target = -1}};
    struct xsd_perm owner = {.id = domid, .perms = XSD_PERM_NONE};
    struct xsd_perms perms = {.p = &owner, .num = 1};
    const struct xsd_node *node;
    char *path = xsd_asprintf("/local/domain/%u", domid);

    if (xsd_store_read(&ctx, path, &node) == ENOENT) {
        xsd_store_mkdir(&ctx, path);
        xsd_store_set_perms(&ctx, path, &perms);
    }
    free(path);
}

int xsd_introduce(struct xsd *xsd, unsigned domid)
{
    struct xsd_domain *d;
    char *path;
    int rc = 0;

    if (domid == 0 || domid > XSD_DOMID_MAX) {
        errno = EINVAL;
        return -1;
    }
    if (xsd_domain_find(xsd, domid)) {
        errno = EEXIST;
        return -1;
    }
    xsd_enter(xsd);
    d = domain_new(xsd, domid);
    path = xsd_asprintf("%s/dom%u.sock", xsd->dir, domid);
    if (xsd_domain_listen(xsd, d, path) < 0) {
        int e = errno;
        pv_err("xenstored: cannot listen on %s: %s", path, strerror(e));
        domain_free(xsd, d);
        errno = e;
        rc = -1;
    } else {
        make_home(xsd, domid);
        xsd_watch_fire_special(xsd, "@introduceDomain");
        pv_info("xenstored: introduced dom%u", domid);
    }
    free(path);
    xsd_leave(xsd);
    return rc;
}

int xsd_release(struct xsd *xsd, unsigned domid)
{
    struct xsd_domain *d = domid ? xsd_domain_find(xsd, domid) : NULL;

    if (!d) {
        errno = domid ? ENOENT : EINVAL;
        return -1;
    }
    xsd_enter(xsd);
    /* Domains it was the device model of lose that link. */
    for (struct xsd_domain *o = xsd->domains; o; o = o->next)
        if (o->target == (int)domid)
            o->target = -1;
    domain_free(xsd, d);
    xsd_watch_fire_special(xsd, "@releaseDomain");
    pv_info("xenstored: released dom%u", domid);
    xsd_leave(xsd);
    return 0;
}
