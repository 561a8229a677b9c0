/* iSCSI LUNs through libiscsi: the CHAP secrets file, exposed for tests. The
 * driver itself is pv_storage_iscsi_ops (storage.h). */
#ifndef PVBACK_STORAGE_ISCSI_H
#define PVBACK_STORAGE_ISCSI_H

#include <stddef.h>

#define PV_ISCSI_SECRETS_DEFAULT "/etc/pvback/iscsi-secrets"
#define PV_ISCSI_INITIATOR       "iqn.2024-11.org.pvback:initiator"

/* Looks target up in a secrets file: lines "<target-iqn|*> <user> <password>",
 * '#' comments; the first line naming target wins, else the first '*'.
 * The file must be a regular file with no permission for group or others,
 * owned by root or by this process's user. Returns 1 when found (user and
 * password filled), 0 when the file has no entry, -1 with err (starting
 * "<what> <file>", what naming where the file came from, e.g. the
 * chap-file key) when the file is refused, cannot be read or a line is
 * malformed. */
int pv_iscsi_secrets_lookup(const char *what, const char *file, const char *target, char *user,
                            size_t userlen, char *password, size_t passlen, char *err,
                            size_t errlen);

#endif
