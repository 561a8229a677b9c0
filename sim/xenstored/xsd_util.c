/* See xsd_util.h. */
#include "xsd_util.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "common/log.h"

static void *check(void *p)
{
    if (!p) {
        pv_err("xenstored: out of memory");
        abort();
    }
    return p;
}

void *xsd_malloc(size_t n)
{
    return check(malloc(n ? n : 1));
}

void *xsd_calloc(size_t n, size_t size)
{
    return check(calloc(n ? n : 1, size ? size : 1));
}

void *xsd_realloc(void *p, size_t n)
{
    return check(realloc(p, n ? n : 1));
}

char *xsd_strdup(const char *s)
{
    return check(strdup(s));
}

void *xsd_memdup(const void *p, size_t n)
{
    void *q = xsd_malloc(n);

    if (n)
        memcpy(q, p, n);
    return q;
}

char *xsd_asprintf(const char *fmt, ...)
{
    va_list ap;
    char *s;
    int n;

    va_start(ap, fmt);
    n = vasprintf(&s, fmt, ap);
    va_end(ap);
    return check(n < 0 ? NULL : s);
}

unsigned xsd_count_strings(const char *buf, size_t len)
{
    unsigned n = 0;

    for (size_t i = 0; i < len; i++)
        if (buf[i] == '\0')
            n++;
    return n;
}

bool xsd_parse_uint(const char *s, unsigned max, unsigned *out)
{
    unsigned long v;
    char *end;

    if (*s < '0' || *s > '9')
        return false;
    errno = 0;
    v = strtoul(s, &end, 10);
    if (errno || *end || v > max)
        return false;
    *out = (unsigned)v;
    return true;
}
