/* The event loop every pvback daemon runs: epoll over file descriptors, with
 * timers (one timerfd each) and signals (one signalfd per loop). Callbacks may
 * add or remove any watcher, including their own, while the loop dispatches. */
#ifndef PVBACK_LOOP_H
#define PVBACK_LOOP_H

#include <stdint.h>
#include <sys/epoll.h>

struct pv_loop;
struct pv_watch;
struct pv_timer;

typedef void (*pv_fd_cb)(int fd, uint32_t events, void *arg);
typedef void (*pv_timer_cb)(struct pv_timer *timer, void *arg);
typedef void (*pv_signal_cb)(int signo, void *arg);

struct pv_loop *pv_loop_new(void);
/* Frees the loop and every watcher still registered (their fds are not closed). */
void pv_loop_free(struct pv_loop *loop);

/* Watches fd for events (EPOLLIN, EPOLLOUT, ...). Returns NULL with errno set. */
struct pv_watch *pv_loop_add_fd(struct pv_loop *loop, int fd, uint32_t events, pv_fd_cb cb,
                                void *arg);
int pv_watch_modify(struct pv_watch *w, uint32_t events);
/* Stops watching; the fd itself stays open. Safe from inside any callback. */
void pv_watch_remove(struct pv_watch *w);

/* A timer that calls cb after first_ms, then every interval_ms (0: once). */
struct pv_timer *pv_timer_new(struct pv_loop *loop, pv_timer_cb cb, void *arg);
int pv_timer_arm(struct pv_timer *t, uint64_t first_ms, uint64_t interval_ms);
int pv_timer_disarm(struct pv_timer *t);
void pv_timer_free(struct pv_timer *t);

/* Delivers signo through the loop (the signal is blocked for the thread). */
int pv_loop_add_signal(struct pv_loop *loop, int signo, pv_signal_cb cb, void *arg);

/* SIGTERM and SIGINT stop the loop (logged), the daemons' usual shutdown. */
int pv_loop_stop_on_signals(struct pv_loop *loop);

/* Runs until pv_loop_stop(); returns 0, or -1 with errno on an epoll failure. */
int pv_loop_run(struct pv_loop *loop);
/* Runs one round: waits at most timeout_ms (-1: forever) and dispatches. */
int pv_loop_run_once(struct pv_loop *loop, int timeout_ms);
void pv_loop_stop(struct pv_loop *loop);

/* Milliseconds of CLOCK_MONOTONIC. */
uint64_t pv_now_ms(void);

#endif
