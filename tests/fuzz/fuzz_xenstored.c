/* Fuzzes xensim's xenstored (sim/xenstored/xsd.h) with raw xs_wire.h
 * traffic: a fresh daemon per input, in process, on a private directory; one
 * connection, as dom0 or as guest 1, sends the input as its byte stream
 * (framing, every message type, transactions, watches, permissions) and
 * reads everything the daemon answers.
 *
 * Input: one byte (bit 0: guest 1's socket, else dom0's), then the stream.
 * Before it, a toolstack-like setup on dom0's socket creates a backend
 * directory guest 1 may only read, its frontend directory, and a secret
 * value in a node of the toolstack's and in guest 2's home.
 *
 * Invariants: the daemon neither crashes nor leaks (ASan, valgrind on
 * replay) and always finishes the connection; every message it sends is
 * well framed (at most XENSTORE_PAYLOAD_MAX), is a reply of the type asked,
 * an XS_ERROR carrying one errno name, or a watch event of two strings;
 * it never sends more replies than it got requests; and a guest changes
 * nothing outside its home (/local/domain/1) and reads nothing of the
 * toolstack's or another guest's that it was not given, whatever it sends. */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include <xen/io/xs_wire.h>

#include "common/log.h"
#include "common/loop.h"
#include "fuzz_input.h"
#include "xenstored/xsd.h"

/* Loop rounds before a connection that does not finish counts as a hang. */
#define MAX_ROUNDS 100000

static struct pv_loop *loop;
static char dir[64];
/* A value only dom0 and guest 2 may read, unknown to the input. */
static char secret[33];

static void cleanup(void)
{
    rmdir(dir);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    pv_log_set_level(PV_LOG_ERR); /* closing a bad connection is routine here */
    strcpy(dir, "/tmp/pvback-fuzz-xsd.XXXXXX");
    FILE *rnd = fopen("/dev/urandom", "rb");
    unsigned char bytes[16];
    if (!rnd || fread(bytes, 1, sizeof(bytes), rnd) != sizeof(bytes)) {
        perror("fuzz_xenstored: /dev/urandom");
        abort();
    }
    fclose(rnd);
    for (size_t i = 0; i < sizeof(bytes); i++)
        sprintf(secret + 2 * i, "%02x", bytes[i]);
    if (!mkdtemp(dir) || !(loop = pv_loop_new())) {
        perror("fuzz_xenstored: setup");
        abort();
    }
    atexit(cleanup);
    return 0;
}

/* The replies read so far, checked message by message. */
struct reader {
    uint8_t buf[sizeof(struct xsd_sockmsg) + XENSTORE_PAYLOAD_MAX];
    size_t have;
    unsigned replies, events, errors;
    const char *secret; /* must appear in no reply, when set */
    bool type_sent[XS_TYPE_COUNT];
};

static bool is_errno_name(const char *s, size_t len)
{
    static const char *const names[] = {
        "EINVAL",    "EACCES", "EEXIST", "EISDIR", "ENOENT", "ENOMEM",  "ENOSPC", "EIO",
        "ENOTEMPTY", "ENOSYS", "EROFS",  "EBUSY",  "EAGAIN", "EISCONN", "E2BIG",  "EPERM"};

    if (len == 0 || s[len - 1] != '\0')
        return false;
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (!strcmp(s, names[i]))
            return true;
    return false;
}

static void check_message(struct reader *r, const struct xsd_sockmsg *m, const char *payload)
{
    if (m->type == XS_WATCH_EVENT) {
        /* path NUL token NUL */
        const char *nul = memchr(payload, '\0', m->len);
        FUZZ_CHECK(nul && payload[m->len - 1] == '\0' && nul != payload + m->len - 1,
                   "a watch event that is not two strings");
        r->events++;
        return;
    }
    r->replies++;
    if (m->type == XS_ERROR) {
        r->errors++;
        FUZZ_CHECK(is_errno_name(payload, m->len), "XS_ERROR '%.*s'", (int)m->len, payload);
        return;
    }
    FUZZ_CHECK(m->type < XS_TYPE_COUNT && r->type_sent[m->type], "a reply of type %u never asked",
               m->type);
    FUZZ_CHECK(!r->secret || !memmem(payload, m->len, r->secret, strlen(r->secret)),
               "a reply of type %u carries a value the guest may not read", m->type);
}

/* Consumes whole messages from r->buf. */
static void take_messages(struct reader *r)
{
    for (;;) {
        struct xsd_sockmsg m;

        if (r->have < sizeof(m))
            return;
        memcpy(&m, r->buf, sizeof(m));
        FUZZ_CHECK(m.len <= XENSTORE_PAYLOAD_MAX, "a %u-byte payload sent", m.len);
        if (r->have < sizeof(m) + m.len)
            return;
        check_message(r, &m, (const char *)r->buf + sizeof(m));
        r->have -= sizeof(m) + m.len;
        memmove(r->buf, r->buf + sizeof(m) + m.len, r->have);
    }
}

/* Notes the types of the requests in the stream, as the daemon frames it. */
static unsigned count_requests(const uint8_t *p, size_t n, bool *type_sent)
{
    unsigned count = 0;

    while (n >= sizeof(struct xsd_sockmsg)) {
        struct xsd_sockmsg m;
        memcpy(&m, p, sizeof(m));
        if (m.len > XENSTORE_PAYLOAD_MAX)
            break; /* the daemon hangs up here */
        if (m.type < XS_TYPE_COUNT)
            type_sent[m.type] = true;
        count++;
        if (n - sizeof(m) < m.len)
            break;
        p += sizeof(m) + m.len;
        n -= sizeof(m) + m.len;
    }
    return count;
}

static int connect_to(const char *name)
{
    struct sockaddr_un addr = {.sun_family = AF_UNIX};
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

    snprintf(addr.sun_path, sizeof(addr.sun_path), "%s/%s", dir, name);
    FUZZ_CHECK(fd >= 0 && connect(fd, (struct sockaddr *)&addr, sizeof(addr)) == 0,
               "cannot connect to %s: %s", name, strerror(errno));
    return fd;
}

/* Sends a whole stream on a new connection to sock and reads every answer
 * until the daemon, seeing EOF, closes the connection. */
static void converse(const char *sock, const uint8_t *p, size_t len, struct reader *r,
                     const char *hidden)
{
    int fd = connect_to(sock);
    size_t sent = 0;
    bool eof = false, shut = false;

    memset(r, 0, sizeof(*r));
    r->secret = hidden;
    unsigned requests = count_requests(p, len, r->type_sent);
    for (int round = 0; !eof; round++) {
        FUZZ_CHECK(round < MAX_ROUNDS, "the daemon never finished the connection");
        if (sent < len) {
            ssize_t n = send(fd, p + sent, len - sent, MSG_NOSIGNAL);
            if (n > 0)
                sent += (size_t)n;
            else if (n < 0 && errno != EAGAIN)
                sent = len; /* the daemon hung up: nothing more to say */
        }
        if (sent == len && !shut) {
            shutdown(fd, SHUT_WR); /* the daemon closes the connection at EOF */
            shut = true;
        }
        pv_loop_run_once(loop, 0);
        for (;;) {
            ssize_t n = recv(fd, r->buf + r->have, sizeof(r->buf) - r->have, 0);
            if (n > 0) {
                r->have += (size_t)n;
                take_messages(r);
                continue;
            }
            eof = n == 0 || (n < 0 && errno != EAGAIN);
            break;
        }
    }
    FUZZ_CHECK(r->have == 0, "the daemon ended with %zu bytes of a partial message", r->have);
    FUZZ_CHECK(r->replies <= requests, "%u replies to %u requests", r->replies, requests);
    close(fd);
}

/* What the toolstack sets up before the guest runs: a backend directory the
 * guest may read but not write, a frontend directory it owns, nodes of the
 * toolstack's own and of another guest holding the secret. */
static size_t setup_stream(uint8_t *buf, size_t size)
{
    const char *const msgs[][3] = {
        {"w", "/local/domain/0/backend/vbd/1/51712/state", "2"},
        {"w", "/local/domain/0/backend/vbd/1/51712/params", "/srv/g1.img"},
        {"p", "/local/domain/0/backend/vbd/1/51712", "n0\0r1"},
        {"p", "/local/domain/0/backend/vbd/1/51712/state", "n0\0r1"},
        {"w", "/local/domain/1/device/vbd/51712/backend-id", "0"},
        {"p", "/local/domain/1/device/vbd/51712", "n1\0r0"},
        {"w", "/tool/pvback/secret", secret},
        {"w", "/local/domain/2/data/secret", secret},
    };
    size_t len = 0;

    for (size_t i = 0; i < sizeof(msgs) / sizeof(msgs[0]); i++) {
        const char *path = msgs[i][1], *val = msgs[i][2];
        size_t plen = strlen(path) + 1;
        /* Permissions are two NUL-terminated strings (6 bytes); a value
         * is sent without its NUL. */
        size_t vlen = msgs[i][0][0] == 'p' ? 6 : strlen(val);
        struct xsd_sockmsg m = {
            .type = msgs[i][0][0] == 'p' ? XS_SET_PERMS : XS_WRITE,
            .req_id = (uint32_t)i,
            .len = (uint32_t)(plen + vlen),
        };
        FUZZ_CHECK(len + sizeof(m) + m.len <= size, "setup does not fit");
        memcpy(buf + len, &m, sizeof(m));
        memcpy(buf + len + sizeof(m), path, plen);
        memcpy(buf + len + sizeof(m) + plen, val, vlen);
        len += sizeof(m) + m.len;
    }
    return len;
}

/* The tree as "xenstore-ls -fp" lines, without guest 1's home. */
static char *dump_outside_home(struct xsd *xsd)
{
    char *text = NULL, *out, *line, *save = NULL;
    size_t len = 0, used = 0;
    FILE *f = open_memstream(&text, &len);

    FUZZ_CHECK(f != NULL, "open_memstream");
    xsd_dump(xsd, f);
    fclose(f);
    out = calloc(1, len + 1);
    FUZZ_CHECK(out != NULL, "calloc");
    for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        if (!strncmp(line, "/local/domain/1 ", 16) || !strncmp(line, "/local/domain/1/", 16))
            continue;
        size_t n = strlen(line);
        memcpy(out + used, line, n);
        out[used + n] = '\n';
        used += n + 1;
    }
    free(text);
    return out;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fuzz_in in = fuzz_in_make(data, size);
    const bool guest = fuzz_u8(&in) & 1;
    static struct reader r;
    static uint8_t setup[2048];
    struct xsd *xsd = xsd_new(loop, dir, NULL);

    FUZZ_CHECK(xsd != NULL, "xsd_new: %s", strerror(errno));
    FUZZ_CHECK(xsd_introduce(xsd, 1) == 0 && xsd_introduce(xsd, 2) == 0, "xsd_introduce: %s",
               strerror(errno));
    converse("xenstored.sock", setup, setup_stream(setup, sizeof(setup)), &r, NULL);
    FUZZ_CHECK(r.replies == 8 && r.errors == 0, "setup: %u replies, %u errors", r.replies,
               r.errors);

    if (!guest) {
        converse("xenstored.sock", in.p, in.left, &r, NULL);
    } else {
        /* A guest changes nothing outside its home, whatever it sends. */
        char *before = dump_outside_home(xsd);
        converse("dom1.sock", in.p, in.left, &r, secret);
        char *after = dump_outside_home(xsd);
        FUZZ_CHECK(!strcmp(before, after), "guest 1 changed the tree outside its home:\n%s---\n%s",
                   before, after);
        free(before);
        free(after);
    }
    xsd_free(xsd);
    return 0;
}
