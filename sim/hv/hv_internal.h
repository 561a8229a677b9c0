/* The hypervisor part's own structures, shared by its files:
 *   hv.c         sockets, connections, message dispatch, dump
 *   hv_domain.c  domains: memory, grant table, frame and ref allocation
 *   hv_grant.c   grant map/unmap/copy/share/unshare
 *   hv_evtchn.c  event channels
 *   hv_gcopy.h   grant checks and copy engine, shared with dom0's clients
 * Everything runs on one thread (the daemon's loop): an operation is atomic
 * with respect to every other client request. What clients touch directly
 * is not: the guest side writing its grant table (handled as Xen does, with
 * a cmpxchg on the entry's flags+domid word), dom0's copies pinning active
 * entries (under each entry's lock, hv_gcopy.h), and event bits in the
 * handles' shared pages (atomic operations, hv_proto.h). */
#ifndef XENSIM_HV_INTERNAL_H
#define XENSIM_HV_INTERNAL_H

#include "hv.h"
#include "hv_gcopy.h"
#include "hv_pidref.h"
#include "hv_proto.h"

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <xen/grant_table.h>

struct pv_watch;
struct hv_conn;

/* Per-ref state the daemon keeps next to the shared entry (Xen's "active
 * grant entry" plus gntalloc's ownership). */
enum hv_gref_state {
    HV_GREF_FREE = 0, /* not handed out by HV_OP_SHARE */
    HV_GREF_SHARED,   /* owned by a live sharing handle */
    HV_GREF_ORPHAN,   /* its handle closed while it was mapped: freed on unpin */
    HV_GREF_CARRIED,  /* shared on the host the domain migrated from: kept (with its
                       * frame) for the guest to take back with HV_OP_RESHARE */
};

/* The pin counts and latched frame/grantee are in the shared active table
 * (struct hv_active, hv_gcopy.h); this is the daemon's own part. */
struct hv_gref {
    uint8_t state; /* enum hv_gref_state */
    bool carried;  /* during HV_OP_RESHARE: it was HV_GREF_CARRIED (undo) */
    uint32_t share_frame;
    struct hv_conn *owner; /* sharing handle (HV_GREF_SHARED) */
};

enum hv_port_state {
    HV_PORT_FREE = 0,
    HV_PORT_UNBOUND,     /* waiting for remote_domid to bind */
    HV_PORT_INTERDOMAIN, /* connected to (remote_domid, remote_port) */
};

/* A port's pending, mask and ready bits live in its owner's shared page
 * (struct hv_ev_shared), not here. */
struct hv_port {
    uint8_t state;
    uint16_t remote_domid;
    uint32_t remote_port;
    struct hv_conn *owner;
};

struct hv_domain {
    struct hv *hv;
    unsigned domid;
    uint64_t mem_mb;
    uint64_t nr_frames;
    int mem_fd;    /* the guest's memory, read-write */
    int mem_ro_fd; /* the same memory reopened read-only, for read-only maps */
    uint8_t *mem;
    int gt_fd;
    grant_entry_v1_t *gt; /* shared with the guest side, which writes it */
    int act_fd;           /* the active table, shared with dom0's processes */
    struct hv_active_hdr *act_hdr;
    struct hv_gdom g; /* gt, active entries, memory: what grant checks and copies use */
    struct hv_gref *grefs;
    uint64_t *frame_used; /* bitmap */
    uint64_t frames_used;
    uint64_t frame_hint;
    uint32_t ref_hint;
    uint32_t refs_used;
    struct hv_port ports[HV_MAX_PORTS];
    unsigned ports_used;
    int listen_fd;
    struct pv_watch *listen_w;
    char sock_path[256];
    unsigned nconns;
    uint64_t mapped_pages; /* by its handles, of any domain's grants */
    bool dead;             /* destroyed; kept while other domains still map its pages */
    bool saved;            /* its memory went to another host: freed pages keep their data */
    unsigned maps;         /* mapping records of other handles that point here */
    struct hv_domain *next;
};

struct hv_mapping {
    uint32_t id;
    struct hv_domain *dom; /* granting domain */
    bool writable;
    uint32_t count;
    struct hv_mapping *next;
    uint32_t refs[];
};

struct hv_conn {
    struct hv *hv;
    struct hv_domain *dom; /* the domain this connection acts as */
    int fd;
    struct pv_watch *w;
    enum hv_kind kind;     /* 0 until HV_OP_OPEN */
    struct hv_pidref peer; /* the connecting process (grant copy reaches its memory) */
    /* GNT */
    struct hv_mapping *maps;
    uint32_t next_map_id;
    struct hv_journal_ent *journal; /* dom0's: pins its client-side copies hold */
    int journal_fd;
    uint64_t mapped_pages;
    /* GNTSHR */
    uint32_t shared;
    /* EVTCHN: the shared pages and doorbell (see hv_proto.h) */
    uint64_t id;   /* never reused: peers key their caches on it */
    int ev_fds[3]; /* shared page, control page (read-only), doorbell: the owner's */
    struct hv_ev_shared *ev_sh;
    struct hv_ev_ctl *ev_ctl;
    unsigned ports;
    struct hv_conn *next;
};

struct hv {
    struct pv_loop *loop;
    char dir[200];
    struct hv_domain *domains; /* live ones */
    struct hv_domain *dead;    /* destroyed, still mapped by someone */
    struct hv_conn *conns;
    uint64_t next_conn_id;
    uint32_t pid;      /* ours: the lock id in shared active entries */
    uint32_t link_gen; /* generations of event-channel link words */
    uint8_t *rxbuf;    /* one request at a time */
    uint8_t *txbuf;
};

/* hv_domain.c */
struct hv_domain *hv_domain_find(struct hv *hv, unsigned domid);
/* memfd: the memory to use (taken, even on failure), or -1 for new zeroed
 * memory. */
struct hv_domain *hv_domain_new(struct hv *hv, unsigned domid, uint64_t mem_mb, int memfd);
void hv_domain_free(struct hv_domain *d);
/* Drops a mapping's reference to a (possibly destroyed) domain. */
void hv_domain_put(struct hv_domain *d);
int hv_frame_alloc(struct hv_domain *d, uint32_t *frame);
/* Marks a given frame used (a migrated guest's): 0, or -1 with EINVAL (out
 * of range or reserved) or EBUSY (in use). */
int hv_frame_claim(struct hv_domain *d, uint32_t frame);
/* Undoes a claim: the frame is free again, its data left as it is. */
void hv_frame_unclaim(struct hv_domain *d, uint32_t frame);
void hv_frame_free(struct hv_domain *d, uint32_t frame);
int hv_ref_alloc(struct hv_domain *d, uint32_t *ref);
/* A memfd of size bytes named after the domain and what it holds. */
int hv_memfd(const char *what, unsigned domid, uint64_t size);
/* A read-only open file description of the same file. */
int hv_reopen_ro(int fd);

/* hv_grant.c */
/* Ends a shared grant and frees its ref and frame (no pins left). */
void hv_gref_release(struct hv_domain *d, uint32_t ref);
int16_t hv_dom_pin(struct hv_domain *rd, uint32_t ref, unsigned ldomid, bool writable);
void hv_dom_unpin(struct hv_domain *rd, uint32_t ref, bool writable);
/* GNT open: dom0's handles get a pin journal (fd to send in *fd). 0 or errno. */
int hv_grant_conn_open(struct hv_conn *c, int *fd);
/* HV_OP_GNT_DOMAIN (dom0 only): a domain's memory, grant table, active table. */
size_t hv_grant_domain(struct hv_conn *c, const struct hv_req *req, int *fds, unsigned *nfds);
/* Each returns the reply's length (see hv_reply), and may set *fd_out. */
size_t hv_grant_map(struct hv_conn *c, const struct hv_req *req, const uint32_t *refs, int *fd_out);
size_t hv_grant_unmap(struct hv_conn *c, const struct hv_req *req);
size_t hv_grant_copy(struct hv_conn *c, const struct hv_req *req, const struct hv_copy_seg *segs);
size_t hv_grant_share(struct hv_conn *c, const struct hv_req *req);
size_t hv_grant_unshare(struct hv_conn *c, const struct hv_req *req, const uint32_t *refs);
size_t hv_grant_reshare(struct hv_conn *c, const struct hv_req *req,
                        const struct hv_share_item *items);
/* Releases everything a closing handle holds. */
void hv_grant_conn_closed(struct hv_conn *c);

/* hv_evtchn.c */
/* Bind, unbind, peer look-up; may set fds (up to 3) and *nfds. */
size_t hv_evtchn_op(struct hv_conn *c, const struct hv_req *req, int *fds, unsigned *nfds);
/* Makes the handle's pages and doorbell; 0 or an errno. */
int hv_evtchn_conn_open(struct hv_conn *c);
/* For dump: a port's pending and mask bits, read from its owner's pages. */
bool hv_evtchn_port_bit(const struct hv_port *p, uint32_t port, bool mask);
void hv_evtchn_conn_closed(struct hv_conn *c);
/* Closes every port of a domain being destroyed. */
void hv_evtchn_domain_closed(struct hv_domain *d);

/* hv.c */
/* Replies are built in hv->txbuf: items first (at hv_rep_items()), then
 * hv_reply() writes the header and returns the reply's length. */
void *hv_rep_items(struct hv *hv);
size_t hv_reply(struct hv *hv, int err, uint32_t v0, uint32_t v1, uint32_t count, size_t item_size);
void hv_conn_close(struct hv_conn *c);

#endif
