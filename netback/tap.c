/* Tap devices for vifs; see tap.h. */
#include "tap.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

int tap_vif_name(char name[IFNAMSIZ], unsigned domid, unsigned handle)
{
    int n = snprintf(name, IFNAMSIZ, "vif%u.%u", domid, handle);
    return n > 0 && n < IFNAMSIZ ? 0 : -1;
}

/* Opens one queue of the tap. */
static int open_queue(const char *name, char *err, size_t errlen)
{
    int fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) {
        int e = errno;
        snprintf(err, errlen, "open /dev/net/tun: %s", strerror(e));
        return -e;
    }
    struct ifreq ifr;
    memset(&ifr, 0, sizeof(ifr));
    ifr.ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR | IFF_MULTI_QUEUE;
    snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
    int hdr_len = (int)TAP_VNET_HDR_LEN;
    if (ioctl(fd, TUNSETIFF, &ifr) < 0 || ioctl(fd, TUNSETVNETHDRSZ, &hdr_len) < 0) {
        int e = errno;
        snprintf(err, errlen, "tap %s: %s", name, strerror(e));
        close(fd);
        return -e;
    }
    /* TUNSETIFF attaches to an existing tap of that name if there is one:
     * a name held by someone else must not be shared. */
    if (strcmp(ifr.ifr_name, name) != 0) {
        snprintf(err, errlen, "tap %s: kernel named it %s", name, ifr.ifr_name);
        close(fd);
        return -EEXIST;
    }
    return fd;
}

int tap_open(struct tap *t, const char *name, unsigned nqueues, char *err, size_t errlen)
{
    memset(t, 0, sizeof(*t));
    for (unsigned i = 0; i < TAP_MAX_QUEUES; i++)
        t->fds[i] = -1;
    if (strlen(name) >= IFNAMSIZ || !*name) {
        snprintf(err, errlen, "tap name '%s' is not a valid interface name", name);
        return -EINVAL;
    }
    if (if_nametoindex(name) != 0) {
        snprintf(err, errlen, "tap %s: an interface of that name exists already", name);
        return -EEXIST;
    }
    snprintf(t->name, sizeof(t->name), "%s", name);
    int r = tap_set_queues(t, nqueues, err, errlen);
    if (r)
        tap_close(t);
    return r;
}

int tap_set_queues(struct tap *t, unsigned nqueues, char *err, size_t errlen)
{
    if (nqueues < 1 || nqueues > TAP_MAX_QUEUES) {
        snprintf(err, errlen, "tap %s: %u queues (must be 1 to %d)", t->name, nqueues,
                 TAP_MAX_QUEUES);
        return -EINVAL;
    }
    while (t->nqueues > nqueues) {
        close(t->fds[--t->nqueues]);
        t->fds[t->nqueues] = -1;
    }
    while (t->nqueues < nqueues) {
        int fd = open_queue(t->name, err, errlen);
        if (fd < 0)
            return fd;
        t->fds[t->nqueues++] = fd;
    }
    return 0;
}

int tap_set_offload(const struct tap *t, unsigned tun_flags)
{
    /* The offload setting is per device; any queue's fd sets it. */
    if (t->nqueues == 0)
        return -EBADF;
    if (ioctl(t->fds[0], TUNSETOFFLOAD, (unsigned long)tun_flags) < 0)
        return -errno;
    return 0;
}

void tap_close(struct tap *t)
{
    for (unsigned i = 0; i < TAP_MAX_QUEUES; i++) {
        if (t->fds[i] >= 0)
            close(t->fds[i]);
        t->fds[i] = -1;
    }
    t->nqueues = 0;
}
