/* Parsing of remote storage URLs in a disk's `params` key (pure, no I/O):
 *   iscsi://[user[%password]@]host[:port]/target-iqn/lun
 *   nfs://server[:port]/path/to/image.raw[?version=3|4]
 * Hosts may be names, IPv4 addresses or bracketed IPv6 addresses. Every
 * field is checked here so that a driver only ever sees a well-formed one;
 * errors name the URL part that is wrong. */
#ifndef PVBACK_STORAGE_URL_H
#define PVBACK_STORAGE_URL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum pv_url_scheme {
    PV_URL_NONE = 0, /* not a remote URL: a local path */
    PV_URL_ISCSI,
    PV_URL_NFS,
};

#define PV_URL_HOST_MAX   256
#define PV_URL_TARGET_MAX 224 /* iSCSI names are at most 223 bytes (RFC 3720) */
#define PV_URL_CRED_MAX   256
#define PV_URL_PATH_MAX   1024

struct pv_iscsi_url {
    char host[PV_URL_HOST_MAX]; /* without brackets */
    uint16_t port;              /* 3260 when absent */
    char target[PV_URL_TARGET_MAX];
    uint32_t lun;
    char user[PV_URL_CRED_MAX]; /* empty: none in the URL */
    char password[PV_URL_CRED_MAX];
};

struct pv_nfs_url {
    char host[PV_URL_HOST_MAX];
    uint16_t port;              /* 0: ask the server's portmapper (v3) or 2049 (v4) */
    char path[PV_URL_PATH_MAX]; /* absolute path of the image, "/export/dir/image.raw" */
    char dir[PV_URL_PATH_MAX];  /* what is mounted: path without its last component */
    char file[PV_URL_PATH_MAX]; /* the last component of path */
    int version;                /* 3 or 4 */
};

/* Which scheme params uses ("iscsi://", "nfs://"; case-insensitive). */
enum pv_url_scheme pv_url_scheme(const char *params);

/* 0, or -1 with a message naming the URL's faulty part in err. The password
 * never appears in a message. */
int pv_iscsi_url_parse(const char *url, struct pv_iscsi_url *out, char *err, size_t errlen);
int pv_nfs_url_parse(const char *url, struct pv_nfs_url *out, char *err, size_t errlen);

/* Writes url into buf with any password replaced by "***", for logs. */
void pv_url_redact(const char *url, char *buf, size_t buflen);

#endif
