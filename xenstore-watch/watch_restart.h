/* When to restart a crashed backend process: after a delay that doubles with
 * each crash (restart-delay up to restart-delay-max), and not at all once it
 * crashed more than restart-limit times within restart-window seconds of its
 * first crash: a crash loop, which pvback-watch reports on the devices
 * instead of burning CPU. A quiet window starts the count and the delay
 * afresh. Pure: the caller passes the clock. */
#ifndef PVBACK_WATCH_RESTART_H
#define PVBACK_WATCH_RESTART_H

#include <stdint.h>

#include "watch_config.h"

struct watch_restart {
    uint64_t window_start_ms;
    unsigned crashes; /* within the current window */
    unsigned next_delay_ms;
};

void watch_restart_init(struct watch_restart *r);
/* A crash at now_ms: returns the delay before the restart in ms, or -1 when
 * this crash makes a crash loop (give up). */
int64_t watch_restart_on_crash(struct watch_restart *r, const struct watch_config *cfg,
                               uint64_t now_ms);

#endif
