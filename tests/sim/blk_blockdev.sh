#!/usr/bin/env bash
# A block device behind pvback-blk (a loop device over an image): the
# frontend sees feature-discard as the device's queue says, and
# discard-secure exactly when the kernel performs BLKSECDISCARD on it
# (util-linux's blkdiscard --secure is the independent judge); a verified
# workload with reads, writes, flushes, barriers and discards leaves the
# device holding exactly what was written. Needs root and a free loop device.
source "$PVBACK_SRC/tests/sim/blk_helpers.bash"

img=$(mktemp "${TMPDIR:-/tmp}/pvback-blkdev.XXXXXX")
loop=
cleanup() {
    local rc=$?
    # Detached once pvback-blk closes it (losetup -d defers while it is open).
    [ -n "$loop" ] && losetup -d "$loop"
    rm -f "$img"
    blk_cleanup "$rc" # exits
}
truncate -s 32M "$img"
if ! loop=$(losetup -f --show "$img" 2>/dev/null); then
    rm -f "$img"
    echo "SKIP: no loop device (needs root and loop support)"
    exit 0
fi

blk_start_sim
trap cleanup EXIT
dom=$(blk_guest g1)
blk_add_disk "$dom" 51712 "$loop" w
blk_start_backend
blk_wait_state "$dom" 51712 2

blk_front "$dom" info >"$SIM_DIR/info.txt" || fail "info"
want_discard=0
[ "$(cat "/sys/block/${loop#/dev/}/queue/discard_max_bytes")" -gt 0 ] && want_discard=1
want_secure=0
blkdiscard --secure -o 0 -l 4096 "$loop" 2>/dev/null && want_secure=1
grep -qx "discard=$want_discard" "$SIM_DIR/info.txt" ||
    fail "discard: want $want_discard, the frontend saw: $(grep '^discard=' "$SIM_DIR/info.txt")"
grep -qx "discard_secure=$want_secure" "$SIM_DIR/info.txt" ||
    fail "discard_secure: want $want_secure, saw: $(grep '^discard_secure=' "$SIM_DIR/info.txt")"
echo "ok: $loop offers discard=$want_discard discard_secure=$want_secure"

blk_front "$dom" --ops "${BLK_VERIFY_OPS:-400}" --queues 2 --align 512 --dump "$SIM_DIR/expect.img" verify \
    >"$SIM_DIR/front.log" 2>&1 || { cat "$SIM_DIR/front.log" >&2; fail "verify"; }
blk_wait_state "$dom" 51712 6
cmp -s "$SIM_DIR/expect.img" "$loop" || fail "the device differs from what was written"
echo "ok: verified workload on $loop: $(tail -n 1 "$SIM_DIR/front.log")"
blk_stop_backend
