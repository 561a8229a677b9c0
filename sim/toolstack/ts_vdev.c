/* Virtual disk names to xenstore device numbers, the way libxl numbers them
 * (libxl__device_disk_dev_number), which is also how Linux's blkfront turns
 * virtual-device back into a name:
 *   xvd<letters>[<part>]  disk < 16 and part < 16: (202 << 8) | disk << 4 | part
 *                         otherwise the extended form (1 << 28) | disk << 8 | part
 *   d<disk>p<part>        the same numbers, written out
 *   hd<letters>[<part>]   IDE majors 3 and 22, 64 minors per disk, 4 disks
 *   sd<letters>[<part>]   SCSI major 8, 16 minors per disk, 16 disks
 *   <number>              taken as is (0x.. and 0.. accepted, as strtoul does) */
#include "toolstack/toolstack.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

/* Reads "<prefix><letters>[<partition>]": letters are a bijective base-26
 * number (a=0, z=25, aa=26, ...). Returns true when name has this form
 * within the limits. */
static bool letters_and_partition(const char *name, const char *prefix, long max_disk,
                                  long max_part, long *disk, long *part)
{
    size_t pl = strlen(prefix);
    if (strncmp(name, prefix, pl))
        return false;
    const char *p = name + pl;
    long d = -1;
    while (*p >= 'a' && *p <= 'z') {
        d = (d + 1) * 26 + (*p - 'a');
        if (d > max_disk)
            return false;
        p++;
    }
    if (d < 0)
        return false;
    long n = 0;
    if (*p) {
        if (*p == '0')
            return false; /* no leading zeroes in a partition number */
        for (; *p; p++) {
            if (!isdigit((unsigned char)*p))
                return false;
            n = n * 10 + (*p - '0');
            if (n > max_part)
                return false;
        }
    }
    *disk = d;
    *part = n;
    return true;
}

/* "d<disk>p<part>" with decimal numbers. */
static bool dp_form(const char *name, long *disk, long *part)
{
    char *end;
    if (name[0] != 'd' || !isdigit((unsigned char)name[1]))
        return false;
    errno = 0;
    long d = strtol(name + 1, &end, 10);
    if (errno || *end != 'p' || !isdigit((unsigned char)end[1]))
        return false;
    long pt = strtol(end + 1, &end, 10);
    if (errno || *end || d >= (1L << 20) || pt >= 256)
        return false;
    *disk = d;
    *part = pt;
    return true;
}

int ts_vdev_to_devid(const char *vdev)
{
    long disk, part;
    if (!vdev || !*vdev)
        return -1;
    if (dp_form(vdev, &disk, &part) ||
        letters_and_partition(vdev, "xvd", (1L << 20) - 1, 255, &disk, &part)) {
        if (disk <= 15 && part <= 15)
            return (int)((202L << 8) | (disk << 4) | part);
        return (int)((1L << 28) | (disk << 8) | part);
    }
    if (isdigit((unsigned char)vdev[0])) {
        char *end;
        errno = 0;
        unsigned long n = strtoul(vdev, &end, 0);
        if (errno || *end || n > INT_MAX)
            return -1;
        return (int)n;
    }
    if (letters_and_partition(vdev, "hd", 3, 63, &disk, &part))
        return (int)(((disk < 2 ? 3L : 22L) << 8) | ((disk & 1) << 6) | part);
    if (letters_and_partition(vdev, "sd", 15, 15, &disk, &part))
        return (int)((8L << 8) | (disk << 4) | part);
    return -1;
}
