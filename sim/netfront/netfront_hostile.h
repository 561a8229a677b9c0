/* The hostile netfront: one protocol rule broken on purpose. */
#ifndef PVBACK_NETFRONT_HOSTILE_H
#define PVBACK_NETFRONT_HOSTILE_H

#include <stddef.h>

struct netfront;

/* The rule names, space-separated. */
const char *nf_hostile_rules(void);
/* Breaks rule on queue 0 of a connected netfront and waits for the backend:
 * a fatal rule must make it close the vif, a drop rule must get the packet
 * answered with an error while the vif stays Connected. 0 when it did,
 * -1 with a message otherwise. */
int nf_hostile(struct netfront *f, const char *rule, char *err, size_t errlen);

#endif
