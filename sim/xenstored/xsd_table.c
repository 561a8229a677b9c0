/* See xsd_table.h. Separate chaining; the bucket array doubles when the
 * table is more than fully loaded, so lookups stay O(1) on average. */
#include "xsd_table.h"

#include <stdint.h>
#include <stdlib.h>

#include "xsd_util.h"

struct entry {
    char *key;
    void *value;
    uint32_t hash;
    struct entry *next;
};

struct xsd_table {
    struct entry **buckets;
    size_t nbuckets;
    size_t count;
};

static uint32_t hash_str(const char *s)
{
    uint32_t h = 2166136261u; /* FNV-1a */

    while (*s) {
        h ^= (unsigned char)*s++;
        h *= 16777619u;
    }
    return h;
}

struct xsd_table *xsd_table_new(void)
{
    struct xsd_table *t = xsd_calloc(1, sizeof(*t));

    t->nbuckets = 64;
    t->buckets = xsd_calloc(t->nbuckets, sizeof(*t->buckets));
    return t;
}

void xsd_table_free(struct xsd_table *t, void (*free_value)(void *value))
{
    if (!t)
        return;
    for (size_t i = 0; i < t->nbuckets; i++) {
        struct entry *e = t->buckets[i];
        while (e) {
            struct entry *next = e->next;
            if (free_value)
                free_value(e->value);
            free(e->key);
            free(e);
            e = next;
        }
    }
    free(t->buckets);
    free(t);
}

static struct entry **find(const struct xsd_table *t, const char *key, uint32_t h)
{
    struct entry **pe = &t->buckets[h % t->nbuckets];

    while (*pe && ((*pe)->hash != h || !xsd_streq((*pe)->key, key)))
        pe = &(*pe)->next;
    return pe;
}

bool xsd_table_get(const struct xsd_table *t, const char *key, void **value)
{
    struct entry *e = *find(t, key, hash_str(key));

    if (e && value)
        *value = e->value;
    return e != NULL;
}

static void grow(struct xsd_table *t)
{
    size_t n = t->nbuckets * 2;
    struct entry **b = xsd_calloc(n, sizeof(*b));

    for (size_t i = 0; i < t->nbuckets; i++) {
        struct entry *e = t->buckets[i];
        while (e) {
            struct entry *next = e->next;
            e->next = b[e->hash % n];
            b[e->hash % n] = e;
            e = next;
        }
    }
    free(t->buckets);
    t->buckets = b;
    t->nbuckets = n;
}

void *xsd_table_put(struct xsd_table *t, const char *key, void *value)
{
    uint32_t h = hash_str(key);
    struct entry **pe = find(t, key, h);
    struct entry *e = *pe;

    if (e) {
        void *old = e->value;
        e->value = value;
        return old;
    }
    e = xsd_calloc(1, sizeof(*e));
    e->key = xsd_strdup(key);
    e->value = value;
    e->hash = h;
    *pe = e;
    if (++t->count > t->nbuckets)
        grow(t);
    return NULL;
}

void *xsd_table_del(struct xsd_table *t, const char *key)
{
    struct entry **pe = find(t, key, hash_str(key));
    struct entry *e = *pe;
    void *value;

    if (!e)
        return NULL;
    *pe = e->next;
    value = e->value;
    free(e->key);
    free(e);
    t->count--;
    return value;
}

size_t xsd_table_count(const struct xsd_table *t)
{
    return t->count;
}

void xsd_table_each(const struct xsd_table *t, void (*fn)(const char *key, void *value, void *arg),
                    void *arg)
{
    for (size_t i = 0; i < t->nbuckets; i++)
        for (struct entry *e = t->buckets[i]; e; e = e->next)
            fn(e->key, e->value, arg);
}
