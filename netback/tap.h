/* The host side of a vif: one tap device named like Linux netback's
 * interface, vif<domid>.<handle>, opened with IFF_VNET_HDR so that a
 * virtio_net_hdr before each frame carries GSO and checksum offload both
 * ways, and with IFF_MULTI_QUEUE (one fd per queue) for multi-queue vifs.
 * The tap is not persistent: it disappears when the last fd closes, so a
 * backend that dies leaves no interface behind. */
#ifndef PVBACK_NETBACK_TAP_H
#define PVBACK_NETBACK_TAP_H

#include <linux/virtio_net.h>
#include <net/if.h>
#include <stddef.h>

/* Queues of one vif: Linux netback's default upper bound for
 * multi-queue-max-queues is the number of CPUs; this caps it. */
#define TAP_MAX_QUEUES 16
/* Every read and write on the tap starts with this header. */
#define TAP_VNET_HDR_LEN sizeof(struct virtio_net_hdr)

struct tap {
    char name[IFNAMSIZ];
    unsigned nqueues;
    int fds[TAP_MAX_QUEUES]; /* non-blocking, close-on-exec */
};

/* Writes "vif<domid>.<handle>" into name. Returns 0, or -1 when it would
 * not fit an interface name. */
int tap_vif_name(char name[IFNAMSIZ], unsigned domid, unsigned handle);

/* Creates the tap name with nqueues queues (1..TAP_MAX_QUEUES). The tap is
 * always a multi-queue one, so that queues can follow what the frontend
 * negotiates later (tap_set_queues). Returns 0, or -errno with a message in
 * err. The link is left down. */
int tap_open(struct tap *t, const char *name, unsigned nqueues, char *err, size_t errlen);

/* Attaches or detaches queues until there are nqueues (1..TAP_MAX_QUEUES):
 * queue 0 always stays, so the interface survives a reconnect. Returns 0,
 * or -errno with a message in err (the queues opened so far stay). */
int tap_set_queues(struct tap *t, unsigned nqueues, char *err, size_t errlen);

/* Tells the kernel which offloads this side can take in frames it reads
 * from the tap: TUN_F_CSUM, TUN_F_TSO4, TUN_F_TSO6, TUN_F_TSO_ECN (as the
 * guest negotiated them). Returns 0 or -errno. */
int tap_set_offload(const struct tap *t, unsigned tun_flags);

/* Closes every queue (the interface goes away with the last one). */
void tap_close(struct tap *t);

#endif
