/* pvback-watch's configuration (see watch_config.h). */
#include "watch_config.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sandbox.h"
#include "xs.h" /* pv_parse_u64 */

static const char *const kind_names[WATCH_NKINDS] = {"vbd", "vbd3", "vif"};

const char *watch_kind_name(enum watch_kind k)
{
    return (unsigned)k < WATCH_NKINDS ? kind_names[k] : "?";
}

int watch_kind_from_name(const char *name)
{
    for (int k = 0; k < WATCH_NKINDS; k++)
        if (!strcmp(name, kind_names[k]))
            return k;
    return -1;
}

void watch_config_defaults(struct watch_config *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    for (int k = 0; k < WATCH_NKINDS; k++)
        cfg->claim[k] = CLAIM_AUTO;
    snprintf(cfg->sys_module_dir, sizeof(cfg->sys_module_dir), "/sys/module");
    cfg->restart_limit = 5;
    cfg->restart_window_s = 60;
    cfg->restart_delay_ms = 200;
    cfg->restart_delay_max_ms = 10000;
    cfg->stop_timeout_ms = 5000;
    cfg->seccomp = CLAIM_AUTO;
}

enum setting_type { T_STRING, T_UINT, T_CLAIM };

struct setting {
    const char *key;
    enum setting_type type;
    size_t offset; /* into struct watch_config */
    size_t size;   /* of a string field */
    unsigned min, max;
};

#define STR(key, field)                                                                            \
    {                                                                                              \
        key, T_STRING, offsetof(struct watch_config, field),                                       \
            sizeof(((struct watch_config *)0)->field), 0, 0                                        \
    }
#define UINT(key, field, lo, hi)                                                                   \
    {                                                                                              \
        key, T_UINT, offsetof(struct watch_config, field), 0, lo, hi                               \
    }
#define CLAIM(key, kind)                                                                           \
    {                                                                                              \
        key, T_CLAIM, offsetof(struct watch_config, claim[kind]), 0, 0, 0                          \
    }

static const struct setting settings[] = {
    STR("platform", platform),
    CLAIM("claim-vbd", WATCH_VBD),
    CLAIM("claim-vbd3", WATCH_VBD3),
    CLAIM("claim-vif", WATCH_VIF),
    STR("blk-command", blk_command),
    STR("net-command", net_command),
    STR("sys-module-dir", sys_module_dir),
    UINT("restart-limit", restart_limit, 1, 1000),
    UINT("restart-window", restart_window_s, 1, 86400),
    UINT("restart-delay", restart_delay_ms, 0, 600000),
    UINT("restart-delay-max", restart_delay_max_ms, 0, 600000),
    UINT("stop-timeout", stop_timeout_ms, 100, 600000),
    STR("user", user),
    {"seccomp", T_CLAIM, offsetof(struct watch_config, seccomp), 0, 0, 0},
};

int watch_config_set(struct watch_config *cfg, const char *key, const char *value, char *err,
                     size_t errlen)
{
    for (size_t i = 0; i < sizeof(settings) / sizeof(settings[0]); i++) {
        const struct setting *s = &settings[i];
        char *field = (char *)cfg + s->offset;
        if (strcmp(key, s->key))
            continue;
        switch (s->type) {
        case T_STRING:
            if (strlen(value) >= s->size) {
                snprintf(err, errlen, "%s '%.64s...': longer than %zu bytes", key, value,
                         s->size - 1);
                return -1;
            }
            if (!strcmp(key, "platform") && *value && strcmp(value, "xen") &&
                strncmp(value, "sim:", 4)) {
                snprintf(err, errlen, "%s '%s': expected xen or sim:DIR", key, value);
                return -1;
            }
            /* Checked as the backends will take it (domid 1 stands for any
             * guest), so that a typo stops pvback-watch here rather than
             * every backend it starts. */
            if (!strcmp(key, "user") && *value && strcmp(value, "none")) {
                struct pv_sandbox sb = PV_SANDBOX_INIT;
                char why[200];
                if (pv_sandbox_parse_user(value, 1, &sb, why, sizeof(why)) < 0) {
                    /* "--user 'X': ..." names the key as the option */
                    snprintf(err, errlen, "%s", why + 2);
                    return -1;
                }
            }
            memcpy(field, value, strlen(value) + 1);
            return 0;
        case T_UINT: {
            uint64_t v;
            if (pv_parse_u64(value, s->min, s->max, &v) < 0) {
                snprintf(err, errlen, "%s '%s': expected a number from %u to %u", key, value,
                         s->min, s->max);
                return -1;
            }
            *(unsigned *)(void *)field = (unsigned)v;
            return 0;
        }
        case T_CLAIM: {
            enum watch_claim c;
            if (!strcmp(value, "auto"))
                c = CLAIM_AUTO;
            else if (!strcmp(value, "yes"))
                c = CLAIM_YES;
            else if (!strcmp(value, "no"))
                c = CLAIM_NO;
            else {
                snprintf(err, errlen, "%s '%s': expected auto, yes or no", key, value);
                return -1;
            }
            *(enum watch_claim *)(void *)field = c;
            return 0;
        }
        }
    }
    snprintf(err, errlen, "unknown setting '%s'", key);
    return -1;
}

static char *trim(char *s)
{
    while (isspace((unsigned char)*s))
        s++;
    char *e = s + strlen(s);
    while (e > s && isspace((unsigned char)e[-1]))
        *--e = '\0';
    return s;
}

int watch_config_line(struct watch_config *cfg, const char *line, char *err, size_t errlen)
{
    char buf[1024];

    if (strlen(line) >= sizeof(buf)) {
        snprintf(err, errlen, "line longer than %zu bytes", sizeof(buf) - 1);
        return -1;
    }
    memcpy(buf, line, strlen(line) + 1);
    char *s = trim(buf);
    if (!*s || *s == '#')
        return 0;
    char *eq = strchr(s, '=');
    if (!eq) {
        snprintf(err, errlen, "'%.64s': expected key = value", s);
        return -1;
    }
    *eq = '\0';
    char *key = trim(s), *value = trim(eq + 1);
    /* Values may be quoted, as in xl.conf. */
    size_t vl = strlen(value);
    if (vl >= 2 && (value[0] == '"' || value[0] == '\'') && value[vl - 1] == value[0]) {
        value[vl - 1] = '\0';
        value++;
    }
    return watch_config_set(cfg, key, value, err, errlen);
}

int watch_config_load(struct watch_config *cfg, const char *path, bool required, char *err,
                      size_t errlen)
{
    FILE *f = fopen(path, "re");
    char line[1100], msg[512];
    unsigned lineno = 0;

    if (!f) {
        if (errno == ENOENT && !required)
            return 0;
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return -1;
    }
    while (fgets(line, sizeof(line), f)) {
        lineno++;
        line[strcspn(line, "\n")] = '\0';
        if (watch_config_line(cfg, line, msg, sizeof(msg)) < 0) {
            snprintf(err, errlen, "%s:%u: %s", path, lineno, msg);
            fclose(f);
            return -1;
        }
    }
    fclose(f);
    return 0;
}

unsigned watch_claims(const struct watch_config *cfg, bool blkback_loaded, bool netback_loaded)
{
    const bool kernel_has[WATCH_NKINDS] = {blkback_loaded, false, netback_loaded};
    unsigned mask = 0;

    for (int k = 0; k < WATCH_NKINDS; k++) {
        bool on = cfg->claim[k] == CLAIM_YES || (cfg->claim[k] == CLAIM_AUTO && !kernel_has[k]);
        if (on)
            mask |= 1u << k;
    }
    return mask;
}

bool watch_seccomp_on(const struct watch_config *cfg, unsigned euid)
{
    return cfg->seccomp == CLAIM_YES || (cfg->seccomp == CLAIM_AUTO && euid == 0);
}

bool watch_user_on(const struct watch_config *cfg)
{
    return cfg->user[0] && strcmp(cfg->user, "none");
}
