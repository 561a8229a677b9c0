/* Fuzzes the xenbus state machine (common/xenbus_fsm.h) the way a device
 * lives it: a model device (modelled on common/xenbus_dev.c: evaluate,
 * act, ask again) sees the frontend write any state value, the toolstack
 * toggle `online` and write Closing, the host side become ready or not,
 * connects fail, and the device be failed from the data path.
 *
 * Input: events of 2 bytes each: kind, value.
 *
 * Invariants: after every event the machine settles within the daemon's
 * step limit, every action but a close moves the state, and once settled:
 * Connected only with an Initialised/Connected frontend and the host side
 * ready (`online` = 0 only means "remove once closed", as in Linux);
 * a toolstack detach (online 0, Closing) removes the device at once,
 * without waiting for the guest; a closed frontend leaves us Closed; a
 * frontend state outside the protocol leaves us Closing or Closed; a
 * failed device never connects before it was Closed. */
#include <stdbool.h>

#include "fuzz_input.h"
#include "xenbus_fsm.h"

#define MAX_STEPS 8 /* what xenbus_dev.c allows one evaluation */

struct dev {
    enum xenbus_state be;  /* our state */
    enum xenbus_state key; /* the backend's state key (the toolstack may write it) */
    int fe;
    bool ready, online, failed, removed, connect_fails;
    bool ts_closed; /* the toolstack detached the device */
};

static void set_state(struct dev *d, enum xenbus_state s)
{
    d->be = s;
    d->key = s;
}

static void fatal(struct dev *d)
{
    d->failed = true;
    if (d->be != XenbusStateClosing && d->be != XenbusStateClosed)
        set_state(d, XenbusStateClosing);
}

static void evaluate(struct dev *d)
{
    for (int step = 0; step <= MAX_STEPS; step++) {
        struct pv_xenbus_inputs in = {
            .be = d->be,
            .fe = d->fe,
            .ready = d->ready,
            .online = d->online,
            .toolstack_closing = d->key == XenbusStateClosing && d->be != XenbusStateClosing,
            .failed = d->failed,
        };
        enum xenbus_state before = d->be;
        enum pv_xenbus_action act = pv_xenbus_next_action(&in);

        if (act == PV_XENBUS_NONE)
            return;
        FUZZ_CHECK(step < MAX_STEPS, "no rest after %d steps (be %d fe %d)", MAX_STEPS, d->be,
                   d->fe);
        switch (act) {
        case PV_XENBUS_INITWAIT:
            set_state(d, XenbusStateInitWait);
            break;
        case PV_XENBUS_CONNECT:
            FUZZ_CHECK(d->ready && !d->failed, "connect with ready %d failed %d", d->ready,
                       d->failed);
            FUZZ_CHECK(d->fe == XenbusStateInitialised || d->fe == XenbusStateConnected,
                       "connect to a frontend in state %d", d->fe);
            if (d->connect_fails)
                fatal(d);
            else
                set_state(d, XenbusStateConnected);
            break;
        case PV_XENBUS_CLOSING:
            set_state(d, XenbusStateClosing);
            break;
        case PV_XENBUS_CLOSED:
            d->failed = false;
            set_state(d, XenbusStateClosed);
            break;
        case PV_XENBUS_REMOVE:
            FUZZ_CHECK(!d->online && d->be == XenbusStateClosed, "removed while online %d be %d",
                       d->online, d->be);
            d->removed = true;
            return;
        case PV_XENBUS_BAD_FRONTEND:
            FUZZ_CHECK(d->fe < 0 || d->fe > XenbusStateClosed, "frontend state %d called bad",
                       d->fe);
            fatal(d);
            break;
        default:
            FUZZ_CHECK(false, "action %d", act);
        }
        FUZZ_CHECK(d->be != before || act == PV_XENBUS_CLOSED, "%s changed nothing in state %d",
                   pv_xenbus_action_name(act), before);
    }
}

static void check_settled(const struct dev *d)
{
    if (d->be == XenbusStateConnected)
        FUZZ_CHECK((d->fe == XenbusStateInitialised || d->fe == XenbusStateConnected) && !d->failed,
                   "resting Connected with frontend %d failed %d", d->fe, d->failed);
    if (d->fe == XenbusStateClosed)
        FUZZ_CHECK(d->be == XenbusStateClosed, "frontend Closed, backend %d", d->be);
    if (d->fe < 0 || d->fe > XenbusStateClosed)
        FUZZ_CHECK(d->be == XenbusStateClosing || d->be == XenbusStateClosed,
                   "frontend state %d, backend %d", d->fe, d->be);
    FUZZ_CHECK(d->be >= XenbusStateInitWait && d->be <= XenbusStateClosed, "resting in state %d",
               d->be);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fuzz_in in = fuzz_in_make(data, size);
    struct dev d = {.be = XenbusStateInitialising, .key = XenbusStateInitialising, .online = true};

    evaluate(&d);
    for (int ev = 0; in.left && ev < 512 && !d.removed; ev++) {
        uint8_t kind = fuzz_u8(&in), v = fuzz_u8(&in);

        switch (kind % 7) {
        case 0: /* the frontend writes its state: any number, or garbage */
            d.fe = v < 200 ? v % 12 : -1;
            break;
        case 1:
            d.ready = v & 1;
            break;
        case 2:
            d.online = v & 1;
            break;
        case 3: /* xl destroy / detach: libxl writes online = 0 and state = Closing */
            d.online = false;
            d.key = XenbusStateClosing;
            d.ts_closed = true;
            break;
        case 4:
            d.connect_fails = v & 1;
            break;
        case 5: /* the data path fails the device (a hostile ring) */
            if (d.be == XenbusStateConnected)
                fatal(&d);
            break;
        case 6: /* the frontend disappears */
            d.fe = XenbusStateUnknown;
            break;
        }
        evaluate(&d);
        /* libxl waits 10 s for Closed: it must come now, whatever the guest does. */
        FUZZ_CHECK(!d.ts_closed || d.removed, "a toolstack close left the device in state %d",
                   d.be);
        if (!d.removed)
            check_settled(&d);
    }
    return 0;
}
