#!/usr/bin/env bash
# Data integrity through pvback-blk: random reads, writes, flushes, barriers
# and discards from the simulated guest, checked against a shadow copy, for
# one and four queues, with and without persistent grants and indirect
# descriptors, 512-byte and 4 KiB alignment, both ring layouts, one and
# sixteen ring pages; after the guest detaches, the image holds exactly what
# was written.
source "$PVBACK_SRC/tests/sim/blk_helpers.bash"

blk_start_sim
dom=$(blk_guest g1)
img=$SIM_DIR/disk.img
truncate -s 32M "$img"
blk_add_disk "$dom" 51712 "$img" w
blk_start_backend
blk_wait_state "$dom" 51712 2

ops=${BLK_VERIFY_OPS:-600}
n=0
while read -r args; do
    n=$((n + 1))
    blk_front "$dom" --ops "$ops" --seed "$n" --dump "$SIM_DIR/expect.img" $args verify \
        >"$SIM_DIR/front.log" 2>&1 || { cat "$SIM_DIR/front.log" >&2; fail "verify $args"; }
    blk_wait_state "$dom" 51712 6
    cmp -s "$SIM_DIR/expect.img" "$img" || fail "image differs from what was written ($args)"
    echo "ok: $args: $(tail -n 1 "$SIM_DIR/front.log")"
done <<'MATRIX'
--queues 1 --align 4096
--queues 1 --align 512 --no-persistent
--queues 4 --align 4096 --no-persistent --ring-order 2
--queues 4 --align 512 --ring-order 4 --depth 128
--queues 1 --no-indirect --align 512
--queues 2 --x86-32 --align 4096 --ring-order 3
--queues 1 --depth 1 --max-io 4096
MATRIX
# A correct frontend, however busy, is never taken for an event storm.
if grep -q "throttling its event channel" "$SIM_DIR/blk.log"; then
    fail "a correct frontend was throttled"
fi
blk_stop_backend
