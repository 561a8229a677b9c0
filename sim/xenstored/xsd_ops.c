/* Requests: one handler per xs_wire.h message type, each checking its
 * arguments the way xenstored does and answering with a reply or an
 * XS_ERROR naming the errno. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "xsd_path.h"
#include "xsd_priv.h"
#include "xsd_util.h"

#define DOMID_FIRST_RESERVED 0x7ff0u

struct req {
    struct xsd_conn *conn;
    const struct xsd_sockmsg *hdr;
    const char *data; /* nul-terminated one past len */
    size_t len;
    struct xsd_ctx ctx;
};

static void reply(const struct req *r, const void *data, size_t len)
{
    if (len > XENSTORE_PAYLOAD_MAX) {
        static const char e2big[] = "E2BIG";
        xsd_conn_send(r->conn, XS_ERROR, r->hdr->req_id, r->hdr->tx_id, e2big, sizeof(e2big));
        return;
    }
    xsd_conn_send(r->conn, r->hdr->type, r->hdr->req_id, r->hdr->tx_id, data, len);
}

static void reply_str(const struct req *r, const char *s)
{
    reply(r, s, strlen(s) + 1);
}

static void ack(const struct req *r)
{
    reply_str(r, "OK");
}

static void send_error(const struct req *r, int err)
{
    static const struct {
        int err;
        const char *name;
    } names[] = {
        {EINVAL, "EINVAL"},       {EACCES, "EACCES"},   {EEXIST, "EEXIST"}, {EISDIR, "EISDIR"},
        {ENOENT, "ENOENT"},       {ENOMEM, "ENOMEM"},   {ENOSPC, "ENOSPC"}, {EIO, "EIO"},
        {ENOTEMPTY, "ENOTEMPTY"}, {ENOSYS, "ENOSYS"},   {EROFS, "EROFS"},   {EBUSY, "EBUSY"},
        {EAGAIN, "EAGAIN"},       {EISCONN, "EISCONN"}, {E2BIG, "E2BIG"},   {EPERM, "EPERM"},
    };
    const char *name = "EINVAL";

    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (names[i].err == err)
            name = names[i].name;
    xsd_conn_send(r->conn, XS_ERROR, r->hdr->req_id, r->hdr->tx_id, name, strlen(name) + 1);
}

/* The single argument: the payload must be one nul-terminated string. */
static const char *onearg(const struct req *r)
{
    if (r->len == 0 || strlen(r->data) + 1 != r->len)
        return NULL;
    return r->data;
}

static unsigned nstrings(const struct req *r)
{
    return xsd_count_strings(r->data, r->len);
}

/* The i-th nul-terminated string of the payload (the caller counted them). */
static const char *arg(const struct req *r, unsigned i)
{
    const char *s = r->data;

    while (i--)
        s += strlen(s) + 1;
    return s;
}

/* Resolves and validates a node path argument (no '@' names). */
static int node_path(const struct req *r, const char *a, char **out)
{
    char *p;

    if (!a || a[0] == '@')
        return EINVAL;
    p = xsd_path_canonical(r->ctx.who.domid, a);
    if (!xsd_path_valid(p, xsd_who_privileged(&r->ctx.who))) {
        free(p);
        return EINVAL;
    }
    *out = p;
    return 0;
}

static int parse_domid(const char *s, unsigned *domid)
{
    return s && xsd_parse_uint(s, XSD_DOMID_MAX, domid) ? 0 : EINVAL;
}

/* ---- tree ---- */

static int do_read(const struct req *r)
{
    const struct xsd_node *node;
    char *path;
    int err = node_path(r, onearg(r), &path);

    if (err)
        return err;
    err = xsd_store_read(&r->ctx, path, &node);
    if (!err)
        reply(r, node->value, node->vlen);
    free(path);
    return err;
}

static int do_directory(const struct req *r)
{
    const struct xsd_node *node;
    char *path;
    int err = node_path(r, onearg(r), &path);

    if (err)
        return err;
    err = xsd_store_read(&r->ctx, path, &node);
    if (!err)
        reply(r, node->children, node->childlen);
    free(path);
    return err;
}

/* DIRECTORY_PART path offset: the node's generation, then as many child
 * names from offset as fit, with an empty name after the last one. */
static int do_directory_part(const struct req *r)
{
    const struct xsd_node *node;
    char gen[24], *path, *buf;
    unsigned off, len = 0, genlen;
    int err;

    if (nstrings(r) != 2 || !xsd_parse_uint(arg(r, 1), UINT32_MAX, &off))
        return EINVAL;
    err = node_path(r, arg(r, 0), &path);
    if (err)
        return err;
    err = xsd_store_read(&r->ctx, path, &node);
    free(path);
    if (err)
        return err;
    genlen = (unsigned)snprintf(gen, sizeof(gen), "%" PRIu64, node->gen) + 1;
    if (off > node->childlen)
        off = node->childlen;
    while (off + len < node->childlen) {
        unsigned n = (unsigned)strlen(node->children + off + len) + 1;
        if (genlen + len + n + 1 > XENSTORE_PAYLOAD_MAX)
            break;
        len += n;
    }
    buf = xsd_malloc(genlen + len + 1);
    memcpy(buf, gen, genlen);
    memcpy(buf + genlen, node->children + off, len);
    if (off + len == node->childlen)
        buf[genlen + len++] = '\0';
    reply(r, buf, genlen + len);
    free(buf);
    return 0;
}

static int do_write(const struct req *r)
{
    char *path;
    size_t plen;
    int err;

    if (nstrings(r) < 1)
        return EINVAL;
    err = node_path(r, r->data, &path);
    if (err)
        return err;
    plen = strlen(r->data) + 1;
    err = xsd_store_write(&r->ctx, path, r->data + plen, (unsigned)(r->len - plen));
    free(path);
    if (!err)
        ack(r);
    return err;
}

static int path_op(const struct req *r, int (*op)(const struct xsd_ctx *, const char *))
{
    char *path;
    int err = node_path(r, onearg(r), &path);

    if (err)
        return err;
    err = op(&r->ctx, path);
    free(path);
    if (!err)
        ack(r);
    return err;
}

static int do_mkdir(const struct req *r)
{
    return path_op(r, xsd_store_mkdir);
}

static int do_rm(const struct req *r)
{
    return path_op(r, xsd_store_rm);
}

static void reply_perms(const struct req *r, const struct xsd_perms *perms)
{
    char *buf = xsd_malloc(perms->num * 8 + 1);
    size_t len = 0;

    for (unsigned i = 0; i < perms->num; i++)
        len += (size_t)xsd_perm_format(&perms->p[i], buf + len, 8) + 1;
    reply(r, buf, len);
    free(buf);
}

static int do_get_perms(const struct req *r)
{
    const char *a = onearg(r);
    const struct xsd_node *node;
    struct xsd_perms *special;
    char *path;
    int err;

    if (a && (special = xsd_special_perms(r->conn->xsd, a))) {
        if (!(xsd_perms_for(&r->ctx.who, special) & XSD_PERM_READ))
            return EACCES;
        reply_perms(r, special);
        return 0;
    }
    err = node_path(r, a, &path);
    if (err)
        return err;
    err = xsd_store_read(&r->ctx, path, &node);
    free(path);
    if (!err)
        reply_perms(r, &node->perms);
    return err;
}

static int set_special_perms(const struct req *r, struct xsd_perms *special,
                             struct xsd_perms *perms)
{
    unsigned need = XSD_PERM_WRITE | XSD_PERM_OWNER;

    if ((xsd_perms_for(&r->ctx.who, special) & need) != need)
        return EACCES;
    xsd_perms_clear(special);
    *special = *perms;
    *perms = (struct xsd_perms){0};
    return 0;
}

static int do_set_perms(const struct req *r)
{
    unsigned n = nstrings(r);
    struct xsd_perms perms, *special;
    char *path = NULL;
    int err;

    if (n < 2)
        return EINVAL;
    if (!xsd_who_privileged(&r->ctx.who) && n - 1 > r->conn->xsd->quota.perms)
        return ENOSPC;
    err = xsd_perms_parse(arg(r, 1), n - 1, &perms);
    if (err)
        return err;
    special = xsd_special_perms(r->conn->xsd, r->data);
    if (special) {
        err = set_special_perms(r, special, &perms);
    } else {
        err = node_path(r, r->data, &path);
        if (!err)
            err = xsd_store_set_perms(&r->ctx, path, &perms);
    }
    xsd_perms_clear(&perms);
    free(path);
    if (!err)
        ack(r);
    return err;
}

/* ---- watches ---- */

/* A watch path: an '@' name of sane length, or a valid node path. */
static int watch_path(const struct req *r, const char *a)
{
    char *path;
    int err;

    if (a[0] == '@')
        return strlen(a) > XENSTORE_REL_PATH_MAX ? EINVAL : 0;
    err = node_path(r, a, &path);
    free(err ? NULL : path);
    return err;
}

static int do_watch(const struct req *r)
{
    int err;

    if (nstrings(r) != 2)
        return EINVAL;
    err = watch_path(r, arg(r, 0));
    if (!err)
        err = xsd_watch_add(r->conn, arg(r, 0), arg(r, 1));
    if (err)
        return err;
    ack(r);
    /* The first event comes at once, whether or not the node exists. */
    xsd_conn_send_event(r->conn, arg(r, 0), arg(r, 1));
    return 0;
}

static int do_unwatch(const struct req *r)
{
    int err;

    if (nstrings(r) != 2)
        return EINVAL;
    err = xsd_watch_remove(r->conn, arg(r, 0), arg(r, 1));
    if (!err)
        ack(r);
    return err;
}

static int do_reset_watches(const struct req *r)
{
    xsd_watch_remove_all(r->conn);
    xsd_conn_txns_drop(r->conn);
    ack(r);
    return 0;
}

/* ---- transactions ---- */

static struct xsd_conn_txn *find_txn(struct xsd_conn *c, uint32_t id)
{
    for (struct xsd_conn_txn *t = c->txns; t; t = t->next)
        if (t->id == id)
            return t;
    return NULL;
}

static int do_transaction_start(const struct req *r)
{
    struct xsd_conn *c = r->conn;
    struct xsd_conn_txn *t;
    char buf[16];

    if (!onearg(r))
        return EINVAL;
    if (r->ctx.txn)
        return EBUSY;
    if (!xsd_who_privileged(&r->ctx.who) && c->dom->ntxns >= c->xsd->quota.txns)
        return ENOSPC;
    t = xsd_calloc(1, sizeof(*t));
    do {
        t->id = c->next_txid++;
    } while (t->id == 0 || find_txn(c, t->id));
    t->txn = xsd_txn_start(c->xsd->store, r->ctx.who.domid);
    t->next = c->txns;
    c->txns = t;
    c->dom->ntxns++;
    snprintf(buf, sizeof(buf), "%" PRIu32, t->id);
    reply_str(r, buf);
    return 0;
}

static void txn_unlink(struct xsd_conn *c, struct xsd_conn_txn *t)
{
    for (struct xsd_conn_txn **pt = &c->txns; *pt; pt = &(*pt)->next) {
        if (*pt == t) {
            *pt = t->next;
            break;
        }
    }
    if (c->dom)
        c->dom->ntxns--;
}

static int do_transaction_end(const struct req *r)
{
    const char *a = onearg(r);
    struct xsd_conn_txn *t;
    bool commit;
    int err;

    if (!a || (!xsd_streq(a, "T") && !xsd_streq(a, "F")))
        return EINVAL;
    commit = xsd_streq(a, "T");
    t = find_txn(r->conn, r->hdr->tx_id);
    if (!t)
        return ENOENT;
    txn_unlink(r->conn, t);
    err = xsd_txn_end(t->txn, commit);
    free(t);
    if (!err)
        ack(r);
    return err;
}

void xsd_conn_txns_drop(struct xsd_conn *c)
{
    while (c->txns) {
        struct xsd_conn_txn *t = c->txns;
        txn_unlink(c, t);
        xsd_txn_end(t->txn, false);
        free(t);
    }
}

/* ---- domains ---- */

static int do_get_domain_path(const struct req *r)
{
    unsigned domid;
    char buf[32];
    int err = parse_domid(onearg(r), &domid);

    if (err)
        return err;
    snprintf(buf, sizeof(buf), "/local/domain/%u", domid);
    reply_str(r, buf);
    return 0;
}

static int do_introduce(const struct req *r)
{
    struct xsd *xsd = r->conn->xsd;
    unsigned domid;

    /* domid, ring mfn, event channel port: only the domid matters here. */
    if (nstrings(r) < 3 || parse_domid(arg(r, 0), &domid) || domid == 0 ||
        domid >= DOMID_FIRST_RESERVED)
        return EINVAL;
    if (!xsd_domain_find(xsd, domid)) {
        if (xsd->hooks.domain_exists && !xsd->hooks.domain_exists(xsd->hooks.arg, domid))
            return EINVAL;
        if (xsd_introduce(xsd, domid) < 0)
            return errno;
    }
    ack(r);
    return 0;
}

/* The argument names an introduced guest; its record through *dom. */
static int introduced_arg(const struct req *r, const char *a, struct xsd_domain **dom)
{
    unsigned domid;

    if (parse_domid(a, &domid))
        return EINVAL;
    *dom = xsd_domain_find(r->conn->xsd, domid);
    return *dom ? 0 : ENOENT;
}

static int do_release(const struct req *r)
{
    struct xsd_domain *dom;
    int err = introduced_arg(r, onearg(r), &dom);

    if (err)
        return err;
    if (dom->domid == 0)
        return EINVAL;
    xsd_release(r->conn->xsd, dom->domid);
    ack(r);
    return 0;
}

static int do_is_domain_introduced(const struct req *r)
{
    struct xsd_domain *dom;
    int err = introduced_arg(r, onearg(r), &dom);

    if (err == EINVAL)
        return err;
    reply_str(r, err ? "F" : "T");
    return 0;
}

static int do_resume(const struct req *r)
{
    struct xsd_domain *dom;
    int err = introduced_arg(r, onearg(r), &dom);

    if (!err)
        ack(r);
    return err;
}

static int do_set_target(const struct req *r)
{
    struct xsd_domain *dom, *target;
    int err;

    if (nstrings(r) != 2)
        return EINVAL;
    err = introduced_arg(r, arg(r, 0), &dom);
    if (!err)
        err = introduced_arg(r, arg(r, 1), &target);
    if (err)
        return err;
    dom->target = (int)target->domid;
    ack(r);
    return 0;
}

/* CONTROL: the commands that make sense without a real xenstored's log
 * files and live update; the others answer EINVAL as unknown ones do. */
static int do_control(const struct req *r)
{
    const char *cmd;

    if (nstrings(r) < 1)
        return EINVAL;
    cmd = r->data;
    if (xsd_streq(cmd, "print")) {
        if (nstrings(r) < 2)
            return EINVAL;
        pv_info("xenstored: control print: %s", arg(r, 1));
    } else if (xsd_streq(cmd, "help")) {
        reply_str(r, "check\nhelp\nlog\nlogfile\nprint <string>\nquota\n");
        return 0;
    } else if (xsd_streq(cmd, "quota")) {
        const struct xsd_quota *q = &r->conn->xsd->quota;
        char buf[256];
        snprintf(buf, sizeof(buf),
                 "nodes %u\nentry-size %u\nperms %u\nwatches %u\ntransactions %u\n"
                 "watch-events %u\n",
                 q->nodes, q->entry_size, q->perms, q->watches, q->txns, q->events);
        reply_str(r, buf);
        return 0;
    } else if (!xsd_streq(cmd, "check") && !xsd_streq(cmd, "log") && !xsd_streq(cmd, "logfile")) {
        return EINVAL;
    }
    ack(r);
    return 0;
}

/* ---- dispatch ---- */

#define PRIV  1u /* dom0 only (EACCES for guests) */
#define NOTID 2u /* ignores the transaction id */

static const struct {
    int (*fn)(const struct req *r);
    unsigned flags;
} handlers[XS_TYPE_COUNT] = {
    [XS_CONTROL] = {do_control, PRIV},
    [XS_DIRECTORY] = {do_directory, 0},
    [XS_READ] = {do_read, 0},
    [XS_GET_PERMS] = {do_get_perms, 0},
    [XS_WATCH] = {do_watch, NOTID},
    [XS_UNWATCH] = {do_unwatch, NOTID},
    [XS_TRANSACTION_START] = {do_transaction_start, 0},
    [XS_TRANSACTION_END] = {do_transaction_end, 0},
    [XS_INTRODUCE] = {do_introduce, PRIV},
    [XS_RELEASE] = {do_release, PRIV},
    [XS_GET_DOMAIN_PATH] = {do_get_domain_path, 0},
    [XS_WRITE] = {do_write, 0},
    [XS_MKDIR] = {do_mkdir, 0},
    [XS_RM] = {do_rm, 0},
    [XS_SET_PERMS] = {do_set_perms, 0},
    [XS_IS_DOMAIN_INTRODUCED] = {do_is_domain_introduced, PRIV},
    [XS_RESUME] = {do_resume, PRIV},
    [XS_SET_TARGET] = {do_set_target, PRIV},
    [XS_RESET_WATCHES] = {do_reset_watches, NOTID},
    [XS_DIRECTORY_PART] = {do_directory_part, 0},
};

void xsd_ops_handle(struct xsd_conn *c)
{
    struct req r = {
        .conn = c,
        .hdr = &c->hdr,
        .data = c->payload,
        .len = c->hdr.len,
        .ctx = {.store = c->xsd->store, .who = xsd_conn_who(c)},
    };
    uint32_t type = c->hdr.type;
    int err;

    if (type >= XS_TYPE_COUNT || !handlers[type].fn) {
        send_error(&r, ENOSYS);
        return;
    }
    if ((handlers[type].flags & PRIV) && !xsd_who_privileged(&r.ctx.who)) {
        send_error(&r, EACCES);
        return;
    }
    if (!(handlers[type].flags & NOTID) && c->hdr.tx_id) {
        struct xsd_conn_txn *t = find_txn(c, c->hdr.tx_id);
        if (!t) {
            send_error(&r, ENOENT);
            return;
        }
        r.ctx.txn = t->txn;
    }
    err = handlers[type].fn(&r);
    if (err)
        send_error(&r, err);
}
