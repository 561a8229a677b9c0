/* Xenstore path rules, as xenstored applies them: which names are valid,
 * how a relative path resolves, parents and subtrees. */
#ifndef XENSIM_XSD_PATH_H
#define XENSIM_XSD_PATH_H

#include <stdbool.h>

/* Resolves path for a caller: an absolute path or an '@' special name is
 * returned as a copy; a relative one is put under /local/domain/<domid>.
 * The result is malloc'd. */
char *xsd_path_canonical(unsigned domid, const char *path);

/* True when a canonical path is a valid node name for the caller: starts
 * with '/', no trailing '/' (except "/"), no "//", only [A-Za-z0-9-/_@],
 * at most XENSTORE_ABS_PATH_MAX characters, and for an unprivileged caller
 * at most XENSTORE_REL_PATH_MAX below /local/domain/<n>/ (or in all when
 * the path is elsewhere). */
bool xsd_path_valid(const char *path, bool privileged);

/* The parent of a canonical path other than "/" (malloc'd). */
char *xsd_path_parent(const char *path);
/* The last component of a canonical path other than "/". */
const char *xsd_path_base(const char *path);
/* path/child, or /child under "/" (malloc'd). */
char *xsd_path_join(const char *path, const char *child);

/* True when child is parent or lies below it; everything lies below "/"
 * (so a watch on "/" sees every event, as on xenstored). */
bool xsd_path_is_child(const char *child, const char *parent);

#endif
