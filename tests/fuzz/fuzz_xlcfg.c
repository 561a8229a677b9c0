/* Fuzzes the xl domain config parser (sim/toolstack/xlcfg.h): the file a
 * user gives `xensim create`, then `key=value` overrides from its command
 * line.
 *
 * Input: the config text, then NUL-separated overrides.
 *
 * Invariants: a refusal has a message; an accepted config has a name that
 * is a printable non-number, a guest domid or none, at most the documented
 * number of disks and vifs, each of them valid (see xl_check.h), no two
 * disks on one device; an override that fails leaves the config as it
 * was, one that succeeds leaves a config with the same invariants. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_input.h"
#include "toolstack/toolstack.h"
#include "xl_check.h"

static void check_cfg(const struct xlcfg *cfg)
{
    FUZZ_CHECK_FIELD(cfg->name);
    FUZZ_CHECK_FIELD(cfg->uuid);
    FUZZ_CHECK(cfg->name[0] != '\0', "a config without a name");
    FUZZ_CHECK(strspn(cfg->name, "0123456789") < strlen(cfg->name), "numeric name '%s'", cfg->name);
    for (const char *p = cfg->name; *p; p++)
        FUZZ_CHECK(isgraph((unsigned char)*p) && *p != '/', "name '%s'", cfg->name);
    FUZZ_CHECK(cfg->domid == -1 || (cfg->domid > 0 && cfg->domid < 0x7ff0), "domid %d", cfg->domid);
    FUZZ_CHECK(cfg->memory_mb > 0, "no memory");
    FUZZ_CHECK(cfg->uuid[0] == '\0' || strlen(cfg->uuid) == 36, "uuid '%s'", cfg->uuid);
    FUZZ_CHECK(cfg->ndisks <= XLCFG_MAX_DISKS && cfg->nvifs <= XLCFG_MAX_VIFS, "%u disks %u vifs",
               cfg->ndisks, cfg->nvifs);
    for (unsigned i = 0; i < cfg->ndisks; i++) {
        xl_check_disk(&cfg->disks[i]);
        for (unsigned j = 0; j < i; j++)
            FUZZ_CHECK(ts_vdev_to_devid(cfg->disks[i].vdev) != ts_vdev_to_devid(cfg->disks[j].vdev),
                       "disks %s and %s are one device", cfg->disks[i].vdev, cfg->disks[j].vdev);
    }
    for (unsigned i = 0; i < cfg->nvifs; i++)
        xl_check_vif(&cfg->vifs[i]);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fuzz_in in = fuzz_in_make(data, size);
    char *text = fuzz_str(&in), err[1024] = "";
    static struct xlcfg cfg, before;

    if (xlcfg_parse(text, &cfg, err, sizeof(err)) < 0) {
        FUZZ_CHECK_ERR(err);
        free(text);
        return 0;
    }
    free(text);
    check_cfg(&cfg);

    for (int i = 0; in.left && i < 8; i++) {
        char *kv = fuzz_str(&in);
        memcpy(&before, &cfg, sizeof(cfg));
        if (xlcfg_apply_override(&cfg, kv, err, sizeof(err)) < 0) {
            FUZZ_CHECK_ERR(err);
            FUZZ_CHECK(!memcmp(&cfg, &before, sizeof(cfg)),
                       "a failed override '%s' changed the "
                       "config",
                       kv);
        } else {
            check_cfg(&cfg);
        }
        free(kv);
    }
    return 0;
}
