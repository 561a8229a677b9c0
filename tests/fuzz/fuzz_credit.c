/* Fuzzes the `rate` key and the credit scheduler (netback/credit.h): the
 * value as the toolstack (or anyone with write access to the backend
 * directory) wrote it, then a guest's stream of packets over time, with
 * live rate changes.
 *
 * Input: a NUL-terminated rate value, a second one for a live change, then
 * events of 5 bytes each: packet size (2 bytes, scaled), time step
 * (2 bytes, scaled by the window), kind (send, or rewrite the rate).
 *
 * Invariants: a refused value has a message naming the key; an accepted one
 * is within the documented bounds; the guest never gets more than the
 * credit it held plus one window's worth per elapsed window; a packet no
 * larger than the burst always passes by retrying when told, within the
 * refills it needs — except at a rate of 0 bytes, where nothing passes. */
#include <stdlib.h>
#include <string.h>

#include "credit.h"
#include "fuzz_input.h"

static bool parse(const char *value, uint64_t *bytes, uint64_t *usec)
{
    char err[256] = "";

    if (credit_parse_rate(value, bytes, usec, err, sizeof(err)) < 0) {
        FUZZ_CHECK_ERR(err);
        FUZZ_CHECK(strstr(err, "rate") != NULL, "'%s' does not name the key", err);
        return false;
    }
    FUZZ_CHECK(*usec > 0 && *usec <= CREDIT_USEC_MAX, "'%s' gave %llu,%llu", value,
               (unsigned long long)*bytes, (unsigned long long)*usec);
    return true;
}

/* What was sent since the limits last changed, against what they allow. */
struct ledger {
    uint64_t start_us; /* the window start when the current limits took effect */
    uint64_t held;     /* credit held at that moment */
    uint64_t sent;     /* bytes let through since */
};

static void ledger_reset(struct ledger *l, const struct credit *c, uint64_t now)
{
    /* Refills count from the current window's start: one that was due
     * before now (the sender was late) may still be taken. */
    uint64_t anchor = c->window_start < now ? c->window_start : now;

    *l = (struct ledger){.start_us = anchor, .held = c->remaining};
}

static void check_ledger(const struct ledger *l, const struct credit *c, uint64_t now)
{
    /* A refill adds at most one window's bytes and comes at most once per
     * window (plus one that may already have been due at the start). */
    unsigned __int128 allowed = (unsigned __int128)l->held +
                                ((now - l->start_us) / c->usec + 1) * (unsigned __int128)c->bytes;
    FUZZ_CHECK(l->sent <= allowed, "%llu bytes passed, %llu allowed", (unsigned long long)l->sent,
               (unsigned long long)allowed);
}

/* A packet that fits the burst passes when the sender retries as told;
 * with a rate of 0 bytes nothing ever passes, and the sender is told so. */
static void check_eventually(struct credit *c, uint64_t size, uint64_t *now, struct ledger *l)
{
    if (c->bytes == 0) {
        uint64_t retry = 0;
        FUZZ_CHECK(size == 0 || (!credit_take(c, size, *now, &retry) && retry == CREDIT_NEVER),
                   "a %llu-byte packet passed or was told to retry at a rate of 0",
                   (unsigned long long)size);
        return;
    }
    uint64_t burst = c->bytes > CREDIT_MIN_BURST ? c->bytes : CREDIT_MIN_BURST;
    uint64_t retry = 0, tries = size / c->bytes + 3;

    /* Past a few thousand refills the loop only costs time, not coverage. */
    if (size > burst || size / c->bytes > 4096)
        return;
    while (!credit_take(c, size, *now, &retry)) {
        FUZZ_CHECK(tries-- > 0, "a %llu-byte packet starves at rate %llu per %llu us",
                   (unsigned long long)size, (unsigned long long)c->bytes,
                   (unsigned long long)c->usec);
        /* A retry time already past (the sender came late) means now. */
        if (retry > *now)
            *now = retry;
    }
    l->sent += size;
    check_ledger(l, c, *now);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fuzz_in in = fuzz_in_make(data, size);
    char *value = fuzz_str(&in), *change = fuzz_str(&in);
    uint64_t bytes, usec, bytes2 = 0, usec2 = 0, now = 1000000, retry;
    bool have_change;
    struct credit c;
    struct ledger l;

    if (!parse(value, &bytes, &usec))
        goto out;
    have_change = parse(change, &bytes2, &usec2);
    credit_init(&c, bytes, usec, now);
    ledger_reset(&l, &c, now);

    for (unsigned ev = 0; in.left && ev < 256; ev++) {
        /* Sizes up to 4x the GSO maximum; steps up to about 4 windows. */
        uint64_t pkt = (uint64_t)fuzz_u16(&in) * 4;
        uint64_t step = (uint64_t)fuzz_u16(&in) * (c.usec / 16384 + 1);
        uint8_t kind = fuzz_u8(&in);

        now += step;
        if ((kind & 7) == 7 && have_change) {
            credit_update(&c, bytes2, usec2, now);
            ledger_reset(&l, &c, now);
            uint64_t t = bytes;
            bytes = bytes2, bytes2 = t, t = usec, usec = usec2, usec2 = t;
            continue;
        }
        if ((kind & 7) == 6) {
            check_eventually(&c, pkt, &now, &l);
            continue;
        }
        if (credit_take(&c, pkt, now, &retry)) {
            l.sent += pkt;
            check_ledger(&l, &c, now);
        }
    }
out:
    free(value);
    free(change);
    return 0;
}
