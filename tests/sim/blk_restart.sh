#!/usr/bin/env bash
# pvback-blk killed (SIGKILL) in the middle of a guest's workload and started
# again: the new process adopts the device, takes the rings over where the
# last published response left them, and runs again the requests the dead one
# had in flight; the guest notices nothing (no reconnect on its side), its
# verification passes, and the image holds exactly what it wrote.
source "$PVBACK_SRC/tests/sim/blk_helpers.bash"

blk_start_sim
dom=$(blk_guest g1)
img=$SIM_DIR/disk.img
truncate -s 16M "$img"
blk_add_disk "$dom" 51712 "$img" w
blk_start_backend
blk_wait_state "$dom" 51712 2

blk_front "$dom" --ops 6000 --queues 2 --depth 32 --dump "$SIM_DIR/expect.img" verify \
    >"$SIM_DIR/front.log" 2>&1 &
front=$!
blk_wait_state "$dom" 51712 4
sleep 0.5
kill -KILL "$BLK_PID"
wait "$BLK_PID" 2>/dev/null || true
BLK_PID=
echo "--- restart" >>"$SIM_DIR/blk.log"
blk_start_backend
wait $front || { cat "$SIM_DIR/front.log" >&2; fail "the guest's workload failed across the restart"; }
blk_wait_state "$dom" 51712 6
cmp -s "$SIM_DIR/expect.img" "$img" || fail "image differs after the restart"
if grep -q "reconnected" "$SIM_DIR/front.log"; then
    fail "the frontend had to reconnect"
fi
echo "ok: $(tail -n 1 "$SIM_DIR/front.log") across a SIGKILL of pvback-blk"
blk_stop_backend
