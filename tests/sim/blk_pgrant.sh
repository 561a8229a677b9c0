#!/usr/bin/env bash
# Persistent grants under a small bound: with --max-persistent-grants 24 the
# frontend's working set does not fit, so requests fall back to one-off
# mappings and the cache purges its least recently used mappings; data stays
# correct and the backend never holds more than the bound.
source "$PVBACK_SRC/tests/sim/blk_helpers.bash"

blk_start_sim
dom=$(blk_guest g1)
img=$SIM_DIR/disk.img
truncate -s 16M "$img"
blk_add_disk "$dom" 51712 "$img" w
blk_start_backend --max-persistent-grants 24
blk_wait_state "$dom" 51712 2

blk_front "$dom" --ops 800 --queues 2 --depth 16 --dump "$SIM_DIR/expect.img" verify \
    >"$SIM_DIR/front.log" 2>&1 || { cat "$SIM_DIR/front.log" >&2; fail "verify"; }
blk_wait_state "$dom" 51712 6
cmp -s "$SIM_DIR/expect.img" "$img" || fail "image differs"
mapped=$("$XENSIM" --dir "$SIM_DIR" dump | sed -n "s/^domain $dom: .* \([0-9]*\) grants mapped by others.*/\1/p")
expect_eq "grants still mapped after the guest closed" "$mapped" 0
blk_stop_backend
# The bound was reached: some requests were mapped one-off, and the cache
# never held more than 24 mappings per queue.
grep -Eq "persistent grants cached, [1-9][0-9]* pages mapped one-off" "$SIM_DIR/blk.log" ||
    fail "the persistent grant bound was never reached"
if grep -E "queue [0-9]+: ([0-9]+) persistent grants cached" "$SIM_DIR/blk.log" |
    sed -E 's/.*queue [0-9]+: ([0-9]+) persistent.*/\1/' | awk '$1 > 24 { bad = 1 } END { exit !bad }'; then
    fail "a queue cached more than 24 persistent grants"
fi
