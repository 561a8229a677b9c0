/* platform-bench: the sim platform's data path alone, no backend: an
 * event-channel ping-pong between dom0 (this process) and a guest (a forked
 * child acting as domain N), and grant copies from dom0's buffers into pages
 * the guest granted. Prints one line per result:
 *   PLATFORM <name> <value> <unit>
 * Usage: XENSIM_DIR=DIR platform-bench DOMID [SECONDS]   (DOMID: a bare
 * domain created for it; bench/platform_hv.sh does all of that). */
#include "common/platform.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define PAGES 64u

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void die(const char *what)
{
    fprintf(stderr, "platform-bench: %s: %s\n", what, strerror(errno));
    exit(1);
}

/* Waits for an event and takes it: the port, unmasked again. */
static int take_event(struct pv_evtchn *e)
{
    struct pollfd p = {.fd = pv_evtchn_fd(e), .events = POLLIN};
    int port;

    for (;;) {
        if (poll(&p, 1, 5000) != 1)
            return -1;
        port = pv_evtchn_pending(e);
        if (port >= 0)
            break;
        if (errno != EAGAIN)
            return -1;
    }
    pv_evtchn_unmask(e, (uint32_t)port);
    return port;
}

static void xwrite(int fd, const void *p, size_t n)
{
    if (write(fd, p, n) != (ssize_t)n)
        die("pipe write");
}

static void xread(int fd, void *p, size_t n)
{
    if (read(fd, p, n) != (ssize_t)n)
        die("pipe read");
}

/* The guest: grants PAGES pages to dom0, offers a port, answers every event
 * with one, until dom0 closes the pipe. */
static void guest(unsigned domid, int to_dom0, int from_dom0)
{
    char spec[16], err[256];
    struct pv_gntshr *s;
    struct pv_evtchn *e;
    uint32_t refs[PAGES];
    int port;
    char c;

    snprintf(spec, sizeof(spec), "%u", domid);
    setenv("XENSIM_DOMID", spec, 1);
    if (pv_platform_init(NULL, err, sizeof(err)) < 0) {
        fprintf(stderr, "platform-bench: %s\n", err);
        exit(1);
    }
    s = pv_gntshr_open();
    e = pv_evtchn_open();
    if (!s || !e || !pv_gntshr_share(s, 0, PAGES, refs, true))
        die("guest handles");
    port = pv_evtchn_bind_unbound(e, 0);
    if (port < 0)
        die("bind_unbound");
    xwrite(to_dom0, refs, sizeof(refs));
    xwrite(to_dom0, &port, sizeof(port));
    /* The ping-pong, until dom0 writes to the pipe; then wait until dom0
     * has copied too (it closes the pipe). */
    for (;;) {
        struct pollfd p[2] = {{.fd = pv_evtchn_fd(e), .events = POLLIN},
                              {.fd = from_dom0, .events = POLLIN}};
        if (poll(p, 2, -1) < 0 || p[1].revents)
            break;
        port = pv_evtchn_pending(e);
        if (port < 0)
            continue;
        pv_evtchn_unmask(e, (uint32_t)port);
        pv_evtchn_notify(e, (uint32_t)port);
    }
    while (read(from_dom0, &c, 1) > 0)
        ;
    pv_evtchn_close(e);
    pv_gntshr_close(s);
    exit(0);
}

static void bench_events(struct pv_evtchn *e, int port, double secs)
{
    unsigned long n = 0;
    double t0 = now(), t;

    do {
        for (int i = 0; i < 100; i++, n++) {
            pv_evtchn_notify(e, (uint32_t)port);
            if (take_event(e) != port)
                die("ping-pong: no answer");
        }
        t = now() - t0;
    } while (t < secs);
    printf("PLATFORM evtchn_roundtrip_us %.2f us (notify, wake, answer: one round trip)\n",
           t / (double)n * 1e6);
}

static void bench_copy(struct pv_gnt *g, unsigned domid, const uint32_t *refs, uint32_t batch,
                       uint16_t len, double secs)
{
    static xengnttab_grant_copy_segment_t segs[PAGES];
    static char buf[PAGES * 4096];
    unsigned long n = 0;
    double t0 = now(), t;

    memset(buf, 0x5a, sizeof(buf));
    do {
        for (int i = 0; i < 100; i++) {
            for (uint32_t k = 0; k < batch; k++) {
                segs[k] = (xengnttab_grant_copy_segment_t){
                    .source.virt = buf + k * 4096,
                    .dest.foreign = {.ref = refs[k], .offset = 0, .domid = (uint16_t)domid},
                    .len = len,
                    .flags = GNTCOPY_dest_gref,
                };
            }
            if (pv_gnt_copy(g, batch, segs) < 0)
                die("grant copy");
            for (uint32_t k = 0; k < batch; k++)
                if (segs[k].status != GNTST_okay) {
                    fprintf(stderr, "platform-bench: copy status %d\n", segs[k].status);
                    exit(1);
                }
            n += batch;
        }
        t = now() - t0;
    } while (t < secs);
    printf("PLATFORM gntcopy_%ux%u %.0f segments/s (%.2f GB/s; batches of %u)\n", batch, len,
           (double)n / t, (double)n * len / t / 1e9, batch);
}

int main(int argc, char **argv)
{
    unsigned domid = argc > 1 ? (unsigned)atoi(argv[1]) : 0;
    double secs = argc > 2 ? atof(argv[2]) : 2;
    int up[2], down[2], port, dport, status;
    uint32_t refs[PAGES];
    char err[256], c = 0;
    struct pv_evtchn *e;
    struct pv_gnt *g;
    pid_t pid;

    if (domid == 0 || secs <= 0) {
        fprintf(stderr, "usage: XENSIM_DIR=DIR platform-bench DOMID [SECONDS]\n");
        return 2;
    }
    if (pipe(up) < 0 || pipe(down) < 0)
        die("pipe");
    pid = fork();
    if (pid < 0)
        die("fork");
    if (pid == 0) {
        close(up[0]);
        close(down[1]);
        guest(domid, up[1], down[0]);
    }
    close(up[1]);
    close(down[0]);
    unsetenv("XENSIM_DOMID");
    if (pv_platform_init(NULL, err, sizeof(err)) < 0) {
        fprintf(stderr, "platform-bench: %s\n", err);
        return 1;
    }
    xread(up[0], refs, sizeof(refs));
    xread(up[0], &port, sizeof(port));
    e = pv_evtchn_open();
    g = pv_gnt_open();
    if (!e || !g)
        die("dom0 handles");
    dport = pv_evtchn_bind_interdomain(e, domid, (uint32_t)port);
    if (dport < 0 || take_event(e) != dport) /* the binder's own event */
        die("bind_interdomain");
    bench_events(e, dport, secs);
    xwrite(down[1], &c, 1);                     /* the guest stops answering */
    bench_copy(g, domid, refs, 32, 4096, secs); /* a blkback 128 KiB request */
    bench_copy(g, domid, refs, 1, 1500, secs);  /* a netback frame */
    pv_gnt_close(g);
    pv_evtchn_close(e);
    close(down[1]);
    waitpid(pid, &status, 0);
    return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : 1;
}
