/* Guests' network namespaces (see netns.h). They are made and removed with
 * iproute2's `ip netns`, so that they are the named namespaces every other
 * tool (ip netns exec, pvback-netfront --netns) finds under /run/netns. */
#include "netns.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <spawn.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

#define NETNS_RUN_DIR "/run/netns"
#define MARK_DIR      "netns"

int xsim_netns_name(const char *guest, char *buf, size_t len)
{
    /* IFNAMSIZ-like bound keeps `ip netns` and our paths happy. */
    if (!*guest || strchr(guest, '/') || strlen(guest) > 60)
        return -1;
    return (size_t)snprintf(buf, len, "xs-%s", guest) < len ? 0 : -1;
}

static int run_ip(const char *verb, const char *ns)
{
    char *argv[] = {"ip", "netns", (char *)verb, (char *)ns, NULL};
    pid_t pid;
    int st, e;

    e = posix_spawnp(&pid, "ip", NULL, NULL, argv, environ);
    if (e) {
        fprintf(stderr, "xensim: cannot run ip netns %s %s: %s\n", verb, ns, strerror(e));
        return -1;
    }
    while (waitpid(pid, &st, 0) < 0)
        if (errno != EINTR)
            return -1;
    return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : -1;
}

static void mark_path(const char *dir, const char *guest, char *buf, size_t len)
{
    snprintf(buf, len, "%s/" MARK_DIR "/%s", dir, guest);
}

int xsim_netns_create(const char *dir, const char *guest)
{
    char ns[80], path[PATH_MAX];
    int fd;

    if (xsim_netns_name(guest, ns, sizeof(ns)) < 0) {
        fprintf(stderr, "xensim: guest name '%s' cannot name a network namespace\n", guest);
        return -1;
    }
    snprintf(path, sizeof(path), NETNS_RUN_DIR "/%s", ns);
    if (access(path, F_OK) == 0)
        return 0;
    if (run_ip("add", ns) < 0) {
        fprintf(stderr, "xensim: cannot create network namespace %s\n", ns);
        return -1;
    }
    snprintf(path, sizeof(path), "%s/" MARK_DIR, dir);
    if (mkdir(path, 0700) < 0 && errno != EEXIST)
        return 1; /* made but unmarked: the kernel still removes it at halt */
    mark_path(dir, guest, path, sizeof(path));
    fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
    if (fd >= 0)
        close(fd);
    return 1;
}

void xsim_netns_remove_owned(const char *dir, const char *guest)
{
    char ns[80], path[PATH_MAX];

    if (xsim_netns_name(guest, ns, sizeof(ns)) < 0)
        return;
    mark_path(dir, guest, path, sizeof(path));
    if (access(path, F_OK) < 0)
        return;
    snprintf(path, sizeof(path), NETNS_RUN_DIR "/%s", ns);
    if (access(path, F_OK) == 0 && run_ip("del", ns) < 0)
        fprintf(stderr, "xensim: cannot remove network namespace %s\n", ns);
    mark_path(dir, guest, path, sizeof(path));
    unlink(path);
}

void xsim_netns_remove_all_owned(const char *dir)
{
    char path[PATH_MAX];
    struct dirent *e;
    DIR *d;

    snprintf(path, sizeof(path), "%s/" MARK_DIR, dir);
    d = opendir(path);
    if (!d)
        return;
    while ((e = readdir(d)))
        if (e->d_name[0] != '.')
            xsim_netns_remove_owned(dir, e->d_name);
    closedir(d);
    rmdir(path);
}

void xsim_netns_move_owned(const char *dir, const char *dir2, const char *guest)
{
    char from[PATH_MAX], to[PATH_MAX];
    int fd;

    mark_path(dir, guest, from, sizeof(from));
    if (access(from, F_OK) < 0)
        return;
    snprintf(to, sizeof(to), "%s/" MARK_DIR, dir2);
    if (mkdir(to, 0700) < 0 && errno != EEXIST)
        return;
    mark_path(dir2, guest, to, sizeof(to));
    fd = open(to, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0)
        return;
    close(fd);
    unlink(from);
    snprintf(from, sizeof(from), "%s/" MARK_DIR, dir);
    rmdir(from); /* only when no other guest's marker is left */
}
