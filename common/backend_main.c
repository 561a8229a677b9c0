/* The common start-up and run of the backend daemons (backend_main.h). */
#include "backend_main.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "journal.h"
#include "log.h"
#include "loop.h"
#include "platform.h"
#include "sandbox.h"
#include "status.h"
#include "xenbus.h"
#include "xs.h"

/* Room for the common options and a daemon's own (getopt_long wants one
 * table). */
#define MAX_OPTIONS 32

static const struct option common_options[] = {
    {"platform", required_argument, NULL, 'p'},
    {"frontend-domid", required_argument, NULL, 'd'},
    {"help", no_argument, NULL, 'h'},
    PV_SANDBOX_LONGOPTS,
};
#define NR_COMMON_OPTIONS (sizeof(common_options) / sizeof(common_options[0]))

static void usage(const struct pv_backend_main *m, FILE *out)
{
    fprintf(out,
            "usage: %s [--platform xen|sim:DIR] [--frontend-domid N] %s\n"
            "                  " PV_SANDBOX_USAGE "\n",
            m->prog, m->usage);
}

/* The command line. 0, 1 after --help, or -1 after a message (exit 2). */
static int parse_args(const struct pv_backend_main *m, void *daemon, int argc, char **argv,
                      const char **platform, int *fe_domid, struct pv_sandbox *sb)
{
    struct option opts[MAX_OPTIONS + 1] = {{0}};
    size_t n = 0;

    for (size_t i = 0; i < NR_COMMON_OPTIONS; i++)
        opts[n++] = common_options[i];
    for (const struct option *o = m->options; o && o->name; o++) {
        if (n == MAX_OPTIONS) {
            fprintf(stderr, "%s: too many options (MAX_OPTIONS)\n", m->prog);
            return -1;
        }
        opts[n++] = *o;
    }
    int c;
    optind = 0; /* a fresh scan, even after an earlier one in this process */
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        if (pv_sandbox_getopt(sb, c, optarg))
            continue;
        switch (c) {
        case 'p':
            *platform = optarg;
            break;
        case 'd':
            if (pv_parse_int_option(m->prog, "--frontend-domid", optarg, 1, 0x7fef, fe_domid) < 0)
                return -1;
            break;
        case 'h':
            usage(m, stdout);
            return 1;
        case '?':
        case ':':
            usage(m, stderr);
            return -1;
        default:
            if (m->option(daemon, c, optarg) < 0)
                return -1;
        }
    }
    if (optind != argc) {
        usage(m, stderr);
        return -1;
    }
    char err[256];
    if (sb->user && pv_sandbox_parse_user(sb->user, *fe_domid, sb, err, sizeof(err)) < 0) {
        fprintf(stderr, "%s: %s\n", m->prog, err);
        return -1;
    }
    if (sb->uid >= 0)
        sb->keep_cap = m->keep_cap;
    return 0;
}

/* The in-flight journals' directory, so that a successor replays what this
 * process took off the rings without answering (docs/hardening.md). NULL
 * (logged) when it cannot be made: the backend then works without. */
static const char *journal_dir(const char *type, int fe_domid, const struct pv_sandbox *sb,
                               char *buf, size_t len)
{
    char proc[32];

    if (fe_domid < 0)
        snprintf(proc, sizeof(proc), "%s-all", type);
    else
        snprintf(proc, sizeof(proc), "%s-%d", type, fe_domid);
    if (pv_journal_dir_prepare(proc, sb->uid, sb->gid, buf, len) == 0)
        return buf;
    pv_warn("no in-flight journal directory (%s): a restart re-reads the rings", strerror(errno));
    return NULL;
}

/* From xenstore open to loop exit. Returns the exit status. */
static int serve(const struct pv_backend_main *m, void *daemon, struct pv_loop *loop,
                 struct pv_xs *xs, int fe_domid, const struct pv_sandbox *sb)
{
    const struct pv_xenbus_ops *ops = m->xenbus_ops(daemon);
    char jdir[4096], err[256];
    struct pv_backend_env env = {
        .fe_domid = fe_domid,
        /* `pvback-ctl status` reads it; the devices work without it. */
        .status = pv_status_open(loop, ops->type, fe_domid),
        .journal_dir = journal_dir(ops->type, fe_domid, sb, jdir, sizeof(jdir)),
    };
    int rc = 1;

    if (pv_loop_stop_on_signals(loop) < 0) {
        pv_err("cannot catch SIGTERM/SIGINT: %s", strerror(errno));
        goto out;
    }
    /* A write to a peer that went away (a tap whose link is gone, an iSCSI
     * target that died while libiscsi's writev() sent data, which cannot
     * take MSG_NOSIGNAL) must come back as EPIPE, handled by the device it
     * concerns, not kill the daemon and every guest's device with it. */
    signal(SIGPIPE, SIG_IGN);
    if (m->prepare && m->prepare(daemon, &env) < 0)
        goto out;
    /* Everything opened at start is open: into the sandbox (images, taps,
     * grant and event channel handles are opened later, as the sandboxed
     * user). */
    if (pv_sandbox_enter(sb, err, sizeof(err)) < 0) {
        pv_err("sandbox: %s", err);
        goto out;
    }
    void *ctx = m->xenbus_ctx ? m->xenbus_ctx(daemon) : daemon;
    struct pv_xenbus_backend *be =
        pv_xenbus_backend_new(xs, ops, pv_platform_self_domid(), fe_domid, ctx);
    if (be) {
        pv_info("serving backend/%s/%s", ops->type, fe_domid < 0 ? "*" : "<domid>");
        rc = pv_loop_run(loop) < 0 ? 1 : 0;
        pv_xenbus_backend_free(be);
    }
out:
    pv_status_close(env.status);
    pv_journal_dir_release(env.journal_dir);
    return rc;
}

int pv_backend_main_run(const struct pv_backend_main *m, void *daemon, int argc, char **argv)
{
    const char *platform = NULL;
    int fe_domid = -1;
    struct pv_sandbox sb = PV_SANDBOX_INIT;
    char err[256];

    pv_log_init(m->prog);
    int r = parse_args(m, daemon, argc, argv, &platform, &fe_domid, &sb);
    if (r != 0)
        return r > 0 ? 0 : 2;
    if (pv_platform_init(platform, err, sizeof(err)) < 0) {
        fprintf(stderr, "%s: %s\n", m->prog, err);
        return 1;
    }
    struct pv_loop *loop = pv_loop_new();
    struct pv_xs *xs = loop ? pv_xs_open(loop) : NULL;
    if (!xs) {
        pv_err("cannot connect to xenstore: %s", strerror(errno));
        pv_loop_free(loop);
        return 1;
    }
    int rc = serve(m, daemon, loop, xs, fe_domid, &sb);
    pv_xs_close(xs);
    pv_loop_free(loop);
    return rc;
}
