/* pvback-ctl's commands and the socket client they share (ctl_main.c is
 * the command line and `status`; ctl_upgrade.c is `upgrade`). */
#ifndef PVBACK_CTL_CMD_H
#define PVBACK_CTL_CMD_H

/* Connects to the Unix socket at path, sends request (if not NULL), and
 * reads the whole answer until the peer closes. NULL with errno on failure
 * (EACCES: a socket only root may use). A 2 s receive timeout guards
 * against a wedged peer. The answer is malloc'ed and NUL-terminated. */
char *ctl_socket_request(const char *path, const char *request);

/* pvback-ctl upgrade: kind "vbd"/"vbd3"/"vif" or NULL for all, domid -1 for
 * all. Returns the exit status. */
int ctl_upgrade(const char *run_dir, const char *kind, int domid);

#endif
