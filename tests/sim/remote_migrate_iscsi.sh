#!/usr/bin/env bash
# xensim migrate over shared storage (issue #6), an iSCSI LUN (tgtd):
# both hosts' pvback-blk reach the same LUN; fio with verify across the
# migration passes; the source's backend drained and flushed the disk
# before the destination's connected it; both hosts end clean.
source "$PVBACK_SRC/tests/sim/lifecycle_helpers.bash"
source "$PVBACK_SRC/tests/sim/migrate_helpers.bash"
source "$PVBACK_SRC/tests/sim/lib_servers.sh"
mig_remote_test iscsi
