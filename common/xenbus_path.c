/* xenbus path helpers: see xenbus_path.h. */
#include "xenbus_path.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "xs.h"

const char *pv_xenbus_key_below(const char *dir, const char *path)
{
    size_t n = strlen(dir);

    if (strncmp(path, dir, n))
        return NULL;
    if (path[n] == '\0')
        return path + n;
    if (path[n] != '/')
        return NULL; /* ".../51712" is not below ".../5171" */
    return path + n + 1;
}

/* Parses the component at *p up to the next '/' or the end. */
static int component(const char **p, uint64_t max, uint32_t *out)
{
    char buf[16];
    const char *end = strchr(*p, '/');
    size_t n = end ? (size_t)(end - *p) : strlen(*p);
    uint64_t v;

    if (n == 0 || n >= sizeof(buf))
        return -1;
    memcpy(buf, *p, n);
    buf[n] = '\0';
    if (pv_parse_u64(buf, 0, max, &v) < 0)
        return -1;
    *out = (uint32_t)v;
    *p += n + (end ? 1 : 0);
    return end ? 1 : 0; /* 1: more follows */
}

int pv_xenbus_split(const char *base, const char *path, struct pv_xenbus_where *out)
{
    const char *p = pv_xenbus_key_below(base, path);
    int more;

    memset(out, 0, sizeof(*out));
    if (!p)
        return -1;
    if (!*p)
        return 0;
    more = component(&p, PV_XENBUS_DOMID_MAX, &out->domid);
    if (more < 0)
        return -1;
    out->depth = 1;
    if (!more)
        return 0;
    more = component(&p, PV_XENBUS_DEVID_MAX, &out->devid);
    if (more < 0)
        return -1;
    out->depth = 2;
    if (!more)
        return 0;
    if (!*p)
        return -1; /* a trailing '/' is no xenstore path */
    out->depth = 3;
    out->key = p;
    return 0;
}

int pv_xenbus_error_dir(char *buf, size_t len, const char *be_path)
{
    const char *b = strstr(be_path, "/backend/");
    int n;

    if (!b) {
        errno = EINVAL;
        return -1;
    }
    n = snprintf(buf, len, "%.*s/error%s", (int)(b - be_path), be_path, b);
    if (n < 0 || (size_t)n >= len) {
        errno = ENAMETOOLONG;
        return -1;
    }
    return 0;
}
