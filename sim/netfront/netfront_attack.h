/* Hostile netfronts that keep attacking until stopped (tests/hostile/):
 *
 *   double-fetch  XSA-155 on the TX ring: one valid request (a 60-byte
 *                 frame), whose size a second thread keeps rewriting to
 *                 5000 (past the granted page: invalid) and back until it
 *                 is answered; then again. A backend that copies the slot once
 *                 either sends exactly the 60-byte frame or refuses the
 *                 request; one that validated one read and used another
 *                 would send more than the page, or crash.
 *   event-storm   XSA-332: notifies the backend's event channels (queue 0's,
 *                 and the control ring's with --hash) in a tight loop
 *                 without queueing anything.
 *
 * The double-fetch frame goes to 01:80:c2:00:00:0e (link-local: a bridge
 * keeps it to the port it came in on) with ethertype 0x88b5 and 46 bytes of
 * 'A'; the rest of its page is 'M', so that any longer frame shows. */
#ifndef PVBACK_NETFRONT_ATTACK_H
#define PVBACK_NETFRONT_ATTACK_H

#include <stdbool.h>
#include <stddef.h>

struct netfront;

bool nf_attack_known(const char *name);
/* Runs attack name on queue 0 of a connected netfront until *stop, or until
 * the backend closes the vif. Prints what happened on stdout, one line:
 *   double-fetch: N rounds: S sent, D dropped[, vif failed]
 *   event-storm: N notifications[, vif failed]
 * 0, or -1 with a message (a response that is neither OKAY nor ERROR, the
 * backend not answering within 5 s). */
int nf_attack(struct netfront *f, const char *name, volatile int *stop, char *err, size_t errlen);

#endif
