# The rate key: xl's rate=10Mb/s (the toolstack writes "62500,50000", bytes
# per 50 ms) holds the guest's sending to within 10% of 10 Mbit/s, and a
# live change of the key (40 Mbit/s) takes effect on the running vif.
source "$PVBACK_SRC/tests/sim/net_helpers.bash"

# measure: iperf3 TCP from a to b; prints the receiver's Mbit/s.
measure() {
    in_guest ra timeout 30 iperf3 -J -c 10.80.0.2 -t 4 -O 1 | python3 -c '
import json, sys
r = json.load(sys.stdin)
print("%.2f" % (r["end"]["sum_received"]["bits_per_second"] / 1e6))'
}

# within GOT WANT: GOT within 10% of WANT
within() {
    python3 -c 'import sys; g, w = float(sys.argv[1]), float(sys.argv[2]); sys.exit(abs(g - w) > 0.1 * w)' "$1" "$2"
}

net_start_sim
net_start_backend
da=$(net_guest ra "mac=00:16:3e:00:0b:01,bridge=xenbr0,rate=10Mb/s")
db=$(net_guest rb "mac=00:16:3e:00:0b:02,bridge=xenbr0")
expect_eq "rate key" "$(xenstore-read "backend/vif/$da/0/rate")" "62500,50000"
net_front ra "$da"
net_front rb "$db"
in_guest ra ip addr add 10.80.0.1/24 dev eth0
in_guest rb ip addr add 10.80.0.2/24 dev eth0
in_guest rb iperf3 -s -D -B 10.80.0.2 -I "$SIM_DIR/iperf.pid"
sleep 0.3

got=$(measure) || fail "iperf3 at 10 Mbit/s"
echo "rate 10 Mbit/s: $got Mbit/s"
within "$got" 10 || fail "rate=10Mb/s gave $got Mbit/s"

# 40 Mbit/s = 250000 bytes per 50 ms, changed while connected
xenstore-write "backend/vif/$da/0/rate" "250000,50000"
sleep 0.2
grep -q "vif/$da/0: rate: 250000 bytes per 50000 us" "$SIM_DIR/net.log" ||
    fail "the live rate change was not applied"
got=$(measure) || fail "iperf3 at 40 Mbit/s"
echo "rate 40 Mbit/s: $got Mbit/s"
within "$got" 40 || fail "rate 250000,50000 gave $got Mbit/s"

# the other direction is not limited (netback limits what the guest sends)
kill "$(cat "$SIM_DIR/iperf.pid")"
net_stop_fronts
net_stop_backend
echo "PASS"
