/* Shared by tests/sim/test_xenbus*.c: xensim's xenstored in this process
 * (tests/sim/xenstore_harness.h), a toolstack that writes device directories
 * as libxl does, a scripted guest acting through its own dom<N>.sock, and a
 * toy device class whose callbacks count what the state machine did. */
#ifndef PVBACK_TEST_XENBUS_TOY_H
#define PVBACK_TEST_XENBUS_TOY_H

#include "xenstore_harness.h"

#include <stdarg.h>

#include "common/xenbus.h"
#include "common/xs.h"

#define GUEST   3
#define BE_DIR  "/local/domain/0/backend/toy"
#define ERR_DIR "/local/domain/0/error/backend/toy"

struct toy_stats {
    int probes, connects, disconnects, removes, changed;
    bool defer;                    /* disconnect defers (like blkback with I/O in flight) */
    struct pv_xenbus_dev *pending; /* the device whose disconnect is deferred */
    unsigned int ring_ref;         /* what the last connect read */
    char last_key[64];
};

/* Per device: only what the class keeps, to check priv_size works. */
struct toy_priv {
    unsigned int ring_ref;
    bool mapped;
};

struct toy {
    struct xsh *xsh;
    struct pv_loop *loop;
    struct pv_xs *xs;        /* the backend's handle (dom0) */
    struct xs_handle *tool;  /* the toolstack (dom0) */
    struct xs_handle *guest; /* the guest (dom<GUEST>) */
    struct pv_xenbus_backend *be;
    struct toy_stats st;
};

static inline int toy_probe(struct pv_xenbus_dev *dev)
{
    struct toy *t = pv_xenbus_dev_ctx(dev);

    t->st.probes++;
    return pv_xs_write_str(pv_xenbus_dev_xs(dev), XBT_NULL, pv_xenbus_dev_be_path(dev),
                           "feature-toy", "1");
}

/* Like netback: ready once the hotplug script said so. */
static inline bool toy_ready(struct pv_xenbus_dev *dev)
{
    char *v;
    bool ok;

    if (pv_xs_read_str(pv_xenbus_dev_xs(dev), XBT_NULL, pv_xenbus_dev_be_path(dev),
                       "hotplug-status", &v) < 0)
        return false;
    ok = !strcmp(v, "connected");
    free(v);
    return ok;
}

static inline int toy_connect(struct pv_xenbus_dev *dev)
{
    struct toy *t = pv_xenbus_dev_ctx(dev);
    struct toy_priv *p = pv_xenbus_dev_priv(dev);
    struct pv_xs *xs = pv_xenbus_dev_xs(dev);

    t->st.connects++;
    if (pv_xs_read_uint(xs, XBT_NULL, pv_xenbus_dev_fe_path(dev), "ring-ref", 0, 1u << 30,
                        &p->ring_ref) < 0) {
        pv_xenbus_dev_fatal(dev, errno, "%s", pv_xs_error(xs));
        return -1;
    }
    p->mapped = true;
    t->st.ring_ref = p->ring_ref;
    return 0;
}

static inline int toy_disconnect(struct pv_xenbus_dev *dev, bool may_defer)
{
    struct toy *t = pv_xenbus_dev_ctx(dev);
    struct toy_priv *p = pv_xenbus_dev_priv(dev);

    if (t->st.pending == dev) { /* ended now: the process is stopping */
        assert_false(may_defer);
        t->st.pending = NULL;
        p->mapped = false;
        return 0;
    }
    t->st.disconnects++;
    if (t->st.defer && may_defer) {
        t->st.pending = dev; /* "I/O" in flight: toy_io_done() ends it */
        return 1;
    }
    p->mapped = false;
    return 0;
}

/* The deferred disconnect's last "I/O" completed. */
static inline void toy_io_done(struct toy *t)
{
    struct pv_xenbus_dev *dev = t->st.pending;
    struct toy_priv *p = pv_xenbus_dev_priv(dev);

    t->st.pending = NULL;
    p->mapped = false;
    pv_xenbus_dev_disconnected(dev);
}

static inline void toy_changed(struct pv_xenbus_dev *dev, const char *key)
{
    struct toy *t = pv_xenbus_dev_ctx(dev);

    t->st.changed++;
    snprintf(t->st.last_key, sizeof(t->st.last_key), "%s", key);
}

static inline void toy_remove(struct pv_xenbus_dev *dev)
{
    struct toy *t = pv_xenbus_dev_ctx(dev);
    struct toy_priv *p = pv_xenbus_dev_priv(dev);

    assert_false(p->mapped); /* disconnected before removal */
    t->st.removes++;
}

static const struct pv_xenbus_ops toy_ops = {
    .type = "toy",
    .priv_size = sizeof(struct toy_priv),
    .probe = toy_probe,
    .ready = toy_ready,
    .connect = toy_connect,
    .disconnect = toy_disconnect,
    .backend_changed = toy_changed,
    .remove = toy_remove,
};

static inline struct pv_xs *toy_open_xs(struct toy *t)
{
    char sock[128];
    struct pv_xs *xs;

    xsh_sock(t->xsh, 0, sock, sizeof(sock));
    setenv("XENSTORED_PATH", sock, 1);
    xs = pv_xs_open(t->loop);
    unsetenv("XENSTORED_PATH");
    assert_non_null(xs);
    return xs;
}

static inline struct toy *toy_setup(void)
{
    struct toy *t = calloc(1, sizeof(*t));

    assert_non_null(t);
    pv_log_init("test");
    t->xsh = xsh_start();
    xsh_introduce(t->xsh, GUEST);
    t->loop = pv_loop_new();
    assert_non_null(t->loop);
    t->xs = toy_open_xs(t);
    t->tool = xsh_open(t->xsh, 0);
    t->guest = xsh_open(t->xsh, GUEST);
    assert_non_null(t->tool);
    assert_non_null(t->guest);
    return t;
}

static inline void toy_start_backend(struct toy *t)
{
    t->be = pv_xenbus_backend_new(t->xs, &toy_ops, 0, -1, t);
    assert_non_null(t->be);
}

static inline void toy_teardown(struct toy *t)
{
    pv_xenbus_backend_free(t->be);
    pv_xs_close(t->xs);
    xs_close(t->tool);
    xs_close(t->guest);
    pv_loop_free(t->loop);
    xsh_stop(t->xsh);
    free(t);
}

/* Writes path = value (printf-formatted path) as handle h, or fails. */
static inline void put(struct xs_handle *h, const char *value, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static inline void put(struct xs_handle *h, const char *value, const char *fmt, ...)
{
    char path[256];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(path, sizeof(path), fmt, ap);
    va_end(ap);
    if (!xs_write(h, XBT_NULL, path, value, (unsigned)strlen(value)))
        fail_msg("write %s = %s: %s", path, value, strerror(errno));
}

/* What the toolstack writes for a new device, with libxl's permissions:
 * the backend dir is dom0's and readable by the guest, the frontend dir is
 * the guest's and readable by dom0. */
static inline void toy_add_device(struct toy *t, unsigned devid)
{
    char be[128], fe[128], v[128];
    struct xs_permissions be_perms[2] = {{0, XS_PERM_NONE}, {GUEST, XS_PERM_READ}};
    struct xs_permissions fe_perms[2] = {{GUEST, XS_PERM_NONE}, {0, XS_PERM_READ}};
    xs_transaction_t tx;

    snprintf(be, sizeof(be), BE_DIR "/%u/%u", GUEST, devid);
    snprintf(fe, sizeof(fe), "/local/domain/%u/device/toy/%u", GUEST, devid);
    do {
        char key[192];
        tx = xs_transaction_start(t->tool);
        assert_true(tx != XBT_NULL);
        assert_true(xs_mkdir(t->tool, tx, be));
        assert_true(xs_set_permissions(t->tool, tx, be, be_perms, 2));
        assert_true(xs_mkdir(t->tool, tx, fe));
        assert_true(xs_set_permissions(t->tool, tx, fe, fe_perms, 2));
#define W(dir, k, val)                                                                             \
    snprintf(key, sizeof(key), "%s/%s", dir, k);                                                   \
    assert_true(xs_write(t->tool, tx, key, val, (unsigned)strlen(val)))
        W(be, "frontend", fe);
        snprintf(v, sizeof(v), "%u", GUEST);
        W(be, "frontend-id", v);
        W(be, "online", "1");
        W(be, "state", "1");
        W(fe, "backend", be);
        W(fe, "backend-id", "0");
        W(fe, "state", "1");
#undef W
    } while (!xs_transaction_end(t->tool, tx, false) && errno == EAGAIN);
}

/* Reads path as an unsigned number; -1 when missing. */
static inline long read_num(struct xs_handle *h, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static inline long read_num(struct xs_handle *h, const char *fmt, ...)
{
    char path[256];
    va_list ap;
    char *v;
    long n;

    va_start(ap, fmt);
    vsnprintf(path, sizeof(path), fmt, ap);
    va_end(ap);
    v = xsh_read(h, path);
    if (!v)
        return -1;
    n = strtol(v, NULL, 10);
    free(v);
    return n;
}

static inline long be_state(struct toy *t, unsigned devid)
{
    return read_num(t->tool, BE_DIR "/%u/%u/state", GUEST, devid);
}

/* How long to wait for something that should happen: longer under
 * valgrind, which slows this process (not xenstored's thread) a lot. */
static inline uint64_t toy_patience_ms(void)
{
    return getenv("PVBACK_VALGRIND") ? 15000 : 3000;
}

/* Runs the loop for ms, whatever happens (to show that nothing does). */
static inline void run_for(struct toy *t, int ms)
{
    uint64_t end = pv_now_ms() + (uint64_t)ms;

    while (pv_now_ms() < end)
        pv_loop_run_once(t->loop, 10);
}

/* Runs until backend device devid is in state want. */
static inline void expect_state(struct toy *t, unsigned devid, long want)
{
    uint64_t end = pv_now_ms() + toy_patience_ms();

    while (pv_now_ms() < end && be_state(t, devid) != want)
        pv_loop_run_once(t->loop, 20);
    /* One more round so that the callbacks of that step have run. */
    pv_loop_run_once(t->loop, 0);
    if (be_state(t, devid) != want)
        fail_msg("device %u: state %ld, want %ld", devid, be_state(t, devid), want);
}

/* Runs until *counter reaches want (a callback count of the toy class). */
static inline void expect_count(struct toy *t, const int *counter, int want)
{
    uint64_t end = pv_now_ms() + toy_patience_ms();

    while (pv_now_ms() < end && *counter < want)
        pv_loop_run_once(t->loop, 20);
    assert_int_equal(*counter, want);
}

static inline void guest_state(struct toy *t, unsigned devid, const char *state)
{
    put(t->guest, state, "/local/domain/%u/device/toy/%u/state", GUEST, devid);
}

#endif
