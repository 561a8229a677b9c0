/* The in-flight journal (see journal.h). */
#include "journal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "status.h"

#define JOURNAL_MAGIC   "PVJRNL\0\0"
#define JOURNAL_VERSION 1u
/* The most slots and record bytes accepted: far above any ring (blkif: 512
 * slots of ~120 bytes at most), so that a journal file stays small. */
#define JOURNAL_MAX_SLOTS 4096u
#define JOURNAL_MAX_REC   1024u

struct journal_hdr {
    char magic[8];
    uint32_t version;
    uint32_t nr_slots;
    uint32_t rec_size;
    uint32_t entry_size;
    char key[PV_JOURNAL_KEY_MAX];
};

/* An entry: committed when "committed" is 1 and pos is the ring position. */
struct journal_entry {
    uint32_t pos;
    uint32_t committed;
    unsigned char rec[];
};

struct pv_journal {
    void *map;
    size_t size;
    uint32_t nr_slots, rec_size, entry_size;
};

static struct journal_entry *entry(const struct pv_journal *j, uint32_t pos)
{
    size_t off = sizeof(struct journal_hdr) + (size_t)(pos & (j->nr_slots - 1)) * j->entry_size;
    return (struct journal_entry *)((char *)j->map + off);
}

static bool header_matches(const struct journal_hdr *h, const struct journal_hdr *want)
{
    return !memcmp(h->magic, want->magic, sizeof(h->magic)) && h->version == want->version &&
           h->nr_slots == want->nr_slots && h->rec_size == want->rec_size &&
           h->entry_size == want->entry_size && !memcmp(h->key, want->key, sizeof(h->key));
}

/* Opens path read-write if it is a regular file of our own, creating it if
 * needed. Anything else there (left by a run under another user, or not a
 * file) is removed first: never write through someone else's file. */
static int open_own(const char *path, struct stat *sb)
{
    for (int attempt = 0; attempt < 2; attempt++) {
        int fd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (fd >= 0 && fstat(fd, sb) == 0 && S_ISREG(sb->st_mode) && sb->st_uid == geteuid())
            return fd;
        if (fd >= 0)
            close(fd);
        else if (errno != EACCES && errno != ELOOP && errno != EISDIR)
            return -1;
        if (unlink(path) < 0 && errno != ENOENT)
            return -1;
    }
    errno = EPERM;
    return -1;
}

struct pv_journal *pv_journal_open(const char *path, const char *key, uint32_t nr_slots,
                                   uint32_t rec_size, bool *reused)
{
    if (!nr_slots || nr_slots > JOURNAL_MAX_SLOTS || (nr_slots & (nr_slots - 1)) || !rec_size ||
        rec_size > JOURNAL_MAX_REC || strlen(key) >= PV_JOURNAL_KEY_MAX) {
        errno = EINVAL;
        return NULL;
    }
    struct journal_hdr want = {
        .version = JOURNAL_VERSION, .nr_slots = nr_slots, .rec_size = rec_size};
    memcpy(want.magic, JOURNAL_MAGIC, sizeof(want.magic));
    /* Entries 8-byte aligned: the records hold 64-bit fields. */
    want.entry_size = (uint32_t)((sizeof(struct journal_entry) + rec_size + 7u) & ~7u);
    strncpy(want.key, key, sizeof(want.key) - 1);

    struct pv_journal *j = calloc(1, sizeof(*j));
    if (!j)
        return NULL;
    j->nr_slots = nr_slots;
    j->rec_size = rec_size;
    j->entry_size = want.entry_size;
    j->size = sizeof(struct journal_hdr) + (size_t)nr_slots * want.entry_size;

    struct stat sb;
    int fd = open_own(path, &sb);
    if (fd < 0)
        goto fail;
    bool keep = (size_t)sb.st_size == j->size;
    if (!keep && ftruncate(fd, 0) < 0)
        goto fail;
    if (!keep && ftruncate(fd, (off_t)j->size) < 0)
        goto fail;
    j->map = mmap(NULL, j->size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (j->map == MAP_FAILED) {
        j->map = NULL;
        goto fail;
    }
    close(fd);
    fd = -1;
    if (keep && !header_matches(j->map, &want))
        keep = false;
    if (!keep) {
        memset(j->map, 0, j->size);
        memcpy(j->map, &want, sizeof(want));
    }
    if (reused)
        *reused = keep;
    return j;
fail:;
    int e = errno;
    if (fd >= 0)
        close(fd);
    free(j);
    errno = e;
    return NULL;
}

void pv_journal_close(struct pv_journal *j)
{
    if (!j)
        return;
    munmap(j->map, j->size);
    free(j);
}

void pv_journal_reset(struct pv_journal *j)
{
    for (uint32_t i = 0; i < j->nr_slots; i++)
        __atomic_store_n(&entry(j, i)->committed, 0, __ATOMIC_RELEASE);
}

void pv_journal_put(struct pv_journal *j, uint32_t pos, const void *rec)
{
    struct journal_entry *e = entry(j, pos);
    /* Uncommit, write, commit: a process killed anywhere in between leaves
     * the entry uncommitted (the stores reach the shared page in order). */
    __atomic_store_n(&e->committed, 0, __ATOMIC_RELEASE);
    memcpy(e->rec, rec, j->rec_size);
    __atomic_store_n(&e->pos, pos, __ATOMIC_RELEASE);
    __atomic_store_n(&e->committed, 1, __ATOMIC_RELEASE);
}

bool pv_journal_get(const struct pv_journal *j, uint32_t pos, void *rec)
{
    const struct journal_entry *e = entry(j, pos);
    if (__atomic_load_n(&e->committed, __ATOMIC_ACQUIRE) != 1 ||
        __atomic_load_n(&e->pos, __ATOMIC_ACQUIRE) != pos)
        return false;
    memcpy(rec, e->rec, j->rec_size);
    return true;
}

void pv_journal_forget_device(const char *dir, uint32_t domid, uint32_t devid)
{
    if (!dir)
        return;
    char prefix[32];
    snprintf(prefix, sizeof(prefix), "%u-%u-", domid, devid);
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *e;
    while ((e = readdir(d)))
        if (!strncmp(e->d_name, prefix, strlen(prefix)))
            unlinkat(dirfd(d), e->d_name, 0);
    closedir(d);
}

void pv_journal_dir_release(const char *dir)
{
    if (!dir || rmdir(dir) < 0)
        return;
    char parent[4096];
    snprintf(parent, sizeof(parent), "%s", dir);
    char *slash = strrchr(parent, '/');
    if (slash) {
        *slash = '\0';
        rmdir(parent); /* fails while another backend's directory is there */
    }
}

static int make_dir(const char *path, mode_t mode)
{
    if (mkdir(path, mode) == 0 || errno == EEXIST)
        return 0;
    return -1;
}

int pv_journal_dir_prepare(const char *proc, int uid, int gid, char *buf, size_t len)
{
    char run[4096];
    if (pv_run_dir(run, sizeof(run)) < 0)
        return -1;
    int n = snprintf(buf, len, "%s/journal", run);
    if (n < 0 || (size_t)n >= len) {
        errno = ENAMETOOLONG;
        return -1;
    }
    if (make_dir(run, 0755) < 0 || make_dir(buf, 0711) < 0)
        return -1;
    n = snprintf(buf, len, "%s/journal/%s", run, proc);
    if (n < 0 || (size_t)n >= len) {
        errno = ENAMETOOLONG;
        return -1;
    }
    if (make_dir(buf, 0700) < 0)
        return -1;
    struct stat sb;
    if (lstat(buf, &sb) < 0)
        return -1;
    if (!S_ISDIR(sb.st_mode)) {
        errno = ENOTDIR;
        return -1;
    }
    if (uid >= 0 && (sb.st_uid != (uid_t)uid || sb.st_gid != (gid_t)gid) &&
        lchown(buf, (uid_t)uid, (gid_t)gid) < 0)
        return -1;
    return 0;
}
