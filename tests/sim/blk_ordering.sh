#!/usr/bin/env bash
# Barrier and flush semantics: a barrier is answered only after every write
# submitted before it on the ring; a flush carrying data is answered only once
# the data is in the image file.
source "$PVBACK_SRC/tests/sim/blk_helpers.bash"

blk_start_sim
dom=$(blk_guest g1)
img=$SIM_DIR/disk.img
truncate -s 8M "$img"
blk_add_disk "$dom" 51712 "$img" w
blk_start_backend
blk_wait_state "$dom" 51712 2
for args in "--queues 1" "--queues 1 --no-persistent --x86-32"; do
    blk_front "$dom" $args --depth 32 ordering "$img" >"$SIM_DIR/front.log" 2>&1 ||
        { cat "$SIM_DIR/front.log" >&2; fail "ordering ($args)"; }
    blk_wait_state "$dom" 51712 6
done
blk_stop_backend
