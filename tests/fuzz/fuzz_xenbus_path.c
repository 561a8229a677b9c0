/* Fuzzes the xenbus path helpers (common/xenbus_path.h) that every watch
 * event goes through: the paths come from xenstore, and below a frontend's
 * directory the guest chooses them.
 *
 * Input: NUL-separated base (or dir), path, then a buffer length byte.
 *
 * Invariants: a split path lies below its base, with a guest domid and a
 * device id in range and the key being the rest of the path; the key below
 * a directory is "" for the directory itself and otherwise what follows
 * "dir/" (never a sibling like "dirX"); an error directory is the backend
 * path with "/backend/" turned into "/error/backend/", or a refusal when
 * it does not fit. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_input.h"
#include "xenbus_path.h"

static void check_split(const char *base, const char *path)
{
    struct pv_xenbus_where w;
    size_t bl = strlen(base);

    if (pv_xenbus_split(base, path, &w) < 0)
        return;
    FUZZ_CHECK(!strncmp(path, base, bl) && (path[bl] == '\0' || path[bl] == '/'),
               "'%s' is not below '%s'", path, base);
    FUZZ_CHECK(w.depth >= 0 && w.depth <= 3, "depth %d", w.depth);
    FUZZ_CHECK((w.depth == 0) == (path[bl] == '\0'), "depth %d for '%s'", w.depth, path);
    if (w.depth >= 1)
        FUZZ_CHECK(w.domid <= PV_XENBUS_DOMID_MAX, "domid %u", w.domid);
    if (w.depth >= 2)
        FUZZ_CHECK(w.devid <= PV_XENBUS_DEVID_MAX, "devid %u", w.devid);
    if (w.depth == 3) {
        size_t pl = strlen(path), kl = strlen(w.key);
        FUZZ_CHECK(w.key > path && w.key <= path + pl && kl > 0 && w.key + kl == path + pl &&
                       w.key[-1] == '/',
                   "key '%s' of '%s'", w.key, path);
    }
}

static void check_key_below(const char *dir, const char *path)
{
    const char *key = pv_xenbus_key_below(dir, path);
    size_t dl = strlen(dir);

    if (!key) {
        FUZZ_CHECK(strncmp(path, dir, dl) || (path[dl] != '\0' && path[dl] != '/'),
                   "'%s' is below '%s' but no key was found", path, dir);
        return;
    }
    if (key[0] == '\0')
        FUZZ_CHECK(!strcmp(path, dir), "'' for '%s' below '%s'", path, dir);
    else
        FUZZ_CHECK(!strncmp(path, dir, dl) && path[dl] == '/' && key == path + dl + 1,
                   "key '%s' for '%s' below '%s'", key, path, dir);
}

static void check_error_dir(const char *be, size_t len)
{
    char *buf = malloc(len + 1);
    const char *part = strstr(be, "/backend/");

    if (!buf)
        abort();
    errno = 0;
    if (pv_xenbus_error_dir(buf, len, be) == 0) {
        FUZZ_CHECK(part != NULL, "an error dir for '%s'", be);
        size_t home = (size_t)(part - be);
        FUZZ_CHECK(strlen(buf) == strlen(be) + 6 && !strncmp(buf, be, home) &&
                       !strncmp(buf + home, "/error", 6) && !strcmp(buf + home + 6, part),
                   "error dir '%s' of '%s'", buf, be);
    } else {
        FUZZ_CHECK(!part || strlen(be) + 6 >= len, "'%s' refused with room for %zu", be, len);
    }
    free(buf);
}

static bool xs_path_shape(const char *p)
{
    size_t n = strlen(p);

    return n > 1 && p[0] == '/' && p[n - 1] != '/' && !strstr(p, "//");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fuzz_in in = fuzz_in_make(data, size);
    char *base = fuzz_str(&in), *path = fuzz_str(&in);
    size_t len = fuzz_u8(&in);

    /* Watch events carry xenstore paths: absolute, without a trailing '/'
     * or "//" (xenstored refuses others); the bases are such paths too. */
    if (xs_path_shape(base) && xs_path_shape(path)) {
        check_split(base, path);
        check_key_below(base, path);
    }
    check_error_dir(path, len);
    free(base);
    free(path);
    return 0;
}
