/* Opening and probing files and block devices for the storage engines. */
#ifndef PVBACK_STORAGE_FILE_H
#define PVBACK_STORAGE_FILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "storage.h"

/* Opens path (O_DIRECT unless buffered or refused) and fills info (all but
 * engine). Returns the fd, or -1 with a message naming the path in err. */
int pv_storage_file_open(const char *path, bool read_only, bool buffered,
                         struct pv_storage_info *info, char *err, size_t errlen);
/* Current size in bytes of the open file or device. Returns 0 or -errno. */
int pv_storage_file_size(int fd, uint64_t *size);
/* A discard, synchronously: hole punch (keeping the size) on files,
 * BLKDISCARD or BLKSECDISCARD on block devices. Returns 0 or -errno. */
int pv_storage_file_discard(int fd, const struct pv_storage_info *info, uint64_t offset,
                            uint64_t length, bool secure);

#endif
