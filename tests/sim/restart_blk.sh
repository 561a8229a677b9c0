#!/usr/bin/env bash
# Restart without the guest noticing (issue #7): pvback-blk SIGKILLed again
# and again at random points of a verified fio job in the guest, and started
# again each time (as pvback-watch does; it is left out here because its
# crash-loop guard rightly gives up on a backend killed 100 times a minute).
# Each new process attaches to the live rings, takes the requests its
# predecessor had consumed but not answered from the in-flight journal, and
# runs them again. fio must finish with zero I/O errors and its verify
# passed, the image must then verify on the host, the frontend must never
# have reconnected, and the journal must have been used.
# RESTART_BLK_KILLS sets the number of kills (default 100; 20 in sanitizer
# builds, where every start costs seconds), RESTART_BLK_MAX_DELAY_MS the
# range of the random delay before each kill (default 400).
source "$PVBACK_SRC/tests/sim/blk_helpers.bash"
engine=$PVBACK_BIN/pvback-blkfront-fio.so
[ -f "$engine" ] || fail "fio engine not built: run scripts/fetch-fio-src, then reconfigure"
command -v fio >/dev/null || fail "fio is not installed"

preload=()
kills=${RESTART_BLK_KILLS:-100}
# Kills land up to this long after a start (under valgrind a start takes a
# second or more: a longer range lets most restarts attach before the kill).
max_delay=${RESTART_BLK_MAX_DELAY_MS:-400}
if ldd "$engine" | grep -q libasan; then
    preload=(env "LD_PRELOAD=$(gcc -print-file-name=libasan.so) $(gcc -print-file-name=libubsan.so)"
        ASAN_OPTIONS=detect_leaks=0)
    kills=${RESTART_BLK_KILLS:-20}
fi

blk_start_sim
dom=$(blk_guest g1)
img=$SIM_DIR/disk.img
truncate -s 64M "$img"
blk_add_disk "$dom" 51712 "$img" w
blk_start_backend
blk_wait_state "$dom" 51712 2

# One job, long enough for every kill: it writes the whole disk in random
# order several times (each pass verified) and stops once the kills are done
# (the kill loop touches $SIM_DIR/stop; fio then finishes its current pass).
job=(--name=restart --size=48M --rw=randwrite --bsrange=4k-256k --iodepth=32 --randseed=7
    --verify=crc32c --verify_fatal=1 --do_verify=1)
run_fio() {
    XENSIM_DOMID=$dom XENSTORED_PATH="$SIM_DIR/dom$dom.sock" timeout 1200 "${preload[@]}" \
        fio --ioengine=external:"$engine" --filename=xvda --queues=2 --ring_order=2 "${job[@]}" \
        "$@"
}
(
    pass=0
    while [ ! -e "$SIM_DIR/stop" ]; do
        pass=$((pass + 1))
        run_fio --randseed=$pass >"$SIM_DIR/fio.$pass.log" 2>&1 || exit 1
        grep -q 'err= 0' "$SIM_DIR/fio.$pass.log" || exit 1
        echo "$pass" >"$SIM_DIR/passes"
    done
) &
fio_loop=$!

blk_wait_state "$dom" 51712 4
for k in $(seq 1 "$kills"); do
    # A random point: from right after the start (still adopting) to well
    # into the workload.
    ms=$((RANDOM % max_delay))
    sleep "$((ms / 1000)).$(printf '%03d' $((ms % 1000)))"
    kill -0 $fio_loop 2>/dev/null || break
    kill -KILL "$BLK_PID"
    wait "$BLK_PID" 2>/dev/null || true
    echo "--- kill $k" >>"$SIM_DIR/blk.log"
    blk_start_backend
done
touch "$SIM_DIR/stop"
rc=0
wait $fio_loop || rc=$?
if [ $rc -ne 0 ]; then
    cat "$SIM_DIR"/fio.*.log | tail -n 40 >&2
    fail "fio failed across the restarts (after kill $k of $kills)"
fi
[ "$k" = "$kills" ] || fail "fio ended before the kills were done ($k of $kills)"
for f in "$SIM_DIR"/fio.*.log; do
    grep -q 'verify:.*bad\|crc32c.*mismatch\|verify failed' "$f" && { cat "$f" >&2; fail "fio's verify failed ($f)"; }
    grep -q 'err= 0' "$f" || { cat "$f" >&2; fail "fio errors ($f)"; }
done
passes=$(cat "$SIM_DIR/passes")
blk_wait_state "$dom" 51712 6
# The last pass, verify only, on the image from the host.
fio --ioengine=psync --filename="$img" --verify_only "${job[@]}" --randseed="$passes" --iodepth=1 \
    >"$SIM_DIR/fio-host.log" 2>&1 || { cat "$SIM_DIR/fio-host.log" >&2; fail "the image differs"; }
grep -q 'err= 0' "$SIM_DIR/fio-host.log" || { cat "$SIM_DIR/fio-host.log" >&2; fail "the image differs"; }
connects=$(grep -c 'connected: ' "$SIM_DIR/blk.log")
replays=$(grep -c 'taken again from the journal' "$SIM_DIR/blk.log" || true)
[ "$replays" -gt 0 ] || fail "no restart took requests from the journal"
blk_stop_backend
echo "ok: $kills SIGKILLs of pvback-blk under $passes verified fio passes, zero errors;" \
    "$connects attaches, $replays replays from the journal"
