/* The event storm guard of the backends (XSA-332): a frontend that keeps
 * notifying without producing anything makes a backend wake up for nothing,
 * as often as the guest likes. Linux's backends answer with late EOI and a
 * delay that grows with each spurious event in a row; ours count, per ring
 * (or the rings sharing an event channel handle), the notifications after
 * which the frontend had produced nothing ("empty") and those after which it
 * had, and when within one second the empty ones pass PV_STORM_MAX and
 * outnumber the others, leave the port masked for PV_STORM_PAUSE_MS: the
 * guard's timer then calls the caller back to unmask it and look at its
 * rings.
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

struct pv_loop;
struct pv_timer;
struct pv_xenbus_dev;

struct pv_storm {
    uint64_t window_start; /* ms */
    unsigned int empty;    /* empty notifications since window_start */
    unsigned int produced; /* the others since window_start */
    bool throttled;        /* masked until the pause is over */
    bool logged;           /* the first throttle was reported */
    /* From pv_storm_init. */
    struct pv_timer *timer;
    struct pv_xenbus_dev *xd;
    char what[32]; /* names the ring(s) in the device's log */
    void (*resume)(void *arg);
    void *arg;
};

enum pv_storm_verdict {
    PV_STORM_OK,             /* unmask the port as usual */
    PV_STORM_THROTTLE,       /* keep it masked; arm the PV_STORM_PAUSE_MS timer */
    PV_STORM_THROTTLE_FIRST, /* the same, and the first time: say so once */
};

/* The counting alone: one notification at now_ms; produced: the frontend's
 * producer index moved since the previous notification. Sets s->throttled
 * unless PV_STORM_OK. */
enum pv_storm_verdict pv_storm_event(struct pv_storm *s, bool produced, uint64_t now_ms);

/* The pause is over: counted notifications may unmask again. */
static inline void pv_storm_resume(struct pv_storm *s)
{
    s->throttled = false;
}

/* A guard for the ring(s) behind one event channel handle, counting from
 * zero; resume(arg) unmasks the port(s) and looks at the rings once a pause
 * is over. what names them in xd's log ("queue 0"). -1 if no timer. */
int pv_storm_init(struct pv_storm *s, struct pv_loop *loop, struct pv_xenbus_dev *xd,
                  const char *what, void (*resume)(void *arg), void *arg);
void pv_storm_fini(struct pv_storm *s);

/* One notification (while !s->throttled): true when the caller must leave
 * its port(s) masked; resume(arg) follows PV_STORM_PAUSE_MS later. The first
 * throttle is logged. */
bool pv_storm_hold(struct pv_storm *s, bool produced);

#endif
