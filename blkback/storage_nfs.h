/* Images on NFS through libnfs: the driver is pv_storage_nfs_ops
 * (storage.h), opened for nfs:// URLs (storage_url.h). Discard is not
 * offered: NFSv3 has no way to free a range, and libnfs 4.0 no NFSv4.2
 * DEALLOCATE. */
#ifndef PVBACK_STORAGE_NFS_H
#define PVBACK_STORAGE_NFS_H

#include "storage.h"

#endif
