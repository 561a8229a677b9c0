/* The in-flight journal: the requests a backend has taken off a ring but not
 * yet answered, kept in a shared file mapping so that they outlive the
 * process. A SIGKILLed backend loses its memory but not the page cache: the
 * next process opens the same file, finds the private copies of the requests
 * the dead one had consumed, and runs them again exactly as they were first
 * copied and validated, instead of reading the ring slots again (which a
 * hostile frontend may have rewritten in between: XSA-155's rule, "copy once,
 * use only the copy", holds across a restart too).
 *
 * One journal per ring, one record per ring slot: the record of ring
 * position pos lives at pos % nr_slots and carries pos itself, so a record
 * left by an earlier lap of the ring never passes for a current one.
 * A record is committed by writing its position last; a process killed while
 * writing one leaves it uncommitted, and the request is read from the ring.
 *
 * Nothing in the file is trusted: the header must match the ring exactly
 * (magic, version, geometry and the caller's key, which names the device and
 * the connection: ring grant references and event channel), otherwise the
 * file is reset; callers still check a record's position against the ring's
 * indices and validate its contents as they would a ring slot. The file is
 * created 0600 by the backend's own user, opened without following links. */
#ifndef PVBACK_JOURNAL_H
#define PVBACK_JOURNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PV_JOURNAL_KEY_MAX 192

struct pv_journal;

/* Opens (creating if needed) the journal at path for a ring of nr_slots slots
 * (a power of 2) and records of rec_size bytes. key identifies the ring and
 * its connection; a file whose header does not match is reset, and
 * *reused (if not NULL) tells whether its records were kept. Returns NULL
 * with errno set. */
struct pv_journal *pv_journal_open(const char *path, const char *key, uint32_t nr_slots,
                                   uint32_t rec_size, bool *reused);
/* Unmaps and closes; the file stays for a successor. NULL is fine. */
void pv_journal_close(struct pv_journal *j);
/* Forgets every record (the connection ended for good: a later one must not
 * replay anything). */
void pv_journal_reset(struct pv_journal *j);
/* Records rec (rec_size bytes) as the request taken from ring position pos. */
void pv_journal_put(struct pv_journal *j, uint32_t pos, const void *rec);
/* Copies the record of ring position pos into rec; false if there is none
 * committed for exactly that position. */
bool pv_journal_get(const struct pv_journal *j, uint32_t pos, void *rec);

/* The journal directory of one backend process: <run dir>/journal/<proc>
 * (proc e.g. "vbd-3", "vbd-all"; the run directory as in status.h), created
 * mode 0700 if needed and owned by uid:gid when uid is not -1, so that a
 * backend that dropped its privileges (sandbox.h) still writes its journals
 * there and no other guest's backend can read them. Its path goes into buf.
 * 0, or -1 with errno. */
int pv_journal_dir_prepare(const char *proc, int uid, int gid, char *buf, size_t len);

/* A device went away for good: removes its journals, the files of dir whose
 * names start with "<domid>-<devid>-". NULL dir is fine. */
void pv_journal_forget_device(const char *dir, uint32_t domid, uint32_t devid);
/* At a backend's exit: removes its journal directory and <run dir>/journal
 * if they are empty (a successor recreates them; a stopped process whose
 * guest stays connected leaves its journals, and so its directory). */
void pv_journal_dir_release(const char *dir);

#endif
