# The rate key: xl's rate=10Mb/s (the toolstack writes "62500,50000", bytes
# per 50 ms) holds the guest's sending to within 10% of 10 Mbit/s, and a
# live change of the key (40 Mbit/s) takes effect on the running vif
# (2 and 4 Mbit/s under valgrind). A rate below a byte per window (1b/s:
# "0,50000", as libxl writes it) lets nothing out, as in Linux netback,
# until the key changes.
source "$PVBACK_SRC/tests/sim/net_helpers.bash"

# measure: iperf3 TCP from a to b; prints the receiver's Mbit/s.
measure() {
    in_guest ra timeout "$IPERF_TIMEOUT" iperf3 -J -c 10.80.0.2 -t 4 -O 1 | python3 -c '
import json, sys
r = json.load(sys.stdin)
print("%.2f" % (r["end"]["sum_received"]["bits_per_second"] / 1e6))'
}

# within GOT WANT: GOT within 10% of WANT. Under valgrind only the limit
# itself is asserted (GOT at most 10% above WANT): there pvback-net runs some
# 20 times slower and, on a loaded machine, may fall short of even these
# rates, which says nothing about the credit scheduler. Valgrind's run is
# for memory errors; the plain and ASan runs assert both bounds.
within() {
    python3 -c 'import sys; g, w, lo = float(sys.argv[1]), float(sys.argv[2]), sys.argv[3] == "1"
sys.exit(g > 1.1 * w or (lo and g < 0.9 * w))' "$1" "$2" "$LOWER_BOUND"
}

# Under valgrind pvback-net is some 20 times slower: rates it still sustains.
if [ "${PVBACK_VALGRIND:-0}" = 1 ]; then
    R1=2 K1=12500 R2=4 K2=25000 LOWER_BOUND=0 IPERF_TIMEOUT=90
else
    R1=10 K1=62500 R2=40 K2=250000 LOWER_BOUND=1 IPERF_TIMEOUT=30
fi

net_start_sim
net_start_backend
da=$(net_guest ra "mac=00:16:3e:00:0b:01,bridge=xenbr0,rate=${R1}Mb/s")
db=$(net_guest rb "mac=00:16:3e:00:0b:02,bridge=xenbr0")
expect_eq "rate key" "$(xenstore-read "backend/vif/$da/0/rate")" "$K1,50000"
net_front ra "$da"
net_front rb "$db"
in_guest ra ip addr add 10.80.0.1/24 dev eth0
in_guest rb ip addr add 10.80.0.2/24 dev eth0
in_guest rb iperf3 -s -D -B 10.80.0.2 -I "$SIM_DIR/iperf.pid"
sleep 0.3

got=$(measure) || fail "iperf3 at $R1 Mbit/s"
echo "rate $R1 Mbit/s: $got Mbit/s"
within "$got" "$R1" || fail "rate=${R1}Mb/s gave $got Mbit/s"

# R2 Mbit/s, changed while connected
xenstore-write "backend/vif/$da/0/rate" "$K2,50000"
sleep 0.2
grep -q "vif/$da/0: rate: $K2 bytes per 50000 us" "$SIM_DIR/net.log" ||
    fail "the live rate change was not applied"
got=$(measure) || fail "iperf3 at $R2 Mbit/s"
echo "rate $R2 Mbit/s: $got Mbit/s"
within "$got" "$R2" || fail "rate $K2,50000 gave $got Mbit/s"

# rate=1b/s: zero bytes per window, nothing leaves the guest (not even ARP)
dc=$(net_guest rc "mac=00:16:3e:00:0b:03,bridge=xenbr0,rate=1b/s")
expect_eq "tiny rate key" "$(xenstore-read "backend/vif/$dc/0/rate")" "0,50000"
net_front rc "$dc"
in_guest rc ip addr add 10.80.0.3/24 dev eth0
! in_guest rc ping -c 2 -W 1 10.80.0.2 >/dev/null || fail "rate=1b/s let the guest's pings out"
grep -q "vif/$dc/0: rate: 0 bytes per 50000 us: the guest can send nothing" "$SIM_DIR/net.log" ||
    fail "no warning for the rate of 0 bytes"
xenstore-write "backend/vif/$dc/0/rate" "62500,50000"
in_guest rc ping -c 1 -W 5 10.80.0.2 >/dev/null || fail "a new rate did not release the guest"

# the other direction is not limited (netback limits what the guest sends)
kill "$(cat "$SIM_DIR/iperf.pid")"
net_stop_fronts
net_stop_backend
echo "PASS"
