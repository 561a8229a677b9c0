/* The xenbus transition table: see xenbus_fsm.h. The frontend cases follow
 * Linux's xen-blkback frontend_changed(), with the toolstack's Closing
 * handled as QEMU's xen-bus does, but without waiting for the guest: a
 * destroyed guest never answers and libxl gives a backend only 10 s. */
#include "xenbus_fsm.h"

enum pv_xenbus_action pv_xenbus_next_action(const struct pv_xenbus_inputs *in)
{
    enum xenbus_state be = in->be;

    if (in->toolstack_closing)
        return PV_XENBUS_CLOSED;
    /* online = 0 means "tear down once closed"; Closing with online = 0 is
     * the toolstack waiting for us, not for the frontend. */
    if (!in->online && be == XenbusStateClosed)
        return PV_XENBUS_REMOVE;
    if (!in->online && be == XenbusStateClosing)
        return PV_XENBUS_CLOSED;
    if (be == XenbusStateUnknown || be == XenbusStateInitialising)
        return PV_XENBUS_INITWAIT;

    switch (in->fe) {
    case XenbusStateInitialising:
    case XenbusStateInitWait:
        /* The frontend starts (again): after a close, after its driver or
         * its kernel restarted while connected, or after it closed and came
         * back before we saw it Closed. Not while a fatal error stands. */
        if (be == XenbusStateConnected || be == XenbusStateClosed ||
            (be == XenbusStateClosing && !in->failed))
            return PV_XENBUS_INITWAIT;
        return PV_XENBUS_NONE;
    case XenbusStateInitialised:
    case XenbusStateConnected:
        if ((be == XenbusStateInitWait || be == XenbusStateInitialised) && in->ready)
            return PV_XENBUS_CONNECT;
        return PV_XENBUS_NONE;
    case XenbusStateClosing:
        if (be == XenbusStateClosing)
            return PV_XENBUS_NONE;
        /* From Closed too: a kexec'ed frontend resets the connection by
         * writing Closing and waiting for ours. */
        return PV_XENBUS_CLOSING;
    case XenbusStateClosed:
        return be == XenbusStateClosed ? PV_XENBUS_NONE : PV_XENBUS_CLOSED;
    case XenbusStateUnknown:
        /* No frontend (yet, or any more): nothing to tear down in InitWait. */
        if (be == XenbusStateClosed || be == XenbusStateInitWait)
            return PV_XENBUS_NONE;
        return PV_XENBUS_CLOSED;
    default:
        if (be == XenbusStateClosing || be == XenbusStateClosed)
            return PV_XENBUS_NONE;
        return PV_XENBUS_BAD_FRONTEND;
    }
}

const char *pv_xenbus_state_name(int state)
{
    static const char *const names[] = {
        "Unknown", "Initialising", "InitWait",      "Initialised",  "Connected",
        "Closing", "Closed",       "Reconfiguring", "Reconfigured",
    };

    if (state < 0 || state >= (int)(sizeof(names) / sizeof(names[0])))
        return "invalid";
    return names[state];
}

const char *pv_xenbus_action_name(enum pv_xenbus_action action)
{
    switch (action) {
    case PV_XENBUS_NONE:
        return "none";
    case PV_XENBUS_INITWAIT:
        return "initwait";
    case PV_XENBUS_CONNECT:
        return "connect";
    case PV_XENBUS_CLOSING:
        return "closing";
    case PV_XENBUS_CLOSED:
        return "closed";
    case PV_XENBUS_REMOVE:
        return "remove";
    case PV_XENBUS_BAD_FRONTEND:
        return "bad-frontend";
    }
    return "invalid";
}
