#!/usr/bin/env bash
# pvback-net against a plain veth: iperf3 TCP from a simulated guest (its
# netfront -> rings -> pvback-net -> tap) to a peer on the same bridge,
# divided by iperf3 from a namespace attached to that bridge by a veth pair,
# in the same run, for one stream (1 queue) and four streams (4 queues):
#   RATIO net_iperf_<n>stream <value> (guest->peer via pvback-net / veth->peer)
# Everything lives in network namespaces this script creates and removes.
# Environment: PVBACK_BIN (default build/bin), BENCH_SECONDS (default 5).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
export PVBACK_BIN=${PVBACK_BIN:-$here/../build/bin}
export PVBACK_SRC=$here/..
secs=${BENCH_SECONDS:-5}
for f in xensim pvback-net pvback-netfront; do
    [ -x "$PVBACK_BIN/$f" ] || { echo "bench/net-iperf: $PVBACK_BIN/$f missing" >&2; exit 1; }
done
command -v iperf3 >/dev/null || { echo "bench/net-iperf: iperf3 is not installed" >&2; exit 1; }
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

# mbits NS SERVER STREAMS: iperf3 TCP throughput seen by the receiver.
mbits() {
    ip netns exec "$1" timeout $((secs + 20)) iperf3 -J -c "$2" -t "$secs" -O 1 -P "$3" |
        python3 -c 'import json,sys; print("%.0f" % (json.load(sys.stdin)["end"]["sum_received"]["bits_per_second"] / 1e6))'
}

net_start_sim
net_start_backend
veth_ns "$PEER" 10.82.0.100 p
veth_ns "$BASE" 10.82.0.50 b
ip netns exec "$PEER" iperf3 -s -D -B 10.82.0.100 -I "$SIM_DIR/iperf.pid" 3>&-
for n in 1 4; do
    d=$(net_guest "g$n" "mac=00:16:3e:00:0e:0$n,bridge=xenbr0")
    net_front "g$n" "$d" --queues "$n"
    in_guest "g$n" ip addr add "10.82.0.$n/24" dev eth0
    in_guest "g$n" ping -c 1 -W 3 10.82.0.100 >/dev/null || fail "guest g$n cannot reach the peer"
    sleep 0.3
    via=$(mbits "xs-g$n$NET_ID" 10.82.0.100 "$n")
    base=$(mbits "$BASE" 10.82.0.100 "$n")
    python3 -c 'import sys; a, b, n = float(sys.argv[1]), float(sys.argv[2]), sys.argv[3]
print("RATIO net_iperf_%sstream %.2f (guest->peer via pvback-net %.0f Mbit/s / veth->peer %.0f Mbit/s)" % (n, a / b, a, b))' "$via" "$base" "$n" >&3
    net_stop_fronts
done
kill "$(cat "$SIM_DIR/iperf.pid")" 2>/dev/null || true
net_stop_backend
