/* pvback-bench-tap-relay GUEST-TAP BRIDGE-TAP: the net bench's reference
 * path. It creates two taps (virtio headers, checksum and TSO offloads, as
 * the simulated guest's netfront and pvback-net set theirs) and forwards
 * every frame from one to the other in one process: a read and a write per
 * frame, no ring, no grant copy, no event channel, no second process.
 *
 * Why: through pvback-net a frame is read from the simulated guest's tap
 * and written to the bridge's tap, as here, plus the Xen protocol between.
 * The same iperf3 run through this relay shows what a tap-backed simulated
 * guest can carry on this machine at best, so the bench can tell what the
 * simulation costs from what pvback-net costs (docs/netback.md,
 * "Throughput"). The caller moves GUEST-TAP into the guest's namespace,
 * attaches BRIDGE-TAP to the bridge and brings both up; the open file
 * descriptors follow the devices. Prints "ready" once both exist; runs until
 * SIGTERM or SIGINT. */
#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

/* A virtio header and the largest GSO frame. */
#define FRAME_MAX (12 + 65536 + 4)
/* Frames forwarded from one tap before the other gets its turn. */
#define BATCH 64

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
    (void)sig;
    stop = 1;
}

static int tap_open(const char *name)
{
    int fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) {
        fprintf(stderr, "tap-relay: /dev/net/tun: %s\n", strerror(errno));
        return -1;
    }
    struct ifreq ifr;
    memset(&ifr, 0, sizeof(ifr));
    ifr.ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR;
    snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
    unsigned offload = TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6;
    if (ioctl(fd, TUNSETIFF, &ifr) < 0 || ioctl(fd, TUNSETOFFLOAD, (unsigned long)offload) < 0) {
        fprintf(stderr, "tap-relay: tap %s: %s\n", name, strerror(errno));
        close(fd);
        return -1;
    }
    return fd;
}

/* Forwards up to BATCH frames from one tap to the other. A frame the
 * other tap refuses is dropped, as a full queue drops it. */
static int forward(int from, int to, unsigned char *buf)
{
    for (int i = 0; i < BATCH; i++) {
        ssize_t n = read(from, buf, FRAME_MAX);
        if (n < 0)
            return errno == EAGAIN || errno == EINTR ? 0 : -1;
        if (write(to, buf, (size_t)n) < 0 && errno != EAGAIN && errno != EINTR && errno != EIO)
            return -1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: pvback-bench-tap-relay GUEST-TAP BRIDGE-TAP\n");
        return 2;
    }
    int fds[2] = {tap_open(argv[1]), tap_open(argv[2])};
    if (fds[0] < 0 || fds[1] < 0)
        return 1;
    struct sigaction sa = {.sa_handler = on_signal};
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    static unsigned char buf[FRAME_MAX];
    printf("ready\n");
    fflush(stdout);
    while (!stop) {
        struct pollfd pfd[2] = {{.fd = fds[0], .events = POLLIN}, {.fd = fds[1], .events = POLLIN}};
        if (poll(pfd, 2, 500) < 0) {
            if (errno == EINTR)
                continue;
            fprintf(stderr, "tap-relay: poll: %s\n", strerror(errno));
            return 1;
        }
        for (int i = 0; i < 2; i++) {
            if ((pfd[i].revents & POLLIN) && forward(fds[i], fds[1 - i], buf) < 0) {
                fprintf(stderr, "tap-relay: forwarding: %s\n", strerror(errno));
                return 1;
            }
        }
    }
    return 0;
}
