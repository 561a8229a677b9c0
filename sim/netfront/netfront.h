/* The simulated guest's NIC: a netfront that negotiates like Linux's
 * xen-netfront (rx-copy, rx-notify, scatter-gather, GSO, checksum offload,
 * multi-queue, split event channels) and appears in the guest's network
 * namespace as an ordinary interface: a tap whose frames it moves to and
 * from the rings. It runs as guest N through the platform seam
 * (XENSIM_DOMID=N on xensim), so the backend cannot tell it from a guest
 * kernel; ping and iperf3 in that namespace use it unchanged. */
#ifndef PVBACK_NETFRONT_H
#define PVBACK_NETFRONT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define NF_MAX_QUEUES 8u

struct netfront;

struct netfront_opts {
    uint32_t handle;     /* device/vif/<handle> */
    unsigned queues;     /* wanted (capped by multi-queue-max-queues); 0: 1 */
    bool split;          /* split event channels when the backend offers them */
    bool offloads;       /* sg, GSO and checksum offload; false: none of them */
    const char *ifname;  /* the interface in the guest's namespace; NULL: eth0 */
    unsigned timeout_ms; /* per handshake step; 0: 10000 */
    /* Multicast filtering: with mcast set, request-multicast-control is
     * written and this address is the filter list's one entry (sent as an
     * MCAST_ADD extra-info once connected). */
    const uint8_t *mcast;
    /* Use the control ring when the backend offers it: Toeplitz hashing of
     * IPv4/TCP with a fixed key, every hash mapped to the last queue. RX
     * hashes and queues are then checked and counted (printed at close). */
    bool hash;
};

/* Negotiates up to Connected and creates the interface (in the calling
 * thread's network namespace), up, with the vif's MAC and MTU. NULL with a
 * message in err. */
struct netfront *netfront_open(const struct netfront_opts *opts, char *err, size_t errlen);
/* Moves frames until stop is set (or the backend closes): returns 0 on a
 * stop, -1 with a message when the backend failed or closed the device. */
int netfront_run(struct netfront *f, volatile int *stop, char *err, size_t errlen);
/* Closing, Closed, and everything freed (the interface disappears). */
void netfront_close(struct netfront *f);

#endif
