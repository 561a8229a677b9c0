/* xensim: the simulated Xen hypervisor (daemon) and its xl-like CLI. */
#include "xensim.h"

#include "log.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void usage(FILE *out)
{
    fprintf(out, "usage: xensim [--dir DIR] COMMAND [ARGS]\n"
                 "  start [--foreground]         start the simulator (DIR is created if needed)\n"
                 "  stop                         stop it and everything it started\n"
                 "  create CFG [key=value ...]   create a domain from an xl config; prints its id\n"
                 "  destroy NAME|DOMID           destroy a domain\n"
                 "  shutdown [-w|--wait] NAME|DOMID  ask the guest to power off; -w: until it\n"
                 "                               is gone (else it is destroyed in the background)\n"
                 "  migrate NAME|DOMID DIR2 [--netns NS]  move a running guest to the xensim\n"
                 "                               in DIR2 (whose dom0 network is namespace NS)\n"
                 "  list                         list the domains, like xl list\n"
                 "  dump                         print the xenstore tree and hypervisor state\n"
                 "  exec NAME|DOMID -- CMD ...   run CMD as that domain\n"
                 "DIR comes from --dir (before or after COMMAND), else $XENSIM_DIR.\n");
}

int main(int argc, char **argv)
{
    const char *opt_dir = NULL, *cmd = NULL, *dir;
    char *args[argc + 1];
    int nargs = 0, i;
    bool foreground = false;

    pv_log_init("xensim");
    signal(SIGPIPE, SIG_IGN);
    /* --dir may come anywhere before "--"; the rest are the command's. */
    for (i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--")) {
            for (; i < argc; i++)
                args[nargs++] = argv[i];
            break;
        }
        if (!strcmp(argv[i], "--dir") && i + 1 < argc)
            opt_dir = argv[++i];
        else if (!strncmp(argv[i], "--dir=", 6))
            opt_dir = argv[i] + 6;
        else if (!strcmp(argv[i], "--foreground"))
            foreground = true;
        else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
            usage(stdout);
            return 0;
        } else if (!cmd)
            cmd = argv[i];
        else
            args[nargs++] = argv[i];
    }
    args[nargs] = NULL;
    if (!cmd) {
        usage(stderr);
        return 2;
    }
    /* The CLI says what matters on stdout/stderr; the toolstack's progress
     * lines are for PVBACK_LOG=info. The daemon logs at info. */
    if (strcmp(cmd, "start") && !getenv("PVBACK_LOG"))
        pv_log_set_level(PV_LOG_WARN);
    dir = xsim_cli_dir(opt_dir);
    if (!dir)
        return 2;

    if (!strcmp(cmd, "start"))
        return xsim_start(dir, foreground) == 0 ? 0 : 1;
    if (!strcmp(cmd, "stop"))
        return xsim_cmd_stop(dir);
    if (!strcmp(cmd, "create"))
        return xsim_cmd_create(dir, nargs, args);
    if (!strcmp(cmd, "destroy") && nargs == 1)
        return xsim_cmd_destroy(dir, args[0]);
    if (!strcmp(cmd, "shutdown") && nargs == 1)
        return xsim_cmd_shutdown(dir, args[0], false);
    if (!strcmp(cmd, "shutdown") && nargs == 2 &&
        (!strcmp(args[0], "-w") || !strcmp(args[0], "--wait")))
        return xsim_cmd_shutdown(dir, args[1], true);
    if (!strcmp(cmd, "migrate"))
        return xsim_cmd_migrate(dir, nargs, args);
    if (!strcmp(cmd, "list") && nargs == 0)
        return xsim_cmd_list(dir);
    if (!strcmp(cmd, "dump") && nargs == 0)
        return xsim_cmd_dump(dir);
    if (!strcmp(cmd, "exec") && nargs >= 3 && !strcmp(args[1], "--"))
        return xsim_cmd_exec(dir, args[0], args + 2);
    if (!strcmp(cmd, "_init-dom0"))
        return xsim_cmd_init_dom0(dir);
    fprintf(stderr, "xensim: bad command or arguments: '%s'\n", cmd);
    usage(stderr);
    return 2;
}
