/* The iSCSI driver: a LUN reached through libiscsi's asynchronous API, driven
 * from the backend's event loop through the private epoll set of
 * storage_remote.c.
 *
 * Commands: READ(16)/WRITE(16) straight from and into the request's iovec,
 * SYNCHRONIZE CACHE(16) for flush, UNMAP for discard when READ CAPACITY(16)
 * and the Logical Block Provisioning VPD page say unmapped blocks read back
 * as zeros (split to the Block Limits VPD page's bounds).
 *
 * Session loss: libiscsi reconnects by itself (a new TCP connection and
 * login) and re-sends every command that was in flight, so a target restart
 * costs the guest nothing. When libiscsi gives up on a session (its service
 * call fails, or it cancels commands), this driver tears the context down,
 * parks the commands it held, logs in afresh and re-issues them. Only if the
 * target stays away longer than the timeout do the parked commands fail
 * with EIO, and new ones too until a fresh login succeeds. */
#include "storage_iscsi.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <iscsi/iscsi.h>
#include <iscsi/scsi-lowlevel.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "loop.h"
#include "storage.h"
#include "storage_remote.h"
#include "storage_url.h"

#define UA_RETRIES 3 /* UNIT ATTENTION after a target restart: re-issue */

struct iscsi_store;

struct icmd {
    struct pv_remote_link link; /* first: on the free list, or on the parked list */
    struct iscsi_store *st;
    struct pv_storage_req *req;
    struct scsi_iovec *iov;
    int iov_cap;
    int retries;
    uint64_t lba, blocks; /* what is left to do (discard is split in chunks) */
    struct unmap_list um;
};

struct iscsi_store {
    struct pv_remote_store r; /* first: storage.c casts */
    struct iscsi_context *ctx;
    bool logged_in;  /* ctx is a live session (or one libiscsi is re-establishing) */
    bool broken;     /* libiscsi gave up on ctx: a fresh login is needed */
    bool connecting; /* a fresh login of our own is under way on ctx */
    bool connect_failed;
    bool tearing_down; /* inside iscsi_destroy_context() of a lost session */
    struct pv_iscsi_url url;
    char user[PV_URL_CRED_MAX], password[PV_URL_CRED_MAX];
    uint32_t block;
    uint64_t max_unmap_blocks; /* per UNMAP command */
    bool capacity_pending;
};

static struct iscsi_store *to_st(struct pv_storage *s)
{
    return (struct iscsi_store *)s;
}

/* ---- the secrets file ---- */

/* A file of secrets must be its owner's alone, and that owner root or this
 * process's user (a sandboxed pvback-blk reads it as its own user). 0, or
 * -1 with err. */
static int secrets_private(FILE *f, const char *what, const char *file, char *err, size_t errlen)
{
    struct stat sb;
    if (fstat(fileno(f), &sb) < 0) {
        snprintf(err, errlen, "%s %s: %s", what, file, strerror(errno));
        return -1;
    }
    if (!S_ISREG(sb.st_mode)) {
        snprintf(err, errlen, "%s %s: not a regular file", what, file);
        return -1;
    }
    if (sb.st_mode & 0077) {
        snprintf(err, errlen,
                 "%s %s: refused, its mode %04o lets group or others at it; it must be "
                 "readable by its owner only (chmod 600)",
                 what, file, (unsigned int)(sb.st_mode & 07777));
        return -1;
    }
    if (sb.st_uid != 0 && sb.st_uid != geteuid()) {
        snprintf(err, errlen,
                 "%s %s: refused, owned by uid %u: it must belong to root or to uid %u", what, file,
                 (unsigned int)sb.st_uid, (unsigned int)geteuid());
        return -1;
    }
    return 0;
}

int pv_iscsi_secrets_lookup(const char *what, const char *file, const char *target, char *user,
                            size_t userlen, char *password, size_t passlen, char *err,
                            size_t errlen)
{
    FILE *f = fopen(file, "re");
    if (!f) {
        snprintf(err, errlen, "%s %s: %s", what, file, strerror(errno));
        return -1;
    }
    if (secrets_private(f, what, file, err, errlen) < 0) {
        fclose(f);
        return -1;
    }
    char line[1024], t[PV_URL_TARGET_MAX + 1], u[PV_URL_CRED_MAX + 1], p[PV_URL_CRED_MAX + 1];
    int found = 0, lineno = 0;
    while (found != 1 && fgets(line, sizeof(line), f)) {
        lineno++;
        char *hash = strchr(line, '#');
        if (hash)
            *hash = '\0';
        char *s = line;
        while (isspace((unsigned char)*s))
            s++;
        if (!*s)
            continue;
        char extra[2];
        if (sscanf(s, "%224s %256s %256s %1s", t, u, p, extra) != 3 ||
            strlen(t) >= PV_URL_TARGET_MAX || strlen(u) >= userlen || strlen(p) >= passlen ||
            strlen(u) >= PV_URL_CRED_MAX || strlen(p) >= PV_URL_CRED_MAX) {
            snprintf(err, errlen, "%s %s line %d: expected '<target-iqn|*> <user> <password>'",
                     what, file, lineno);
            found = -1;
            break;
        }
        bool exact = !strcmp(t, target);
        if (exact || (!found && !strcmp(t, "*"))) {
            snprintf(user, userlen, "%s", u);
            snprintf(password, passlen, "%s", p);
            found = exact ? 1 : 2;
        }
    }
    /* No copy of a password left behind on the stack. */
    explicit_bzero(line, sizeof(line));
    explicit_bzero(p, sizeof(p));
    fclose(f);
    return found < 0 ? -1 : found ? 1 : 0;
}

/* The CHAP credentials: the secrets file (the disk's chap-file key, else
 * $PVBACK_ISCSI_SECRETS, else the default if it exists) wins over
 * credentials in the URL, which the xenstore shows to anyone who may read
 * the backend directory. */
static int find_credentials(struct iscsi_store *st, const char *chap_file, char *err, size_t errlen)
{
    const char *file = chap_file, *what = "chap-file";
    if (!file || !*file) {
        file = getenv("PVBACK_ISCSI_SECRETS");
        what = "$PVBACK_ISCSI_SECRETS";
    }
    bool named = file && *file; /* a file named for this disk must serve it */
    if (!named) {
        file = PV_ISCSI_SECRETS_DEFAULT;
        what = "CHAP secrets file";
        struct stat sb;
        if (stat(file, &sb) < 0)
            file = NULL;
    }
    if (file) {
        int rc = pv_iscsi_secrets_lookup(what, file, st->url.target, st->user, sizeof(st->user),
                                         st->password, sizeof(st->password), err, errlen);
        if (rc < 0)
            return -1;
        if (rc == 1)
            return 0;
        if (named) {
            snprintf(err, errlen, "%s %s: no line for target %s nor '*'", what, file,
                     st->url.target);
            return -1;
        }
    }
    snprintf(st->user, sizeof(st->user), "%s", st->url.user);
    snprintf(st->password, sizeof(st->password), "%s", st->url.password);
    if (st->user[0])
        pv_warn("%s: CHAP credentials taken from the URL; prefer a secrets file", st->r.name);
    return 0;
}

/* ---- contexts ---- */

static void portal_of(const struct pv_iscsi_url *u, char *buf, size_t len)
{
    if (strchr(u->host, ':'))
        snprintf(buf, len, "[%s]:%u", u->host, u->port);
    else
        snprintf(buf, len, "%s:%u", u->host, u->port);
}

static struct iscsi_context *new_context(struct iscsi_store *st, char *err, size_t errlen)
{
    struct iscsi_context *ctx = iscsi_create_context(PV_ISCSI_INITIATOR);
    if (!ctx) {
        snprintf(err, errlen, "%s: cannot create an iSCSI context", st->r.name);
        return NULL;
    }
    if (iscsi_set_targetname(ctx, st->url.target) ||
        iscsi_set_session_type(ctx, ISCSI_SESSION_NORMAL) ||
        iscsi_set_header_digest(ctx, ISCSI_HEADER_DIGEST_NONE_CRC32C) ||
        (st->user[0] && iscsi_set_initiator_username_pwd(ctx, st->user, st->password))) {
        snprintf(err, errlen, "%s: %s", st->r.name, iscsi_get_error(ctx));
        iscsi_destroy_context(ctx);
        return NULL;
    }
    /* Give up on an unreachable portal after a few SYNs, not minutes. */
    iscsi_set_tcp_syncnt(ctx, 3);
    iscsi_set_tcp_keepalive(ctx, 10, 3, 5);
    iscsi_set_reconnect_max_retries(ctx, -1);
    /* After a reconnect, swallow the UNIT ATTENTIONs the target queued. */
    iscsi_set_no_ua_on_reconnect(ctx, 1);
    return ctx;
}

static void update_socket(struct iscsi_store *st)
{
    /* A context libiscsi gave up on, or a failed login, waits for the tick:
     * its socket may stay hung up and would keep the loop spinning. */
    if (st->ctx && !st->broken && !(st->connecting && st->connect_failed))
        pv_remote_poll_set_socket(&st->r.poll, iscsi_get_fd(st->ctx), iscsi_which_events(st->ctx));
    else
        pv_remote_poll_set_socket(&st->r.poll, -1, 0);
}

/* ---- commands ---- */

static void put_cmd(struct icmd *c)
{
    c->req = NULL;
    pv_remote_cmd_put(&c->st->r, c);
}

static void finish(struct icmd *c, int64_t result)
{
    struct iscsi_store *st = c->st;
    struct pv_storage_req *req = c->req;
    put_cmd(c);
    st->r.completed++;
    pv_storage_complete(&st->r.base, req, result);
}

static void on_task(struct iscsi_context *ctx, int status, void *command_data, void *private);

/* Queues (the next part of) c's command on the session. 0 or -errno. */
static int issue(struct icmd *c)
{
    struct iscsi_store *st = c->st;
    struct pv_storage_req *req = c->req;
    struct scsi_task *t = NULL;
    uint32_t bytes = (uint32_t)(c->blocks * st->block);

    switch (req->op) {
    case PV_STORAGE_READ:
        t = iscsi_read16_iov_task(st->ctx, (int)st->url.lun, c->lba, bytes, (int)st->block, 0, 0, 0,
                                  0, 0, on_task, c, c->iov, req->iovcnt);
        break;
    case PV_STORAGE_WRITE:
        t = iscsi_write16_iov_task(st->ctx, (int)st->url.lun, c->lba, NULL, bytes, (int)st->block,
                                   0, 0, 0, 0, 0, on_task, c, c->iov, req->iovcnt);
        break;
    case PV_STORAGE_FLUSH:
        t = iscsi_synchronizecache16_task(st->ctx, (int)st->url.lun, 0, 0, 0, 0, on_task, c);
        break;
    case PV_STORAGE_DISCARD: {
        uint64_t n = c->blocks < st->max_unmap_blocks ? c->blocks : st->max_unmap_blocks;
        c->um = (struct unmap_list){.lba = c->lba, .num = (uint32_t)n};
        t = iscsi_unmap_task(st->ctx, (int)st->url.lun, 0, 0, &c->um, 1, on_task, c);
        break;
    }
    default:
        return -EOPNOTSUPP;
    }
    return t ? 0 : -ENOMEM;
}

static int64_t task_result(struct iscsi_store *st, struct icmd *c, int status,
                           struct scsi_task *task)
{
    if (status == SCSI_STATUS_GOOD)
        return 0;
    if (status == SCSI_STATUS_CHECK_CONDITION) {
        pv_warn("%s: command 0x%02x at block %" PRIu64 " failed: %s (%s)", st->r.name, task->cdb[0],
                c->lba, scsi_sense_key_str(task->sense.key), scsi_sense_ascq_str(task->sense.ascq));
        return task->sense.key == SCSI_SENSE_DATA_PROTECTION ? -EROFS : -EIO;
    }
    if (status == SCSI_STATUS_CANCELLED)
        pv_warn("%s: command 0x%02x failed: no session for longer than %u s", st->r.name,
                task->cdb[0], st->r.timeout_s);
    else
        pv_warn("%s: command 0x%02x failed with status %d: %s", st->r.name, task->cdb[0], status,
                iscsi_get_error(st->ctx));
    return -EIO;
}

static void on_task(struct iscsi_context *ctx, int status, void *command_data, void *private)
{
    (void)ctx;
    struct icmd *c = private;
    struct iscsi_store *st = c->st;
    struct scsi_task *task = command_data;
    if (status == SCSI_STATUS_CANCELLED && !st->r.gave_up) {
        /* libiscsi dropped the command with its session (or we are tearing
         * that down): it goes out again on the next one. */
        scsi_free_scsi_task(task);
        if (!st->tearing_down)
            st->broken = true;
        pv_remote_park(&st->r, &c->link);
        return;
    }
    bool unit_attention =
        status == SCSI_STATUS_CHECK_CONDITION && task->sense.key == SCSI_SENSE_UNIT_ATTENTION;
    int64_t rc = unit_attention && c->retries < UA_RETRIES ? 1 : task_result(st, c, status, task);
    scsi_free_scsi_task(task);

    if (rc == 1) { /* re-issue the same part */
        c->retries++;
        rc = issue(c);
    } else if (rc == 0 && c->req->op == PV_STORAGE_DISCARD && c->blocks > c->um.num) {
        c->lba += c->um.num;
        c->blocks -= c->um.num;
        rc = issue(c);
    } else if (rc == 0) {
        rc = 1; /* done */
    }
    if (rc == 0)
        return; /* another part is on its way */
    finish(c, rc == 1 ? (int64_t)c->req->length : rc);
}

/* ---- the driver ops ---- */

static int iscsi_submit(struct pv_storage *s, struct pv_storage_req *req)
{
    struct iscsi_store *st = to_st(s);
    /* READ/WRITE(16) carry a 32-bit byte count in libiscsi's API; discards
     * of any size are split (issue()). */
    if (req->length % st->block || (req->op != PV_STORAGE_DISCARD && req->length > UINT32_MAX))
        return -EINVAL;
    if (pv_remote_store_refused(&st->r, req))
        return 0;
    struct icmd *c = pv_remote_cmd_get(&st->r);
    if (!c)
        return -EAGAIN;
    c->req = req;
    c->retries = 0;
    c->lba = req->offset / st->block;
    c->blocks = req->length / st->block;
    if (req->op == PV_STORAGE_READ || req->op == PV_STORAGE_WRITE) {
        if (req->iovcnt > c->iov_cap) {
            struct scsi_iovec *n = realloc(c->iov, sizeof(*n) * (size_t)req->iovcnt);
            if (!n) {
                put_cmd(c);
                return -ENOMEM;
            }
            c->iov = n;
            c->iov_cap = req->iovcnt;
        }
        for (int i = 0; i < req->iovcnt; i++)
            c->iov[i] = (struct scsi_iovec){req->iov[i].iov_base, req->iov[i].iov_len};
    }
    if (!st->logged_in || st->broken) {
        pv_remote_park(&st->r, &c->link);
        return 0;
    }
    int rc = issue(c);
    if (rc < 0)
        put_cmd(c);
    return rc;
}

static int iscsi_discard(struct pv_storage *s, struct pv_storage_req *req)
{
    if (!s->info.can_discard)
        return -EOPNOTSUPP;
    return iscsi_submit(s, req);
}

static int iscsi_kick(struct pv_storage *s)
{
    update_socket(to_st(s));
    return 0;
}

static void on_capacity(struct iscsi_context *ctx, int status, void *command_data, void *private)
{
    (void)ctx;
    struct iscsi_store *st = private;
    struct scsi_task *task = command_data;
    st->capacity_pending = false;
    if (status == SCSI_STATUS_GOOD) {
        struct scsi_readcapacity16 *rc16 = scsi_datain_unmarshall(task);
        if (rc16 && rc16->block_length == st->block)
            st->r.base.info.size = (rc16->returned_lba + 1) * st->block;
    }
    scsi_free_scsi_task(task);
}

static int iscsi_refresh_size(struct pv_storage *s, uint64_t *size)
{
    struct iscsi_store *st = to_st(s);
    /* Asynchronous: the answer lands in info.size for the next call. A
     * synchronous READ CAPACITY would run libiscsi's own loop, and with it
     * other requests' callbacks, from inside the caller. */
    if (st->logged_in && !st->broken && !st->capacity_pending &&
        iscsi_readcapacity16_task(st->ctx, (int)st->url.lun, on_capacity, st))
        st->capacity_pending = true;
    update_socket(st);
    *size = s->info.size;
    return 0;
}

/* A parked command: re-issued on the fresh session, or failed. */
static void unparked(struct pv_remote_link *l, bool fail)
{
    struct icmd *c = PV_REMOTE_CONTAINER(l, struct icmd, link);
    c->retries = 0;
    if (fail || issue(c) < 0)
        finish(c, -EIO);
}

static void on_fresh_login(struct iscsi_context *ctx, int status, void *command_data, void *private)
{
    (void)ctx;
    (void)command_data;
    struct iscsi_store *st = private;
    st->connecting = false;
    if (status != SCSI_STATUS_GOOD) {
        st->connect_failed = true;
        return;
    }
    st->logged_in = true;
    pv_remote_session_back(&st->r);
    pv_remote_unpark(&st->r, unparked);
}

/* Once a tick: notice a lost session, let libiscsi re-establish it, or
 * when it gave up, log in afresh; fail what waits once the timeout passed. */
static void tick(struct iscsi_store *st)
{
    char err[256];

    if (st->logged_in && !st->broken && iscsi_is_logged_in(st->ctx)) {
        pv_remote_session_back(&st->r);
        return;
    }
    pv_remote_session_lost(&st->r, st->ctx ? iscsi_get_error(st->ctx) : "no context");
    if (pv_remote_session_expired(&st->r))
        pv_remote_unpark(&st->r, unparked);
    if (st->logged_in && !st->broken && !st->r.gave_up)
        return; /* libiscsi is re-establishing it, re-sending what it holds */
    if (!pv_remote_retry_due(&st->r, st->connecting && !st->connect_failed))
        return;
    if (st->ctx) {
        /* Cancels what the context holds: parked (or, past the timeout, failed). */
        st->logged_in = false;
        st->capacity_pending = false;
        st->tearing_down = true;
        iscsi_destroy_context(st->ctx);
        st->tearing_down = false;
        st->ctx = NULL;
    }
    st->broken = false;
    st->connect_failed = false;
    st->ctx = new_context(st, err, sizeof(err));
    if (!st->ctx)
        return;
    char portal[PV_URL_HOST_MAX + 16];
    portal_of(&st->url, portal, sizeof(portal));
    st->connecting = true;
    if (iscsi_full_connect_async(st->ctx, portal, (int)st->url.lun, on_fresh_login, st) < 0)
        st->connect_failed = true;
}

static int iscsi_reap(struct pv_storage *s)
{
    struct iscsi_store *st = to_st(s);
    int revents;
    bool ticked;
    pv_remote_store_begin_reap(&st->r, &revents, &ticked);
    if (st->ctx && !st->broken && (revents || ticked) && iscsi_service(st->ctx, revents) < 0) {
        /* Logged once, by tick(), as the session loss. */
        if (st->connecting)
            st->connect_failed = true;
        else
            st->broken = true;
    }
    if (ticked)
        tick(st);
    update_socket(st);
    return (int)st->r.completed;
}

static void iscsi_close(struct pv_storage *s)
{
    struct iscsi_store *st = to_st(s);
    if (st->ctx) {
        if (st->logged_in && !st->broken && iscsi_is_logged_in(st->ctx))
            iscsi_logout_sync(st->ctx);
        iscsi_destroy_context(st->ctx);
    }
    struct icmd *c;
    for (unsigned int i = 0; (c = pv_remote_cmd_at(&st->r, i)); i++)
        free(c->iov);
    explicit_bzero(st->password, sizeof(st->password));
    pv_remote_store_free(&st->r);
}

/* ---- opening: synchronous, so that every failure has a clear message ---- */

static struct scsi_task *probe(struct iscsi_store *st, struct scsi_task *t, const char *what,
                               char *err, size_t errlen)
{
    if (t && t->status == SCSI_STATUS_GOOD)
        return t;
    if (!t)
        snprintf(err, errlen, "%s: %s failed: %s", st->r.name, what, iscsi_get_error(st->ctx));
    else if (t->status == SCSI_STATUS_CHECK_CONDITION)
        snprintf(err, errlen, "%s: %s failed: %s (%s)", st->r.name, what,
                 scsi_sense_key_str(t->sense.key), scsi_sense_ascq_str(t->sense.ascq));
    else
        snprintf(err, errlen, "%s: %s failed: %s", st->r.name, what, iscsi_get_error(st->ctx));
    if (t)
        scsi_free_scsi_task(t);
    return NULL;
}

/* Sizes from READ CAPACITY(16), discard from the VPD pages. */
static int read_geometry(struct iscsi_store *st, bool read_only, char *err, size_t errlen)
{
    struct pv_storage_info *in = &st->r.base.info;
    int lun = (int)st->url.lun;
    struct scsi_task *t = probe(st, iscsi_readcapacity16_sync(st->ctx, lun),
                                "READ CAPACITY(16) on the LUN", err, errlen);
    if (!t)
        return -1;
    struct scsi_readcapacity16 *rc16 = scsi_datain_unmarshall(t);
    if (!rc16 || rc16->block_length < 512 || rc16->block_length > 65536 ||
        (rc16->block_length & (rc16->block_length - 1)) || rc16->lbppbe > 16) {
        snprintf(err, errlen, "%s: the LUN reports an unusable block size", st->r.name);
        scsi_free_scsi_task(t);
        return -1;
    }
    st->block = rc16->block_length;
    *in = (struct pv_storage_info){
        .size = (rc16->returned_lba + 1) * rc16->block_length,
        .logical_block = rc16->block_length,
        .physical_block = rc16->block_length << rc16->lbppbe,
        .read_only = read_only,
        .discard_granularity = rc16->block_length,
    };
    bool lbpme = rc16->lbpme, lbprz = rc16->lbprz;
    scsi_free_scsi_task(t);

    st->max_unmap_blocks = UINT32_MAX;
    if (!lbpme || !lbprz || read_only)
        return 0; /* no thin provisioning, or unmapped blocks need not read as zeros */
    char ignored[64];
    t = probe(
        st,
        iscsi_inquiry_sync(st->ctx, lun, 1, SCSI_INQUIRY_PAGECODE_LOGICAL_BLOCK_PROVISIONING, 255),
        "INQUIRY", ignored, sizeof(ignored));
    struct scsi_inquiry_logical_block_provisioning *lbp = t ? scsi_datain_unmarshall(t) : NULL;
    bool unmap = lbp && lbp->lbpu;
    if (t)
        scsi_free_scsi_task(t);
    if (!unmap)
        return 0;
    t = probe(st, iscsi_inquiry_sync(st->ctx, lun, 1, SCSI_INQUIRY_PAGECODE_BLOCK_LIMITS, 255),
              "INQUIRY", ignored, sizeof(ignored));
    struct scsi_inquiry_block_limits *bl = t ? scsi_datain_unmarshall(t) : NULL;
    if (bl) {
        if (bl->max_unmap == 0 || bl->max_unmap_bdc == 0)
            unmap = false; /* the target takes no UNMAP after all */
        else
            st->max_unmap_blocks = bl->max_unmap;
        if (bl->opt_unmap_gran > 1 && bl->opt_unmap_gran < (1u << 20))
            in->discard_granularity = bl->opt_unmap_gran * st->block;
    }
    if (t)
        scsi_free_scsi_task(t);
    in->can_discard = unmap;
    return 0;
}

static struct pv_storage *iscsi_open_url(const struct pv_storage_params *p, int efd,
                                         unsigned int depth, char *err, size_t errlen)
{
    struct iscsi_store *st = pv_remote_store_new(sizeof(*st), p, "target", err, errlen);
    if (!st)
        return NULL;
    if (pv_iscsi_url_parse(p->path, &st->url, err, errlen) < 0 ||
        find_credentials(st, p->chap_file, err, errlen) < 0)
        goto fail;
    st->ctx = new_context(st, err, errlen);
    if (!st->ctx)
        goto fail;
    char portal[PV_URL_HOST_MAX + 16];
    portal_of(&st->url, portal, sizeof(portal));
    char why[300];
    if (pv_remote_probe(st->url.host, st->url.port, why, sizeof(why)) < 0) {
        snprintf(err, errlen, "%s: target portal: %s", st->r.name, why);
        goto fail;
    }
    iscsi_set_timeout(st->ctx, PV_REMOTE_CONNECT_TIMEOUT);
    if (iscsi_full_connect_sync(st->ctx, portal, (int)st->url.lun) < 0) {
        snprintf(err, errlen, "%s: login to target %s LUN %u at %s failed: %s", st->r.name,
                 st->url.target, st->url.lun, portal, iscsi_get_error(st->ctx));
        goto fail;
    }
    if (read_geometry(st, p->read_only, err, errlen) < 0)
        goto fail;
    /* In-flight commands wait for a reconnect; our tick enforces the bound. */
    iscsi_set_timeout(st->ctx, 0);
    st->logged_in = true;
    if (pv_remote_store_ready(&st->r, efd, depth, sizeof(struct icmd), err, errlen) < 0)
        goto fail;
    struct icmd *c;
    for (unsigned int i = 0; (c = pv_remote_cmd_at(&st->r, i)); i++)
        c->st = st;
    update_socket(st);
    pv_info("%s: %" PRIu64 " bytes, %u-byte blocks%s", st->r.name, st->r.base.info.size, st->block,
            st->r.base.info.can_discard ? ", UNMAP" : "");
    return &st->r.base;
fail:
    iscsi_close(&st->r.base);
    return NULL;
}

const struct pv_storage_ops pv_storage_iscsi_ops = {
    .name = "iscsi",
    .open_url = iscsi_open_url,
    .close = iscsi_close,
    .submit = iscsi_submit,
    .kick = iscsi_kick,
    .reap = iscsi_reap,
    .poll_fd = pv_remote_store_poll_fd,
    .discard = iscsi_discard,
    .refresh_size = iscsi_refresh_size,
};
