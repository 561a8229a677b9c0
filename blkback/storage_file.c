/* Files and block devices: opening with the right flags, finding out what the
 * store can do (size, block sizes, O_DIRECT alignment, discard), and the
 * synchronous discard both engines share.
 *
 * This file asks the kernel through statx(2) from <linux/stat.h>, the only
 * interface that reports the O_DIRECT alignment (STATX_DIOALIGN), so it does
 * not include <sys/stat.h> (whose struct statx lacks those fields). */
#include "storage_file.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/falloc.h>
#include <linux/fs.h>
#include <linux/magic.h>
#include <linux/stat.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "log.h"

/* <sys/stat.h> is left out (see above), and with it these two macros. */
#define IS_BLOCK_DEVICE(mode) (((mode)&S_IFMT) == S_IFBLK)
#define IS_REGULAR_FILE(mode) (((mode)&S_IFMT) == S_IFREG)

static int do_statx(int fd, struct statx *stx)
{
    memset(stx, 0, sizeof(*stx));
    return (int)syscall(SYS_statx, fd, "", AT_EMPTY_PATH, STATX_TYPE | STATX_SIZE | STATX_DIOALIGN,
                        stx);
}

/* Reads an unsigned number from the request queue of block device
 * MAJ:MIN, /sys/dev/block/MAJ:MIN/queue/<name>, or for a partition its
 * disk's (../queue/<name>); 0 if absent. */
static uint64_t dev_queue_attr(unsigned int major, unsigned int minor, const char *name)
{
    static const char *const where[] = {"queue", "../queue"};
    for (size_t i = 0; i < sizeof(where) / sizeof(where[0]); i++) {
        char path[128];
        unsigned long long v = 0;
        snprintf(path, sizeof(path), "/sys/dev/block/%u:%u/%s/%s", major, minor, where[i], name);
        FILE *f = fopen(path, "re");
        if (!f)
            continue;
        if (fscanf(f, "%llu", &v) != 1)
            v = 0;
        fclose(f);
        return v;
    }
    return 0;
}

/* The same of a block device's own queue. */
static uint64_t queue_attr(const struct statx *stx, const char *name)
{
    return dev_queue_attr(stx->stx_rdev_major, stx->stx_rdev_minor, name);
}

/* Whether BLKSECDISCARD works on the device. sysfs does not say (the
 * queue's max_secure_erase_sectors is kernel-internal), so ask the ioctl
 * itself with a range past the end: the kernel answers EOPNOTSUPP before
 * looking at the range where secure erase is unsupported, and EINVAL for
 * the range where it is supported; nothing is erased either way. */
static bool probe_secure_erase(int fd, uint64_t size)
{
    uint64_t range[2] = {(size + 511) / 512 * 512 + 512, 512};
    return ioctl(fd, BLKSECDISCARD, range) < 0 && errno == EINVAL;
}

static int probe_block_device(int fd, const struct statx *stx, struct pv_storage_info *info)
{
    uint64_t size;
    int lbs = 0;
    unsigned int pbs = 0;

    if (ioctl(fd, BLKGETSIZE64, &size) < 0 || ioctl(fd, BLKSSZGET, &lbs) < 0)
        return -errno;
    if (ioctl(fd, BLKPBSZGET, &pbs) < 0 || pbs == 0)
        pbs = (unsigned int)lbs;
    info->block_device = true;
    info->size = size;
    info->logical_block = (uint32_t)lbs;
    info->physical_block = pbs;
    info->can_discard = !info->read_only && queue_attr(stx, "discard_max_bytes") > 0;
    info->discard_granularity = (uint32_t)queue_attr(stx, "discard_granularity");
    if (info->discard_granularity < info->logical_block)
        info->discard_granularity = info->logical_block;
    info->can_secure_discard = !info->read_only && probe_secure_erase(fd, size);
    info->max_segments = (uint32_t)queue_attr(stx, "max_segments");
    return 0;
}

static int probe_regular_file(int fd, const struct statx *stx, struct pv_storage_info *info)
{
    info->block_device = false;
    info->size = stx->stx_size;
    info->logical_block = 512;
    if (info->direct && (stx->stx_mask & STATX_DIOALIGN) && stx->stx_dio_offset_align)
        info->logical_block = stx->stx_dio_offset_align < 512 ? 512 : stx->stx_dio_offset_align;
    info->physical_block =
        stx->stx_blksize > info->logical_block ? stx->stx_blksize : info->logical_block;
    info->discard_granularity = info->physical_block;
    info->can_secure_discard = false; /* a hole does not erase the blocks beneath */
    struct statfs fs;
    info->page_cache = !info->direct || (fstatfs(fd, &fs) == 0 &&
                                         (fs.f_type == TMPFS_MAGIC || fs.f_type == RAMFS_MAGIC));
    /* The disk beneath the file system, where it has one (not tmpfs). */
    if (!info->page_cache)
        info->max_segments =
            (uint32_t)dev_queue_attr(stx->stx_dev_major, stx->stx_dev_minor, "max_segments");
    info->can_discard = false;
    if (!info->read_only) {
        /* A hole punched past the end, with the size kept, changes nothing
         * but tells whether the filesystem can punch holes at all. */
        uint64_t past = (info->size + info->discard_granularity - 1) / info->discard_granularity *
                        info->discard_granularity;
        info->can_discard = fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, (off_t)past,
                                      info->discard_granularity) == 0;
    }
    return 0;
}

int pv_storage_file_open(const char *path, bool read_only, bool buffered,
                         struct pv_storage_info *info, char *err, size_t errlen)
{
    int flags = (read_only ? O_RDONLY : O_RDWR) | O_CLOEXEC;
    int fd = -1;
    struct statx stx;

    memset(info, 0, sizeof(*info));
    info->read_only = read_only;
    if (!buffered) {
        fd = open(path, flags | O_DIRECT);
        info->direct = fd >= 0;
        /* Some filesystems refuse O_DIRECT with EINVAL: serve them buffered. */
        if (fd < 0 && errno == EINVAL) {
            pv_warn("%s: O_DIRECT refused (filesystem or device); using buffered I/O", path);
            fd = open(path, flags);
        }
    } else {
        fd = open(path, flags);
    }
    if (fd < 0) {
        snprintf(err, errlen, "cannot open %s %s: %s", path, read_only ? "read-only" : "read-write",
                 strerror(errno));
        return -1;
    }
    if (do_statx(fd, &stx) < 0) {
        snprintf(err, errlen, "cannot stat %s: %s", path, strerror(errno));
        close(fd);
        return -1;
    }
    int rc;
    info->page_cache = !info->direct;
    if (IS_BLOCK_DEVICE(stx.stx_mode))
        rc = probe_block_device(fd, &stx, info);
    else if (IS_REGULAR_FILE(stx.stx_mode))
        rc = probe_regular_file(fd, &stx, info);
    else
        rc = -ENODEV;
    if (rc < 0) {
        snprintf(err, errlen, "%s: %s", path,
                 rc == -ENODEV ? "neither a regular file nor a block device" : strerror(-rc));
        close(fd);
        return -1;
    }
    return fd;
}

int pv_storage_file_size(int fd, uint64_t *size)
{
    struct statx stx;
    if (do_statx(fd, &stx) < 0)
        return -errno;
    if (IS_BLOCK_DEVICE(stx.stx_mode))
        return ioctl(fd, BLKGETSIZE64, size) < 0 ? -errno : 0;
    *size = stx.stx_size;
    return 0;
}

int pv_storage_file_discard(int fd, const struct pv_storage_info *info, uint64_t offset,
                            uint64_t length, bool secure)
{
    if (info->block_device) {
        uint64_t range[2] = {offset, length};
        return ioctl(fd, secure ? BLKSECDISCARD : BLKDISCARD, range) < 0 ? -errno : 0;
    }
    if (secure)
        return -EOPNOTSUPP;
    return fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, (off_t)offset, (off_t)length) <
                   0
               ? -errno
               : 0;
}
