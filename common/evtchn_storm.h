/* The event storm guard of the backends (XSA-332): a frontend that keeps
 * notifying without producing anything makes a backend wake up for nothing,
 * as often as the guest likes. Linux's backends answer with late EOI and a
 * delay that grows with each spurious event in a row; ours count, per ring
 * (or the rings sharing an event channel handle), the notifications after
 * which the frontend had produced nothing ("empty") and those after which it
 * had, and when within one second the empty ones pass PV_STORM_MAX and
 * outnumber the others, leave the port masked for PV_STORM_PAUSE_MS: the
 * caller unmasks it and looks at its rings when that timer fires.
 * A busy frontend does cause some empty notifications: one that pushed a
 * request and was preempted before notifying finds the backend already past
 * it (the backend saw the request at a previous notification). Those stay
 * far fewer than its productive ones; a storm's are nearly all empty. */
#ifndef PVBACK_EVTCHN_STORM_H
#define PVBACK_EVTCHN_STORM_H

#include <stdbool.h>
#include <stdint.h>

#define PV_STORM_MAX      1000u /* empty notifications a second */
#define PV_STORM_PAUSE_MS 20u

struct pv_storm {
    uint64_t window_start; /* ms */
    unsigned int empty;    /* empty notifications since window_start */
    unsigned int produced; /* the others since window_start */
    bool throttled;        /* masked until the caller's timer clears it */
    bool logged;           /* the first throttle was reported */
};

enum pv_storm_verdict {
    PV_STORM_OK,             /* unmask the port as usual */
    PV_STORM_THROTTLE,       /* keep it masked; arm the PV_STORM_PAUSE_MS timer */
    PV_STORM_THROTTLE_FIRST, /* the same, and the first time: say so once */
};

/* One notification at now_ms; produced: the frontend's producer index moved
 * since the previous notification. Sets s->throttled unless PV_STORM_OK. */
enum pv_storm_verdict pv_storm_event(struct pv_storm *s, bool produced, uint64_t now_ms);

/* The pause is over (the caller's timer): unmask, look at the rings. */
static inline void pv_storm_resume(struct pv_storm *s)
{
    s->throttled = false;
}

#endif
