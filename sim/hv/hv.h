/* xensim's hypervisor part: domains (memory as a memfd, a v1 grant table
 * that the guest side writes), grant mapping and copying, event channels.
 * Clients speak sim/hv/hv_proto.h on DIR/hv<N>.sock, where N is the domain
 * the connection acts as (hv0.sock: dom0). common/platform_sim.c is the
 * client. */
#ifndef XENSIM_HV_H
#define XENSIM_HV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct pv_loop;
struct hv;

/* Memory of dom0, from which dom0's own grant shares come (sparse). */
#define HV_DOM0_MEM_MB 256u
/* Domain ids and memory a guest may have. */
#define HV_DOMID_MAX  0x7fefu
#define HV_MEM_MB_MAX (1024u * 1024u)

/* Listens on DIR/hv0.sock (dom0 exists from the start). */
struct hv *hv_new(struct pv_loop *loop, const char *dir);
void hv_free(struct hv *hv);

/* Creates domain domid with mem_mb MiB of memory and opens DIR/hv<domid>.sock.
 * -1 with errno EEXIST, EINVAL, ENOMEM... */
int hv_domain_create(struct hv *hv, unsigned domid, uint64_t mem_mb);
/* Destroys the domain: closes its connections (releasing what they map and
 * share), closes its event channels (interdomain peers become unbound, as
 * Xen's evtchn_close leaves them) and removes DIR/hv<domid>.sock. Other
 * domains' mappings of its pages stay valid until unmapped, as on Xen.
 * -1 with errno ESRCH (no such domain) or EPERM (dom0). */
int hv_domain_destroy(struct hv *hv, unsigned domid);
bool hv_domain_exists(struct hv *hv, unsigned domid);
/* Migration, as Xen's save/restore moves a paused domain's memory (here the
 * memory itself moves, so that the guest's processes keep their mappings).
 * hv_domain_save returns a descriptor of the domain's memory (the caller
 * closes it) and its size in *mem_mb; from then on freeing its pages no longer zeroes them, since
 * they are the guest's on its next host. hv_domain_save_grants returns a
 * memfd of *count struct hv_share_item: the grants the guest has, which its
 * processes take back one by one on the next host (HV_OP_RESHARE).
 * hv_domain_restore creates domain domid on such a memory (mem_mb MiB; it
 * takes memfd) with a fresh grant table and no event channels, and keeps
 * the listed refs and frames (from grants_fd, count items; -1 for none) for
 * their owners, so that no other process of the guest gets them meanwhile.
 * -1 with errno as hv_domain_create, or EINVAL when the memory's size is
 * not mem_mb or the list cannot be read. */
int hv_domain_save(struct hv *hv, unsigned domid, uint64_t *mem_mb);
int hv_domain_save_grants(struct hv *hv, unsigned domid, uint32_t *count);
int hv_domain_restore(struct hv *hv, unsigned domid, uint64_t mem_mb, int memfd, int grants_fd,
                      uint32_t count);
/* The live domains in ascending domid order: fills at most max entries of
 * domids (and mem_mb when not NULL) and returns how many there are. */
size_t hv_domain_list(struct hv *hv, unsigned *domids, uint64_t *mem_mb, size_t max);

/* One line per domain with its grant/event-channel counters, then one line
 * per bound port. */
void hv_dump(struct hv *hv, FILE *out);

#endif
