/* What the remote storage drivers (storage_iscsi.c, storage_nfs.c) share:
 * the wakeup they give the backend's event loop, and per-store settings.
 *
 * A remote driver is not fd-based: its client library owns a socket whose
 * wanted events change as it works, and it needs a periodic tick for
 * reconnecting and timeouts. Both, plus the storage eventfd, sit in a
 * private epoll set; that epoll fd is what pv_storage_fd() returns, readable
 * whenever any of them is, so the loop still watches one fd for EPOLLIN. */
#ifndef PVBACK_STORAGE_REMOTE_H
#define PVBACK_STORAGE_REMOTE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PV_REMOTE_TICK_MS         1000u
#define PV_REMOTE_DEFAULT_TIMEOUT 60u   /* seconds a lost server may stay away */
#define PV_REMOTE_CONNECT_TIMEOUT 10    /* seconds for the first connection */
#define PV_REMOTE_RETRY_MS        3000u /* a reconnect attempt silent this long is redone */

struct pv_remote_poll {
    int epfd;
    int timerfd;
    int sock;             /* -1: none registered */
    uint32_t sock_events; /* epoll events registered for sock */
};

/* Creates the epoll set with efd and a tick timer. 0, or -1 with err. */
int pv_remote_poll_init(struct pv_remote_poll *p, int efd, char *err, size_t errlen);
void pv_remote_poll_fini(struct pv_remote_poll *p);
/* Registers the library's socket (fd < 0: none) for poll(2)-style events
 * (POLLIN/POLLOUT). */
void pv_remote_poll_set_socket(struct pv_remote_poll *p, int fd, int poll_events);
/* Without blocking: the socket's ready events as poll(2) bits, and whether
 * the tick fired since last time. */
void pv_remote_poll_check(struct pv_remote_poll *p, int *sock_revents, bool *tick);

/* Tries a TCP connection to host:port (PV_REMOTE_CONNECT_TIMEOUT at most),
 * so that "cannot reach" errors name the address and the reason before a
 * library reports something vaguer. 0, or -1 with err. */
int pv_remote_probe(const char *host, uint16_t port, char *err, size_t errlen);

/* The reconnect timeout in seconds: the configured value, else
 * $PVBACK_REMOTE_TIMEOUT, else PV_REMOTE_DEFAULT_TIMEOUT. */
unsigned int pv_remote_timeout(unsigned int configured);

#endif
