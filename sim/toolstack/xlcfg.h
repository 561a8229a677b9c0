/* The xl domain configuration subset xensim's toolstack reads (see xl.cfg(5)
 * and xl-disk-configuration / xl-network-configuration in Xen's docs). */
#ifndef XENSIM_XLCFG_H
#define XENSIM_XLCFG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define XLCFG_MAX_DISKS 16
#define XLCFG_MAX_VIFS  16

struct xlcfg_disk {
    char target[1024];    /* params: path, or iscsi:// / nfs:// URL ("" empty cdrom) */
    char vdev[32];        /* xvda, hda, sdb, d0p1, or a number */
    char format[16];      /* raw (default), qcow, qcow2, vhd, qed, empty */
    char access[8];       /* "rw" (default) or "ro" (always "ro" for a cdrom) */
    char backendtype[16]; /* phy, tap, qdisk; "" unspecified: the toolstack
                           * picks one as libxl does (phy for raw) */
    char script[256];     /* hotplug script, "" for the default */
    char chap_file[256];  /* pvback: chap-file=, the iSCSI CHAP secrets file ("" none) */
    int discard;          /* 1 discard, 0 no-discard, -1 unspecified */
    bool cdrom;           /* devtype=cdrom (also makes the disk removable) */
    bool direct_io_safe;  /* direct-io-safe */
    bool trusted;         /* trusted (default) / untrusted */
};

struct xlcfg_vif {
    char mac[18]; /* "" when not given (toolstack picks 00:16:3e:xx:xx:xx) */
    char bridge[64];
    char vlan[128];   /* xl vlan= syntax, "" when absent */
    char rate[64];    /* e.g. "10Mb/s@20ms", "" when absent */
    char script[256]; /* "" for the default (vif-bridge) */
    unsigned mtu;     /* 0: not given (1500) */
    bool trusted;     /* trusted (default) / untrusted */
};

struct xlcfg {
    char name[64];
    uint64_t memory_mb; /* default 128 */
    int domid;          /* -1: the toolstack chooses */
    char uuid[37];      /* "" unless given: the toolstack makes one */
    char kernel[256];   /* kernel= as given, "" when absent; xensim boots no kernel,
                         * it is only recorded in /vm/<uuid>/image/kernel */
    unsigned ndisks;
    struct xlcfg_disk disks[XLCFG_MAX_DISKS];
    unsigned nvifs;
    struct xlcfg_vif vifs[XLCFG_MAX_VIFS];
};

/* Parses an xl config text. Unknown top-level keys are ignored as xl does for
 * keys that do not apply to a PV guest here; bad syntax or bad values are
 * errors whose message (in err) quotes the line and names the key.
 * Returns 0 or -1. */
int xlcfg_parse(const char *text, struct xlcfg *cfg, char *err, size_t errlen);
int xlcfg_parse_file(const char *path, struct xlcfg *cfg, char *err, size_t errlen);
/* Applies a "key=value" override given on the command line (xl create CFG k=v). */
int xlcfg_apply_override(struct xlcfg *cfg, const char *kv, char *err, size_t errlen);

/* xl disk spec (xl-disk-configuration): positional and keyword forms. */
int xlcfg_parse_disk(const char *spec, struct xlcfg_disk *disk, char *err, size_t errlen);
/* xl vif spec: comma-separated key=value. */
int xlcfg_parse_vif(const char *spec, struct xlcfg_vif *vif, char *err, size_t errlen);
/* A vif rate= value ("10Mb/s", "1GB/s@20ms") as libxl turns it into the
 * backend's `rate` key: bytes per interval and the interval in microseconds. */
int xlcfg_vif_rate(const char *rate, uint64_t *bytes_per_interval, uint32_t *interval_usecs,
                   char *err, size_t errlen);

#endif
