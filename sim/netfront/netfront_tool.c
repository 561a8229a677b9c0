/* pvback-netfront: the simulated guest's NIC as a program. Run it as guest
 * N (XENSIM_DOMID=N, XENSTORED_PATH=DIR/domN.sock); with --netns NAME it
 * creates the interface inside that network namespace (xensim's guests
 * have xs-<name>), where ping and iperf3 then run.
 *
 *   pvback-netfront [--handle H] [--queues N] [--no-split] [--no-offloads]
 *                   [--netns NAME] [--ifname IF] [--hostile RULE]
 *                   [--mcast-filter MAC] [--hash]
 *
 * --mcast-filter MAC asks the backend to filter multicast frames, with MAC
 * as the only group let through. --hash configures receive hashing over the
 * control ring (netfront.h) and prints per-queue RX counts at the end.
 * --hostile RULE breaks one protocol rule once connected (netfront_hostile.h)
 * and exits 0 when the backend reacted as it must, 1 otherwise; the attacks
 * of netfront_attack.h (double-fetch, event-storm) run until SIGTERM.
 * Prints "connected <ifname> queues=<n>" once the interface is up, then
 * moves frames until SIGTERM/SIGINT (exit 0) or until the backend fails or
 * closes the device (exit 1, with the backend's error). */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "netfront.h"
#include "netfront_attack.h"
#include "netfront_hostile.h"
#include "netfront_priv.h"
#include "platform.h"

static volatile int stop;

static void on_signal(int signo)
{
    (void)signo;
    stop = 1;
}

static int enter_netns(const char *name)
{
    char path[256];
    snprintf(path, sizeof(path), "/run/netns/%s", name);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0 || setns(fd, CLONE_NEWNET) < 0) {
        fprintf(stderr, "pvback-netfront: network namespace %s: %s\n", name, strerror(errno));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    close(fd);
    return 0;
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"handle", required_argument, NULL, 'H'},  {"queues", required_argument, NULL, 'q'},
        {"no-split", no_argument, NULL, 's'},      {"no-offloads", no_argument, NULL, 'o'},
        {"netns", required_argument, NULL, 'n'},   {"ifname", required_argument, NULL, 'i'},
        {"hostile", required_argument, NULL, 'x'}, {"mcast-filter", required_argument, NULL, 'm'},
        {"hash", no_argument, NULL, 'r'},          {NULL, 0, NULL, 0},
    };
    struct netfront_opts o = {.queues = 1, .split = true, .offloads = true};
    const char *netns = NULL, *hostile = NULL;
    uint8_t mcast[6];
    int c;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'H':
            o.handle = (uint32_t)strtoul(optarg, NULL, 10);
            break;
        case 'q':
            o.queues = (unsigned)strtoul(optarg, NULL, 10);
            break;
        case 's':
            o.split = false;
            break;
        case 'o':
            o.offloads = false;
            break;
        case 'n':
            netns = optarg;
            break;
        case 'i':
            o.ifname = optarg;
            break;
        case 'x':
            hostile = optarg;
            break;
        case 'r':
            o.hash = true;
            break;
        case 'm':
            if (sscanf(optarg, "%hhx:%hhx:%hhx:%hhx:%hhx:%hhx", &mcast[0], &mcast[1], &mcast[2],
                       &mcast[3], &mcast[4], &mcast[5]) != 6) {
                fprintf(stderr, "pvback-netfront: --mcast-filter '%s': not a MAC address\n",
                        optarg);
                return 2;
            }
            o.mcast = mcast;
            break;
        default:
            fprintf(stderr, "usage: pvback-netfront [--handle H] [--queues N] [--no-split] "
                            "[--no-offloads] [--netns NAME] [--ifname IF] [--hostile RULE] "
                            "[--mcast-filter MAC]\n");
            return 2;
        }
    }
    char err[512];
    if (pv_platform_init(NULL, err, sizeof(err)) < 0) {
        fprintf(stderr, "pvback-netfront: %s\n", err);
        return 1;
    }
    if (netns && enter_netns(netns) < 0)
        return 1;
    signal(SIGTERM, on_signal);
    signal(SIGINT, on_signal);
    signal(SIGPIPE, SIG_IGN);
    struct netfront *f = netfront_open(&o, err, sizeof(err));
    if (!f) {
        fprintf(stderr, "pvback-netfront: %s\n", err);
        return 1;
    }
    printf("connected %s queues=%u\n", f->ifname, f->nq);
    fflush(stdout);
    int rc;
    if (hostile && nf_attack_known(hostile))
        rc = nf_attack(f, hostile, &stop, err, sizeof(err)) < 0 ? 1 : 0;
    else if (hostile)
        rc = nf_hostile(f, hostile, err, sizeof(err)) < 0 ? 1 : 0;
    else
        rc = netfront_run(f, &stop, err, sizeof(err)) < 0 ? 1 : 0;
    if (rc)
        fprintf(stderr, "pvback-netfront: %s\n", err);
    for (unsigned i = 0; i < f->nq; i++)
        printf("queue %u: rx %llu hashed %llu wrong %llu misrouted %llu\n", i,
               (unsigned long long)f->q[i].rx_frames, (unsigned long long)f->q[i].rx_hashed,
               (unsigned long long)f->q[i].rx_hash_wrong, (unsigned long long)f->q[i].rx_misrouted);
    netfront_close(f);
    return rc;
}
