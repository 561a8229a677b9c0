#!/usr/bin/env bash
# Double fetch (XSA-155), attacked live: the hostile guest queues a valid
# one-page read and a second thread of it keeps rewriting that slot into an
# invalid request (last_sect 200: 100 KiB from a 4 KiB page) until it is
# answered. A backend that validated one read of the slot and used another
# would copy past the guest's page; pvback-blk copies the slot once, so each attempt ends in
# one of two correct outcomes: the valid image was copied (read answered
# OKAY), or the invalid one (ERROR, the device failed with an error node
# naming a segment rule). Asserted for DOUBLE_FETCH_ROUNDS attempts (default
# 40): one of those outcomes every time, pvback-blk alive (and, in the
# sanitizer build, free of memory errors), its RSS bounded, and another
# guest's verified workload intact throughout.
source "$PVBACK_SRC/tests/sim/blk_helpers.bash"
rounds=${DOUBLE_FETCH_ROUNDS:-40}

blk_start_sim
bad=$(blk_guest bad)
good=$(blk_guest good)
truncate -s 8M "$SIM_DIR/bad.img"
truncate -s 16M "$SIM_DIR/good.img"
blk_add_disk "$bad" 51712 "$SIM_DIR/bad.img" w
blk_add_disk "$good" 51712 "$SIM_DIR/good.img" w
blk_start_backend
blk_wait_state "$bad" 51712 2
blk_wait_state "$good" 51712 2
rss0=$(awk '/^VmRSS:/ {print $2}' "/proc/$BLK_PID/status")

blk_front "$good" --ops 3000 --depth 8 --dump "$SIM_DIR/good.expect" verify \
    >"$SIM_DIR/good.log" 2>&1 &
good_pid=$!

errnode=/local/domain/0/error/backend/vbd/$bad/51712/error
ok=0
refused=0
for i in $(seq 1 "$rounds"); do
    xenstore-rm "$errnode" 2>/dev/null || true
    blk_front "$bad" hostile double-fetch >"$SIM_DIR/attack.log" 2>&1 ||
        { cat "$SIM_DIR/attack.log" >&2; fail "round $i: neither outcome"; }
    case "$(cat "$SIM_DIR/attack.log")" in
    *status=0*) ok=$((ok + 1)) ;;
    *status=-1*)
        msg=$(xenstore-read "$errnode" 2>/dev/null) || fail "round $i: refused without an error node"
        case "$msg" in
        *"segments"* | *"last_sect"*) refused=$((refused + 1)) ;;
        *) fail "round $i: error node '$msg' names no segment rule" ;;
        esac
        blk_wait_state "$bad" 51712 6
        ;;
    *) fail "round $i: $(cat "$SIM_DIR/attack.log")" ;;
    esac
    kill -0 "$BLK_PID" 2>/dev/null || fail "round $i: pvback-blk died"
done
rss1=$(awk '/^VmRSS:/ {print $2}' "/proc/$BLK_PID/status")
wait "$good_pid" || { cat "$SIM_DIR/good.log" >&2; fail "the other guest's disk failed"; }
blk_wait_state "$good" 51712 6
cmp -s "$SIM_DIR/good.expect" "$SIM_DIR/good.img" || fail "the other guest's image differs"
[ $((rss1 - rss0)) -le 65536 ] || fail "pvback-blk grew by $((rss1 - rss0)) kB"
blk_stop_backend
echo "PASS: $rounds double-fetch rounds: $ok copied the valid image, $refused the invalid one;" \
    "RSS $rss0 -> $rss1 kB; the other guest's disk verified"
