/* See xsd_perms.h. */
#include "xsd_perms.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xsd_util.h"

static bool is_who(const struct xsd_who *who, unsigned id)
{
    return id == who->domid || (who->target >= 0 && id == (unsigned)who->target);
}

unsigned xsd_perms_for(const struct xsd_who *who, const struct xsd_perms *perms)
{
    const unsigned all = XSD_PERM_READ | XSD_PERM_WRITE | XSD_PERM_OWNER;

    if (xsd_who_privileged(who) || is_who(who, perms->p[0].id))
        return all;
    for (unsigned i = 1; i < perms->num; i++)
        if (is_who(who, perms->p[i].id))
            return perms->p[i].perms;
    return perms->p[0].perms;
}

static int letter_to_perms(char c, unsigned *perms)
{
    switch (c) {
    case 'n':
        *perms = XSD_PERM_NONE;
        return 0;
    case 'r':
        *perms = XSD_PERM_READ;
        return 0;
    case 'w':
        *perms = XSD_PERM_WRITE;
        return 0;
    case 'b':
        *perms = XSD_PERM_READ | XSD_PERM_WRITE;
        return 0;
    default:
        return EINVAL;
    }
}

int xsd_perms_parse(const char *buf, unsigned num, struct xsd_perms *out)
{
    struct xsd_perm *p;

    if (num == 0)
        return EINVAL;
    p = xsd_calloc(num, sizeof(*p));
    for (unsigned i = 0; i < num; i++) {
        if (letter_to_perms(buf[0], &p[i].perms) ||
            !xsd_parse_uint(buf + 1, XSD_DOMID_MAX, &p[i].id)) {
            free(p);
            return EINVAL;
        }
        buf += strlen(buf) + 1;
    }
    out->p = p;
    out->num = num;
    return 0;
}

int xsd_perm_format(const struct xsd_perm *perm, char *buf, size_t len)
{
    static const char letters[] = "nrwb";

    return snprintf(buf, len, "%c%u", letters[perm->perms & 3u], perm->id);
}

void xsd_perms_copy(struct xsd_perms *dst, const struct xsd_perms *src)
{
    dst->num = src->num;
    dst->p = xsd_memdup(src->p, src->num * sizeof(*src->p));
}

void xsd_perms_clear(struct xsd_perms *perms)
{
    free(perms->p);
    perms->p = NULL;
    perms->num = 0;
}

bool xsd_perms_equal(const struct xsd_perms *a, const struct xsd_perms *b)
{
    return a->num == b->num && !memcmp(a->p, b->p, a->num * sizeof(*a->p));
}
