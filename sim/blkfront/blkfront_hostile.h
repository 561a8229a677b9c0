/* Hostile frontend behaviour for tests: one request (or ring index) that
 * breaks one validation rule of the blkif protocol. The backend must answer
 * it with an error where there is a request to answer, fail only this device
 * with a xenbus error node, and keep serving everything else. */
#ifndef PVBACK_BLKFRONT_HOSTILE_H
#define PVBACK_BLKFRONT_HOSTILE_H

#include <stdint.h>

#include "blkfront.h"

enum blkfront_attack {
    BF_ATTACK_BAD_OP,            /* operation 42 */
    BF_ATTACK_NO_SEGMENTS,       /* a read with nr_segments 0 */
    BF_ATTACK_TOO_MANY_SEGMENTS, /* nr_segments 12 */
    BF_ATTACK_LAST_BEFORE_FIRST, /* last_sect < first_sect */
    BF_ATTACK_LAST_PAST_PAGE,    /* last_sect 8 */
    BF_ATTACK_PAST_END,          /* sectors beyond the end of the disk */
    BF_ATTACK_BAD_GREF,          /* a grant reference the guest never granted */
    BF_ATTACK_BAD_INDIRECT_OP,   /* indirect with indirect_op = FLUSH */
    BF_ATTACK_TOO_MANY_INDIRECT, /* indirect with more segments than offered */
    BF_ATTACK_PROD_OVERFLOW,     /* req_prod more than a ring ahead */
    BF_ATTACK_EVENT_STORM,       /* 1.5 s of notifications with nothing queued, then a
                                    valid read: it must still be served (status OKAY) */
    BF_ATTACK_DOUBLE_FETCH,      /* a valid read whose slot a second thread keeps rewriting
                                  * into an invalid one (last_sect 200) while
                                  * the backend may be reading it (XSA-155) */
    BF_ATTACK_COUNT
};

/* "bad-op", "no-segments", ... ("prod-overflow"); NULL past the end. */
const char *blkfront_attack_name(enum blkfront_attack a);
int blkfront_attack_by_name(const char *name, enum blkfront_attack *a);

/* Performs the attack on queue 0 and waits up to timeout_ms for the answer.
 * Returns 0 with the response's status in *status, 1 when no response came,
 * -1 with errno on a local failure. */
int blkfront_attack(struct blkfront *f, enum blkfront_attack a, int16_t *status, int timeout_ms);

#endif
