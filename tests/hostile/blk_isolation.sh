#!/usr/bin/env bash
# A misbehaving guest harms only its own devices (DESIGN.md's last security
# rule), measured with each guest's disk in its own pvback-blk, as
# pvback-watch deploys them (one backend process per guest; one process
# serving several guests is blk_hostile's case, which checks the other
# guest's service, not its speed: there a single event loop shares its time
# between the two, whatever the attack). The hostile guest cycles through every blkfront attack (bad op, segment counts,
# sectors, grant refs, indirect, producer overrun, event storm) and floods its
# guest-writable xenstore nodes, while the good guest runs fio. Asserted:
#  - each attack fails (or throttles) the attacked device as designed, with an
#    error node, and pvback-blk stays alive;
#  - pvback-blk's memory stays bounded (RSS growth under HOSTILE_RSS_MAX_KB);
#  - the good guest's fio throughput during the attacks is within 20% of its
#    unattacked throughput measured in this same test (HOSTILE_REPEAT
#    alternated pairs of runs, judged on the median pair's ratio:
#    tests/hostile/throughput.bash).
# The attack loop (the hostile guest's frontend processes and its xenstore
# writes) runs as SCHED_IDLE (chrt --idle), as the net tests' attackers do: a
# Xen guest attacks from its own vCPUs, not dom0's, while here it shares the
# two cores with the good guest's fio. What the attacks make pvback-blk and
# xensim do still runs at normal priority and still counts.
# The 80% bound is asserted in the plain build (90-98% kept) and only
# reported under ASan: there each attack's device setup and teardown in the
# attacked pvback-blk and in xensim costs several times its normal CPU on the
# two cores the good guest's fio runs on (76-85% kept; a CI run failed at 78%).
source "$PVBACK_SRC/tests/sim/blk_helpers.bash"
source "$PVBACK_SRC/tests/hostile/throughput.bash"
engine=$PVBACK_BIN/pvback-blkfront-fio.so
[ -f "$engine" ] || fail "fio engine not built: run scripts/fetch-fio-src, then reconfigure"
command -v fio >/dev/null || fail "fio is not installed"
preload=()
if ldd "$engine" | grep libasan >/dev/null; then # not -q: with pipefail, ldd could die of SIGPIPE
    preload=(env "LD_PRELOAD=$(gcc -print-file-name=libasan.so) $(gcc -print-file-name=libubsan.so)"
        ASAN_OPTIONS=detect_leaks=0)
fi
repeat=${HOSTILE_REPEAT:-3}
rss_max=${HOSTILE_RSS_MAX_KB:-65536}

blk_start_sim
bad=$(blk_guest bad)
good=$(blk_guest good)
truncate -s 8M "$SIM_DIR/bad.img"
truncate -s 64M "$SIM_DIR/good.img"
blk_add_disk "$bad" 51712 "$SIM_DIR/bad.img" w
blk_add_disk "$good" 51712 "$SIM_DIR/good.img" w
blk_start_backend --frontend-domid "$good"
GOOD_PID=$BLK_PID
blk_start_backend --frontend-domid "$bad" # BLK_PID: the attacked guest's
blk_wait_state "$bad" 51712 2
blk_wait_state "$good" 51712 2

rss_kb() { awk '/^VmRSS:/ {print $2}' "/proc/$BLK_PID/status"; }

# good_iops: one fio run in the good guest, prints its IOPS.
good_iops() {
    XENSIM_DOMID=$good XENSTORED_PATH="$SIM_DIR/dom$good.sock" timeout 120 "${preload[@]}" \
        fio --ioengine=external:"$engine" --filename=xvda --name=good --size=48M \
        --rw=randrw --bs=4k --iodepth=16 --time_based --runtime=2 --output-format=json \
        >"$SIM_DIR/good.json" 2>"$SIM_DIR/good.err" || { cat "$SIM_DIR/good.err" >&2; return 1; }
    python3 -c '
import json, sys
j = json.load(open(sys.argv[1]))["jobs"][0]
if j["error"]:
    sys.exit("fio error %d" % j["error"])
print(int(j["read"]["iops"] + j["write"]["iops"]))' "$SIM_DIR/good.json"
}

attacks=(bad-op no-segments too-many-segments last-before-first last-past-page past-end bad-gref
    bad-indirect-op too-many-indirect prod-overflow event-storm)
errnode=/local/domain/0/error/backend/vbd/$bad/51712/error
fe=/local/domain/$bad/device/vbd/51712

# close_bad: what the guest does before its next driver starts after the
# flood: Closed, and waits for the backend's. The flood's random states may
# have made the backend connect with a ring-ref left by an exited attack
# process (refused, so the device failed: Closing), and a failed device waits
# for the frontend's Closed before it accepts a new Initialising.
close_bad() {
    XENSTORED_PATH="$SIM_DIR/dom$bad.sock" xenstore-write "$fe/state" 6 &&
        (blk_wait_state "$bad" 51712 6) # a subshell: its fail ends only this wait
}

# attack_loop: every attack in turn, then a flood of writes to the guest's
# own frontend nodes (as that guest: its xenstore connection, its quota),
# until $SIM_DIR/stop-attacks exists. Each attack's outcome is checked.
attack_loop() {
    local a n=0
    while [ ! -e "$SIM_DIR/stop-attacks" ]; do
        for a in "${attacks[@]}"; do
            xenstore-rm "$errnode" 2>/dev/null || true
            blk_front "$bad" hostile "$a" >"$SIM_DIR/attack.log" 2>&1 ||
                { echo "attack $a: $(cat "$SIM_DIR/attack.log")" >"$SIM_DIR/attack-failed"; return 1; }
            if [ "$a" != event-storm ] && ! xenstore-read "$errnode" >/dev/null 2>&1; then
                echo "attack $a: no error node" >"$SIM_DIR/attack-failed"
                return 1
            fi
            n=$((n + 1))
            echo $n >"$SIM_DIR/attacks-done"
        done
        for i in $(seq 1 50); do
            XENSTORED_PATH="$SIM_DIR/dom$bad.sock" xenstore-write "$fe/flood-$((i % 10))" "$i" \
                "$fe/state" $((i % 7)) 2>/dev/null || true
        done
        close_bad 2>"$SIM_DIR/attack-failed" || return 1
    done
}

good_iops >/dev/null || fail "warm-up fio run failed" # warm-up: grants, caches
rss0=$(rss_kb)
base=()
hit=()
for r in $(seq 1 "$repeat"); do
    v=$(good_iops) || fail "unattacked fio run $r failed"
    base+=("$v")
    rm -f "$SIM_DIR/stop-attacks"
    attack_loop &
    loop=$!
    chrt --idle -p 0 $loop # inherited by every process the loop starts from now on
    sleep 0.3
    v=$(good_iops) || fail "fio run $r during the attacks failed"
    hit+=("$v")
    touch "$SIM_DIR/stop-attacks"
    wait $loop || fail "$(cat "$SIM_DIR/attack-failed" 2>/dev/null)"
    kill -0 "$BLK_PID" 2>/dev/null || fail "the attacked guest's pvback-blk died under the attacks"
    kill -0 "$GOOD_PID" 2>/dev/null || fail "the good guest's pvback-blk died during the attacks"
done
rss1=$(rss_kb)
echo "$(cat "$SIM_DIR/attacks-done") attacks"
hostile_check_throughput IOPS pvback-blk --report-under-asan
echo "pvback-blk RSS: $rss0 kB before, $rss1 kB after the attacks"
[ $((rss1 - rss0)) -le "$rss_max" ] || fail "pvback-blk grew by $((rss1 - rss0)) kB under the attacks"
if xenstore-read "/local/domain/0/error/backend/vbd/$good/51712/error" >/dev/null 2>&1; then
    fail "the good guest's device has an error node"
fi
# the attacked device still serves a well-behaved frontend afterwards (the
# loop left it Closed, frontend and backend)
blk_wait_state "$bad" 51712 6
blk_front "$bad" --ops 200 verify >"$SIM_DIR/bad.log" 2>&1 ||
    { cat "$SIM_DIR/bad.log" >&2; fail "the attacked device did not recover"; }
blk_stop_backend
BLK_PID=$GOOD_PID
blk_stop_backend
echo "PASS: ${#attacks[@]} attacks and a xenstore flood; the other guest kept $KEPT% of its throughput"
