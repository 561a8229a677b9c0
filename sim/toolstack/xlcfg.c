/* The keys of an xl domain configuration that xensim's toolstack uses (see
 * xlcfg.h); the text's syntax is read by xlcfg_syntax.c. */
#include "xlcfg.h"
#include "xlcfg_syntax.h"
#include "toolstack/toolstack.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Domain ids a guest may have: 1 .. DOMID_FIRST_RESERVED - 1 (xen.h). */
#define XLCFG_DOMID_MAX 0x7fefu
/* Memory bounds in MiB: xensim backs guest memory with a sparse memfd. */
#define XLCFG_MEMORY_MAX (1024u * 1024u)

/* What a key handler reports on a bad value: the message, and the line of the
 * offending list item when it is not the statement's first line. */
struct key_error {
    char msg[512];
    int line;
};

static void key_fail(struct key_error *ke, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void key_fail(struct key_error *ke, int line, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(ke->msg, sizeof(ke->msg), fmt, ap);
    va_end(ap);
    ke->line = line;
}

static int want_single(const struct xl_stmt *st, struct key_error *ke)
{
    if (st->is_list) {
        key_fail(ke, st->line, "expects a single value, not a list");
        return -1;
    }
    if (st->append) {
        key_fail(ke, st->line, "'+=' is only supported for lists");
        return -1;
    }
    return 0;
}

/* Parses an unsigned decimal (or 0x hex) number in [min, max]. */
static int parse_number(const char *s, unsigned long long min, unsigned long long max,
                        unsigned long long *out)
{
    char *end;
    if (!isdigit((unsigned char)s[0]))
        return -1;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 0);
    if (errno || *end || v < min || v > max)
        return -1;
    *out = v;
    return 0;
}

static int key_name(struct xlcfg *cfg, const struct xl_stmt *st, struct key_error *ke)
{
    if (want_single(st, ke) < 0)
        return -1;
    const char *v = st->items[0].text;
    size_t n = strlen(v);
    if (n == 0) {
        key_fail(ke, st->line, "the domain name may not be empty");
        return -1;
    }
    if (n >= sizeof(cfg->name)) {
        key_fail(ke, st->line, "'%.*s%s' is longer than %zu characters", XL_CLIP(v),
                 sizeof(cfg->name) - 1);
        return -1;
    }
    /* The name becomes part of xenstore values, file and namespace names. */
    for (const char *p = v; *p; p++) {
        if (!isgraph((unsigned char)*p) || *p == '/') {
            key_fail(ke, st->line,
                     "'%.*s%s' may only contain printable characters other than "
                     "blanks and '/'",
                     XL_CLIP(v));
            return -1;
        }
    }
    /* `xensim destroy X` takes a name or a domid: a numeric name is ambiguous. */
    if (strspn(v, "0123456789") == n) {
        key_fail(ke, st->line, "'%.*s%s' is a number; a domain name must not be one", XL_CLIP(v));
        return -1;
    }
    memcpy(cfg->name, v, n + 1);
    return 0;
}

static int key_memory(struct xlcfg *cfg, const struct xl_stmt *st, struct key_error *ke)
{
    unsigned long long v;
    if (want_single(st, ke) < 0)
        return -1;
    if (parse_number(st->items[0].text, 1, XLCFG_MEMORY_MAX, &v) < 0) {
        key_fail(ke, st->line, "'%.*s%s' is not a size in MiB between 1 and %u",
                 XL_CLIP(st->items[0].text), XLCFG_MEMORY_MAX);
        return -1;
    }
    cfg->memory_mb = v;
    return 0;
}

static int key_domid(struct xlcfg *cfg, const struct xl_stmt *st, struct key_error *ke)
{
    unsigned long long v;
    if (want_single(st, ke) < 0)
        return -1;
    if (parse_number(st->items[0].text, 1, XLCFG_DOMID_MAX, &v) < 0) {
        key_fail(ke, st->line, "'%.*s%s' is not a guest domain id (1 to %u)",
                 XL_CLIP(st->items[0].text), XLCFG_DOMID_MAX);
        return -1;
    }
    cfg->domid = (int)v;
    return 0;
}

static int key_uuid(struct xlcfg *cfg, const struct xl_stmt *st, struct key_error *ke)
{
    if (want_single(st, ke) < 0)
        return -1;
    const char *v = st->items[0].text;
    bool ok = strlen(v) == 36;
    for (int i = 0; ok && i < 36; i++) {
        bool dash = i == 8 || i == 13 || i == 18 || i == 23;
        ok = dash ? v[i] == '-' : isxdigit((unsigned char)v[i]) != 0;
    }
    if (!ok) {
        key_fail(ke, st->line, "'%.*s%s' is not a UUID (xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx)",
                 XL_CLIP(v));
        return -1;
    }
    for (int i = 0; i < 36; i++)
        cfg->uuid[i] = (char)tolower((unsigned char)v[i]);
    cfg->uuid[36] = '\0';
    return 0;
}

static int key_kernel(struct xlcfg *cfg, const struct xl_stmt *st, struct key_error *ke)
{
    if (want_single(st, ke) < 0)
        return -1;
    const char *v = st->items[0].text;
    if (strlen(v) >= sizeof(cfg->kernel)) {
        key_fail(ke, st->line, "'%.*s%s' is longer than %zu characters", XL_CLIP(v),
                 sizeof(cfg->kernel) - 1);
        return -1;
    }
    strcpy(cfg->kernel, v);
    return 0;
}

static int want_list(const struct xl_stmt *st, struct key_error *ke)
{
    if (!st->is_list) {
        key_fail(ke, st->line, "a single value where a list [ \"...\", ... ] is expected");
        return -1;
    }
    return 0;
}

/* disk = [ "spec", ... ]: replaces the list, or appends to it with +=. */
static int key_disk(struct xlcfg *cfg, const struct xl_stmt *st, struct key_error *ke)
{
    if (want_list(st, ke) < 0)
        return -1;
    unsigned n = st->append ? cfg->ndisks : 0;
    for (size_t i = 0; i < st->nitems; i++) {
        char msg[sizeof(ke->msg) - 64];
        if (n == XLCFG_MAX_DISKS) {
            key_fail(ke, st->items[i].line, "more than %d disks", XLCFG_MAX_DISKS);
            return -1;
        }
        if (xlcfg_parse_disk(st->items[i].text, &cfg->disks[n], msg, sizeof(msg)) < 0) {
            key_fail(ke, st->items[i].line, "%s", msg);
            return -1;
        }
        /* xvda, d0p0 and 51712 are one device: compare the numbers */
        for (unsigned j = 0; j < n; j++) {
            if (ts_vdev_to_devid(cfg->disks[j].vdev) == ts_vdev_to_devid(cfg->disks[n].vdev)) {
                key_fail(ke, st->items[i].line, "vdev %s and vdev %s are the same device",
                         cfg->disks[j].vdev, cfg->disks[n].vdev);
                return -1;
            }
        }
        n++;
    }
    cfg->ndisks = n;
    return 0;
}

/* vif = [ "spec", ... ]: replaces the list, or appends to it with +=. */
static int key_vif(struct xlcfg *cfg, const struct xl_stmt *st, struct key_error *ke)
{
    if (want_list(st, ke) < 0)
        return -1;
    unsigned n = st->append ? cfg->nvifs : 0;
    for (size_t i = 0; i < st->nitems; i++) {
        char msg[sizeof(ke->msg) - 64];
        if (n == XLCFG_MAX_VIFS) {
            key_fail(ke, st->items[i].line, "more than %d vifs", XLCFG_MAX_VIFS);
            return -1;
        }
        if (xlcfg_parse_vif(st->items[i].text, &cfg->vifs[n], msg, sizeof(msg)) < 0) {
            key_fail(ke, st->items[i].line, "%s", msg);
            return -1;
        }
        n++;
    }
    cfg->nvifs = n;
    return 0;
}

struct key_handler {
    const char *key;
    int (*apply)(struct xlcfg *cfg, const struct xl_stmt *st, struct key_error *ke);
};

static const struct key_handler key_handlers[] = {
    {"name", key_name},     {"memory", key_memory}, {"domid", key_domid}, {"uuid", key_uuid},
    {"kernel", key_kernel}, {"disk", key_disk},     {"vif", key_vif},
};

/* Formats "<where>: '<line text>': <key>: <message>". */
static void report(char *err, size_t errlen, const char *text, int line, const char *key,
                   const char *msg)
{
    char quoted[160];
    xl_line_text(text, line, quoted, sizeof(quoted));
    snprintf(err, errlen, "line %d: '%s': %s: %s", line, quoted, key, msg);
}

/* Applies every statement of text to cfg; later statements win. */
static int apply_text(struct xlcfg *cfg, const char *text, char *err, size_t errlen)
{
    struct xl_lexer lx;
    struct xl_stmt st;
    int rc;
    xl_lexer_init(&lx, text);
    while ((rc = xl_next_stmt(&lx, &st, err, errlen)) == 1) {
        for (size_t i = 0; i < sizeof(key_handlers) / sizeof(key_handlers[0]); i++) {
            if (strcmp(st.key, key_handlers[i].key) != 0)
                continue;
            struct key_error ke = {.line = st.line};
            if (key_handlers[i].apply(cfg, &st, &ke) < 0) {
                report(err, errlen, text, ke.line, st.key, ke.msg);
                xl_stmt_free(&st);
                return -1;
            }
        }
        /* Other keys (vcpus, on_crash, ramdisk, ...) do not apply to xensim's
         * guests and are ignored, as xl ignores keys it does not read. */
        xl_stmt_free(&st);
    }
    return rc;
}

static void xlcfg_init(struct xlcfg *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->memory_mb = 128;
    cfg->domid = -1;
}

int xlcfg_parse(const char *text, struct xlcfg *cfg, char *err, size_t errlen)
{
    xlcfg_init(cfg);
    if (apply_text(cfg, text, err, errlen) < 0)
        return -1;
    if (cfg->name[0] == '\0') {
        snprintf(err, errlen, "name: the domain name must be specified");
        return -1;
    }
    return 0;
}

int xlcfg_parse_file(const char *path, struct xlcfg *cfg, char *err, size_t errlen)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return -1;
    }
    char *text = NULL;
    size_t len = 0;
    FILE *mem = open_memstream(&text, &len);
    char buf[4096];
    size_t n;
    int rc = mem ? 0 : -1;
    while (rc == 0 && (n = fread(buf, 1, sizeof(buf), f)) > 0) {
        if (fwrite(buf, 1, n, mem) != n)
            rc = -1;
    }
    if (ferror(f))
        rc = -1;
    fclose(f);
    if (mem)
        fclose(mem);
    if (rc < 0) {
        snprintf(err, errlen, "%s: cannot read: %s", path, strerror(errno));
        free(text);
        return -1;
    }
    if (memchr(text, '\0', len)) {
        snprintf(err, errlen, "%s: not a text file (contains a NUL byte)", path);
        free(text);
        return -1;
    }
    char msg[768];
    rc = xlcfg_parse(text, cfg, msg, sizeof(msg));
    if (rc < 0)
        snprintf(err, errlen, "%s: %s", path, msg);
    free(text);
    return rc;
}

int xlcfg_apply_override(struct xlcfg *cfg, const char *kv, char *err, size_t errlen)
{
    /* xl appends each command-line override to the config text, so it is one
     * more statement in the same syntax. As a convenience a bare word value
     * (name=web1) counts as a string. */
    const char *eq = strchr(kv, '=');
    if (!eq || strchr(kv, '\n')) {
        snprintf(err, errlen, "override '%.*s%s': expected key=value on one line", XL_CLIP(kv));
        return -1;
    }
    const char *v = eq + 1;
    while (*v == ' ' || *v == '\t')
        v++;
    char *text;
    int n;
    if (*v && !strchr("\"'[-+0123456789", *v) && !strpbrk(v, "\"\\"))
        n = asprintf(&text, "%.*s=\"%s\"", (int)(eq - kv), kv, v);
    else
        n = asprintf(&text, "%s", kv);
    if (n < 0) {
        snprintf(err, errlen, "override '%.*s%s': out of memory", XL_CLIP(kv));
        return -1;
    }
    /* Work on a copy so that a failed override leaves cfg as it was. */
    struct xlcfg *copy = malloc(sizeof(*copy));
    char msg[768];
    int rc = -1;
    if (!copy) {
        snprintf(msg, sizeof(msg), "out of memory");
    } else {
        *copy = *cfg;
        rc = apply_text(copy, text, msg, sizeof(msg));
        if (rc == 0)
            *cfg = *copy;
        free(copy);
    }
    if (rc < 0) {
        /* The message quotes "line 1" of the override: say which one instead. */
        const char *rest = strstr(msg, "': ");
        snprintf(err, errlen, "override '%.*s%s'%s", XL_CLIP(kv), rest ? rest + 1 : msg);
    }
    free(text);
    return rc;
}
