/* The event storm guard (evtchn_storm.h). */
#include "evtchn_storm.h"

#include <stdio.h>

#include "loop.h"
#include "xenbus.h"

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

static void pause_over(struct pv_timer *t, void *arg)
{
    (void)t;
    struct pv_storm *s = arg;
    pv_storm_resume(s);
    s->resume(s->arg);
}

int pv_storm_init(struct pv_storm *s, struct pv_loop *loop, struct pv_xenbus_dev *xd,
                  const char *what, void (*resume)(void *arg), void *arg)
{
    *s = (struct pv_storm){.xd = xd, .resume = resume, .arg = arg};
    snprintf(s->what, sizeof(s->what), "%s", what);
    s->timer = pv_timer_new(loop, pause_over, s);
    return s->timer ? 0 : -1;
}

void pv_storm_fini(struct pv_storm *s)
{
    if (s->timer)
        pv_timer_free(s->timer);
    s->timer = NULL;
}

bool pv_storm_hold(struct pv_storm *s, bool produced)
{
    switch (pv_storm_event(s, produced, pv_now_ms())) {
    case PV_STORM_OK:
        return false;
    case PV_STORM_THROTTLE_FIRST:
        pv_dev_warn(s->xd,
                    "%s: more than %u empty notifications a second: throttling its event channel",
                    s->what, PV_STORM_MAX);
        /* fall through */
    case PV_STORM_THROTTLE:
        break;
    }
    pv_timer_arm(s->timer, PV_STORM_PAUSE_MS, 0);
    return true;
}
