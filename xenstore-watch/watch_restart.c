/* Restart backoff and crash-loop detection (see watch_restart.h). */
#include "watch_restart.h"

void watch_restart_init(struct watch_restart *r)
{
    r->window_start_ms = 0;
    r->crashes = 0;
    r->next_delay_ms = 0;
}

int64_t watch_restart_on_crash(struct watch_restart *r, const struct watch_config *cfg,
                               uint64_t now_ms)
{
    if (r->crashes == 0 || now_ms - r->window_start_ms > (uint64_t)cfg->restart_window_s * 1000) {
        r->window_start_ms = now_ms;
        r->crashes = 0;
        r->next_delay_ms = cfg->restart_delay_ms;
    }
    r->crashes++;
    if (r->crashes > cfg->restart_limit)
        return -1;
    unsigned delay = r->next_delay_ms;
    if (delay > cfg->restart_delay_max_ms)
        delay = cfg->restart_delay_max_ms;
    /* Double for the next crash, without overflowing. */
    r->next_delay_ms =
        delay > cfg->restart_delay_max_ms / 2 ? cfg->restart_delay_max_ms : (delay ? delay * 2 : 0);
    return delay;
}
