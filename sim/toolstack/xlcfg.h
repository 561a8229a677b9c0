/* The xl domain configuration subset xensim's toolstack reads (see xl.cfg(5)
 * and xl-disk-configuration / xl-network-configuration in Xen's docs). */
#ifndef XENSIM_XLCFG_H
#define XENSIM_XLCFG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define XLCFG_MAX_DISKS 16
#define XLCFG_MAX_VIFS 16

struct xlcfg_disk {
    char target[1024];     /* params: path, or iscsi:// / nfs:// URL */
    char vdev[32];         /* xvda, hda, sdb, or a number */
    char format[16];       /* raw (default), qcow2, ... */
    char access[8];        /* "rw" (default) or "ro" */
    char backendtype[16];  /* phy (default), tap, qdisk, standalone */
    char script[256];      /* hotplug script, "" for the default */
    int discard;           /* 1 discard, 0 no-discard, -1 unspecified */
    bool cdrom;            /* devtype=cdrom */
};

struct xlcfg_vif {
    char mac[18];          /* "" when not given (toolstack picks 00:16:3e:xx:xx:xx) */
    char bridge[64];
    char vlan[128];        /* xl vlan= syntax, "" when absent */
    char rate[64];         /* e.g. "10Mb/s@20ms", "" when absent */
    char script[256];
    unsigned mtu;          /* 0: not given (1500) */
};

struct xlcfg {
    char name[64];
    uint64_t memory_mb;    /* default 128 */
    int domid;             /* -1: the toolstack chooses */
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

#endif
