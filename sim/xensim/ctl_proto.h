/* The control protocol between the xensim CLI and its daemon, on
 * DIR/ctl.sock (SOCK_SEQPACKET, one request and one reply per message; the
 * directory's permissions keep it to the user who started xensim).
 * The CLI plays xl: it parses configs and writes xenstore itself through
 * libxenstore; the daemon plays the hypervisor and xenstored: it creates
 * and destroys domains, and owns the processes that run "inside" them. */
#ifndef XENSIM_CTL_PROTO_H
#define XENSIM_CTL_PROTO_H

#include <stdint.h>

#define CTL_SOCK_NAME "ctl.sock"
#define CTL_PID_NAME  "xensim.pid"
#define CTL_LOG_NAME  "xensim.log"
#define CTL_MAX_DOMS  1024u
/* Processes CTL_RELEASE reports at most. */
#define CTL_MAX_PROCS 1024u

enum ctl_op {
    CTL_PING = 1,
    /* domid (-1: the next free one, as Xen picks), mem_mb. Reply: domid. */
    CTL_CREATE,
    /* Pauses a domain: SIGSTOP to its processes (libxl pauses first). */
    CTL_PAUSE,
    /* Kills the domain's processes, releases it in xenstored, destroys it. */
    CTL_DESTROY,
    /* Reply: count struct ctl_dom items. */
    CTL_LIST,
    /* Reply: one fd (a memfd holding the xenstore tree and the hv state). */
    CTL_DUMP,
    /* pid runs as domain domid: killed when that domain or xensim goes. */
    CTL_ADOPT,
    /* Kills every adopted process, then the daemon exits. */
    CTL_STOP,
    /* Sends sig to the domain's processes (a guest's init at poweroff). */
    CTL_SIGNAL,
    /* Migration, source side: hands out the domain's memory (reply: one fd,
     * mem_mb in count); see hv_domain_save. */
    CTL_SAVE,
    /* Migration, source side: the guest's grants (reply: one fd, a memfd of
     * count struct hv_share_item); see hv_domain_save_grants. */
    CTL_SAVE_GRANTS,
    /* Migration, destination side: creates domain domid (-1: the next free
     * one) on the memory sent along (fds: the memory, the grants' memfd) of
     * mem_mb MiB, with count grants to keep. Reply: domid. */
    CTL_RESTORE,
    /* Migration, source side: forgets the domain's processes without
     * signalling them (the destination adopts them). Reply: count int32
     * pids. */
    CTL_RELEASE,
};

struct ctl_req {
    uint32_t op;
    int32_t domid;
    uint64_t mem_mb;
    int32_t pid;
    uint32_t sig;   /* CTL_SIGNAL */
    uint32_t count; /* CTL_RESTORE: grants */
};

struct ctl_rep {
    int32_t err; /* 0 or an errno */
    uint32_t domid;
    uint32_t count;
    uint32_t pad;
    char msg[256]; /* why, when err != 0 */
};

struct ctl_dom {
    uint32_t domid;
    uint32_t nprocs; /* processes running as it (xensim exec) */
    uint64_t mem_mb;
};

#endif
