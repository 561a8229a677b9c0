/* Fuzzes the vif VLAN syntaxes (netback/vlan_cfg.h): xl's `vlan` key and
 * vif-openvswitch's `bridge=BR[.PVID][:TRUNK...]`, both read from xenstore.
 *
 * Input: one byte choosing the key (even: vlan, odd: bridge), then the
 * value.
 *
 * Invariants: a refusal has a message naming the key; an accepted set has
 * only VLANs 1..4094, its untagged VLANs are members, a PVID is a member
 * sent untagged, a bridge name is a valid interface name; and the set
 * round-trips: written back in the same syntax (and, with a PVID, in the
 * other one) it parses to the same set. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_input.h"
#include "vlan_cfg.h"

/* Room for every VLAN written out: "NNNNp/" at most 6 bytes each. */
#define FORMAT_MAX (VLAN_N_VID * 6 + VLAN_IFNAMSIZ + 8)

static void check_set(const struct vlan_cfg *cfg)
{
    for (unsigned v = 0; v < VLAN_N_VID; v++) {
        bool member = vlan_cfg_is_member(cfg, v), untagged = vlan_cfg_is_untagged(cfg, v);
        FUZZ_CHECK(!member || (v >= VLAN_VID_MIN && v <= VLAN_VID_MAX), "VLAN %u accepted", v);
        FUZZ_CHECK(!untagged || member, "VLAN %u untagged but not a member", v);
    }
    if (cfg->pvid)
        FUZZ_CHECK(vlan_cfg_is_member(cfg, cfg->pvid) && vlan_cfg_is_untagged(cfg, cfg->pvid),
                   "PVID %u is not an untagged member", cfg->pvid);
    FUZZ_CHECK(vlan_cfg_active(cfg) == (vlan_cfg_count(cfg) > 0), "active disagrees with count");
}

/* The set in xl syntax, one term per VLAN: "10p/20/30u". Needs a PVID. */
static void format_xl(const struct vlan_cfg *cfg, char *out)
{
    size_t len = 0;

    out[0] = '\0';
    for (unsigned v = VLAN_VID_MIN; v <= VLAN_VID_MAX; v++) {
        if (!vlan_cfg_is_member(cfg, v))
            continue;
        const char *mark = v == cfg->pvid ? "p" : vlan_cfg_is_untagged(cfg, v) ? "u" : "";
        len += (size_t)sprintf(out + len, "%s%u%s", len ? "/" : "", v, mark);
    }
}

/* The set in bridge syntax: "br.PVID:T1:T2". Only untagged PVIDs exist there. */
static void format_bridge(const char *bridge, const struct vlan_cfg *cfg, char *out)
{
    size_t len = (size_t)sprintf(out, "%s", bridge);

    if (cfg->pvid)
        len += (size_t)sprintf(out + len, ".%u", cfg->pvid);
    for (unsigned v = VLAN_VID_MIN; v <= VLAN_VID_MAX; v++)
        if (vlan_cfg_is_member(cfg, v) && v != cfg->pvid)
            len += (size_t)sprintf(out + len, ":%u", v);
}

static bool same_set(const struct vlan_cfg *a, const struct vlan_cfg *b)
{
    return a->pvid == b->pvid && !memcmp(a->member, b->member, sizeof(a->member)) &&
           !memcmp(a->untagged, b->untagged, sizeof(a->untagged));
}

static void check_xl(const char *value)
{
    struct vlan_cfg cfg, again;
    char err[256] = "", err2[256] = "";
    static char text[FORMAT_MAX];

    if (vlan_cfg_parse_xl(value, &cfg, err, sizeof(err)) < 0) {
        FUZZ_CHECK_ERR(err);
        FUZZ_CHECK(strstr(err, "vlan") != NULL, "'%s' does not name the key", err);
        return;
    }
    check_set(&cfg);
    FUZZ_CHECK(cfg.pvid != 0, "an accepted vlan key without a PVID");
    format_xl(&cfg, text);
    FUZZ_CHECK(vlan_cfg_parse_xl(text, &again, err2, sizeof(err2)) == 0 && same_set(&cfg, &again),
               "'%s' written back as '%s' does not parse the same (%s)", value, text, err2);
}

static void check_bridge(const char *value)
{
    struct vlan_cfg cfg, again;
    char bridge[VLAN_IFNAMSIZ], bridge2[VLAN_IFNAMSIZ];
    char err[256] = "", err2[256] = "";
    static char text[FORMAT_MAX];

    memset(bridge, 0x7f, sizeof(bridge));
    if (vlan_cfg_parse_bridge(value, bridge, &cfg, err, sizeof(err)) < 0) {
        FUZZ_CHECK_ERR(err);
        FUZZ_CHECK(strstr(err, "bridge") != NULL, "'%s' does not name the key", err);
        return;
    }
    check_set(&cfg);
    FUZZ_CHECK_FIELD(bridge);
    FUZZ_CHECK(bridge[0] != '\0' && !strpbrk(bridge, "/.:"), "bridge name '%s'", bridge);
    for (const char *p = bridge; *p; p++)
        FUZZ_CHECK(isgraph((unsigned char)*p), "bridge name has byte 0x%02x", (unsigned char)*p);
    for (unsigned v = VLAN_VID_MIN; v <= VLAN_VID_MAX; v++)
        FUZZ_CHECK(vlan_cfg_is_untagged(&cfg, v) == (v == cfg.pvid), "VLAN %u untagged", v);

    format_bridge(bridge, &cfg, text);
    FUZZ_CHECK(vlan_cfg_parse_bridge(text, bridge2, &again, err2, sizeof(err2)) == 0 &&
                   same_set(&cfg, &again) && !strcmp(bridge, bridge2),
               "'%s' written back as '%s' does not parse the same (%s)", value, text, err2);
    if (cfg.pvid) {
        /* The same VLANs through the other key mean the same thing. */
        format_xl(&cfg, text);
        FUZZ_CHECK(vlan_cfg_parse_xl(text, &again, err2, sizeof(err2)) == 0 &&
                       same_set(&cfg, &again),
                   "bridge '%s' as vlan '%s' differs (%s)", value, text, err2);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fuzz_in in = fuzz_in_make(data, size);
    bool bridge = fuzz_u8(&in) & 1;
    char *value = fuzz_rest_str(&in);

    if (bridge)
        check_bridge(value);
    else
        check_xl(value);
    free(value);
    return 0;
}
