#!/usr/bin/env bash
# Online resize: growing the image while the guest is connected makes the
# backend rewrite "sectors" (and poke "state"); the frontend sees the new size.
source "$PVBACK_SRC/tests/sim/blk_helpers.bash"

blk_start_sim
dom=$(blk_guest g1)
img=$SIM_DIR/disk.img
truncate -s 8M "$img"
blk_add_disk "$dom" 51712 "$img" w
blk_start_backend
blk_wait_state "$dom" 51712 2

# Keep the device connected while the image grows: wait-sectors stays
# connected until it sees 16 MiB (32768 sectors), for up to 10 s.
blk_front "$dom" wait-sectors 32768 >"$SIM_DIR/front.log" 2>&1 &
front=$!
blk_wait_state "$dom" 51712 4
expect_eq "sectors before" "$(blk_be_key "$dom" 51712 sectors)" 16384
truncate -s 16M "$img"
wait $front || { cat "$SIM_DIR/front.log" >&2; fail "the frontend did not see the new size"; }
expect_eq "sectors after" "$(blk_be_key "$dom" 51712 sectors)" 32768
blk_stop_backend
