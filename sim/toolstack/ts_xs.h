/* The xenstore side of xensim's toolstack: applying a plan in one
 * transaction, waiting for nodes to reach a value (libxl's devstate waits),
 * and libxl's path cleanup. Blocking libxenstore calls. */
#ifndef XENSIM_TS_XS_H
#define XENSIM_TS_XS_H

#include <stdbool.h>
#include <stddef.h>
#include <xenstore.h>

#include "toolstack/ts_plan.h"

/* Applies every step in one transaction, retrying it on EAGAIN. */
int ts_plan_apply(struct xs_handle *xs, const struct ts_plan *p, char *err, size_t errlen);

/* Whether a node's value (NULL: the node is missing) is the one waited for. */
typedef bool (*ts_node_ok)(const char *value);

/* Waits until ok() holds for each of the n nodes, watching them, for at most
 * timeout_ms. done[i] says which ones got there; values[i] (when not NULL)
 * gets the last value read (malloc'ed, NULL when missing). Returns the number
 * done, or -1 on a xenstore failure (message in err). */
int ts_wait_nodes(struct xs_handle *xs, size_t n, const char *const *paths, ts_node_ok ok,
                  unsigned timeout_ms, bool *done, char **values, char *err, size_t errlen);

/* libxl__xs_path_cleanup: removes path, then each parent that has become an
 * empty node with no children, stopping above /local/domain/<n>, /libxl/<n>
 * and /vm/<uuid>. Inside transaction t. */
int ts_path_cleanup(struct xs_handle *xs, xs_transaction_t t, const char *path);

/* A value as a string ("" if empty), malloc'ed; NULL if missing. */
char *ts_read(struct xs_handle *xs, xs_transaction_t t, const char *path);

#endif
