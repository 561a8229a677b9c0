/* Small helpers shared by the xenstored files: allocation that cannot fail
 * (a simulator that runs out of memory has nothing sensible left to do, so
 * it aborts instead of threading ENOMEM through every path) and string
 * helpers. */
#ifndef XENSIM_XSD_UTIL_H
#define XENSIM_XSD_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <string.h>

void *xsd_malloc(size_t n);
void *xsd_calloc(size_t n, size_t size);
void *xsd_realloc(void *p, size_t n);
char *xsd_strdup(const char *s);
void *xsd_memdup(const void *p, size_t n);
char *xsd_asprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static inline bool xsd_streq(const char *a, const char *b)
{
    return strcmp(a, b) == 0;
}

/* Number of nul-terminated strings in buf[0..len) (a trailing part without
 * a nul is not counted), like xenstored's xs_count_strings. */
unsigned xsd_count_strings(const char *buf, size_t len);

/* Parses a whole decimal string as an unsigned <= max; false if it is not. */
bool xsd_parse_uint(const char *s, unsigned max, unsigned *out);

#endif
