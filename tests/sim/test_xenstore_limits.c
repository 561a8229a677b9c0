/* Quotas and hostile clients: xenstored's per-domain limits with the errors
 * Xen gives (ENOSPC for value size, nodes, permissions; E2BIG for watches,
 * tested with the watches), malformed and oversized messages closing only
 * their own connection, and bounded queues for clients that do not read. */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "xenstore_harness.h"

static int setup(void **state)
{
    struct xsh *h = xsh_start();

    xsh_introduce(h, 1);
    *state = h;
    return 0;
}

static int teardown(void **state)
{
    xsh_stop(*state);
    return 0;
}

static void value_size(void **state)
{
    struct xs_handle *g = xsh_open(*state, 1), *xs = xsh_open(*state, 0);
    char *big = malloc(4000);

    memset(big, 'v', 4000);
    /* 20-byte header + one permission + value must stay below 2048. */
    assert_true(xs_write(g, XBT_NULL, "k", big, 2048 - 20 - 8 - 1));
    assert_false(xs_write(g, XBT_NULL, "k", big, 2048 - 20 - 8));
    assert_int_equal(errno, ENOSPC);
    /* dom0 is not limited. */
    assert_true(xs_write(xs, XBT_NULL, "/local/domain/1/k", big, 4000));
    free(big);
    xs_close(g);
    xs_close(xs);
}

static void node_count(void **state)
{
    struct xs_handle *g = xsh_open(*state, 1);
    char path[32];
    int i;

    /* The home /local/domain/1 is the guest's first node of 1000; groups of
     * ten keep every child list well under the entry size limit. */
    for (i = 0; i < 999; i++) {
        snprintf(path, sizeof(path), "g%d/%d", i / 10, i % 10 - 1);
        if (i % 10 == 0)
            snprintf(path, sizeof(path), "g%d", i / 10);
        assert_true(xs_write(g, XBT_NULL, path, "", 0));
    }
    assert_false(xs_write(g, XBT_NULL, "one-more", "", 0));
    assert_int_equal(errno, ENOSPC);
    /* Creating two nodes at once checks both. */
    assert_true(xs_rm(g, XBT_NULL, "g0/1"));
    assert_false(xs_write(g, XBT_NULL, "a/b", "", 0));
    assert_int_equal(errno, ENOSPC);
    assert_true(xs_write(g, XBT_NULL, "a", "", 0));
    /* The same count holds inside a transaction. */
    assert_true(xs_rm(g, XBT_NULL, "g0/2"));
    xs_transaction_t t = xs_transaction_start(g);
    assert_true(xs_write(g, t, "t1", "", 0));
    assert_false(xs_write(g, t, "t2", "", 0));
    assert_int_equal(errno, ENOSPC);
    assert_true(xs_transaction_end(g, t, false));
    xs_close(g);
}

static void perms_count(void **state)
{
    struct xs_handle *g = xsh_open(*state, 1);
    struct xs_permissions p[6];

    for (unsigned i = 0; i < 6; i++)
        p[i] = (struct xs_permissions){.id = i == 0 ? 1 : i + 10, .perms = XS_PERM_READ};
    assert_true(xs_write(g, XBT_NULL, "p", "", 0));
    assert_true(xs_set_permissions(g, XBT_NULL, "p", p, 5));
    assert_false(xs_set_permissions(g, XBT_NULL, "p", p, 6));
    assert_int_equal(errno, ENOSPC);
    xs_close(g);
}

/* Sends a raw request and returns the reply's payload in buf. */
static uint32_t raw_call(int fd, uint32_t type, const void *data, size_t len, char *buf,
                         size_t blen)
{
    struct xsd_sockmsg hdr;

    assert_true(xsh_raw_send(fd, type, (uint32_t)len, data, len));
    assert_true(xsh_raw_recv(fd, &hdr, buf, blen));
    assert_int_equal(hdr.req_id, 7);
    return hdr.type;
}

static void malformed_requests(void **state)
{
    int fd = xsh_raw_connect(*state, 1);
    char buf[4200];

    /* Each gets an error and the connection lives on. */
    assert_int_equal(raw_call(fd, 999, NULL, 0, buf, sizeof(buf)), XS_ERROR);
    assert_string_equal(buf, "ENOSYS");
    assert_int_equal(raw_call(fd, XS_WATCH_EVENT, "a\0b", 4, buf, sizeof(buf)), XS_ERROR);
    assert_string_equal(buf, "ENOSYS");
    assert_int_equal(raw_call(fd, XS_READ, "nonul", 5, buf, sizeof(buf)), XS_ERROR);
    assert_string_equal(buf, "EINVAL");
    assert_int_equal(raw_call(fd, XS_READ, "a\0b", 4, buf, sizeof(buf)), XS_ERROR);
    assert_string_equal(buf, "EINVAL");
    assert_int_equal(raw_call(fd, XS_WRITE, "", 0, buf, sizeof(buf)), XS_ERROR);
    assert_string_equal(buf, "EINVAL");
    assert_int_equal(raw_call(fd, XS_SET_PERMS, "x\0q1\0", 5, buf, sizeof(buf)), XS_ERROR);
    assert_string_equal(buf, "EINVAL");
    assert_int_equal(raw_call(fd, XS_SET_PERMS, "x\0r99999999\0", 13, buf, sizeof(buf)), XS_ERROR);
    assert_string_equal(buf, "EINVAL");
    assert_int_equal(raw_call(fd, XS_WATCH, "a\0b\0c\0", 6, buf, sizeof(buf)), XS_ERROR);
    assert_string_equal(buf, "EINVAL");
    assert_int_equal(raw_call(fd, XS_DIRECTORY_PART, "x\0zz\0", 5, buf, sizeof(buf)), XS_ERROR);
    assert_string_equal(buf, "EINVAL");
    assert_int_equal(raw_call(fd, XS_TRANSACTION_END, "X", 2, buf, sizeof(buf)), XS_ERROR);
    assert_string_equal(buf, "EINVAL");
    assert_int_equal(raw_call(fd, XS_INTRODUCE,
                              "5\0"
                              "0\0"
                              "0\0",
                              6, buf, sizeof(buf)),
                     XS_ERROR);
    assert_string_equal(buf, "EACCES");
    assert_int_equal(raw_call(fd, XS_CONTROL, "print\0x\0", 8, buf, sizeof(buf)), XS_ERROR);
    assert_string_equal(buf, "EACCES");
    /* A request in an unknown transaction. */
    struct xsd_sockmsg hdr = {.type = XS_READ, .req_id = 7, .tx_id = 42, .len = 2};
    assert_int_equal(send(fd, &hdr, sizeof(hdr), 0), sizeof(hdr));
    assert_int_equal(send(fd, "x", 2, 0), 2);
    assert_true(xsh_raw_recv(fd, &hdr, buf, sizeof(buf)));
    assert_int_equal(hdr.type, XS_ERROR);
    assert_string_equal(buf, "ENOENT");
    /* RESET_WATCHES drops the connection's watches. */
    assert_int_equal(raw_call(fd, XS_WATCH, "w\0tok\0", 6, buf, sizeof(buf)), XS_WATCH);
    assert_true(xsh_raw_recv(fd, &hdr, buf, sizeof(buf))); /* initial event */
    assert_int_equal(hdr.type, XS_WATCH_EVENT);
    assert_int_equal(raw_call(fd, XS_RESET_WATCHES, "", 1, buf, sizeof(buf)), XS_RESET_WATCHES);
    assert_int_equal(raw_call(fd, XS_UNWATCH, "w\0tok\0", 6, buf, sizeof(buf)), XS_ERROR);
    assert_string_equal(buf, "ENOENT");
    /* Still served. */
    assert_int_equal(raw_call(fd, XS_WRITE, "ok\0v", 4, buf, sizeof(buf)), XS_WRITE);
    assert_string_equal(buf, "OK");
    close(fd);
}

static void oversized_closes_only_that_connection(void **state)
{
    struct xsh *h = *state;
    int bad = xsh_raw_connect(h, 1), good = xsh_raw_connect(h, 1);
    struct xs_handle *xs = xsh_open(h, 0);
    char buf[64], *v;

    /* Only the header: the daemon hangs up as soon as it has read it. */
    assert_true(xsh_raw_send(bad, XS_WRITE, XENSTORE_PAYLOAD_MAX + 1, NULL, 0));
    assert_true(xsh_raw_closed(bad, 2000));
    assert_int_equal(raw_call(good, XS_WRITE, "still\0y", 7, buf, sizeof(buf)), XS_WRITE);
    v = xsh_read(xs, "/local/domain/1/still");
    assert_string_equal(v, "y");
    free(v);
    /* A header cut short, then gone: nothing happens to the others. */
    int cut = xsh_raw_connect(h, 0);
    assert_int_equal(send(cut, "\x02\0\0\0", 4, 0), 4);
    close(cut);
    /* Random garbage with a sane length. */
    int junk = xsh_raw_connect(h, 0);
    char noise[64];
    for (size_t i = 0; i < sizeof(noise); i++)
        noise[i] = (char)(i * 37 + 11);
    struct xsd_sockmsg hdr = {.type = 0xfffe, .req_id = 1, .tx_id = 0xffffffff, .len = 64};
    assert_int_equal(send(junk, &hdr, sizeof(hdr), 0), sizeof(hdr));
    assert_int_equal(send(junk, noise, sizeof(noise), 0), sizeof(noise));
    close(junk);
    v = xsh_read(xs, "/local/domain/1/still");
    assert_string_equal(v, "y");
    free(v);
    close(bad);
    close(good);
    xs_close(xs);
}

static void lower_conn_quota(struct xsh *h, void *arg)
{
    (void)arg;
    xsd_quota(h->xsd)->conns = 3;
}

/* A guest cannot open connections without bound. */
static void connection_limit(void **state)
{
    struct xsh *h = *state;
    int fd[4];
    char buf[64];

    xsh_on_loop(h, lower_conn_quota, NULL);
    for (int i = 0; i < 3; i++)
        fd[i] = xsh_raw_connect(h, 1);
    /* Accepted, so the daemon has counted them, before the fourth. */
    for (int i = 0; i < 3; i++)
        assert_int_equal(raw_call(fd[i], XS_READ, "/local/domain/1\0", 16, buf, sizeof(buf)),
                         XS_READ);
    fd[3] = xsh_raw_connect(h, 1);
    assert_true(xsh_raw_closed(fd[3], 2000));
    close(fd[3]);
    /* Closing one makes room. */
    close(fd[0]);
    assert_int_equal(raw_call(fd[1], XS_READ, "/local/domain/1\0", 16, buf, sizeof(buf)), XS_READ);
    fd[0] = xsh_raw_connect(h, 1);
    assert_int_equal(raw_call(fd[0], XS_READ, "/local/domain/1\0", 16, buf, sizeof(buf)), XS_READ);
    for (int i = 0; i < 3; i++)
        close(fd[i]);
}

static void lower_event_quota(struct xsh *h, void *arg)
{
    (void)arg;
    xsd_quota(h->xsd)->events = 64;
}

/* XSA-349: a watcher that never reads cannot make the daemon queue events
 * without bound; past the limit its connection is closed. */
static void event_flood_is_bounded(void **state)
{
    struct xsh *h = *state;
    struct xs_handle *xs = xsh_open(h, 0);
    int fd = xsh_raw_connect(h, 1);
    char token[2001], watch[2100];
    char buf[64];
    int i;

    xsh_on_loop(h, lower_event_quota, NULL);
    memset(token, 't', sizeof(token) - 1);
    token[sizeof(token) - 1] = '\0';
    /* Long tokens make each event ~2 KiB, so the socket fills quickly. */
    snprintf(watch, sizeof(watch), "/local/domain/1/w%c%s", '\0', token);
    assert_true(xsh_raw_send(fd, XS_WATCH, (uint32_t)(strlen(watch) + 2 + strlen(token)), watch,
                             strlen(watch) + 2 + strlen(token)));
    for (i = 0; i < 2000; i++) {
        snprintf(buf, sizeof(buf), "%d", i);
        assert_true(xs_write(xs, XBT_NULL, "/local/domain/1/w", buf, (unsigned)strlen(buf)));
    }
    /* What was queued is readable, then the connection ends. */
    assert_true(xsh_raw_closed(fd, 2000));
    close(fd);
    /* The daemon serves on, the guest too. */
    struct xs_handle *g = xsh_open(h, 1);
    char *v = xsh_read(g, "w");
    assert_string_equal(v, "1999");
    free(v);
    xs_close(g);
    xs_close(xs);
}

/* A client that sends requests without reading replies is paused, not
 * served into an ever-growing queue, and loses nothing. */
static void unread_replies_pause_the_client(void **state)
{
    struct xsh *h = *state;
    int fd = xsh_raw_connect(h, 0);
    struct xs_handle *xs = xsh_open(h, 0);
    char req[sizeof(struct xsd_sockmsg) + 8];
    struct xsd_sockmsg *hdr = (struct xsd_sockmsg *)req;
    char *big = malloc(4000), *v;
    size_t sent = 0;
    int n = 0;

    memset(big, 'b', 4000);
    assert_true(xs_write(xs, XBT_NULL, "/big", big, 4000));
    *hdr = (struct xsd_sockmsg){.type = XS_READ, .req_id = 7, .len = 5};
    memcpy(req + sizeof(*hdr), "/big", 5);
    fcntl(fd, F_SETFL, O_NONBLOCK);
    /* Send until the daemon stops taking requests (our send blocks). */
    for (;;) {
        ssize_t r = send(fd, req + sent % (sizeof(*hdr) + 5),
                         sizeof(*hdr) + 5 - sent % (sizeof(*hdr) + 5), MSG_NOSIGNAL);
        if (r < 0) {
            struct pollfd p = {.fd = fd, .events = POLLOUT};
            assert_int_equal(errno, EAGAIN); /* not closed on us */
            if (poll(&p, 1, 500) <= 0)
                break;
            continue;
        }
        sent += (size_t)r;
        assert_true(sent < 64u << 20); /* it must stop taking requests */
    }
    n = (int)(sent / (sizeof(*hdr) + 5));
    /* Others are served meanwhile. */
    v = xsh_read(xs, "/big");
    assert_non_null(v);
    free(v);
    /* Every complete request gets its reply once we read. */
    fcntl(fd, F_SETFL, 0);
    for (int i = 0; i < n; i++) {
        struct xsd_sockmsg rh;
        assert_true(xsh_raw_read(fd, &rh, sizeof(rh), 2000));
        assert_int_equal(rh.type, XS_READ);
        assert_int_equal(rh.len, 4000);
        assert_true(xsh_raw_read(fd, big, 4000, 2000));
    }
    free(big);
    close(fd);
    xs_close(xs);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(value_size, setup, teardown),
        cmocka_unit_test_setup_teardown(node_count, setup, teardown),
        cmocka_unit_test_setup_teardown(perms_count, setup, teardown),
        cmocka_unit_test_setup_teardown(malformed_requests, setup, teardown),
        cmocka_unit_test_setup_teardown(oversized_closes_only_that_connection, setup, teardown),
        cmocka_unit_test_setup_teardown(connection_limit, setup, teardown),
        cmocka_unit_test_setup_teardown(event_flood_is_bounded, setup, teardown),
        cmocka_unit_test_setup_teardown(unread_replies_pause_the_client, setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
