/* See xsd_path.h. */
#include "xsd_path.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <stdint.h>
#include <xen/io/xs_wire.h>

#include "xsd_util.h"

char *xsd_path_canonical(unsigned domid, const char *path)
{
    if (path[0] == '/' || path[0] == '@')
        return xsd_strdup(path);
    return xsd_asprintf("/local/domain/%u/%s", domid, path);
}

static bool valid_chars(const char *s)
{
    static const char ok[] = "abcdefghijklmnopqrstuvwxyz"
                             "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
                             "0123456789-/_@";

    return strspn(s, ok) == strlen(s);
}

/* Length of the "/local/domain/<n>/" prefix of path, or 0. */
static size_t domain_prefix_len(const char *path)
{
    static const char pfx[] = "/local/domain/";
    size_t n = sizeof(pfx) - 1, i = n;

    if (strncmp(path, pfx, n) != 0)
        return 0;
    while (path[i] >= '0' && path[i] <= '9' && i - n < 5)
        i++;
    if (i == n || path[i] != '/')
        return 0;
    return i + 1;
}

bool xsd_path_valid(const char *path, bool privileged)
{
    size_t len = strlen(path);

    if (path[0] != '/')
        return false;
    if (len > 1 && path[len - 1] == '/')
        return false;
    if (strstr(path, "//"))
        return false;
    if (len > XENSTORE_ABS_PATH_MAX)
        return false;
    if (!privileged && len - domain_prefix_len(path) > XENSTORE_REL_PATH_MAX)
        return false;
    return valid_chars(path);
}

char *xsd_path_parent(const char *path)
{
    const char *slash = strrchr(path, '/');

    if (slash == path)
        return xsd_strdup("/");
    return xsd_asprintf("%.*s", (int)(slash - path), path);
}

const char *xsd_path_base(const char *path)
{
    return strrchr(path, '/') + 1;
}

char *xsd_path_join(const char *path, const char *child)
{
    if (xsd_streq(path, "/"))
        return xsd_asprintf("/%s", child);
    return xsd_asprintf("%s/%s", path, child);
}

bool xsd_path_is_child(const char *child, const char *parent)
{
    size_t len = strlen(parent);

    if (xsd_streq(parent, "/"))
        return true;
    if (strncmp(child, parent, len) != 0)
        return false;
    return child[len] == '/' || child[len] == '\0';
}
