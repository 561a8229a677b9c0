#!/usr/bin/env bash
# A frontend that restarts mid-workload (back to Initialising with requests
# in flight) reconnects and replays them; nothing is lost: the verification
# passes and the image holds exactly what was written.
source "$PVBACK_SRC/tests/sim/blk_helpers.bash"

blk_start_sim
dom=$(blk_guest g1)
img=$SIM_DIR/disk.img
truncate -s 16M "$img"
blk_add_disk "$dom" 51712 "$img" w
blk_start_backend
blk_wait_state "$dom" 51712 2

for args in "--queues 4 --ring-order 1 --depth 64" "--queues 1 --no-persistent --depth 32"; do
    blk_front "$dom" --ops 800 --reconnect-after 300 --dump "$SIM_DIR/expect.img" $args verify \
        >"$SIM_DIR/front.log" 2>&1 || { cat "$SIM_DIR/front.log" >&2; fail "verify $args"; }
    grep -q "reconnected with [1-9][0-9]* requests in flight" "$SIM_DIR/front.log" ||
        fail "the reconnect happened with no request in flight ($args)"
    blk_wait_state "$dom" 51712 6
    cmp -s "$SIM_DIR/expect.img" "$img" || fail "image differs after a reconnect ($args)"
done
blk_stop_backend
