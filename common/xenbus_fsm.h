/* The xenbus state machine as one pure function: what a backend device does
 * next, given its own state, the frontend's, and what the toolstack and the
 * device class say. xenbus_dev.c carries the action out and asks again until
 * the answer is PV_XENBUS_NONE, so one call never needs to do two steps and
 * skipped frontend states need no special cases. */
#ifndef PVBACK_XENBUS_FSM_H
#define PVBACK_XENBUS_FSM_H

#include <stdbool.h>
#include <xen/io/xenbus.h>

enum pv_xenbus_action {
    PV_XENBUS_NONE,         /* wait for the next change */
    PV_XENBUS_INITWAIT,     /* disconnect if connected, probe once, switch to InitWait */
    PV_XENBUS_CONNECT,      /* connect, switch to Connected */
    PV_XENBUS_CLOSING,      /* disconnect, switch to Closing */
    PV_XENBUS_CLOSED,       /* disconnect, switch to Closed */
    PV_XENBUS_REMOVE,       /* disconnect, forget the device */
    PV_XENBUS_BAD_FRONTEND, /* fatal error: the frontend's state is not one we accept */
};

struct pv_xenbus_inputs {
    /* Our state as we last wrote it; Initialising for a device not walked
     * yet (whatever its key says: an adopted device starts over). */
    enum xenbus_state be;
    /* The frontend's "state": 0 (Unknown) when missing, -1 when not a
     * number, otherwise the number read (7, 8 and above are refused). */
    int fe;
    bool ready;  /* ops->ready(): the host side can connect */
    bool online; /* the backend's "online" key is 1 */
    /* The backend's "state" key says Closing although we did not write it:
     * the toolstack is detaching or destroying the device. */
    bool toolstack_closing;
    /* We are Closing because of a fatal error (not because the frontend
     * closed); only the frontend reaching Closed clears it. */
    bool failed;
};

enum pv_xenbus_action pv_xenbus_next_action(const struct pv_xenbus_inputs *in);

/* "InitWait", "Connected", ... or "invalid" (for logs). */
const char *pv_xenbus_state_name(int state);
const char *pv_xenbus_action_name(enum pv_xenbus_action action);

#endif
