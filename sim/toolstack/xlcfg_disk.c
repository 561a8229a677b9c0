/* xl's disk specification (xl-disk-configuration(5)), read the way libxlu's
 * disk lexer reads it:
 *  - comma-separated parameters; `key=value`, flags (cdrom, discard, ...),
 *    and positional ones: target, then format (unless a deprecated prefix
 *    such as "phy:" or "qcow2:" came with the target), vdev, access;
 *  - `target=` swallows the rest of the spec, commas included, so it must
 *    come last;
 *  - a vdev may carry a deprecated ":cdrom" / ":disk" suffix.
 * Errors name the offending piece and quote the whole spec. */
#include "xlcfg.h"
#include "xlcfg_syntax.h"
#include "toolstack/toolstack.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

struct disk_parse {
    struct xlcfg_disk *disk;
    const char *spec;
    char *err;
    size_t errlen;
    bool failed;
    bool target_set;
    bool vdev_set;
    bool access_set;
    bool script_set;
    bool had_prefix; /* a deprecated "phy:"-style prefix came with the target */
};

static void disk_fail(struct disk_parse *dp, const char *near, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void disk_fail(struct disk_parse *dp, const char *near, const char *fmt, ...)
{
    char msg[256];
    va_list ap;
    if (dp->failed)
        return; /* the first error is the one worth reading */
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    if (near)
        snprintf(dp->err, dp->errlen, "%s: near '%.*s%s' in '%.*s%s'", msg, XL_CLIP(near),
                 XL_CLIP(dp->spec));
    else
        snprintf(dp->err, dp->errlen, "%s in '%.*s%s'", msg, XL_CLIP(dp->spec));
    dp->failed = true;
}

/* Copies value into a fixed field, refusing what does not fit and (like
 * libxlu) a second non-empty value for the same field. */
static void save_string(struct disk_parse *dp, const char *what, char *field, size_t size,
                        bool *set, const char *value)
{
    if (set && *set && field[0]) {
        disk_fail(dp, value, "%s respecified", what);
        return;
    }
    if (strlen(value) >= size) {
        disk_fail(dp, value, "%s is longer than %zu characters", what, size - 1);
        return;
    }
    strcpy(field, value);
    if (set)
        *set = true;
}

static bool format_known(const char *f)
{
    static const char *const formats[] = {"raw", "qcow", "qcow2", "vhd", "empty", "qed"};
    for (size_t i = 0; i < sizeof(formats) / sizeof(formats[0]); i++) {
        if (!strcmp(f, formats[i]))
            return true;
    }
    return false;
}

static void set_format(struct disk_parse *dp, const char *value)
{
    const char *f = value[0] ? value : "raw";
    if (!format_known(f)) {
        disk_fail(dp, value, "unknown value for format");
        return;
    }
    if (dp->disk->format[0] && strcmp(dp->disk->format, f)) {
        disk_fail(dp, value, "format respecified");
        return;
    }
    strcpy(dp->disk->format, f);
}

static void set_access(struct disk_parse *dp, const char *value)
{
    if (!strcmp(value, "r") || !strcmp(value, "ro"))
        strcpy(dp->disk->access, "ro");
    else if (!strcmp(value, "w") || !strcmp(value, "rw") || !value[0])
        strcpy(dp->disk->access, "rw");
    else
        disk_fail(dp, value, "unknown value for access");
}

static void set_backendtype(struct disk_parse *dp, const char *value)
{
    if (!strcmp(value, "standalone")) {
        /* libxl pairs standalone only with specification=virtio, an Arm
         * virtio-mmio transport that a PV guest cannot use. */
        disk_fail(dp, value,
                  "backendtype standalone needs specification=virtio, which "
                  "xensim does not support");
        return;
    }
    if (strcmp(value, "phy") && strcmp(value, "tap") && strcmp(value, "qdisk")) {
        disk_fail(dp, value, "unknown value for backendtype");
        return;
    }
    if (dp->disk->backendtype[0] && strcmp(dp->disk->backendtype, value)) {
        disk_fail(dp, value, "backendtype respecified");
        return;
    }
    strcpy(dp->disk->backendtype, value);
}

/* "<vdev>:<devtype>" as a positional vdev. Returns true when it was one. */
static bool vdev_and_devtype(struct disk_parse *dp, const char *token)
{
    const char *colon = strrchr(token, ':');
    char vdev[sizeof(dp->disk->vdev)];
    if (!colon)
        return false;
    if ((size_t)(colon - token) >= sizeof(vdev)) {
        disk_fail(dp, token, "vdev is too long");
        return true;
    }
    memcpy(vdev, token, (size_t)(colon - token));
    vdev[colon - token] = '\0';
    save_string(dp, "vdev", dp->disk->vdev, sizeof(dp->disk->vdev), &dp->vdev_set, vdev);
    if (!strcmp(colon + 1, "cdrom"))
        dp->disk->cdrom = true;
    else if (!strcmp(colon + 1, "disk"))
        dp->disk->cdrom = false;
    else
        disk_fail(dp, colon + 1, "unknown deprecated type");
    return true;
}

static void positional(struct disk_parse *dp, const char *token)
{
    struct xlcfg_disk *d = dp->disk;
    if (!dp->target_set) {
        save_string(dp, "target", d->target, sizeof(d->target), &dp->target_set, token);
    } else if (!dp->had_prefix && !d->format[0]) {
        /* The second positional parameter is the format, unless the target
         * came with a prefix: "img,xvda,w" fails here exactly as in xl. */
        if (!d->target[0] && vdev_and_devtype(dp, token))
            strcpy(d->format, "empty");
        else
            set_format(dp, token);
    } else if (!dp->vdev_set) {
        if (!vdev_and_devtype(dp, token))
            save_string(dp, "vdev", d->vdev, sizeof(d->vdev), &dp->vdev_set, token);
    } else if (!dp->access_set) {
        dp->access_set = true;
        set_access(dp, token);
    } else {
        disk_fail(dp, token, "too many positional parameters");
    }
}

/* Strips the deprecated prefixes ("phy:", "tap:aio:", "qcow2:", "iscsi:" ...)
 * off the front of a positional parameter. Returns what follows them, or NULL
 * after an error. */
static const char *strip_prefixes(struct disk_parse *dp, const char *p)
{
    static const char *const ignored[] = {"tapdisk", "tap", "tap2", "aio", "ioemu", "file", "phy"};
    static const char *const formats[] = {"raw", "qcow", "qcow2", "vhd"};
    static const char *const scripts[] = {"iscsi", "nbd", "enbd", "drbd"};
    for (;;) {
        size_t n = 0;
        if (!islower((unsigned char)p[0]))
            return p;
        while (islower((unsigned char)p[n]) || isdigit((unsigned char)p[n]))
            n++;
        if (p[n] != ':')
            return p;
        /* "xvda:cdrom" is a vdev with a type, not a prefix: libxlu only takes
         * "word:" as a prefix when no letter or digit follows the colon. */
        bool prefix_shape = !isalnum((unsigned char)p[n + 1]);
        char word[16];
        bool known = false;
        if (n < sizeof(word)) {
            memcpy(word, p, n);
            word[n] = '\0';
            for (size_t i = 0; i < sizeof(ignored) / sizeof(ignored[0]); i++)
                known |= !strcmp(word, ignored[i]);
            for (size_t i = 0; i < sizeof(formats) / sizeof(formats[0]); i++) {
                if (!strcmp(word, formats[i])) {
                    known = true;
                    set_format(dp, word);
                }
            }
            for (size_t i = 0; i < sizeof(scripts) / sizeof(scripts[0]); i++) {
                if (!strcmp(word, scripts[i])) {
                    char script[32];
                    known = true;
                    snprintf(script, sizeof(script), "block-%s", word);
                    save_string(dp, "script", dp->disk->script, sizeof(dp->disk->script),
                                &dp->script_set, script);
                }
            }
        }
        if (!known) {
            if (!prefix_shape)
                return p;
            disk_fail(dp, p, "unknown deprecated disk prefix");
            return NULL;
        }
        dp->had_prefix = true;
        p += n + 1;
    }
}

/* One `key=value` or flag. Returns false when the token is positional. */
static bool keyword(struct disk_parse *dp, const char *token)
{
    struct xlcfg_disk *d = dp->disk;
    const char *eq = strchr(token, '=');
    if (!eq) {
        if (!strcmp(token, "cdrom"))
            d->cdrom = true;
        else if (!strcmp(token, "discard"))
            d->discard = 1;
        else if (!strcmp(token, "no-discard"))
            d->discard = 0;
        else if (!strcmp(token, "direct-io-safe"))
            d->direct_io_safe = true;
        else if (!strcmp(token, "trusted"))
            d->trusted = true;
        else if (!strcmp(token, "untrusted"))
            d->trusted = false;
        else if (!strcmp(token, "colo") || !strcmp(token, "no-colo"))
            disk_fail(dp, token, "COLO is not supported by xensim");
        else
            return false;
        return true;
    }
    char key[32];
    size_t klen = (size_t)(eq - token);
    const char *v = eq + 1;
    if (klen == 0 || klen >= sizeof(key)) {
        disk_fail(dp, token, "bad disk syntax");
        return true;
    }
    memcpy(key, token, klen);
    key[klen] = '\0';
    if (!strcmp(key, "format")) {
        set_format(dp, v);
    } else if (!strcmp(key, "devtype")) {
        if (!strcmp(v, "cdrom"))
            d->cdrom = true;
        else if (!strcmp(v, "disk"))
            d->cdrom = false;
        else
            disk_fail(dp, token, "unknown value for type");
    } else if (!strcmp(key, "access")) {
        set_access(dp, v);
    } else if (!strcmp(key, "backendtype")) {
        set_backendtype(dp, v);
    } else if (!strcmp(key, "vdev")) {
        save_string(dp, "vdev", d->vdev, sizeof(d->vdev), &dp->vdev_set, v);
    } else if (!strcmp(key, "script")) {
        save_string(dp, "script", d->script, sizeof(d->script), &dp->script_set, v);
    } else if (!strcmp(key, "chap-file")) {
        /* Not xl's: pvback-blk's per-disk CHAP secrets file, written to the
         * backend's chap-file key (docs/remote-storage.md). */
        if (v[0] != '/')
            disk_fail(dp, v, "chap-file must be an absolute path");
        else
            save_string(dp, "chap-file", d->chap_file, sizeof(d->chap_file), NULL, v);
    } else if (!strcmp(key, "specification")) {
        if (strcmp(v, "xen") && strcmp(v, "virtio"))
            disk_fail(dp, v, "unknown value for specification");
        else if (strcmp(v, "xen"))
            disk_fail(dp, v, "specification=virtio is not supported by xensim");
    } else if (!strcmp(key, "backend")) {
        disk_fail(dp, v, "driver domains (backend=) are not supported by xensim");
    } else if (!strcmp(key, "grant_usage")) {
        if (strcmp(v, "0") && strcmp(v, "1"))
            disk_fail(dp, token, "unknown parameter");
    } else if (!strncmp(key, "colo-", 5) || !strcmp(key, "active-disk") ||
               !strcmp(key, "hidden-disk")) {
        disk_fail(dp, token, "COLO is not supported by xensim");
    } else {
        disk_fail(dp, token, "unknown parameter");
    }
    return true;
}

int xlcfg_parse_disk(const char *spec, struct xlcfg_disk *disk, char *err, size_t errlen)
{
    struct disk_parse dp = {.disk = disk, .spec = spec, .err = err, .errlen = errlen};
    memset(disk, 0, sizeof(*disk));
    disk->discard = -1;
    disk->trusted = true;

    const char *p = spec;
    while (*p && !dp.failed) {
        while (*p == ' ' || *p == '\t' || *p == '\n')
            p++;
        if (!*p)
            break;
        if (!strncmp(p, "target=", 7)) {
            /* the target swallows the rest of the spec, one trailing comma off */
            char target[sizeof(disk->target) + 1];
            size_t n = strlen(p + 7);
            if (n > 0 && p[7 + n - 1] == ',')
                n--;
            if (n >= sizeof(target))
                n = sizeof(target) - 1; /* save_string reports it as too long */
            memcpy(target, p + 7, n);
            target[n] = '\0';
            save_string(&dp, "target", disk->target, sizeof(disk->target), &dp.target_set, target);
            break;
        }
        size_t len = strcspn(p, ",");
        char token[sizeof(disk->target) + 1];
        if (len >= sizeof(token)) {
            disk_fail(&dp, NULL, "parameter too long");
            break;
        }
        memcpy(token, p, len);
        token[len] = '\0';
        p += len;
        if (*p == ',')
            p++;
        if (keyword(&dp, token))
            continue;
        const char *rest = strip_prefixes(&dp, token);
        if (!rest)
            break;
        positional(&dp, rest);
    }
    if (dp.failed)
        return -1;

    if (!disk->format[0])
        strcpy(disk->format, "raw");
    if (!disk->access[0])
        strcpy(disk->access, "rw");
    if (disk->cdrom) {
        strcpy(disk->access, "ro");
        if (!disk->target[0])
            strcpy(disk->format, "empty");
    }
    if (!disk->vdev[0]) {
        disk_fail(&dp, NULL, "no vdev specified");
        return -1;
    }
    /* libxl only finds this out when it adds the device; say it now */
    if (ts_vdev_to_devid(disk->vdev) < 0) {
        disk_fail(&dp, disk->vdev, "invalid or unsupported virtual disk identifier");
        return -1;
    }
    if (!disk->target[0] && !disk->cdrom) {
        disk_fail(&dp, NULL, "no target specified (and device not removable)");
        return -1;
    }
    if (!strcmp(disk->format, "empty") && !disk->cdrom) {
        disk_fail(&dp, NULL, "an empty disk must be a cdrom");
        return -1;
    }
    return 0;
}
