/* The `rate` credit scheduler; see credit.h. */
#include "credit.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool parse_u64(const char *s, const char **end, uint64_t *out)
{
    if (!isdigit((unsigned char)*s))
        return false; /* strtoull would accept spaces and signs */
    char *e;
    errno = 0;
    unsigned long long v = strtoull(s, &e, 10);
    if (errno)
        return false;
    *end = e;
    *out = v;
    return true;
}

int credit_parse_rate(const char *value, uint64_t *bytes, uint64_t *usec, char *err, size_t errlen)
{
    const char *p;
    uint64_t b, u;
    if (!value || !parse_u64(value, &p, &b) || *p != ',' || !parse_u64(p + 1, &p, &u) || *p) {
        snprintf(err, errlen, "invalid rate='%.64s': expected BYTES,USEC", value ? value : "");
        return -1;
    }
    if (u == 0 || u > CREDIT_USEC_MAX) {
        snprintf(err, errlen, "invalid rate='%.64s': USEC must be between 1 and %llu", value,
                 (unsigned long long)CREDIT_USEC_MAX);
        return -1;
    }
    *bytes = b;
    *usec = u;
    return 0;
}

void credit_init(struct credit *c, uint64_t bytes, uint64_t usec, uint64_t now_us)
{
    c->bytes = bytes;
    c->usec = usec;
    c->remaining = bytes;
    c->window_start = now_us;
    c->limited = false;
}

void credit_update(struct credit *c, uint64_t bytes, uint64_t usec, uint64_t now_us)
{
    if (!c->usec || !usec) { /* was or becomes unlimited: start counting from now */
        credit_init(c, bytes, usec, now_us);
        return;
    }
    c->bytes = bytes;
    c->usec = usec;
    if (c->remaining > bytes)
        c->remaining = bytes;
}

/* A new window's credit: what is left plus one window's worth, capped at
 * one window and one packet (never less than CREDIT_MIN_BURST). */
static void refill(struct credit *c)
{
    uint64_t max_burst = c->bytes + CREDIT_MAX_PACKET;
    if (max_burst < c->bytes) /* a rate of nearly 2^64 bytes: unlimited in effect */
        max_burst = UINT64_MAX;
    if (max_burst < CREDIT_MIN_BURST)
        max_burst = CREDIT_MIN_BURST;
    uint64_t sum = c->remaining + c->bytes;
    if (sum < c->remaining)
        sum = UINT64_MAX;
    c->remaining = sum < max_burst ? sum : max_burst;
}

bool credit_take(struct credit *c, uint64_t size, uint64_t now_us, uint64_t *retry_us)
{
    if (!c->usec)
        return true;
    if (!c->bytes) {
        /* Nothing is ever refilled: waiting for windows would only spin. */
        *retry_us = CREDIT_NEVER;
        return false;
    }
    if (c->limited) {
        /* A packet waits for the refill due at window_start. */
        if (now_us < c->window_start) {
            *retry_us = c->window_start;
            return false;
        }
        c->limited = false;
        refill(c);
    } else if (now_us >= c->window_start && now_us - c->window_start >= c->usec) {
        /* The link was idle for a window or more: a fresh window starts now. */
        c->window_start = now_us;
        refill(c);
    }
    if (size > c->remaining) {
        /* Wait for the end of this window. The refill then starts the next
         * window exactly there, so waiting does not stretch the windows and
         * a saturated link gets BYTES per USEC, as in Linux netback. */
        c->window_start += c->usec;
        c->limited = true;
        *retry_us = c->window_start;
        return false;
    }
    c->remaining -= size;
    return true;
}
