#!/usr/bin/env bash
# A disk detached while its requests wait for an iSCSI target that is down:
# the close waits for those requests (they write into guest pages), but only
# that disk waits. Another guest's disk in the same pvback-blk is served all
# the while, and the detached disk reaches Closed once the reconnect timeout
# answered its requests. (Before, the close held pvback-blk's whole event
# loop until the timeout: the other disk stalled with it.)
source "$PVBACK_SRC/tests/sim/blk_helpers.bash"
source "$PVBACK_SRC/tests/sim/lib_servers.sh"

timeout_s=25 # the other guest's verify must fit inside it (a few seconds under valgrind)
remote_iscsi_and_file "$timeout_s"
be=/local/domain/0/backend/vbd/$dom/$devid

echo "== writes waiting for a target that is down"
guest_fio "$dom" "$SIM_DIR/fio.log" --name=w --size=16M --rw=randwrite --bs=64k --iodepth=8 \
    --time_based --runtime=600 &
fio_pid=$!
blk_wait_state "$dom" $devid 4
sleep 1
kill -0 $fio_pid 2>/dev/null || { cat "$SIM_DIR/fio.log" >&2; fail "fio ended before the outage"; }
srv_tgtd_kill
session_lost() { grep -q "session lost" "$SIM_DIR/blk.log"; }
wait_for 20 "pvback-blk to see the session drop" session_lost

echo "== the toolstack detaches that disk (online=0, state=Closing, as xl block-detach)"
xenstore-write "$be/online" 0 "$be/state" 5 || fail "writing $be"
deferred() { grep -q "vbd/$dom/$devid: closing: waiting for [1-9][0-9]* storage requests" "$SIM_DIR/blk.log"; }
wait_for 20 "the close to wait for the requests at the target" deferred
[ "$(blk_be_key "$dom" $devid state)" != 6 ] ||
    fail "Closed while requests still wrote into the guest's pages"

echo "== meanwhile, another guest's disk in the same pvback-blk"
t0=$SECONDS
blk_front "$other" --ops "${BLK_VERIFY_OPS:-300}" verify >"$SIM_DIR/other.log" 2>&1 ||
    { cat "$SIM_DIR/other.log" >&2; fail "another guest's disk failed while a close waited"; }
# The point: it was served before the detached disk's close could end.
grep -q "vbd/$dom/$devid: deferred disconnect complete" "$SIM_DIR/blk.log" &&
    fail "the other disk was served only after the close ended (the reconnect timeout): the close held the loop"
[ "$(blk_be_key "$dom" $devid state)" != 6 ] || fail "the detached disk went Closed before its requests ended"
echo "ok: another guest's disk served while the close waited ($((SECONDS - t0)) s)"

echo "== the timeout answers the requests; the close ends"
closed() { [ "$(blk_be_key "$dom" $devid state 2>/dev/null)" = 6 ]; }
wait_for $((timeout_s + 60)) "the detached disk to reach Closed" closed
grep -q "vbd/$dom/$devid: deferred disconnect complete" "$SIM_DIR/blk.log" ||
    fail "Closed without the deferred close's end in the log"
kill -0 "$BLK_PID" 2>/dev/null || fail "pvback-blk is gone"
# and the other disk still works afterwards
blk_front "$other" --ops 50 verify >"$SIM_DIR/other2.log" 2>&1 ||
    { cat "$SIM_DIR/other2.log" >&2; fail "the other disk failed after the close"; }
echo "ok: Closed after the timeout, pvback-blk up, the other disk still served"

# The detached guest's fio lost its disk: stop it, whatever it says.
tpid=$(pgrep -P $fio_pid -x timeout) && kill -TERM "$tpid"
wait $fio_pid 2>/dev/null || true
blk_stop_backend
echo PASS
