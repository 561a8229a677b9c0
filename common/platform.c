/* Platform selection: see platform.h. */
#include "platform.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct pv_platform_ops *chosen;
static char sim_dir[PATH_MAX];
static uint32_t self_domid;

static int parse_domid(const char *s, uint32_t *out)
{
    char *end;
    unsigned long v;

    errno = 0;
    v = strtoul(s, &end, 10);
    if (errno || end == s || *end || v >= 0x7ff0) /* DOMID_FIRST_RESERVED */
        return -1;
    *out = (uint32_t)v;
    return 0;
}

int pv_platform_init(const char *spec, char *err, size_t errlen)
{
    const char *dir = NULL;
    const char *domid_env = getenv("XENSIM_DOMID");

    if (!spec) {
        dir = getenv("XENSIM_DIR");
        if (dir && !*dir) {
            snprintf(err, errlen, "XENSIM_DIR is set but empty");
            return -1;
        }
    } else if (!strcmp(spec, "xen")) {
        dir = NULL;
    } else if (!strncmp(spec, "sim:", 4) && spec[4]) {
        dir = spec + 4;
    } else {
        snprintf(err, errlen, "platform '%s' is not one of 'xen' or 'sim:DIR'", spec);
        return -1;
    }

    if (!dir) {
        chosen = &pv_platform_xen_ops;
        return 0;
    }
    if (strlen(dir) >= sizeof(sim_dir) - 32) {
        snprintf(err, errlen, "xensim directory '%s' is too long", dir);
        return -1;
    }
    snprintf(sim_dir, sizeof(sim_dir), "%s", dir);
    self_domid = 0;
    if (domid_env && parse_domid(domid_env, &self_domid) < 0) {
        snprintf(err, errlen, "XENSIM_DOMID '%s' is not a domain id", domid_env);
        return -1;
    }
    if (!getenv("XENSTORED_PATH")) {
        char path[PATH_MAX + 32];
        if (self_domid == 0)
            snprintf(path, sizeof(path), "%s/xenstored.sock", sim_dir);
        else
            snprintf(path, sizeof(path), "%s/dom%u.sock", sim_dir, self_domid);
        setenv("XENSTORED_PATH", path, 1);
    }
    chosen = &pv_platform_sim_ops;
    return 0;
}

const struct pv_platform_ops *pv_platform(void)
{
    return chosen;
}

const char *pv_platform_sim_dir(void)
{
    return chosen == &pv_platform_sim_ops ? sim_dir : NULL;
}

uint32_t pv_platform_self_domid(void)
{
    return self_domid;
}

void pv_platform_sim_set_home(const char *dir, uint32_t domid)
{
    char path[PATH_MAX + 32], id[16];

    snprintf(sim_dir, sizeof(sim_dir), "%s", dir);
    self_domid = domid;
    /* What a program started from now on (and libxenstore) must see. */
    snprintf(id, sizeof(id), "%u", domid);
    snprintf(path, sizeof(path), "%s/dom%u.sock", sim_dir, domid);
    setenv("XENSIM_DIR", sim_dir, 1);
    setenv("XENSIM_DOMID", id, 1);
    setenv("XENSTORED_PATH", path, 1);
}
