#!/usr/bin/env bash
# pvback-net against a plain veth: iperf3 TCP from a simulated guest (its
# netfront -> rings -> pvback-net -> tap) to a peer on the same bridge,
# divided by iperf3 from a namespace attached to that bridge by a veth pair,
# in the same run, for one stream (1 queue) and four streams (4 queues), and
# for each TCP congestion control in BENCH_NET_CC (default "cubic bbr"):
#   RATIO net_iperf_<n>stream_<cc> <value> (guest->peer via pvback-net / veth->peer)
# The congestion control is named, not left to the host's default: the two
# paths react to it very differently (bbr paces the sender; a veth with
# cubic runs at memory speed), so a ratio without it is not reproducible
# (docs/netback.md, "Throughput").
# Everything lives in network namespaces this script creates and removes.
# Each ratio is of the means of BENCH_ROUNDS (default 2) rounds of veth,
# guest, guest, veth: the veth's own speed swings from run to run (with
# cubic, 14 or 48 Gbit/s on the development VM), and a "#" line shows each.
# The same rounds also run iperf3 from a namespace whose NIC is a tap that
# pvback-bench-tap-relay (bench/tap_relay.c) joins to a tap on the bridge in
# one process: the frames' path through pvback-net without the Xen protocol
# between the two taps. Its ratio to the veth,
#   REF net_taprelay_<n>stream_<cc> <value>,
# is what a simulated guest behind a tap can carry on this machine at best:
# the figure against which pvback-net's own cost shows.
# Environment: PVBACK_BIN (default build/bin), BENCH_SECONDS (default 5),
# BENCH_ROUNDS, BENCH_NET_CC.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
export PVBACK_BIN=${PVBACK_BIN:-$here/../build/bin}
export PVBACK_SRC=$here/..
secs=${BENCH_SECONDS:-5}
rounds=${BENCH_ROUNDS:-2}
for f in xensim pvback-net pvback-netfront pvback-bench-tap-relay; do
    [ -x "$PVBACK_BIN/$f" ] || { echo "bench/net-iperf: $PVBACK_BIN/$f missing" >&2; exit 1; }
done
command -v iperf3 >/dev/null || { echo "bench/net-iperf: iperf3 is not installed" >&2; exit 1; }
ccs=${BENCH_NET_CC:-cubic bbr}
for cc in $ccs; do # root may load the module (tcp_bbr) by naming it
    grep -qw "$cc" /proc/sys/net/ipv4/tcp_available_congestion_control || modprobe "tcp_$cc" 2>/dev/null ||
        { echo "bench/net-iperf: TCP congestion control $cc is not available" >&2; exit 1; }
done
source "$PVBACK_SRC/tests/sim/net_helpers.bash"
exec 3>&1 >/dev/null # the helpers' chatter off stdout; results go to fd 3

PEER=xs-peer$NET_ID BASE=xs-base$NET_ID
# A namespace on xenbr0 through a veth pair (named after the test's id).
veth_ns() {
    local ns=$1 ip=$2 tag=$3
    ip netns add "$ns"
    ip -n "$HOSTNS" link add "v$tag$NET_ID" type veth peer name eth0 netns "$ns"
    ip -n "$HOSTNS" link set "v$tag$NET_ID" master xenbr0 up
    ip -n "$ns" link set lo up
    ip -n "$ns" link set eth0 up
    ip -n "$ns" addr add "$ip/24" dev eth0
}

# mbits NS SERVER STREAMS CC: iperf3 TCP throughput seen by the receiver,
# the sender using congestion control CC.
mbits() {
    ip netns exec "$1" timeout $((secs + 20)) iperf3 -J -c "$2" -t "$secs" -O 1 -P "$3" -C "$4" |
        python3 -c 'import json,sys
r = json.load(sys.stdin)
if "error" in r: sys.exit("bench/net-iperf: iperf3 from %s: %s" % (sys.argv[1], r["error"]))
print("%.0f" % (r["end"]["sum_received"]["bits_per_second"] / 1e6))' "$1"
}

# relay_ns NS IP: a namespace on xenbr0 through the tap relay.
relay_ns() {
    local ns=$1 ip=$2 fifo=$SIM_DIR/relay.out
    ip netns add "$ns"
    mkfifo "$fifo"
    ip netns exec "$HOSTNS" "$PVBACK_BIN/pvback-bench-tap-relay" "rg$NET_ID" "rb$NET_ID" >"$fifo" &
    RELAY_PID=$!
    local line
    read -r -t 10 line <"$fifo" && [ "$line" = ready ] || fail "the tap relay did not start"
    ip -n "$HOSTNS" link set "rg$NET_ID" netns "$ns"
    ip -n "$ns" link set "rg$NET_ID" name eth0
    ip -n "$ns" link set lo up
    ip -n "$ns" link set eth0 up
    ip -n "$ns" addr add "$ip/24" dev eth0
    ip -n "$HOSTNS" link set "rb$NET_ID" master xenbr0 up
}

RELAY_PID=
net_start_sim
bench_cleanup() {
    local rc=$?
    set +e
    if [ -n "$RELAY_PID" ]; then
        kill "$RELAY_PID" 2>/dev/null
        wait "$RELAY_PID" 2>/dev/null
    fi
    net_cleanup $rc
}
trap bench_cleanup EXIT
net_start_backend
veth_ns "$PEER" 10.82.0.100 p
veth_ns "$BASE" 10.82.0.50 b
RELAY=xs-relay$NET_ID
relay_ns "$RELAY" 10.82.0.60
ip netns exec "$RELAY" ping -c 1 -W 3 10.82.0.100 >/dev/null || fail "the relay namespace cannot reach the peer"
ip netns exec "$PEER" iperf3 -s -D -B 10.82.0.100 -I "$SIM_DIR/iperf.pid" 3>&-
for n in 1 4; do
    d=$(net_guest "g$n" "mac=00:16:3e:00:0e:0$n,bridge=xenbr0")
    net_front "g$n" "$d" --queues "$n"
    in_guest "g$n" ip addr add "10.82.0.$n/24" dev eth0
    in_guest "g$n" ping -c 1 -W 3 10.82.0.100 >/dev/null || fail "guest g$n cannot reach the peer"
    sleep 0.3
    for cc in $ccs; do
        # Rounds of veth, guest, relay, relay, guest, veth; the ratios are
        # of the means.
        vias=() bases=() relays=()
        for _ in $(seq 1 "$rounds"); do
            bases+=("$(mbits "$BASE" 10.82.0.100 "$n" "$cc")")
            vias+=("$(mbits "xs-g$n$NET_ID" 10.82.0.100 "$n" "$cc")")
            relays+=("$(mbits "$RELAY" 10.82.0.100 "$n" "$cc")")
            relays+=("$(mbits "$RELAY" 10.82.0.100 "$n" "$cc")")
            vias+=("$(mbits "xs-g$n$NET_ID" 10.82.0.100 "$n" "$cc")")
            bases+=("$(mbits "$BASE" 10.82.0.100 "$n" "$cc")")
        done
        echo "# ${n}stream_$cc Mbit/s: veth ${bases[*]}; via pvback-net ${vias[*]};" \
            "via the tap relay ${relays[*]}" >&3
        python3 -c 'import sys; n, cc, a, r, b = sys.argv[1], sys.argv[2], *(sum(map(float, x.split())) / len(x.split()) for x in sys.argv[3:])
print("RATIO net_iperf_%sstream_%s %.2f (guest->peer via pvback-net %.0f Mbit/s / veth->peer %.0f Mbit/s, means)" % (n, cc, a / b, a, b))
print("REF net_taprelay_%sstream_%s %.2f (tap relay->peer %.0f Mbit/s / veth->peer, means; pvback-net / tap relay %.2f)" % (n, cc, r / b, r, a / r))' "$n" "$cc" "${vias[*]}" "${relays[*]}" "${bases[*]}" >&3
    done
    net_stop_fronts
done
kill "$(cat "$SIM_DIR/iperf.pid")" 2>/dev/null || true
net_stop_backend
