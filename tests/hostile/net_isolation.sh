#!/usr/bin/env bash
# A misbehaving guest harms only its own vif, measured: one pvback-net serves
# two good guests running iperf3 TCP between them, while hostile guests come
# and go with every netfront attack (bad slot counts, cross-page, extra-info,
# GSO, TX/RX/control producer overruns, truncated packets) and a guest that
# stops taking frames (its netfront SIGSTOPped: no RX requests posted) is
# flooded from the host (unbounded RX queueing, XSA-392). Asserted:
#  - every fatal attack fails its vif with an error node, pvback-net lives;
#  - pvback-net's RSS stays bounded (growth under HOSTILE_RSS_MAX_KB) while
#    frames for the stalled guest keep coming;
#  - the good guests' TCP throughput during the attacks is within 20% of the
#    unattacked throughput measured here (median of HOSTILE_REPEAT=5 each:
#    iperf3 between two guests varies by a third from run to run here);
#    asserted in the plain build, reported in a sanitizer build (below).
# Hostile guests come one per HOSTILE_PACE seconds (0.5), see attack_loop.
source "$PVBACK_SRC/tests/sim/net_helpers.bash"
repeat=${HOSTILE_REPEAT:-5}
rss_max=${HOSTILE_RSS_MAX_KB:-65536}
pace=${HOSTILE_PACE:-0.5}

net_start_sim
net_start_backend
d1=$(net_guest g1 "mac=00:16:3e:00:0b:01,bridge=xenbr0")
d2=$(net_guest g2 "mac=00:16:3e:00:0b:02,bridge=xenbr0")
ds=$(net_guest sink "mac=00:16:3e:00:0b:03,bridge=xenbr0")
net_front g1 "$d1"
net_front g2 "$d2"
net_front sink "$ds"
sink_front=${NET_FRONTS[-1]}
in_guest g1 ip addr add 10.86.0.1/24 dev eth0
in_guest g2 ip addr add 10.86.0.2/24 dev eth0
in_guest sink ip addr add 10.86.0.3/24 dev eth0
ip -n "$HOSTNS" addr add 10.86.0.254/24 dev xenbr0
ip -n "$HOSTNS" neigh replace 10.86.0.3 lladdr 00:16:3e:00:0b:03 dev xenbr0 nud permanent
in_guest g1 ping -c 1 -W 3 10.86.0.2 >/dev/null || fail "no ping between the good guests"

rss_kb() { awk '/^VmRSS:/ {print $2}' "/proc/$NET_PID/status"; }

# good_mbps: one 2 s iperf3 TCP run g1 -> g2, prints Mbit/s.
good_mbps() {
    in_guest g2 iperf3 -s -1 -B 10.86.0.2 >/dev/null 2>&1 &
    local srv=$!
    sleep 0.3
    in_guest g1 timeout 30 iperf3 -J -c 10.86.0.2 -t 2 >"$SIM_DIR/good.json" 2>&1 || {
        kill $srv 2>/dev/null
        return 1
    }
    wait $srv 2>/dev/null || true
    python3 -c '
import json, sys
r = json.load(open(sys.argv[1]))
if "error" in r:
    sys.exit(r["error"])
print(int(r["end"]["sum_received"]["bits_per_second"] / 1e6))' "$SIM_DIR/good.json"
}

declare -A want=(
    [slots]="more slots than any frontend may" [cross-page]="crosses the page boundary"
    [extra-type]="extra-info slot of invalid type" [gso-size0]="GSO extra-info with size 0"
    [gso-type]="unknown GSO type" [tx-overflow]="TX producer index"
    [rx-overflow]="RX producer index" [incomplete]="continues past the last request"
    [ctrl-overflow]="control ring: producer index"
)
# attack_loop ROUND: hostile guests one after the other until stop-attacks.
attack_loop() {
    local n=0 rule g d node
    while [ ! -e "$SIM_DIR/stop-attacks" ]; do
        for rule in "${!want[@]}"; do
            n=$((n + 1))
            g="h$1x$n"
            d=$(net_guest "$g" "mac=00:16:3e:00:0a:$(printf %02x $((n % 250))),bridge=xenbr0")
            XENSIM_DOMID=$d XENSTORED_PATH="$SIM_DIR/dom$d.sock" timeout 60 \
                "$PVBACK_BIN/pvback-netfront" --netns "xs-$g$NET_ID" --hostile "$rule" --hash \
                >"$SIM_DIR/hostile.log" 2>&1 ||
                { echo "$rule: $(cat "$SIM_DIR/hostile.log")" >"$SIM_DIR/attack-failed"; return 1; }
            node=$(xenstore-read "error/backend/vif/$d/0/error" 2>/dev/null || true)
            [[ $node == *"${want[$rule]}"* ]] ||
                { echo "$rule: error node '$node'" >"$SIM_DIR/attack-failed"; return 1; }
            "$XENSIM" --dir "$SIM_DIR" destroy "$g$NET_ID" >/dev/null
            ip netns del "xs-$g$NET_ID" 2>/dev/null || true
            echo $n >"$SIM_DIR/attacks-done"
            [ -e "$SIM_DIR/stop-attacks" ] && break
            # One hostile guest per HOSTILE_PACE seconds: creating and
            # destroying guests back to back is the toolstack's CPU load, and
            # on a 2-core machine that alone takes the good guests' CPU.
            sleep "$pace"
        done
    done
}

# The stalled guest: its netfront stops (posts no RX requests), and the host
# sends it 20 Mbit/s of UDP for as long as the attacks run.
# On any exit: the stalled guest resumes (a stopped process would not take
# the cleanup's SIGTERM) and the flood stops, then the usual cleanup.
isolation_cleanup() {
    local rc=$?
    set +e # a cleanup goes all the way, whatever fails in it
    touch "$SIM_DIR/stop-attacks" "$SIM_DIR/stop-flood"
    kill -CONT "$sink_front" 2>/dev/null || true
    [ -n "${flood:-}" ] && wait "$flood" 2>/dev/null
    [ -n "${loop:-}" ] && wait "$loop" 2>/dev/null
    net_cleanup "$rc"
}
trap isolation_cleanup EXIT
kill -STOP "$sink_front"
ip netns exec "$HOSTNS" python3 - "$SIM_DIR/stop-flood" <<'EOF' &
import os, socket, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("10.86.0.254", 0))
payload = b"x" * 1400
sent = 0
while not os.path.exists(sys.argv[1]):
    for _ in range(18):  # 18 x 1400 B every 10 ms: ~20 Mbit/s
        s.sendto(payload, ("10.86.0.3", 9))
        sent += 1
    time.sleep(0.01)
print("flood: %d datagrams" % sent)
EOF
flood=$!

good_mbps >/dev/null || fail "warm-up iperf3 run failed"
rss0=$(rss_kb)
base=()
hit=()
for r in $(seq 1 "$repeat"); do
    v=$(good_mbps) || fail "unattacked iperf3 run $r failed"
    base+=("$v")
    rm -f "$SIM_DIR/stop-attacks"
    attack_loop "$r" &
    loop=$!
    sleep 0.3
    v=$(good_mbps) || fail "iperf3 run $r during the attacks failed"
    hit+=("$v")
    touch "$SIM_DIR/stop-attacks"
    wait $loop || fail "$(cat "$SIM_DIR/attack-failed" 2>/dev/null)"
    kill -0 "$NET_PID" 2>/dev/null || fail "pvback-net died under the attacks"
done
rss1=$(rss_kb)
touch "$SIM_DIR/stop-flood"
wait $flood
kill -CONT "$sink_front"
median() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
mb=$(median "${base[@]}")
mh=$(median "${hit[@]}")
echo "good guests Mbit/s unattacked: ${base[*]} (median $mb); during attacks: ${hit[*]}" \
    "(median $mh); $(cat "$SIM_DIR/attacks-done") hostile guests in the last round"
echo "pvback-net RSS: $rss0 kB before, $rss1 kB after (a stalled guest flooded throughout)"
[ $((rss1 - rss0)) -le "$rss_max" ] || fail "pvback-net grew by $((rss1 - rss0)) kB"
# In a sanitizer build every hostile guest's setup and teardown in the shared
# pvback-net costs several times its normal CPU, on the same two cores the
# good guests' iperf3 runs on: the ratio then measures ASan, not isolation
# (71-74% seen). There the ratio is reported; the plain build asserts it.
if ldd "$PVBACK_BIN/pvback-net" | grep -q libasan; then
    echo "sanitizer build: throughput kept $((mh * 100 / mb))% (asserted in the plain build only)"
else
    [ $((mh * 100)) -ge $((mb * 80)) ] ||
        fail "the good guests lost more than 20% of their throughput ($mh vs $mb Mbit/s)"
fi
# the stalled guest's vif was only held back, not failed: it works again
expect_eq "the stalled guest's vif" "$(xenstore-read "backend/vif/$ds/0/state")" 4
in_guest sink ping -c 1 -W 3 10.86.0.1 >/dev/null || fail "the stalled guest did not recover"
net_stop_fronts
net_stop_backend
echo "PASS: the other guests kept $((mh * 100 / mb))% of their throughput"
