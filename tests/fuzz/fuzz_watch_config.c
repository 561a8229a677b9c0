/* Fuzzes pvback-watch's configuration (xenstore-watch/watch_config.h): the
 * lines of its config file and the settings of its command line.
 *
 * Input: NUL-separated config lines (bit 0 of a line's first byte: a
 * key/value setting split at the first '=' instead of a file line).
 *
 * Invariants: a refusal has a message; the configuration always stays
 * valid (strings terminated, numbers within their documented ranges, claims
 * one of auto/yes/no, a platform that is "", xen or sim:DIR, a backend user
 * the backends accept); and what is
 * claimed follows the claims: yes always, no never, auto vbd and vif only
 * without the kernel backend, vbd3 always. */
#include <stdlib.h>
#include <string.h>

#include "fuzz_input.h"
#include "sandbox.h"
#include "watch_config.h"

static void check_cfg(const struct watch_config *c)
{
    FUZZ_CHECK_FIELD(c->platform);
    FUZZ_CHECK_FIELD(c->blk_command);
    FUZZ_CHECK_FIELD(c->net_command);
    FUZZ_CHECK_FIELD(c->sys_module_dir);
    FUZZ_CHECK(!c->platform[0] || !strcmp(c->platform, "xen") || !strncmp(c->platform, "sim:", 4),
               "platform '%s'", c->platform);
    FUZZ_CHECK(c->restart_limit >= 1 && c->restart_limit <= 1000, "restart-limit %u",
               c->restart_limit);
    FUZZ_CHECK(c->restart_window_s >= 1 && c->restart_window_s <= 86400, "restart-window %u",
               c->restart_window_s);
    FUZZ_CHECK(c->restart_delay_ms <= 600000 && c->restart_delay_max_ms <= 600000,
               "restart delays %u %u", c->restart_delay_ms, c->restart_delay_max_ms);
    FUZZ_CHECK(c->stop_timeout_ms >= 100 && c->stop_timeout_ms <= 600000, "stop-timeout %u",
               c->stop_timeout_ms);

    for (int k = 0; k < WATCH_NKINDS; k++) {
        FUZZ_CHECK(c->claim[k] == CLAIM_AUTO || c->claim[k] == CLAIM_YES || c->claim[k] == CLAIM_NO,
                   "claim %d", c->claim[k]);
        FUZZ_CHECK(watch_kind_from_name(watch_kind_name(k)) == k, "kind %d does not round-trip", k);
    }
    /* The backends' sandbox: only a user spec the backends will take. */
    FUZZ_CHECK_FIELD(c->user);
    FUZZ_CHECK(c->seccomp == CLAIM_AUTO || c->seccomp == CLAIM_YES || c->seccomp == CLAIM_NO,
               "seccomp %d", c->seccomp);
    if (watch_user_on(c)) {
        struct pv_sandbox sb = PV_SANDBOX_INIT;
        char why[200];
        FUZZ_CHECK(pv_sandbox_parse_user(c->user, 1, &sb, why, sizeof(why)) == 0,
                   "user '%s' kept but refused: %s", c->user, why);
    }
    for (int loaded = 0; loaded < 4; loaded++) {
        bool blk = loaded & 1, net = loaded & 2;
        unsigned m = watch_claims(c, blk, net);
        FUZZ_CHECK(m < (1u << WATCH_NKINDS), "claims mask 0x%x", m);
        for (int k = 0; k < WATCH_NKINDS; k++) {
            bool kernel = (k == WATCH_VBD && blk) || (k == WATCH_VIF && net);
            bool want = c->claim[k] == CLAIM_YES || (c->claim[k] == CLAIM_AUTO && !kernel);
            FUZZ_CHECK(!!(m & (1u << k)) == want, "kind %s claimed %d (claim %d, kernel %d)",
                       watch_kind_name(k), !!(m & (1u << k)), c->claim[k], kernel);
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fuzz_in in = fuzz_in_make(data, size);
    struct watch_config cfg;

    watch_config_defaults(&cfg);
    check_cfg(&cfg);
    for (int i = 0; in.left && i < 32; i++) {
        bool option = fuzz_u8(&in) & 1;
        char *line = fuzz_str(&in), err[512] = "";
        int rc;

        if (option) {
            char *eq = strchr(line, '=');
            if (eq)
                *eq = '\0';
            rc = watch_config_set(&cfg, line, eq ? eq + 1 : "", err, sizeof(err));
        } else {
            rc = watch_config_line(&cfg, line, err, sizeof(err));
        }
        if (rc < 0)
            FUZZ_CHECK_ERR(err);
        check_cfg(&cfg);
        free(line);
    }
    return 0;
}
