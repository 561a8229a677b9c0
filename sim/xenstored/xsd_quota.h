/* The limits xenstored puts on unprivileged domains (dom0 has none except
 * the connection ones), with the defaults of Xen's C xenstored. */
#ifndef XENSIM_XSD_QUOTA_H
#define XENSIM_XSD_QUOTA_H

#include <stddef.h>

struct xsd_quota {
    unsigned nodes;      /* nodes a domain may own (ENOSPC past it) */
    unsigned entry_size; /* bytes of one node record: header, perms, value, children (ENOSPC) */
    unsigned perms;      /* permission entries of one node (ENOSPC) */
    unsigned watches;    /* watches of a domain (E2BIG) */
    unsigned txns;       /* open transactions of a domain (ENOSPC) */
    unsigned conns;      /* connections of a guest on its socket (more are refused) */
    /* Per connection, for every domain (dom0 included, XSA-349): watch
     * events queued but not yet read, and bytes queued; past either the
     * connection is closed. */
    unsigned events;
    size_t out_bytes;
};

#define XSD_QUOTA_DEFAULTS                                                                         \
    {                                                                                              \
        .nodes = 1000, .entry_size = 2048, .perms = 5, .watches = 128, .txns = 10, .conns = 64,    \
        .events = 1024, .out_bytes = 4u << 20,                                                     \
    }

/* Size of a node record the way xenstored measures it against entry_size:
 * a 20-byte header, 8 bytes per permission, the value and the child list. */
static inline size_t xsd_entry_size(size_t vlen, size_t childlen, unsigned nperms)
{
    return 20 + 8 * (size_t)nperms + vlen + childlen;
}

#endif
