/* xensim's xenstored: creating and freeing the daemon, and the dump.
 * See xsd.h; requests are in xsd_ops.c, the tree in xsd_store.c. */
#include "xsd.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "xsd_priv.h"
#include "xsd_util.h"

void xsd_enter(struct xsd *xsd)
{
    xsd->depth++;
}

void xsd_leave(struct xsd *xsd)
{
    if (--xsd->depth == 0)
        xsd_conn_reap(xsd);
}

static void set_owner_only(struct xsd_perms *perms)
{
    perms->num = 1;
    perms->p = xsd_calloc(1, sizeof(*perms->p)); /* "n0": dom0 only */
}

struct xsd *xsd_new(struct pv_loop *loop, const char *dir, const struct xsd_hooks *hooks)
{
    static const struct xsd_quota defaults = XSD_QUOTA_DEFAULTS;
    struct xsd *xsd = xsd_calloc(1, sizeof(*xsd));
    struct xsd_ctx ctx = {.who = {.domid = 0, .target = -1}};
    char *path;
    int rc;

    xsd->loop = loop;
    xsd->dir = xsd_strdup(dir);
    if (hooks)
        xsd->hooks = *hooks;
    xsd->quota = defaults;
    set_owner_only(&xsd->special_introduce);
    set_owner_only(&xsd->special_release);
    xsd->store = xsd_store_new(&xsd->quota, xsd_watch_fire, xsd);
    ctx.store = xsd->store;
    xsd_store_mkdir(&ctx, "/local/domain");
    xsd_store_mkdir(&ctx, "/tool/xenstored");

    path = xsd_asprintf("%s/xenstored.sock", dir);
    rc = xsd_domain_listen(xsd, xsd_domain_new_dom0(xsd), path);
    if (rc < 0) {
        int e = errno;
        pv_err("xenstored: cannot listen on %s: %s", path, strerror(e));
        free(path);
        xsd_free(xsd);
        errno = e;
        return NULL;
    }
    free(path);
    return xsd;
}

void xsd_free(struct xsd *xsd)
{
    if (!xsd)
        return;
    xsd->depth++;
    xsd_domain_free_all(xsd);
    for (struct xsd_conn *c = xsd->conns; c; c = c->next)
        xsd_conn_detach(c);
    xsd->depth--;
    xsd_conn_reap(xsd);
    xsd_store_free(xsd->store);
    xsd_perms_clear(&xsd->special_introduce);
    xsd_perms_clear(&xsd->special_release);
    free(xsd->dir);
    free(xsd);
}

struct xsd_quota *xsd_quota(struct xsd *xsd)
{
    return &xsd->quota;
}

/* xenstore-ls's quoting of a value: printable ASCII as is, backslash,
 * tab, newline and return escaped, other bytes as \ooo (below 8) or \xHH. */
static void put_sanitised(FILE *out, const char *v, unsigned len)
{
    for (unsigned i = 0; i < len; i++) {
        unsigned char ch = (unsigned char)v[i];

        if (ch >= ' ' && ch <= '~' && ch != '\\') {
            fputc(ch, out);
            continue;
        }
        fputc('\\', out);
        switch (ch) {
        case '\t':
            fputc('t', out);
            break;
        case '\n':
            fputc('n', out);
            break;
        case '\r':
            fputc('r', out);
            break;
        case '\\':
            fputc('\\', out);
            break;
        default:
            fprintf(out, ch < 010 ? "%03o" : "x%02x", ch);
        }
    }
}

/* One line of "xenstore-ls -fp": path = "value" (perms). */
static void dump_node(const struct xsd_node *node, void *arg)
{
    FILE *out = arg;

    if (strcmp(node->path, "/") == 0)
        return;
    fprintf(out, "%s = \"", node->path);
    put_sanitised(out, node->value, node->vlen);
    fputs("\"   (", out); /* xenstore-ls -fp puts three spaces */
    for (unsigned i = 0; i < node->perms.num; i++) {
        char buf[8];
        xsd_perm_format(&node->perms.p[i], buf, sizeof(buf));
        fprintf(out, "%s%s", i ? "," : "", buf);
    }
    fputs(")\n", out);
}

void xsd_dump(struct xsd *xsd, FILE *out)
{
    xsd_store_walk(xsd->store, "/", dump_node, out);
}
