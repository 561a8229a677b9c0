/* Pure helpers for xenbus paths: splitting a watch event below
 * <home>/backend/<type> into frontend domid, devid and key, and building the
 * error node's directory. */
#ifndef PVBACK_XENBUS_PATH_H
#define PVBACK_XENBUS_PATH_H

#include <stddef.h>
#include <stdint.h>

/* Domain ids at and above DOMID_FIRST_RESERVED are not guests. */
#define PV_XENBUS_DOMID_MAX 0x7fefu
/* libxl's device ids are non-negative ints. */
#define PV_XENBUS_DEVID_MAX 0x7fffffffu

struct pv_xenbus_where {
    int depth;       /* 0: base itself, 1: base/<domid>, 2: .../<devid>, 3: deeper */
    uint32_t domid;  /* valid from depth 1 */
    uint32_t devid;  /* valid from depth 2 */
    const char *key; /* depth 3: the rest below the device ("state", "queue-0/x") */
};

/* Splits path, which must be base or below it. Returns 0, or -1 when path is
 * not below base or a domid/devid component is not a valid number. */
int pv_xenbus_split(const char *base, const char *path, struct pv_xenbus_where *out);

/* The key below dir that path names: "" for dir itself, "rate" for
 * dir/rate, NULL when path is not dir or below it. */
const char *pv_xenbus_key_below(const char *dir, const char *path);

/* The error directory Linux's xenbus_dev_error writes for backend path
 * be_path (<home>/backend/...): <home>/error/backend/... . Returns 0, or -1
 * when be_path has no "/backend/" part or buf is too small. */
int pv_xenbus_error_dir(char *buf, size_t len, const char *be_path);

#endif
