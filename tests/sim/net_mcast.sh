# Multicast control: a guest that sets request-multicast-control and adds
# one group (an MCAST_ADD extra-info request) receives that group's frames
# and broadcasts but not other groups; a guest without the filter gets all.
source "$PVBACK_SRC/tests/sim/net_helpers.bash"

capture() { # FILE NS: ICMP to multicast and broadcast, with link headers
    ip netns exec "$2" timeout 15 tcpdump -l -n -e -i eth0 "icmp" >"$SIM_DIR/$1" 2>"$SIM_DIR/$1.err" &
    local i
    for i in $(seq 1 100); do
        grep -qs "listening on" "$SIM_DIR/$1.err" && return 0
        sleep 0.05
    done
    fail "tcpdump in $2 did not start"
}

net_start_sim
net_start_backend
d1=$(net_guest m1 "mac=00:16:3e:00:10:01,bridge=xenbr0")
d2=$(net_guest m2 "mac=00:16:3e:00:10:02,bridge=xenbr0")
d3=$(net_guest m3 "mac=00:16:3e:00:10:03,bridge=xenbr0")
net_front m1 "$d1" --mcast-filter 01:00:5e:01:02:03
net_front m2 "$d2"
net_front m3 "$d3"
sleep 0.3
grep -q "vif/$d1/0: multicast filtering on" "$SIM_DIR/net.log" || fail "filtering not turned on"
for g in m1 m2 m3; do
    in_guest $g ip addr add "10.84.0.${g#m}/24" dev eth0
done
in_guest m2 ip route add 224.0.0.0/4 dev eth0
capture cap-m1 "xs-m1$NET_ID"
capture cap-m3 "xs-m3$NET_ID"
in_guest m2 ping -c 2 -i 0.2 -W 1 -t 1 224.1.2.3 >/dev/null 2>&1 || true
in_guest m2 ping -c 2 -i 0.2 -W 1 -t 1 224.5.6.7 >/dev/null 2>&1 || true
in_guest m2 ping -c 2 -i 0.2 -W 1 -b 10.84.0.255 >/dev/null 2>&1 || true
sleep 1
for c in cap-m1 cap-m3; do
    grep -q "> 01:00:5e:01:02:03.*> 224.1.2.3: ICMP echo request" "$SIM_DIR/$c" ||
        fail "$c: no frame to the listed group: $(cat "$SIM_DIR/$c")"
    grep -q "> ff:ff:ff:ff:ff:ff.*> 10.84.0.255: ICMP echo request" "$SIM_DIR/$c" ||
        fail "$c: no broadcast: $(cat "$SIM_DIR/$c")"
done
grep -q "224.5.6.7" "$SIM_DIR/cap-m3" || fail "the unfiltered guest did not get 224.5.6.7"
if grep -q "224.5.6.7" "$SIM_DIR/cap-m1"; then
    fail "the filtering guest got a group it did not add: $(cat "$SIM_DIR/cap-m1")"
fi
net_stop_fronts
net_stop_backend
echo "PASS"
