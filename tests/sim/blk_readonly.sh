#!/usr/bin/env bash
# A read-only disk (mode r): the frontend sees VDISK_READONLY and no discard,
# a write gets an error response, a read works, and the image is untouched;
# pvback-ctl status counts both answers.
source "$PVBACK_SRC/tests/sim/blk_helpers.bash"

blk_start_sim
dom=$(blk_guest g1)
img=$SIM_DIR/ro.img
head -c 8M /dev/urandom >"$img"
before=$(sha256sum <"$img")
blk_add_disk "$dom" 51712 "$img" r
blk_start_backend
blk_wait_state "$dom" 51712 2

blk_front "$dom" readonly >"$SIM_DIR/front.log" 2>&1 ||
    { cat "$SIM_DIR/front.log" >&2; fail "readonly check"; }
blk_front "$dom" info >"$SIM_DIR/info.txt" || fail "info"
grep -qx 'discard=0' "$SIM_DIR/info.txt" || fail "discard offered on a read-only disk"
grep -qx 'flush=0' "$SIM_DIR/info.txt" || fail "flush offered on a read-only disk"
expect_eq "image after a refused write" "$(sha256sum <"$img")" "$before"
# A refused write is no protocol violation: the device did not fail.
if xenstore-read /local/domain/0/error/backend/vbd/$dom/51712/error >/dev/null 2>&1; then
    fail "a refused write left an error node"
fi
# pvback-ctl status counts the disk's answers over both connections: the
# read (4096 bytes) and the refused write (an error, no bytes); no ring now.
st=$("$PVBACK_BIN/pvback-ctl" status)
echo "$st" | grep -qE " vbd/$dom/51712 +[A-Za-z]+ +[A-Za-z]+ +0 +2 +4096 +1$" ||
    fail "pvback-ctl status does not show 2 requests, 4096 bytes, 1 error: $st"
blk_stop_backend
