/* xl's vif specification (xl-network-configuration(5)): comma-separated
 * `key=value` settings, read as xl's parse_nic_config reads them. Where xl
 * only warns (an unknown key, a bad mac) xensim refuses, so that a typo never
 * passes silently; settings that only matter to other setups (ip, model,
 * vifname, ...) are accepted and have no effect here. */
#include "xlcfg.h"
#include "xlcfg_syntax.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int vif_fail(char *err, size_t errlen, const char *spec, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int vif_fail(char *err, size_t errlen, const char *spec, const char *fmt, ...)
{
    char msg[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    snprintf(err, errlen, "%s in '%.*s%s'", msg, XL_CLIP(spec));
    return -1;
}

/* Six two-digit hex groups separated by colons, normalised to lower case. */
static int parse_mac(const char *v, char *out)
{
    unsigned char b[6];
    int n = 0;
    if (strlen(v) != 17)
        return -1;
    for (int i = 0; i < 6; i++) {
        const char *g = v + 3 * i;
        if (!isxdigit((unsigned char)g[0]) || !isxdigit((unsigned char)g[1]) ||
            (i < 5 && g[2] != ':'))
            return -1;
    }
    if (sscanf(v, "%2hhx:%2hhx:%2hhx:%2hhx:%2hhx:%2hhx%n", &b[0], &b[1], &b[2], &b[3], &b[4], &b[5],
               &n) != 6 ||
        n != 17)
        return -1;
    /* A guest NIC needs a unicast address: multicast bit clear. */
    if (b[0] & 1)
        return -2;
    snprintf(out, 18, "%02x:%02x:%02x:%02x:%02x:%02x", b[0], b[1], b[2], b[3], b[4], b[5]);
    return 0;
}

/* A network interface name as Linux accepts one (bridge=). */
static bool ifname_ok(const char *v)
{
    size_t n = strlen(v);
    if (n == 0 || n > 15 || !strcmp(v, ".") || !strcmp(v, ".."))
        return false;
    for (const char *p = v; *p; p++) {
        if (!isgraph((unsigned char)*p) || *p == '/' || *p == ':')
            return false;
    }
    return true;
}

/* vlan=: IDs, ranges and strides separated by '/', each with optional p/u
 * marks; netback parses the meaning, here only the alphabet and shape are
 * checked so that junk is refused at create time. */
static bool vlan_ok(const char *v)
{
    if (!*v || strspn(v, "0123456789pux+-/") != strlen(v))
        return false;
    for (const char *t = v; *t;) {
        if (!isdigit((unsigned char)*t))
            return false; /* each term starts with a VLAN id */
        t += strcspn(t, "/");
        if (*t == '/') {
            t++;
            if (!*t)
                return false;
        }
    }
    return true;
}

static int copy_value(char *field, size_t size, const char *key, const char *v, char *err,
                      size_t errlen, const char *spec)
{
    if (strlen(v) >= size)
        return vif_fail(err, errlen, spec, "%s: '%.*s%s' is longer than %zu characters", key,
                        XL_CLIP(v), size - 1);
    strcpy(field, v);
    return 0;
}

int xlcfg_parse_vif(const char *spec, struct xlcfg_vif *vif, char *err, size_t errlen)
{
    static const char *const no_effect[] = {"ip",     "model", "vifname", "type",      "gatewaydev",
                                            "netdev", "accel", "devid",   "forwarddev"};
    memset(vif, 0, sizeof(*vif));
    vif->trusted = true;

    const char *p = spec;
    while (*p) {
        size_t len = strcspn(p, ",");
        char token[512];
        if (len >= sizeof(token))
            return vif_fail(err, errlen, spec, "setting too long");
        memcpy(token, p, len);
        token[len] = '\0';
        p += len;
        if (*p == ',')
            p++;
        char *t = token;
        while (*t == ' ' || *t == '\t')
            t++;
        if (!*t)
            continue; /* "a=1,,b=2" and a trailing comma, as strtok skips them */
        if (!strcmp(t, "trusted")) {
            vif->trusted = true;
            continue;
        }
        if (!strcmp(t, "untrusted")) {
            vif->trusted = false;
            continue;
        }
        char *eq = strchr(t, '=');
        if (!eq)
            return vif_fail(err, errlen, spec, "unrecognized argument '%.*s%s'", XL_CLIP(t));
        *eq = '\0';
        const char *key = t, *v = eq + 1;
        int rc = 0;
        if (!strcmp(key, "mac")) {
            rc = parse_mac(v, vif->mac);
            if (rc == -2)
                return vif_fail(err, errlen, spec, "mac: '%.*s%s' is a multicast address",
                                XL_CLIP(v));
            if (rc < 0)
                return vif_fail(err, errlen, spec,
                                "mac: invalid parameter '%.*s%s' (want xx:xx:xx:xx:xx:xx)",
                                XL_CLIP(v));
        } else if (!strcmp(key, "bridge")) {
            /* vif-openvswitch's "bridge=xenbr0.10:20" form carries VLANs after
             * the bridge name: check only the name part. */
            char name[sizeof(vif->bridge)];
            size_t n = strcspn(v, ".:");
            if (n >= sizeof(name) || !n)
                return vif_fail(err, errlen, spec, "bridge: invalid bridge name '%.*s%s'",
                                XL_CLIP(v));
            memcpy(name, v, n);
            name[n] = '\0';
            if (!ifname_ok(name))
                return vif_fail(err, errlen, spec, "bridge: invalid bridge name '%.*s%s'",
                                XL_CLIP(v));
            rc = copy_value(vif->bridge, sizeof(vif->bridge), key, v, err, errlen, spec);
        } else if (!strcmp(key, "vlan")) {
            if (!vlan_ok(v))
                return vif_fail(err, errlen, spec,
                                "vlan: invalid VLAN list '%.*s%s' (e.g. 10, 10p/20, 10p/100+10x4)",
                                XL_CLIP(v));
            rc = copy_value(vif->vlan, sizeof(vif->vlan), key, v, err, errlen, spec);
        } else if (!strcmp(key, "rate")) {
            uint64_t bytes;
            uint32_t usecs;
            char why[128];
            if (xlcfg_vif_rate(v, &bytes, &usecs, why, sizeof(why)) < 0)
                return vif_fail(err, errlen, spec, "rate: %s", why);
            rc = copy_value(vif->rate, sizeof(vif->rate), key, v, err, errlen, spec);
        } else if (!strcmp(key, "mtu")) {
            char *end;
            unsigned long m = strtoul(v, &end, 10);
            if (!isdigit((unsigned char)v[0]) || *end || m < 68 || m > 65535)
                return vif_fail(err, errlen, spec, "mtu: '%.*s%s' is not an MTU (68 to 65535)",
                                XL_CLIP(v));
            vif->mtu = (unsigned)m;
        } else if (!strcmp(key, "script")) {
            if (!*v)
                return vif_fail(err, errlen, spec, "script: empty");
            rc = copy_value(vif->script, sizeof(vif->script), key, v, err, errlen, spec);
        } else if (!strcmp(key, "backend")) {
            return vif_fail(err, errlen, spec,
                            "backend: driver domains are not supported by xensim");
        } else if (!strncmp(key, "colo_", 5)) {
            return vif_fail(err, errlen, spec, "%s: COLO is not supported by xensim", key);
        } else {
            bool known = false;
            for (size_t i = 0; i < sizeof(no_effect) / sizeof(no_effect[0]); i++)
                known |= !strcmp(key, no_effect[i]);
            if (!known)
                return vif_fail(err, errlen, spec, "unrecognized argument '%.*s%s'", XL_CLIP(key));
        }
        if (rc < 0)
            return -1;
    }
    return 0;
}

/* "RATE[/s][@INTERVAL]" as libxlu reads it: RATE is a number with an optional
 * G/M/K (powers of 1000) and B (bytes) or b (bits) per second; INTERVAL a
 * number with s, ms or us (default s), 50 ms when absent. A rate below one
 * byte per interval (1b/s) gives 0 bytes, as libxl computes it: netback then
 * lets nothing out, as Linux netback does (never "unlimited"). */
int xlcfg_vif_rate(const char *rate, uint64_t *bytes_per_interval, uint32_t *interval_usecs,
                   char *err, size_t errlen)
{
    const char *at = strchr(rate, '@');
    size_t rlen = at ? (size_t)(at - rate) : strlen(rate);
    char *end;
    if (rlen == 0) {
        snprintf(err, errlen, "no rate specified in '%.*s%s'", XL_CLIP(rate));
        return -1;
    }
    /* ^[0-9]+[GMK]?[Bb]/s$ */
    const char *p = rate;
    if (!isdigit((unsigned char)*p))
        goto bad_rate;
    uint64_t bps = strtoull(p, &end, 10);
    p = end;
    uint64_t mult = 1;
    if (*p == 'G' || *p == 'M' || *p == 'K') {
        mult = *p == 'G' ? 1000000000ull : *p == 'M' ? 1000000ull : 1000ull;
        p++;
    }
    bool bits = *p == 'b';
    if ((*p != 'b' && *p != 'B') || strncmp(p + 1, "/s", 2) || p + 3 != rate + rlen)
        goto bad_rate;
    if (bps == 0 || bps > UINT32_MAX) {
        snprintf(err, errlen, "rate overflow in '%.*s%s'", XL_CLIP(rate));
        return -1;
    }
    bps *= mult;
    if (bits)
        bps /= 8;

    uint64_t usecs = 50000;
    if (at) {
        /* ^[0-9]+[mu]?s?$ */
        p = at + 1;
        if (!isdigit((unsigned char)*p))
            goto bad_interval;
        usecs = strtoull(p, &end, 10);
        p = end;
        uint64_t scale = 1000000;
        if (*p == 'm' || *p == 'u') {
            scale = *p == 'm' ? 1000 : 1;
            p++;
        }
        if (*p == 's')
            p++;
        if (*p)
            goto bad_interval;
        if (usecs == 0 || usecs > UINT32_MAX || usecs * scale > UINT32_MAX) {
            snprintf(err, errlen, "replenishment interval overflow in '%.*s%s'", XL_CLIP(rate));
            return -1;
        }
        usecs *= scale;
    }
    if (bps > UINT64_MAX / usecs) {
        snprintf(err, errlen, "rate overflow in '%.*s%s'", XL_CLIP(rate));
        return -1;
    }
    *interval_usecs = (uint32_t)usecs;
    *bytes_per_interval = bps * usecs / 1000000u;
    return 0;

bad_rate:
    snprintf(err, errlen, "invalid rate '%.*s%s' (e.g. 10Mb/s, 1GB/s@20ms)",
             (int)(rlen > XL_CLIP_MAX ? XL_CLIP_MAX : rlen), rate, rlen > XL_CLIP_MAX ? "..." : "");
    return -1;
bad_interval:
    snprintf(err, errlen, "invalid replenishment interval '%.*s%s' (e.g. 20ms, 500us, 1s)",
             XL_CLIP(at + 1));
    return -1;
}
