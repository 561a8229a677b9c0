/* Fuzzes the xl vif spec and rate parsers (sim/toolstack/xlcfg.h,
 * xlcfg_parse_vif and xlcfg_vif_rate) and hands what they accept to
 * netback's parsers of the same keys, as the toolstack would.
 *
 * Input: one byte (even: a whole vif spec; odd: a rate= value alone), then
 * the text.
 *
 * Invariants: a refusal has a message; an accepted vif has every field
 * terminated, a unicast lower-case mac, an MTU in range, a rate that parses
 * again; the bridge= value it keeps is one netback's bridge parser reads
 * without crashing; a rate is a positive interval of at most UINT32_MAX
 * microseconds, and netback's rate parser reads the key written for it as
 * the same limit. */
#include <stdlib.h>
#include <string.h>

#include "credit.h"
#include "fuzz_input.h"
#include "vlan_cfg.h"
#include "xl_check.h"

static void check_rate(const char *rate)
{
    char err[256] = "";
    uint64_t bytes;
    uint32_t usecs;

    if (xlcfg_vif_rate(rate, &bytes, &usecs, err, sizeof(err)) < 0) {
        FUZZ_CHECK_ERR(err);
        return;
    }
    FUZZ_CHECK(usecs > 0, "rate '%s' has an empty interval", rate);
    /* What the toolstack writes, netback reads as the same limit (a rate
     * below a byte per window included: 0 bytes, never "unlimited"). */
    char key[64];
    uint64_t nb, nu;
    snprintf(key, sizeof(key), "%llu,%u", (unsigned long long)bytes, usecs);
    FUZZ_CHECK(credit_parse_rate(key, &nb, &nu, err, sizeof(err)) == 0 && nb == bytes &&
                   nu == usecs,
               "netback reads rate '%s' (from '%s') otherwise: %s", key, rate, err);
}

static void check_spec(const char *spec)
{
    char err[512] = "", bridge[VLAN_IFNAMSIZ];
    struct xlcfg_vif vif;
    struct vlan_cfg vlans;

    if (xlcfg_parse_vif(spec, &vif, err, sizeof(err)) < 0) {
        FUZZ_CHECK_ERR(err);
        return;
    }
    xl_check_vif(&vif);
    if (vif.bridge[0] && vlan_cfg_parse_bridge(vif.bridge, bridge, &vlans, err, sizeof(err)) < 0)
        FUZZ_CHECK_ERR(err);
    if (vif.vlan[0] && vlan_cfg_parse_xl(vif.vlan, &vlans, err, sizeof(err)) < 0)
        FUZZ_CHECK_ERR(err);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fuzz_in in = fuzz_in_make(data, size);
    bool rate_only = fuzz_u8(&in) & 1;
    char *text = fuzz_rest_str(&in);

    if (rate_only)
        check_rate(text);
    else
        check_spec(text);
    free(text);
    return 0;
}
