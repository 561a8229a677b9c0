/* pvback-watch's configuration: defaults, the config file and the command
 * line. Every setting has one name, used both as a config file key
 * ("restart-limit = 5") and as a long option ("--restart-limit 5"), and is
 * checked by the same function, so errors read the same from both. */
#ifndef PVBACK_WATCH_CONFIG_H
#define PVBACK_WATCH_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

#ifndef PVBACK_SYSCONFDIR
#define PVBACK_SYSCONFDIR "/etc"
#endif
#define WATCH_CONFIG_DEFAULT PVBACK_SYSCONFDIR "/pvback/watch.conf"

/* The backend kinds pvback-watch can claim, one per backend directory. */
enum watch_kind { WATCH_VBD, WATCH_VBD3, WATCH_VIF, WATCH_NKINDS };

/* auto|yes|no: the claims, and the seccomp setting. */
enum watch_claim { CLAIM_AUTO, CLAIM_YES, CLAIM_NO };

struct watch_config {
    char platform[256]; /* "" (environment), "xen" or "sim:DIR" */
    enum watch_claim claim[WATCH_NKINDS];
    char blk_command[256];    /* "" means pvback-blk next to pvback-watch */
    char net_command[256];    /* "" means pvback-net next to pvback-watch */
    char sys_module_dir[256]; /* where loaded kernel modules show: /sys/module */
    unsigned restart_limit;   /* crashes within restart_window that mean a crash loop */
    unsigned restart_window_s;
    unsigned restart_delay_ms; /* first restart delay; doubles per crash */
    unsigned restart_delay_max_ms;
    unsigned stop_timeout_ms; /* SIGTERM, then SIGKILL after this */
    /* The backends' sandbox (docs/hardening.md): --user as the backends take
     * it ("" or "none": keep root), and --seccomp (auto: when pvback-watch
     * runs as root). */
    char user[64];
    enum watch_claim seccomp;
};

/* The backend directory name of a kind: "vbd", "vbd3", "vif"; and back (-1
 * for an unknown name). */
const char *watch_kind_name(enum watch_kind k);
int watch_kind_from_name(const char *name);

void watch_config_defaults(struct watch_config *cfg);
/* Sets one setting from its text. 0, or -1 with a message naming the key
 * and the value in err (unknown key, bad value). */
int watch_config_set(struct watch_config *cfg, const char *key, const char *value, char *err,
                     size_t errlen);
/* Applies one line of a config file: "key = value", blank, or "# comment".
 * 0, or -1 with the message in err. */
int watch_config_line(struct watch_config *cfg, const char *line, char *err, size_t errlen);
/* Reads a config file. A missing file is an error only when required
 * (given with --config); the default file may be absent. Messages name the
 * file and line. */
int watch_config_load(struct watch_config *cfg, const char *path, bool required, char *err,
                      size_t errlen);

/* Which kinds to claim, given whether the kernel's xen-blkback and
 * xen-netback are loaded: auto claims vbd and vif only when the matching
 * kernel backend is not loaded, and always claims vbd3 (which no kernel
 * backend serves). Returns a bit mask of 1u << kind. */
unsigned watch_claims(const struct watch_config *cfg, bool blkback_loaded, bool netback_loaded);

/* Whether the backends get --seccomp: yes, no, or auto = when pvback-watch
 * runs as root (euid 0). */
bool watch_seccomp_on(const struct watch_config *cfg, unsigned euid);
/* Whether they get --user: a user spec other than "" and "none". */
bool watch_user_on(const struct watch_config *cfg);

#endif
