/* What the remote storage drivers (storage_iscsi.c, storage_nfs.c) share:
 * the wakeup they give the backend's event loop, per-store settings, the
 * pool of commands, and the bookkeeping of a lost session (when it went
 * down, reconnect attempts, the timeout, the parked work re-issued or
 * failed once it is decided).
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

#include "storage.h"
#include "storage_url.h"

#define PV_REMOTE_TICK_MS         1000u
#define PV_REMOTE_DEFAULT_TIMEOUT 60u    /* seconds a lost server may stay away */
#define PV_REMOTE_CONNECT_TIMEOUT 10     /* seconds for the first connection */
#define PV_REMOTE_RETRY_MS        3000u  /* a reconnect attempt silent this long is redone */
#define PV_REMOTE_RETRY_MAX_MS    60000u /* ...each redo doubling it, up to this */

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

/* A link of the drivers' intrusive lists: the pool's free list and the list
 * of work parked while there is no session. */
struct pv_remote_link {
    struct pv_remote_link *next;
};
#define PV_REMOTE_CONTAINER(link, type, member)                                                    \
    ((type *)(void *)((char *)(link)-offsetof(type, member)))

/* The state every remote store embeds first (its own base first in turn,
 * so that storage.c's casts hold). */
struct pv_remote_store {
    struct pv_storage base;
    struct pv_remote_poll poll;
    char name[PV_URL_PATH_MAX + 16]; /* the URL without password, for messages */
    const char *peer;                /* "target", "server": for messages */
    unsigned int timeout_s;          /* the reconnect timeout */
    uint64_t down_since_ms;          /* 0: the session is up */
    uint64_t attempt_ms;             /* when the current reconnect attempt started */
    unsigned int attempt_window_ms;  /* how long it may stay silent; 0: PV_REMOTE_RETRY_MS */
    bool gave_up;                    /* down longer than the timeout: requests fail at once */
    struct pv_remote_link *parked;   /* work waiting for a session */
    unsigned int completed;          /* callbacks run during this reap */
    /* The commands: depth of cmd_size bytes, each starting with its link. */
    char *cmds;
    size_t cmd_size;
    unsigned int ncmds;
    struct pv_remote_link *free_cmds;
};

/* Allocates a zeroed store of size bytes (the driver's struct) for p's URL:
 * name, peer, timeout set, no fds yet. NULL with err. */
void *pv_remote_store_new(size_t size, const struct pv_storage_params *p, const char *peer,
                          char *err, size_t errlen);
/* Once connected: the pool of depth commands of cmd_size bytes (zeroed; the
 * first member of each is its struct pv_remote_link) and the epoll set with
 * efd. 0, or -1 with err. */
int pv_remote_store_ready(struct pv_remote_store *r, int efd, unsigned int depth, size_t cmd_size,
                          char *err, size_t errlen);
/* Frees the pool and the epoll set (the driver frees its own per-command
 * buffers first, see pv_remote_cmd_at) and the store. */
void pv_remote_store_free(struct pv_remote_store *r);
/* Command i of the pool, or NULL past the end. */
void *pv_remote_cmd_at(struct pv_remote_store *r, unsigned int i);
void *pv_remote_cmd_get(struct pv_remote_store *r); /* NULL: all in use */
void pv_remote_cmd_put(struct pv_remote_store *r, void *cmd);

/* pv_storage_ops.poll_fd of every remote driver. */
int pv_remote_store_poll_fd(struct pv_storage *s);
/* The start of a driver's reap: resets completed, reads the epoll set. */
void pv_remote_store_begin_reap(struct pv_remote_store *r, int *sock_revents, bool *tick);

/* Past the timeout with no session, submit fails a request at once (its
 * callback runs from the next reap) rather than hold the guest's request
 * for a server that may never come back: true when it did. */
bool pv_remote_store_refused(struct pv_remote_store *r, struct pv_storage_req *req);

/* The session is lost (why: the library's error): logged once a loss. */
void pv_remote_session_lost(struct pv_remote_store *r, const char *why);
/* The session is up again: logged when it had been lost, timeout reset. */
void pv_remote_session_back(struct pv_remote_store *r);
/* While down, once a tick: true when the timeout passed just now (logged);
 * the driver then fails what waits (pv_remote_unpark). */
bool pv_remote_session_expired(struct pv_remote_store *r);
/* Whether to start a reconnect attempt now: none is under way (attempting
 * false), or the one under way has not called back within its window (a
 * connect to a host that is not there may never report) and is abandoned.
 * The window starts at PV_REMOTE_RETRY_MS and doubles with each abandoned
 * attempt (up to PV_REMOTE_RETRY_MAX_MS), so that a login slower than the
 * window (a loaded host, a process under valgrind) fits in a later one; it
 * starts over when the session is back. The window has nothing to do with
 * the reconnect timeout, which pv_remote_session_expired() applies to the
 * waiting requests whatever the attempts do. When true, the new attempt's
 * clock starts. */
bool pv_remote_retry_due(struct pv_remote_store *r, bool attempting);

/* Parks work until there is a session again. */
void pv_remote_park(struct pv_remote_store *r, struct pv_remote_link *l);
/* Takes the parked list and calls again(l, fail) for each: fail is true
 * past the timeout (the driver completes it with EIO), false when it
 * is to be re-issued on the fresh session. */
void pv_remote_unpark(struct pv_remote_store *r,
                      void (*again)(struct pv_remote_link *l, bool fail));

#endif
