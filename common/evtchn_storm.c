/* The event storm guard's counting (evtchn_storm.h). */
#include "evtchn_storm.h"

enum pv_storm_verdict pv_storm_event(struct pv_storm *s, bool produced, uint64_t now_ms)
{
    if (now_ms - s->window_start >= 1000) {
        s->window_start = now_ms;
        s->empty = s->produced = 0;
    }
    if (produced) {
        s->produced++;
        return PV_STORM_OK;
    }
    if (++s->empty <= PV_STORM_MAX || s->empty <= s->produced)
        return PV_STORM_OK;
    s->throttled = true;
    if (s->logged)
        return PV_STORM_THROTTLE;
    s->logged = true;
    return PV_STORM_THROTTLE_FIRST;
}
