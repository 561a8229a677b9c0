/* pvback-watch: one per host. Watches the backend directories it claims,
 * runs one backend process per guest and kind (pvback-blk for vbd and vbd3,
 * pvback-net for vif), restarts crashed ones, and cleans up after dead
 * domains. See docs/lifecycle.md and pvback-watch(8).
 *
 * On SIGTERM it exits and leaves the backend processes running: a new
 * pvback-watch adopts them, so upgrading or restarting it never touches the
 * guests' devices. */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "platform.h"
#include "status.h"
#include "watch.h"

static void usage(FILE *out)
{
    fprintf(out,
            "usage: pvback-watch [--config FILE] [--SETTING VALUE ...]\n"
            "settings (also config file keys, 'key = value'):\n"
            "  platform xen|sim:DIR          default: sim:$XENSIM_DIR if set, else xen\n"
            "  claim-vbd auto|yes|no         auto: when xen-blkback is not loaded\n"
            "  claim-vif auto|yes|no         auto: when xen-netback is not loaded\n"
            "  claim-vbd3 auto|yes|no        auto: yes\n"
            "  blk-command PATH              default: pvback-blk next to pvback-watch\n"
            "  net-command PATH              default: pvback-net next to pvback-watch\n"
            "  restart-limit N               crashes within restart-window that stop restarts\n"
            "  restart-window SECONDS        default 60\n"
            "  restart-delay MS              first restart delay, doubling (default 200)\n"
            "  restart-delay-max MS          default 10000\n"
            "  stop-timeout MS               SIGTERM to SIGKILL (default 5000)\n"
            "  sys-module-dir DIR            default /sys/module\n"
            "  user none|NAME|UID[:GID]|+BASE[:GID]\n"
            "                                the backends' user (+BASE: uid BASE+domid); none\n"
            "  seccomp auto|yes|no           the backends' system call filter (auto: as root)\n"
            "The config file is %s unless --config is given.\n",
            WATCH_CONFIG_DEFAULT);
}

/* Two passes: the config file first, then the command line over it. */
static int parse_args(int argc, char **argv, struct watch_config *cfg)
{
    const char *config = WATCH_CONFIG_DEFAULT;
    bool required = false;
    char err[600];
    int i;

    for (i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
            usage(stdout);
            exit(0);
        }
        if (!strcmp(argv[i], "--config") && i + 1 < argc) {
            config = argv[++i];
            required = true;
        }
    }
    if (watch_config_load(cfg, config, required, err, sizeof(err)) < 0) {
        fprintf(stderr, "pvback-watch: %s\n", err);
        return -1;
    }
    for (i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--config")) {
            i++;
            continue;
        }
        if (strncmp(a, "--", 2) || !a[2]) {
            fprintf(stderr, "pvback-watch: unexpected argument '%s'\n", a);
            usage(stderr);
            return -1;
        }
        char key[64];
        const char *value, *eq = strchr(a, '=');
        if (eq) { /* --key=value */
            snprintf(key, sizeof(key), "%.*s", (int)(eq - a - 2), a + 2);
            value = eq + 1;
        } else {
            if (i + 1 >= argc) {
                fprintf(stderr, "pvback-watch: %s needs a value\n", a);
                return -1;
            }
            snprintf(key, sizeof(key), "%s", a + 2);
            value = argv[++i];
        }
        if (watch_config_set(cfg, key, value, err, sizeof(err)) < 0) {
            fprintf(stderr, "pvback-watch: %s\n", err);
            return -1;
        }
    }
    return 0;
}

/* The default command of a backend: the program next to pvback-watch (both
 * live in the same sbin, or in the build's bin). */
static int default_command(char *out, size_t len, const char *configured, const char *name)
{
    char self[PATH_MAX];
    ssize_t n;
    int r;

    if (configured[0])
        r = snprintf(out, len, "%s", configured);
    else if ((n = readlink("/proc/self/exe", self, sizeof(self) - 1)) <= 0)
        r = snprintf(out, len, "/usr/sbin/%s", name);
    else {
        self[n] = '\0';
        *strrchr(self, '/') = '\0';
        r = snprintf(out, len, "%s/%s", self, name);
    }
    if (r < 0 || (size_t)r >= len) {
        fprintf(stderr, "pvback-watch: the path of %s is longer than %zu bytes\n", name, len - 1);
        return -1;
    }
    return 0;
}

static bool module_loaded(const struct watch_config *cfg, const char *module)
{
    char path[300];
    struct stat st;
    snprintf(path, sizeof(path), "%s/%s", cfg->sys_module_dir, module);
    return stat(path, &st) == 0;
}

/* Decides what to claim, and drops kinds whose backend program is missing
 * (with a message: pvback-net may not be installed on a storage-only host). */
static void choose_claims(struct watch *w)
{
    bool blk = module_loaded(&w->cfg, "xen_blkback");
    bool net = module_loaded(&w->cfg, "xen_netback");

    w->claims = watch_claims(&w->cfg, blk, net);
    for (int k = 0; k < WATCH_NKINDS; k++) {
        const char *cmd = k == WATCH_VIF ? w->net_command : w->blk_command;
        bool kernel = (k == WATCH_VBD && blk) || (k == WATCH_VIF && net);
        if (!(w->claims & (1u << k))) {
            pv_info("not claiming backend/%s%s", watch_kind_name(k),
                    kernel ? " (the kernel's backend is loaded)" : "");
            continue;
        }
        if (access(cmd, X_OK) < 0) {
            pv_warn("not claiming backend/%s: %s: %s", watch_kind_name(k), cmd, strerror(errno));
            w->claims &= ~(1u << k);
        }
    }
}

static void on_sigchld(int signo, void *arg)
{
    (void)signo;
    watch_proc_reap(arg);
}

static void on_stop(int signo, void *arg)
{
    struct watch *w = arg;
    pv_info("signal %d: exiting; backend processes keep running", signo);
    w->stopping = true;
    pv_loop_stop(w->loop);
}

int main(int argc, char **argv)
{
    static struct watch w;
    char err[256];
    int rc = 1;

    pv_log_init("pvback-watch");
    signal(SIGPIPE, SIG_IGN);
    watch_config_defaults(&w.cfg);
    if (parse_args(argc, argv, &w.cfg) < 0)
        return 2;
    if (pv_platform_init(w.cfg.platform[0] ? w.cfg.platform : NULL, err, sizeof(err)) < 0) {
        fprintf(stderr, "pvback-watch: %s\n", err);
        return 1;
    }
    /* The children and the hotplug scripts find xensim and the run directory
     * through the environment, as every pvback tool does. */
    if (pv_platform_sim_dir())
        setenv("XENSIM_DIR", pv_platform_sim_dir(), 0);
    if (pv_run_dir(w.run_dir, sizeof(w.run_dir)) < 0) {
        fprintf(stderr, "pvback-watch: run directory path too long\n");
        return 1;
    }
    setenv("PVBACK_RUN_DIR", w.run_dir, 1);
    if (mkdir(w.run_dir, 0755) < 0 && errno != EEXIST) {
        pv_err("%s: %s", w.run_dir, strerror(errno));
        return 1;
    }
    w.self_domid = pv_platform_self_domid();
    snprintf(w.home, sizeof(w.home), "/local/domain/%u", w.self_domid);
    if (default_command(w.blk_command, sizeof(w.blk_command), w.cfg.blk_command, "pvback-blk") <
            0 ||
        default_command(w.net_command, sizeof(w.net_command), w.cfg.net_command, "pvback-net") < 0)
        return 1;
    choose_claims(&w);
    w.seccomp = watch_seccomp_on(&w.cfg, (unsigned)geteuid());
    w.ctl_fd = -1;

    w.loop = pv_loop_new();
    w.xs = w.loop ? pv_xs_open(w.loop) : NULL;
    if (!w.xs) {
        pv_err("cannot connect to xenstore: %s", strerror(errno));
        goto out;
    }
    if (pv_loop_add_signal(w.loop, SIGCHLD, on_sigchld, &w) < 0 ||
        pv_loop_add_signal(w.loop, SIGTERM, on_stop, &w) < 0 ||
        pv_loop_add_signal(w.loop, SIGINT, on_stop, &w) < 0) {
        pv_err("signals: %s", strerror(errno));
        goto out;
    }
    watch_proc_adopt(&w);
    if (watch_ctl_open(&w) < 0 || watch_xs_start(&w) < 0)
        goto out;
    pv_info("running (platform %s, run directory %s; backends: user %s, seccomp %s)",
            pv_platform()->name, w.run_dir, watch_user_on(&w.cfg) ? w.cfg.user : "unchanged",
            w.seccomp ? "on" : "off");
    rc = pv_loop_run(w.loop) < 0 ? 1 : 0;
out:
    w.stopping = true;
    watch_ctl_close(&w);
    watch_proc_free_all(&w);
    if (w.xs)
        pv_xs_close(w.xs);
    if (w.loop)
        pv_loop_free(w.loop);
    return rc;
}
