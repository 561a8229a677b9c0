/* A hash table from strings (node paths) to pointers: the store's index of
 * nodes and a transaction's private view. Keys are copied; values are the
 * caller's. */
#ifndef XENSIM_XSD_TABLE_H
#define XENSIM_XSD_TABLE_H

#include <stdbool.h>
#include <stddef.h>

struct xsd_table;

struct xsd_table *xsd_table_new(void);
/* Frees the table and its keys; calls free_value on each value if given. */
void xsd_table_free(struct xsd_table *t, void (*free_value)(void *value));

/* Returns true and *value (if value is not NULL) when key is present. */
bool xsd_table_get(const struct xsd_table *t, const char *key, void **value);
/* Inserts or replaces; returns the replaced value or NULL. */
void *xsd_table_put(struct xsd_table *t, const char *key, void *value);
/* Removes key; returns its value or NULL. */
void *xsd_table_del(struct xsd_table *t, const char *key);
size_t xsd_table_count(const struct xsd_table *t);

/* Calls fn for every entry, in no particular order. fn must not change the
 * table. */
void xsd_table_each(const struct xsd_table *t, void (*fn)(const char *key, void *value, void *arg),
                    void *arg);

#endif
