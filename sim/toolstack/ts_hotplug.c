/* Hotplug scripts, run as libxl runs them (see ts_hotplug.h). */
#include "toolstack/ts_hotplug.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "loop.h"

void ts_hotplug_argv(const struct ts_dev *dev, const char *script, bool adding, const char *argv[4])
{
    bool vif = !strcmp(dev->backend_kind, "vif");
    argv[0] = script;
    if (vif) {
        argv[1] = adding ? "online" : "offline";
        argv[2] = "type_if=vif";
        argv[3] = NULL;
    } else {
        argv[1] = adding ? "add" : "remove";
        argv[2] = NULL;
    }
}

int ts_hotplug_env(const struct ts_dev *dev, const char *script, const char *gatewaydev,
                   char *env[8], char *buf, size_t buflen)
{
    size_t used = 0, n = 0;
    char vifname[32];
    struct {
        const char *name, *value;
        char tmp[96];
    } vars[6];
    size_t nvars = 0;

    vars[nvars].name = "script";
    vars[nvars++].value = script;
    vars[nvars].name = "XENBUS_TYPE";
    vars[nvars++].value = dev->backend_kind;
    vars[nvars].name = "XENBUS_PATH";
    snprintf(vars[nvars].tmp, sizeof(vars[nvars].tmp), "backend/%s/%u/%u", dev->backend_kind,
             dev->domid, dev->devid);
    vars[nvars].value = vars[nvars].tmp;
    nvars++;
    vars[nvars].name = "XENBUS_BASE_PATH";
    vars[nvars++].value = "backend";
    if (!strcmp(dev->backend_kind, "vif")) {
        snprintf(vifname, sizeof(vifname), "vif%u.%u", dev->domid, dev->devid);
        vars[nvars].name = "netdev";
        vars[nvars++].value = gatewaydev ? gatewaydev : "";
        vars[nvars].name = "vif";
        vars[nvars++].value = vifname;
    }
    for (size_t i = 0; i < nvars; i++) {
        int w = snprintf(buf + used, buflen - used, "%s=%s", vars[i].name, vars[i].value);
        if (w < 0 || (size_t)w >= buflen - used)
            return -1;
        env[n++] = buf + used;
        used += (size_t)w + 1;
    }
    env[n] = NULL;
    return 0;
}

/* In the child: libxl's stdio (stdin /dev/null, stdout onto stderr), only
 * the standard fds inherited, the extra variables set, then exec. */
static void child_exec(const char *const argv[], char *const env[])
{
    /* its own process group, so that a timeout kills what it started too */
    setpgid(0, 0);
    int nullfd = open("/dev/null", O_RDONLY);
    if (nullfd < 0 || dup2(nullfd, 0) < 0 || dup2(2, 1) < 0)
        _exit(126);
    closefrom(3);
    for (size_t i = 0; env[i]; i++)
        putenv(env[i]);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    execvp(argv[0], (char *const *)argv);
    fprintf(stderr, "xensim: cannot execute hotplug script %s: %s\n", argv[0], strerror(errno));
    _exit(127);
}

int ts_hotplug_run(const char *const argv[], char *const env[], unsigned timeout_ms, char *err,
                   size_t errlen)
{
    char what[600];
    snprintf(what, sizeof(what), "%s %s", argv[0], argv[1]);
    pid_t pid = fork();
    if (pid < 0) {
        snprintf(err, errlen, "unable to fork for %s: %s", what, strerror(errno));
        return -1;
    }
    if (pid == 0)
        child_exec(argv, env);

    uint64_t deadline = pv_now_ms() + timeout_ms;
    int status;
    for (;;) {
        pid_t r = waitpid(pid, &status, WNOHANG);
        if (r == pid)
            break;
        if (r < 0 && errno != EINTR) {
            snprintf(err, errlen, "waitpid for %s: %s", what, strerror(errno));
            return -1;
        }
        if (pv_now_ms() >= deadline) {
            kill(-pid, SIGKILL);
            kill(pid, SIGKILL);
            while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
                ;
            snprintf(err, errlen, "killing execution of %s because of timeout", what);
            return -1;
        }
        /* scripts take milliseconds to seconds: a short sleep costs nothing */
        struct timespec ts = {0, 5 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
        return 0;
    if (WIFEXITED(status))
        snprintf(err, errlen, "%s [%ld] exited with error status %d", what, (long)pid,
                 WEXITSTATUS(status));
    else
        snprintf(err, errlen, "%s [%ld] died due to fatal signal %s", what, (long)pid,
                 strsignal(WTERMSIG(status)));
    return -1;
}
