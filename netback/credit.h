/* The `rate` credit scheduler of Linux netback, as a pure function of time.
 *
 * The toolstack writes `rate` = "BYTES,USEC" into the vif's backend
 * directory (xl's rate=10Mb/s@20ms becomes "25000,20000"). The guest may
 * send BYTES per window of USEC microseconds: the credit is refilled when a
 * window has passed, a packet larger than the credit left waits for the next
 * refill, and the refill may hold up to max(BYTES, 128 KiB) so that one
 * maximum-size GSO packet can always pass eventually, whatever the rate.
 * BYTES = 0 is a limit too, as in Linux netback: xl writes it for a rate
 * below one byte per window (rate=1b/s), and the guest then sends nothing
 * until the key changes — never "unlimited".
 * Times are in microseconds of a monotonic clock, given by the caller. */
#ifndef PVBACK_NETBACK_CREDIT_H
#define PVBACK_NETBACK_CREDIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The largest burst a window may hold however small the rate: one
 * maximum-size packet (a 64 KiB GSO frame with all its slots) must fit. */
#define CREDIT_MIN_BURST 131072u
/* The largest packet that may wait for credit: what a window's rest must
 * be able to carry over. */
#define CREDIT_MAX_PACKET 65536u
/* Bounds accepted in the rate key: the window libxl can write (it refuses
 * replenishment intervals above UINT32_MAX microseconds, about 71 min). */
#define CREDIT_USEC_MAX 4294967295ull

struct credit {
    uint64_t bytes;        /* credit per window */
    uint64_t usec;         /* window length; 0: unlimited */
    uint64_t remaining;    /* credit left now */
    uint64_t window_start; /* when the current window began (or, when
                            * limited, when the pending refill is due) */
    bool limited;          /* a packet is waiting for the refill */
};

/* Parses a `rate` value "BYTES,USEC" (both decimal, 0 < USEC <=
 * CREDIT_USEC_MAX; BYTES may be 0). Returns 0, or -1 with a message naming
 * the key and the value in err. */
int credit_parse_rate(const char *value, uint64_t *bytes, uint64_t *usec, char *err, size_t errlen);

/* Starts a scheduler: usec == 0 means unlimited. The first window starts
 * now with full credit. */
void credit_init(struct credit *c, uint64_t bytes, uint64_t usec, uint64_t now_us);

/* A live change of the rate (the toolstack rewrote `rate`): the new limits
 * apply from now on; credit already held above the new size is cut back. */
void credit_update(struct credit *c, uint64_t bytes, uint64_t usec, uint64_t now_us);

/* Asks to send a packet of size bytes at now_us. Returns true and charges
 * the credit when it may go now; false when it must wait, with *retry_us set
 * to the time when the next refill makes it possible to try again, or to
 * CREDIT_NEVER when no refill will (BYTES = 0: only a new rate helps). */
#define CREDIT_NEVER UINT64_MAX
bool credit_take(struct credit *c, uint64_t size, uint64_t now_us, uint64_t *retry_us);

#endif
