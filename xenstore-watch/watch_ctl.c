/* pvback-watch's control socket, <run dir>/watch.sock (mode 0600: root only),
 * through which `pvback-ctl upgrade` asks for backends to be replaced by the
 * binaries now installed. One request line per connection:
 *
 *   upgrade KIND DOMID        KIND vbd|vbd3|vif|all, DOMID a number or all
 *
 * answered with one line per process being replaced,
 *
 *   restarting KIND DOMID PID
 *
 * then "end", or "error MESSAGE" for a bad request. The replacement itself
 * is watch_proc_restart's: the process is killed (SIGKILL: why there) and
 * started again from its command as soon as it exited, since its guest
 * still has devices; the successor attaches to the live rings. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "log.h"
#include "status.h"
#include "watch.h"
#include "xs.h"

/* pvback-ctl writes its line at once; a client that does not is dropped
 * after this long, so that it cannot hold the daemon. */
#define CTL_READ_TIMEOUT_MS 1000

/* Carries out one request line, answering on fd line by line (any number
 * of processes; SIGPIPE is ignored and a send timeout is set). */
static void handle(struct watch *w, char *line, int fd)
{
    char verb[16], kind_s[16], dom_s[16];
    int kind = -1;
    uint64_t domid = 0;
    bool all_doms;

    line[strcspn(line, "\r\n")] = '\0';
    if (sscanf(line, "%15s %15s %15s", verb, kind_s, dom_s) != 3 || strcmp(verb, "upgrade")) {
        dprintf(fd, "error unknown request '%.64s' (expected: upgrade KIND DOMID)\n", line);
        return;
    }
    if (strcmp(kind_s, "all") && (kind = watch_kind_from_name(kind_s)) < 0) {
        dprintf(fd, "error kind '%s': expected vbd, vbd3, vif or all\n", kind_s);
        return;
    }
    all_doms = !strcmp(dom_s, "all");
    if (!all_doms && pv_parse_u64(dom_s, 0, 0x7fef, &domid) < 0) {
        dprintf(fd, "error domain '%s': expected a domid or all\n", dom_s);
        return;
    }
    for (struct watch_proc *p = w->procs, *next; p; p = next) {
        next = p->next;
        if ((kind >= 0 && p->kind != (enum watch_kind)kind) || (!all_doms && p->domid != domid))
            continue;
        enum watch_kind k = p->kind;
        uint32_t d = p->domid;
        pid_t pid = watch_proc_restart(w, p);
        if (pid > 0)
            dprintf(fd, "restarting %s %u %ld\n", watch_kind_name(k), d, (long)pid);
    }
    dprintf(fd, "end\n");
}

static void on_client(int fd, uint32_t events, void *arg)
{
    struct watch *w = arg;
    struct timeval tv = {.tv_sec = CTL_READ_TIMEOUT_MS / 1000,
                         .tv_usec = (CTL_READ_TIMEOUT_MS % 1000) * 1000};
    char line[256];
    size_t len = 0;
    (void)events;

    int c = accept4(fd, NULL, NULL, SOCK_CLOEXEC);
    if (c < 0)
        return;
    setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    setsockopt(c, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    while (len + 1 < sizeof(line) && !memchr(line, '\n', len)) {
        ssize_t n = recv(c, line + len, sizeof(line) - 1 - len, 0);
        if (n <= 0)
            break;
        len += (size_t)n;
    }
    line[len] = '\0';
    if (memchr(line, '\n', len))
        handle(w, line, c);
    close(c);
}

int watch_ctl_open(struct watch *w)
{
    char path[sizeof(w->run_dir) + 16];

    snprintf(path, sizeof(path), "%s/watch.sock", w->run_dir);
    w->ctl_fd = pv_unix_listen(path);
    if (w->ctl_fd < 0 ||
        !(w->ctl_watch = pv_loop_add_fd(w->loop, w->ctl_fd, EPOLLIN, on_client, w))) {
        pv_err("control socket %s: %s", path, strerror(errno));
        return -1;
    }
    return 0;
}

void watch_ctl_close(struct watch *w)
{
    char path[sizeof(w->run_dir) + 16];

    if (w->ctl_fd < 0)
        return;
    pv_watch_remove(w->ctl_watch);
    close(w->ctl_fd);
    w->ctl_fd = -1;
    snprintf(path, sizeof(path), "%s/watch.sock", w->run_dir);
    unlink(path);
}
