# What the netback hostile tests (tests/hostile/net_*.sh) share: two good
# guests g1 and g2 on xenbr0 whose iperf3 TCP throughput is measured with and
# without an attack, and the checks every attack ends with. Source it after
# net_helpers.bash; HOSTILE_REPEAT runs of each kind (median), 5 by default:
# iperf3 between two guests varies by a third from run to run here.
source "$PVBACK_SRC/tests/hostile/throughput.bash"
repeat=${HOSTILE_REPEAT:-5}
rss_max=${HOSTILE_RSS_MAX_KB:-65536}

# hostile_good_guests SUBNET (e.g. 10.86.0): g1 = .1 and g2 = .2, MACs
# 00:16:3e:00:0b:01/02; the host's bridge gets .254.
hostile_good_guests() {
    local d1 d2
    d1=$(net_guest g1 "mac=00:16:3e:00:0b:01,bridge=xenbr0")
    d2=$(net_guest g2 "mac=00:16:3e:00:0b:02,bridge=xenbr0")
    net_front g1 "$d1"
    net_front g2 "$d2"
    in_guest g1 ip addr add "$1.1/24" dev eth0
    in_guest g2 ip addr add "$1.2/24" dev eth0
    ip -n "$HOSTNS" addr add "$1.254/24" dev xenbr0
    in_guest g1 ping -c 1 -W 3 "$1.2" >/dev/null || fail "no ping between the good guests"
    GOOD_SUBNET=$1
}

rss_kb() { awk '/^VmRSS:/ {print $2}' "/proc/$NET_PID/status"; }

# good_mbps: one 2 s iperf3 TCP run g1 -> g2, prints Mbit/s.
good_mbps() {
    in_guest g2 iperf3 -s -1 -B "$GOOD_SUBNET.2" >/dev/null 2>&1 &
    local srv=$!
    sleep 0.3
    in_guest g1 timeout 30 iperf3 -J -c "$GOOD_SUBNET.2" -t 2 >"$SIM_DIR/good.json" 2>&1 || {
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


# hostile_measure START STOP: HOSTILE_REPEAT rounds of an unattacked run, then
# one with the attack on (START, a command that starts it in the background;
# STOP, one that stops it and fails the test if it went wrong), alternated so
# that the machine's load hits both alike. Sets base[] and hit[] (Mbit/s).
hostile_measure() {
    local r v
    good_mbps >/dev/null || fail "warm-up iperf3 run failed"
    base=()
    hit=()
    for r in $(seq 1 "$repeat"); do
        v=$(good_mbps) || fail "unattacked iperf3 run $r failed"
        base+=("$v")
        $1 "$r"
        sleep 0.3
        v=$(good_mbps) || fail "iperf3 run $r during the attack failed"
        hit+=("$v")
        $2 "$r"
        kill -0 "$NET_PID" 2>/dev/null || fail "pvback-net died under the attack"
    done
}

# hostile_attack_start ROUND / hostile_attack_stop: the test's own
# attack_loop ROUND in the background until stop-attacks appears; it writes
# why it failed into attack-failed. Its pid is in $loop (for cleanups).
hostile_attack_start() {
    rm -f "$SIM_DIR/stop-attacks"
    attack_loop "$1" &
    loop=$!
}
hostile_attack_stop() {
    touch "$SIM_DIR/stop-attacks"
    wait $loop || fail "$(cat "$SIM_DIR/attack-failed" 2>/dev/null)"
    loop=
}

# hostile_check_rss RSS0 RSS1: pvback-net's growth under HOSTILE_RSS_MAX_KB.
hostile_check_rss() {
    echo "pvback-net RSS: $1 kB before, $2 kB after"
    [ $(($2 - $1)) -le "$rss_max" ] || fail "pvback-net grew by $(($2 - $1)) kB"
}
