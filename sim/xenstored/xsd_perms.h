/* Node permissions as xenstored keeps them: the first entry names the owner
 * and what every other domain may do; later entries grant one domain
 * something else. Dom0 may do everything; the owner may do everything. */
#ifndef XENSIM_XSD_PERMS_H
#define XENSIM_XSD_PERMS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define XSD_PERM_NONE  0u
#define XSD_PERM_READ  1u
#define XSD_PERM_WRITE 2u
#define XSD_PERM_OWNER 4u /* never stored: what an owner (or dom0) has */

#define XSD_DOMID_MAX 0xffffu

struct xsd_perm {
    unsigned id;
    unsigned perms; /* XSD_PERM_READ | XSD_PERM_WRITE */
};

struct xsd_perms {
    struct xsd_perm *p;
    unsigned num; /* >= 1 */
};

/* Who is asking: a domain, and the domain it was made the device model of
 * (SET_TARGET), whose rights it shares; -1 for none. */
struct xsd_who {
    unsigned domid;
    int target;
};

static inline bool xsd_who_privileged(const struct xsd_who *who)
{
    return who->domid == 0;
}

/* What who may do with a node of these permissions (XSD_PERM_* bits). */
unsigned xsd_perms_for(const struct xsd_who *who, const struct xsd_perms *perms);

/* Parses num nul-terminated strings like "r5" (n, r, w or b, then a domid)
 * from buf. Returns 0 or EINVAL. */
int xsd_perms_parse(const char *buf, unsigned num, struct xsd_perms *out);
/* Formats one entry ("b3") into buf of at least 8 bytes; returns its length. */
int xsd_perm_format(const struct xsd_perm *perm, char *buf, size_t len);

void xsd_perms_copy(struct xsd_perms *dst, const struct xsd_perms *src);
void xsd_perms_clear(struct xsd_perms *perms);
bool xsd_perms_equal(const struct xsd_perms *a, const struct xsd_perms *b);

#endif
