/* `xensim create`, `destroy` and `list`: what xl does, split as xl splits
 * it: the daemon creates and destroys the domain (the hypervisor's part),
 * this process writes xenstore through libxenstore (the toolstack's part,
 * sim/toolstack). */
#include "xensim.h"

#include "toolstack/toolstack.h"
#include "toolstack/xlcfg.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xenstore.h>

/* A dom0 xenstore connection to the simulator in dir. */
static struct xs_handle *xs_dom0(const char *dir)
{
    char path[PATH_MAX];
    struct xs_handle *xs;

    snprintf(path, sizeof(path), "%s/xenstored.sock", dir);
    setenv("XENSTORED_PATH", path, 1); /* the CLI is the toolstack: always dom0 */
    xs = xs_open(0);
    if (!xs)
        fprintf(stderr, "xensim: cannot connect to xenstored at %s: %s\n", path, strerror(errno));
    return xs;
}

static int ctl_domain_op(const char *dir, enum ctl_op op, int domid, uint64_t mem_mb,
                         struct ctl_rep *rep)
{
    struct ctl_req req = {.op = op, .domid = domid, .mem_mb = mem_mb};

    return xsim_ctl_call(dir, &req, rep, NULL, 0, NULL);
}

/* The hypervisor and xenstore sides of a destroy; reports the first error. */
static int destroy_domid(const char *dir, struct xs_handle *xs, unsigned domid)
{
    struct ctl_rep rep;
    char err[512];
    int rc = 0;

    /* Paused first, as libxl does, so that its programs stop racing the
     * teardown of their devices. */
    if (ctl_domain_op(dir, CTL_PAUSE, (int)domid, 0, &rep) < 0)
        return -1;
    if (ts_domain_destroy(xs, domid, err, sizeof(err)) < 0) {
        fprintf(stderr, "xensim: destroying domain %u: %s\n", domid, err);
        rc = -1;
    }
    if (ctl_domain_op(dir, CTL_DESTROY, (int)domid, 0, &rep) < 0)
        rc = -1;
    return rc;
}

int xsim_cmd_create(const char *dir, int argc, char **argv)
{
    struct xlcfg *cfg = calloc(1, sizeof(*cfg));
    struct xs_handle *xs = NULL;
    struct ctl_rep rep;
    char err[1024];
    int rc = 1;

    if (!cfg) {
        perror("xensim");
        return 1;
    }
    if (argc < 1) {
        fprintf(stderr, "xensim: create needs a config file\n");
        goto out;
    }
    if (xlcfg_parse_file(argv[0], cfg, err, sizeof(err)) < 0) {
        fprintf(stderr, "xensim: %s\n", err);
        goto out;
    }
    for (int i = 1; i < argc; i++) {
        if (xlcfg_apply_override(cfg, argv[i], err, sizeof(err)) < 0) {
            fprintf(stderr, "xensim: %s\n", err);
            goto out;
        }
    }
    if (!cfg->name[0]) {
        fprintf(stderr, "xensim: %s: the config must give a name (name=\"...\")\n", argv[0]);
        goto out;
    }
    xs = xs_dom0(dir);
    if (!xs)
        goto out;
    if (ts_domid_by_name(xs, cfg->name) >= 0) {
        fprintf(stderr, "xensim: domain '%s' already exists\n", cfg->name);
        goto out;
    }
    if (ctl_domain_op(dir, CTL_CREATE, cfg->domid, cfg->memory_mb, &rep) < 0)
        goto out;
    if (ts_domain_create(xs, rep.domid, cfg, err, sizeof(err)) < 0 ||
        ts_devices_add(xs, rep.domid, cfg, err, sizeof(err)) < 0) {
        fprintf(stderr, "xensim: creating '%s': %s\n", cfg->name, err);
        destroy_domid(dir, xs, rep.domid);
        goto out;
    }
    printf("%u\n", rep.domid);
    rc = 0;
out:
    if (xs)
        xs_close(xs);
    free(cfg);
    return rc;
}

/* NAME or DOMID -> domid, or -1 after a message. */
static int resolve(struct xs_handle *xs, const char *name)
{
    char *end;
    long v;
    int domid;

    if (isdigit((unsigned char)name[0])) {
        errno = 0;
        v = strtol(name, &end, 10);
        if (!errno && !*end && v >= 0 && v <= INT_MAX)
            return (int)v;
    }
    domid = ts_domid_by_name(xs, name);
    if (domid < 0)
        fprintf(stderr, "xensim: no domain named '%s'\n", name);
    return domid;
}

int xsim_cmd_destroy(const char *dir, const char *name)
{
    struct xs_handle *xs = xs_dom0(dir);
    int domid, rc = 1;

    if (!xs)
        return 1;
    domid = resolve(xs, name);
    if (domid == 0)
        fprintf(stderr, "xensim: Domain-0 cannot be destroyed\n");
    else if (domid > 0 && destroy_domid(dir, xs, (unsigned)domid) == 0)
        rc = 0;
    xs_close(xs);
    return rc;
}

int xsim_cmd_list(const char *dir)
{
    static struct ctl_dom doms[CTL_MAX_DOMS];
    struct ctl_req req = {.op = CTL_LIST};
    struct ctl_rep rep;
    struct xs_handle *xs;

    if (xsim_ctl_call(dir, &req, &rep, doms, sizeof(doms), NULL) < 0)
        return 1;
    xs = xs_dom0(dir);
    if (!xs)
        return 1;
    /* xl list's columns. */
    printf("%-40s %5s %5s %5s %8s %9s\n", "Name", "ID", "Mem", "VCPUs", "State", "Time(s)");
    for (uint32_t i = 0; i < rep.count && i < CTL_MAX_DOMS; i++) {
        char path[64];
        unsigned len;
        char *name;

        snprintf(path, sizeof(path), "/local/domain/%u/name", doms[i].domid);
        name = xs_read(xs, XBT_NULL, path, &len);
        printf("%-40s %5u %5llu %5d %8s %9.1f\n",
               name                 ? name
               : doms[i].domid == 0 ? "Domain-0"
                                    : "(null)",
               doms[i].domid, (unsigned long long)doms[i].mem_mb, 1,
               doms[i].domid == 0 ? "r-----" : "-b----", 0.0);
        free(name);
    }
    xs_close(xs);
    return 0;
}
