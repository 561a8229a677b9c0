#!/usr/bin/env bash
# What a guest sees when its iSCSI target goes away (issue #6), with a
# reconnect timeout of $timeout_s s, through real fio in the guest:
# - a broken pipe (a target that died while data went out to it) does not
#   stop pvback-blk;
# - a target that is back after longer than a reconnect attempt's first
#   window, within the timeout: the verified job finishes without an error;
# - a target that stays away: the guest's waiting requests are answered with
#   EIO once the timeout passed (never held for ever), pvback-blk stays up,
#   and another guest's disk served by the same process keeps working;
# - the target back after that: the guest's I/O works again;
# - the guest's fio stopped while its requests are unanswered exits cleanly.
source "$PVBACK_SRC/tests/sim/blk_helpers.bash"
source "$PVBACK_SRC/tests/sim/lib_servers.sh"

timeout_s=15
remote_iscsi_and_file "$timeout_s"

backend_alive() { # WHEN
    kill -0 "$BLK_PID" 2>/dev/null && return 0
    local rc=0
    wait "$BLK_PID" || rc=$?
    BLK_PID=
    fail "pvback-blk is gone $1 (exit status $rc)"
}

# The job: verified writes; run LOG [fio options...] in the background.
job=(--name=outage --size=16M --rw=randwrite --bs=64k --iodepth=8 --verify=crc32c --do_verify=1)
loops=40 # long enough to be running still when the target is back (valgrind too)
# running JOB_PID DOMID LOG: once the guest's disk is connected (the backend
# opens the storage then), the job must still be running, or the test proves
# nothing.
running() {
    blk_wait_state "$2" $devid 4
    sleep 1
    kill -0 "$1" 2>/dev/null || { cat "$3" >&2; fail "fio ended before the outage: the test proved nothing"; }
}

echo "== a broken pipe"
kill -PIPE "$BLK_PID"
sleep 1
backend_alive "after a SIGPIPE"
echo "ok: pvback-blk ignores SIGPIPE"

echo "== the target back after 8 s"
guest_fio "$dom" "$SIM_DIR/fio-back.log" "${job[@]}" --loops=$loops &
fio_pid=$!
running $fio_pid "$dom" "$SIM_DIR/fio-back.log"
srv_tgtd_restart 8
wait $fio_pid || { cat "$SIM_DIR/fio-back.log" >&2; fail "fio failed across an 8 s outage"; }
grep -q 'err= 0' "$SIM_DIR/fio-back.log" || fail "fio reported errors across an 8 s outage"
grep -q "session lost" "$SIM_DIR/blk.log" || fail "the backend never saw the session drop: the test proved nothing"
backend_alive "after an 8 s outage"
blk_wait_state "$dom" $devid 6
echo "ok: the job resumed once the target was back"

echo "== the target gone for good"
guest_fio "$dom" "$SIM_DIR/fio-gone.log" "${job[@]}" --loops=400 &
fio_pid=$!
running $fio_pid "$dom" "$SIM_DIR/fio-gone.log"
srv_tgtd_kill
# Meanwhile another guest's disk, in the same pvback-blk, is served.
blk_front "$other" --ops "${BLK_VERIFY_OPS:-300}" verify >"$SIM_DIR/other.log" 2>&1 ||
    { cat "$SIM_DIR/other.log" >&2; fail "another guest's disk failed while the target was away"; }
echo "ok: another guest's disk served during the outage"
# fio's own 300 s bound (guest_fio) is what catches a request held for ever.
if wait $fio_pid; then
    fail "fio finished without an error while the target was gone"
fi
grep -q "Input/output error" "$SIM_DIR/fio-gone.log" ||
    { cat "$SIM_DIR/fio-gone.log" >&2; fail "the guest did not see EIO"; }
grep -q "no session for $timeout_s s" "$SIM_DIR/blk.log" ||
    fail "no 'no session for $timeout_s s' in the log: the EIO came from elsewhere"
backend_alive "after the reconnect timeout"
blk_wait_state "$dom" $devid 6
echo "ok: the guest saw EIO after the $timeout_s s timeout, pvback-blk is up"

echo "== the target back after the timeout"
srv_tgtd_start 48M
# Until a fresh login, requests still fail at once (the guest is not held);
# the retries go on after the timeout, so the session comes back by itself.
sessions_back() { [ "$(grep -c "session re-established" "$SIM_DIR/blk.log")" -ge "$1" ]; }
wait_for 60 "the session, once the target is back" sessions_back 2
guest_fio "$dom" "$SIM_DIR/fio-after.log" "${job[@]}" ||
    { cat "$SIM_DIR/fio-after.log" >&2; fail "I/O did not resume once the target was back"; }
grep -q 'err= 0' "$SIM_DIR/fio-after.log" || fail "fio reported errors once the target was back"
blk_wait_state "$dom" $devid 6
echo "ok: I/O works again"

echo "== fio stopped while the backend does not answer"
# The guest's fio is stopped (SIGTERM to its group, as by timeout(1)) while
# the backend holds its requests: the job must exit by itself, well before
# fio's forced reap at 300 s, which double-frees in fio 3.33.
guest_fio "$other" "$SIM_DIR/fio-stop.log" --name=stop --size=16M --rw=randread --bs=64k \
    --iodepth=8 --time_based --runtime=600 &
fio_pid=$!
running $fio_pid "$other" "$SIM_DIR/fio-stop.log"
kill -STOP "$BLK_PID"
tpid=$(pgrep -P $fio_pid -x timeout) || fail "no timeout process under guest_fio"
kill -TERM "$tpid"
for i in $(seq 120); do
    kill -0 $fio_pid 2>/dev/null || break
    sleep 1
done
kill -CONT "$BLK_PID"
if kill -0 $fio_pid 2>/dev/null; then
    fail "fio did not exit within 120 s of its SIGTERM while its requests were unanswered"
fi
wait $fio_pid || true # its unanswered requests failed: an error status is right
if grep -E "double free|AddressSanitizer|corruption|hasn't exited" "$SIM_DIR/fio-stop.log" >&2; then
    fail "fio's exit went wrong"
fi
backend_alive "after the guest's fio left"
blk_wait_state "$other" $devid 6
echo "ok: fio exited by itself, cleanly"

blk_stop_backend
echo PASS
