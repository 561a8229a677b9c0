/* pvback-ctl: the operator's view of the running backends.
 *
 *   pvback-ctl [--platform xen|sim:DIR] status
 *   pvback-ctl [--platform xen|sim:DIR] upgrade [DOMID|all] [--type vbd|vbd3|vif]
 *
 * upgrade: ctl_upgrade.c.
 * Reads the run directory: every status socket (common/status.h) for the
 * processes and their devices, pvback-watch's pid files for processes that
 * do not answer, and its .failed markers for crash loops. Guest names come
 * from xenstore when it is reachable. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <xenstore.h>

#include "ctl_cmd.h"
#include "ctl_report.h"
#include "platform.h"
#include "status.h"
#include "xs.h" /* pv_parse_int */

static void usage(FILE *out)
{
    fprintf(out, "usage: pvback-ctl [--platform xen|sim:DIR] status\n"
                 "       pvback-ctl [--platform xen|sim:DIR] upgrade [DOMID|all] "
                 "[--type vbd|vbd3|vif]\n");
}

static char *read_small_file(const char *path)
{
    FILE *f = fopen(path, "re");
    char buf[512];
    if (!f)
        return NULL;
    size_t n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    buf[n] = '\0';
    buf[strcspn(buf, "\n")] = '\0';
    return strdup(buf);
}

static int cmd_status(void)
{
    char run[256], path[600];
    struct ctl_procs procs = {0};

    if (pv_run_dir(run, sizeof(run)) < 0)
        return 1;
    DIR *d = opendir(run);
    if (!d) {
        if (errno == ENOENT) {
            printf("no pvback backends running (%s does not exist)\n", run);
            return 0;
        }
        fprintf(stderr, "pvback-ctl: %s: %s\n", run, strerror(errno));
        return 1;
    }
    struct dirent *de;
    while ((de = readdir(d))) {
        struct ctl_key key;
        const char *ext;
        if (ctl_parse_run_file(de->d_name, &key, &ext) < 0)
            continue;
        struct ctl_proc *p = ctl_procs_get(&procs, &key);
        if (!p)
            break;
        snprintf(path, sizeof(path), "%s/%s", run, de->d_name);
        if (!strcmp(ext, "sock")) {
            errno = 0;
            char *report = ctl_socket_request(path, NULL);
            p->denied = !report && errno == EACCES;
            p->answered = report && ctl_parse_report(p, report) == 0;
            p->has_socket = true;
            free(report);
        } else if (!strcmp(ext, "pid")) {
            char *text = read_small_file(path);
            if (text && !p->pid)
                p->pid = atol(text);
            free(text);
        } else if (!strcmp(ext, "failed")) {
            free(p->failed);
            p->failed = read_small_file(path);
        }
    }
    closedir(d);

    /* Guest names, when xenstore answers (pvback-ctl needs no xenstore). */
    struct xs_handle *xs = xs_open(XS_OPEN_READONLY);
    for (size_t i = 0; i < procs.n; i++) {
        struct ctl_proc *p = &procs.v[i];
        if (!xs || p->key.domid < 0)
            continue;
        char np[64];
        unsigned int len;
        snprintf(np, sizeof(np), "/local/domain/%d/name", p->key.domid);
        char *name = xs_read(xs, XBT_NULL, np, &len);
        if (name) {
            snprintf(p->name, sizeof(p->name), "%s", name);
            free(name);
        }
    }
    if (xs)
        xs_close(xs);
    ctl_print_status(stdout, &procs);
    ctl_procs_free(&procs);
    return 0;
}

/* upgrade's arguments: [DOMID|all] [--type vbd|vbd3|vif], in any order.
 * 0, or -1 after a message naming the bad one. */
static int parse_upgrade_args(int argc, char **argv, const char **kind, int *domid)
{
    bool have_dom = false;
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--type") && i + 1 < argc) {
            a = argv[++i];
            if (strcmp(a, "vbd") && strcmp(a, "vbd3") && strcmp(a, "vif")) {
                fprintf(stderr, "pvback-ctl: --type '%s': expected vbd, vbd3 or vif\n", a);
                return -1;
            }
            *kind = a;
        } else if (!have_dom && !strcmp(a, "all")) {
            have_dom = true;
        } else if (!have_dom && pv_parse_int(a, 1, 0x7fef, domid) == 0) {
            have_dom = true;
        } else {
            fprintf(stderr, "pvback-ctl: upgrade: unexpected argument '%s'\n", a);
            usage(stderr);
            return -1;
        }
    }
    return 0;
}

int main(int argc, char **argv)
{
    const char *platform = NULL;
    char err[256];
    int i = 1;

    if (i + 1 < argc && !strcmp(argv[i], "--platform")) {
        platform = argv[i + 1];
        i += 2;
    } else if (i < argc && !strncmp(argv[i], "--platform=", 11)) {
        platform = argv[i] + 11;
        i++;
    }
    if (i < argc && (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help"))) {
        usage(stdout);
        return 0;
    }
    bool status = i + 1 == argc && !strcmp(argv[i], "status");
    if (!status && (i >= argc || strcmp(argv[i], "upgrade"))) {
        usage(stderr);
        return 2;
    }
    const char *kind = NULL;
    int domid = -1;
    if (!strcmp(argv[i], "upgrade") &&
        parse_upgrade_args(argc - i - 1, argv + i + 1, &kind, &domid) < 0)
        return 2;
    /* Points XENSTORED_PATH (and so the guest names) at xensim on sim. */
    if (pv_platform_init(platform, err, sizeof(err)) < 0) {
        fprintf(stderr, "pvback-ctl: %s\n", err);
        return 1;
    }
    if (pv_platform_sim_dir())
        setenv("XENSIM_DIR", pv_platform_sim_dir(), 0);
    if (!strcmp(argv[i], "upgrade")) {
        char run[256];
        return pv_run_dir(run, sizeof(run)) < 0 ? 1 : ctl_upgrade(run, kind, domid);
    }
    return cmd_status();
}
