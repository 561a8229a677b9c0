/* The CLI's side of DIR/ctl.sock. */
#include "xensim.h"

#include "hv/hv_proto.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

const char *xsim_cli_dir(const char *opt_dir)
{
    const char *dir = opt_dir ? opt_dir : getenv("XENSIM_DIR");

    if (!dir || !*dir) {
        fprintf(stderr, "xensim: no xensim directory: give --dir DIR or set XENSIM_DIR\n");
        return NULL;
    }
    return dir;
}

static int ctl_connect(const char *dir)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    int fd;

    if ((size_t)snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/%s", dir, CTL_SOCK_NAME) >=
        sizeof(sa.sun_path)) {
        errno = ENAMETOOLONG;
        return -1;
    }
    fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
        int e = errno;
        close(fd);
        errno = e;
        return -1;
    }
    return fd;
}

static int exchange(int fd, const struct ctl_req *req, const int *fdin, unsigned nfdin,
                    struct ctl_rep *rep, void *items, size_t items_len, int *fdout)
{
    struct ctl_dom buf[CTL_MAX_DOMS + 8];
    char *msg = (char *)buf;
    unsigned nfds = 0;
    int rfd = -1;
    ssize_t n;

    if (hv_send_msg(fd, req, sizeof(*req), NULL, 0, fdin, nfdin, 0) < 0)
        return -1;
    n = hv_recv_msg(fd, msg, sizeof(buf), &rfd, 1, &nfds, 0);
    if (n < (ssize_t)sizeof(*rep)) {
        if (nfds)
            close(rfd);
        errno = n < 0 ? errno : EPIPE;
        return -1;
    }
    memcpy(rep, msg, sizeof(*rep));
    rep->msg[sizeof(rep->msg) - 1] = 0;
    if (items)
        memcpy(items, msg + sizeof(*rep),
               (size_t)n - sizeof(*rep) < items_len ? (size_t)n - sizeof(*rep) : items_len);
    if (fdout && nfds)
        *fdout = rfd;
    else if (nfds)
        close(rfd);
    return 0;
}

bool xsim_ctl_alive(const char *dir)
{
    struct ctl_req req = {.op = CTL_PING};
    struct ctl_rep rep;
    int fd = ctl_connect(dir);
    bool ok;

    if (fd < 0)
        return false;
    ok = exchange(fd, &req, NULL, 0, &rep, NULL, 0, NULL) == 0 && rep.err == 0;
    close(fd);
    return ok;
}

int xsim_ctl_call(const char *dir, const struct ctl_req *req, struct ctl_rep *rep, void *items,
                  size_t items_len, int *fdout)
{
    return xsim_ctl_call_fds(dir, req, NULL, 0, rep, items, items_len, fdout);
}

int xsim_ctl_call_fds(const char *dir, const struct ctl_req *req, const int *fdin, unsigned nfdin,
                      struct ctl_rep *rep, void *items, size_t items_len, int *fdout)
{
    int fd = ctl_connect(dir);

    if (fd < 0) {
        fprintf(stderr, "xensim: no xensim running in %s (%s)\n", dir, strerror(errno));
        return -1;
    }
    if (exchange(fd, req, fdin, nfdin, rep, items, items_len, fdout) < 0) {
        fprintf(stderr, "xensim: lost the daemon in %s (%s)\n", dir, strerror(errno));
        close(fd);
        return -1;
    }
    close(fd);
    if (rep->err) {
        fprintf(stderr, "xensim: %s\n", rep->msg[0] ? rep->msg : strerror(rep->err));
        return -1;
    }
    return 0;
}
