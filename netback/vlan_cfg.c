/* Parsers for a vif's VLAN configuration; see vlan_cfg.h for the syntax. */
#include "vlan_cfg.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* The value of a key is guest-independent but comes from a config file that
 * a user wrote: keep error messages readable even for absurdly long input. */
#define SHOWN_MAX 64

static void set_bit(uint64_t *set, unsigned vid)
{
    set[vid / 64] |= UINT64_C(1) << (vid % 64);
}

static bool test_bit(const uint64_t *set, unsigned vid)
{
    return vid < VLAN_N_VID && (set[vid / 64] >> (vid % 64)) & 1;
}

void vlan_cfg_clear(struct vlan_cfg *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
}

bool vlan_cfg_is_member(const struct vlan_cfg *cfg, unsigned vid)
{
    return test_bit(cfg->member, vid);
}

bool vlan_cfg_is_untagged(const struct vlan_cfg *cfg, unsigned vid)
{
    return test_bit(cfg->untagged, vid);
}

unsigned vlan_cfg_count(const struct vlan_cfg *cfg)
{
    unsigned n = 0;
    for (size_t i = 0; i < VLAN_N_VID / 64; i++)
        n += (unsigned)__builtin_popcountll(cfg->member[i]);
    return n;
}

bool vlan_cfg_active(const struct vlan_cfg *cfg)
{
    return vlan_cfg_count(cfg) != 0;
}

/* Writes "KEY=VALUE: <why>" into err. */
static int fail(char *err, size_t errlen, const char *key, const char *value, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
static int fail(char *err, size_t errlen, const char *key, const char *value, const char *fmt, ...)
{
    if (err && errlen) {
        int n = snprintf(err, errlen, "invalid %s='%.*s%s': ", key, SHOWN_MAX, value,
                         strlen(value) > SHOWN_MAX ? "..." : "");
        if (n >= 0 && (size_t)n < errlen) {
            va_list ap;
            va_start(ap, fmt);
            vsnprintf(err + n, errlen - (size_t)n, fmt, ap);
            va_end(ap);
        }
    }
    return -1;
}

/* Reads a decimal number of at most 9 digits (no sign, no spaces) at *p.
 * Returns false when there is none. Long numbers are rejected here rather
 * than overflowing: no valid VLAN term needs more than 4 digits. */
static bool read_num(const char **p, unsigned long *out)
{
    const char *s = *p;
    unsigned long v = 0;
    int digits = 0;
    while (isdigit((unsigned char)*s)) {
        if (++digits > 9)
            return false;
        v = v * 10 + (unsigned long)(*s - '0');
        s++;
    }
    if (digits == 0)
        return false;
    *p = s;
    *out = v;
    return true;
}

/* What one parse collects before it is checked as a whole. */
struct vlan_parse {
    struct vlan_cfg cfg;
    unsigned explicit_pvid; /* the VLAN marked 'p', or 0 */
    const char *key, *value;
    char *err;
    size_t errlen;
};

enum vlan_mark { MARK_TAGGED, MARK_UNTAGGED, MARK_PVID };

static int add_vid(struct vlan_parse *ps, unsigned long vid, enum vlan_mark mark)
{
    if (vid < VLAN_VID_MIN || vid > VLAN_VID_MAX)
        return fail(ps->err, ps->errlen, ps->key, ps->value, "VLAN %lu is not between %d and %d",
                    vid, VLAN_VID_MIN, VLAN_VID_MAX);
    if (vlan_cfg_is_member(&ps->cfg, (unsigned)vid))
        return fail(ps->err, ps->errlen, ps->key, ps->value, "VLAN %lu is given more than once",
                    vid);
    set_bit(ps->cfg.member, (unsigned)vid);
    if (mark != MARK_TAGGED)
        set_bit(ps->cfg.untagged, (unsigned)vid);
    if (mark == MARK_PVID) {
        if (ps->explicit_pvid)
            return fail(ps->err, ps->errlen, ps->key, ps->value,
                        "more than one PVID ('p'): %u and %lu", ps->explicit_pvid, vid);
        ps->explicit_pvid = (unsigned)vid;
    }
    return 0;
}

/* One '/'-separated term of the vlan key, [start, end). */
static int parse_term(struct vlan_parse *ps, const char *start, const char *end)
{
    char term[32];
    size_t len = (size_t)(end - start);
    if (len == 0)
        return fail(ps->err, ps->errlen, ps->key, ps->value, "empty term");
    if (len >= sizeof(term))
        return fail(ps->err, ps->errlen, ps->key, ps->value, "term '%.*s...' is too long",
                    (int)(sizeof(term) - 1), start);
    memcpy(term, start, len);
    term[len] = '\0';

    const char *p = term;
    unsigned long first, a, b;
    if (!read_num(&p, &first))
        goto bad;

    if (*p == '-') { /* A-B[u] */
        p++;
        if (!read_num(&p, &b))
            goto bad;
        enum vlan_mark mark = MARK_TAGGED;
        if (*p == 'u') {
            mark = MARK_UNTAGGED;
            p++;
        }
        if (*p)
            goto bad;
        if (b < first)
            return fail(ps->err, ps->errlen, ps->key, ps->value, "range '%s' ends before it starts",
                        term);
        for (unsigned long v = first; v <= b; v++)
            if (add_vid(ps, v, mark))
                return -1;
        return 0;
    }
    if (*p == '+') { /* N+IxC[u] */
        p++;
        if (!read_num(&p, &a) || *p != 'x')
            goto bad;
        p++;
        if (!read_num(&p, &b))
            goto bad;
        enum vlan_mark mark = MARK_TAGGED;
        if (*p == 'u') {
            mark = MARK_UNTAGGED;
            p++;
        }
        if (*p)
            goto bad;
        if (a == 0 && b > 1)
            return fail(ps->err, ps->errlen, ps->key, ps->value,
                        "term '%s' repeats VLAN %lu (increment 0)", term, first);
        if (b == 0)
            return fail(ps->err, ps->errlen, ps->key, ps->value, "term '%s' has a count of 0",
                        term);
        /* Bounded: each step must stay within 1..4094, so at most 4094 steps
         * run before add_vid fails. */
        for (unsigned long i = 0, v = first; i < b; i++, v += a)
            if (add_vid(ps, v, mark))
                return -1;
        return 0;
    }
    /* N[p|u] */
    enum vlan_mark mark = MARK_TAGGED;
    if (*p == 'p') {
        mark = MARK_PVID;
        p++;
    } else if (*p == 'u') {
        mark = MARK_UNTAGGED;
        p++;
    }
    if (*p)
        goto bad;
    return add_vid(ps, first, mark);

bad:
    return fail(ps->err, ps->errlen, ps->key, ps->value,
                "term '%s' is not N, Np, Nu, A-B[u] or N+IxC[u]", term);
}

int vlan_cfg_parse_xl(const char *value, struct vlan_cfg *out, char *err, size_t errlen)
{
    struct vlan_parse ps = {.key = "vlan", .value = value, .err = err, .errlen = errlen};
    vlan_cfg_clear(&ps.cfg);
    if (!value || !*value)
        return fail(err, errlen, "vlan", value ? value : "", "empty value");

    const char *start = value;
    for (;;) {
        const char *end = strchr(start, '/');
        if (!end)
            end = start + strlen(start);
        if (parse_term(&ps, start, end))
            return -1;
        if (!*end)
            break;
        start = end + 1;
    }

    if (ps.explicit_pvid) {
        ps.cfg.pvid = (uint16_t)ps.explicit_pvid;
    } else if (vlan_cfg_count(&ps.cfg) == 1) {
        /* A lone VLAN is the PVID: find it. */
        for (unsigned v = VLAN_VID_MIN; v <= VLAN_VID_MAX; v++)
            if (vlan_cfg_is_member(&ps.cfg, v))
                ps.cfg.pvid = (uint16_t)v;
        set_bit(ps.cfg.untagged, ps.cfg.pvid);
    } else {
        return fail(err, errlen, "vlan", value,
                    "more than one VLAN but none marked as the PVID ('p')");
    }
    *out = ps.cfg;
    return 0;
}

/* A Linux interface name: 1..15 bytes, no '/', no whitespace, not "." or
 * "..". '.' and ':' are the separators of the VLAN part and so cannot be in
 * the bridge name here (vif-openvswitch has the same rule). */
static bool valid_ifname(const char *s, size_t len)
{
    if (len == 0 || len >= VLAN_IFNAMSIZ)
        return false;
    for (size_t i = 0; i < len; i++)
        if (s[i] == '/' || isspace((unsigned char)s[i]) || !isprint((unsigned char)s[i]))
            return false;
    return true;
}

int vlan_cfg_parse_bridge(const char *value, char bridge[VLAN_IFNAMSIZ], struct vlan_cfg *out,
                          char *err, size_t errlen)
{
    struct vlan_parse ps = {.key = "bridge", .value = value, .err = err, .errlen = errlen};
    vlan_cfg_clear(&ps.cfg);
    if (!value)
        value = ps.value = "";

    size_t name_len = strcspn(value, ".:");
    if (!valid_ifname(value, name_len))
        return fail(err, errlen, "bridge", value,
                    "bridge name must be 1 to %d printable characters without '/' or spaces",
                    VLAN_IFNAMSIZ - 1);

    const char *p = value + name_len;
    unsigned long vid;
    if (*p == '.') { /* .PVID */
        p++;
        if (!read_num(&p, &vid) || (*p && *p != ':'))
            return fail(err, errlen, "bridge", value, "expected BRIDGE[.PVID][:VLAN...]");
        if (add_vid(&ps, vid, MARK_PVID))
            return -1;
        ps.cfg.pvid = (uint16_t)vid;
    }
    while (*p == ':') { /* :TRUNK */
        p++;
        if (!read_num(&p, &vid) || (*p && *p != ':'))
            return fail(err, errlen, "bridge", value, "expected BRIDGE[.PVID][:VLAN...]");
        if (add_vid(&ps, vid, MARK_TAGGED))
            return -1;
    }
    if (*p)
        return fail(err, errlen, "bridge", value, "expected BRIDGE[.PVID][:VLAN...]");

    memcpy(bridge, value, name_len);
    bridge[name_len] = '\0';
    *out = ps.cfg;
    return 0;
}
