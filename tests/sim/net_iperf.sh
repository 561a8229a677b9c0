# Traffic between two simulated guests through pvback-net, as issue #4 asks:
# iperf3 TCP and UDP in both directions, with 1 and 4 queues, MTU 1500 and
# 9000, offloads (and split event channels) on and off. TCP must move data;
# UDP at a rate the path sustains must lose nothing (the receiver gets a
# 2 MiB socket buffer: frames come in ring-sized bursts, and the default
# 208 KiB overflows under load).
# No vif may be throttled as an event storm (common/evtchn_storm.h).
source "$PVBACK_SRC/tests/sim/net_helpers.bash"

UDP_RATE=${NET_UDP_RATE:-50M}
SECS=${NET_IPERF_SECS:-2}

# iperf_check NAME GUEST SERVER_IP ARGS...: one iperf3 run from GUEST; fails
# the test when no data moved (TCP) or when datagrams were lost (UDP).
iperf_check() {
    local what=$1 guest=$2 ip=$3
    shift 3
    local out
    out=$(in_guest "$guest" timeout 30 iperf3 -J -c "$ip" -t "$SECS" "$@") ||
        fail "$what: iperf3 failed: $(echo "$out" | tail -5)"
    echo "$out" | python3 -c '
import json, sys
what = sys.argv[1]
r = json.load(sys.stdin)
if "error" in r:
    sys.exit(what + ": " + r["error"])
e = r["end"]
if r["start"]["test_start"]["protocol"] == "UDP":
    s = e["sum"]
    if s["packets"] == 0:
        sys.exit(what + ": no datagrams")
    if s["lost_packets"] != 0:
        print("%s: %d of %d datagrams lost" % (what, s["lost_packets"], s["packets"]))
        sys.exit(3)
    print("%s: %d datagrams at %.0f Mbit/s, none lost" % (what, s["packets"],
                                                          s["bits_per_second"] / 1e6))
else:
    bps = e["sum_received"]["bits_per_second"]
    if bps <= 0:
        sys.exit(what + ": no data received")
    print("%s: %.0f Mbit/s" % (what, bps / 1e6))
' "$what"
}

# udp_check NAME GUEST SERVER_IP ARGS...: UDP at UDP_RATE must lose nothing;
# if this busy machine could not keep that rate (loss), a quarter of it must.
udp_check() {
    local what=$1 guest=$2 ip=$3
    shift 3
    local rc=0
    iperf_check "$what" "$guest" "$ip" -u -b "$UDP_RATE" -l 1400 -w 2M "$@" || rc=$?
    if [ $rc -eq 3 ]; then
        local rate=$((${UDP_RATE%M} / 4))M
        rc=0
        iperf_check "$what at $rate" "$guest" "$ip" -u -b "$rate" -l 1400 -w 2M "$@" || rc=$?
    fi
    [ $rc -eq 0 ] || fail "$what"
}

# scenario QUEUES MTU OFFLOADS(on|off)
scenario() {
    local queues=$1 mtu=$2 off=$3 tag="q$1-mtu$2-$3"
    local fargs=(--queues "$queues")
    # offloads off: also one event channel per queue instead of split ones
    [ "$off" = off ] && fargs+=(--no-offloads --no-split)
    local d1 d2
    d1=$(net_guest "a$queues$off$mtu" "mac=00:16:3e:00:01:01,bridge=xenbr0,mtu=$mtu")
    d2=$(net_guest "b$queues$off$mtu" "mac=00:16:3e:00:01:02,bridge=xenbr0,mtu=$mtu")
    net_front "a$queues$off$mtu" "$d1" "${fargs[@]}"
    net_front "b$queues$off$mtu" "$d2" "${fargs[@]}"
    local ga="a$queues$off$mtu" gb="b$queues$off$mtu"
    # Without scatter-gather a frame must fit one page: netfront and netback
    # then both keep to 1500, as Linux's do.
    local want_mtu=$mtu
    [ "$off" = off ] && [ "$mtu" -gt 1500 ] && want_mtu=1500
    expect_eq "$tag: guest MTU" "$(in_guest "$ga" ip -o link show dev eth0 |
        sed 's/.* mtu \([0-9]*\) .*/\1/')" "$want_mtu"
    expect_eq "$tag: vif MTU" "$(ip -n "$HOSTNS" -o link show dev "vif$d1.0" |
        sed 's/.* mtu \([0-9]*\) .*/\1/')" "$want_mtu"
    in_guest "$ga" ip addr add 10.78.0.1/24 dev eth0
    in_guest "$gb" ip addr add 10.78.0.2/24 dev eth0
    in_guest "$gb" iperf3 -s -D -B 10.78.0.2 -I "$SIM_DIR/iperf-$tag.pid"
    sleep 0.3
    in_guest "$ga" ping -c 1 -W 3 10.78.0.2 >/dev/null || fail "$tag: no ping"
    local p=()
    [ "$queues" -gt 1 ] && p=(-P "$queues")
    iperf_check "$tag TCP a->b" "$ga" 10.78.0.2 "${p[@]}" || fail "$tag TCP a->b"
    iperf_check "$tag TCP b->a" "$ga" 10.78.0.2 "${p[@]}" -R || fail "$tag TCP b->a"
    udp_check "$tag UDP a->b" "$ga" 10.78.0.2
    udp_check "$tag UDP b->a" "$ga" 10.78.0.2 -R
    kill "$(cat "$SIM_DIR/iperf-$tag.pid")" 2>/dev/null || true
    net_stop_fronts
    "$XENSIM" --dir "$SIM_DIR" destroy "$ga$NET_ID" >/dev/null || fail "$tag: destroy $ga"
    "$XENSIM" --dir "$SIM_DIR" destroy "$gb$NET_ID" >/dev/null || fail "$tag: destroy $gb"
}

net_start_sim
net_start_backend
scenario 1 1500 on
scenario 4 1500 on
scenario 1 9000 on
scenario 1 1500 off
scenario 4 9000 off
# Correct frontends, however busy, are never taken for an event storm.
if grep -q "throttling its event channel" "$SIM_DIR/net.log"; then
    fail "a correct frontend was throttled: $(grep -m1 throttling "$SIM_DIR/net.log")"
fi
net_stop_backend
echo "PASS"
