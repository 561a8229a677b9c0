# 802.1Q through pvback-net on a bridge without VLAN filtering (this
# machine's kernel has none), so netback tags and filters itself:
#   a: vlan=10             (xl 4.19's vlan key)
#   b: bridge=xenbr0.20    (vif-openvswitch's form: PVID 20)
#   c: vlan=10p/20         (a trunk: PVID 10 untagged, VLAN 20 tagged)
# All three share one IPv4 subnet, so only the VLANs keep them apart: a
# reaches c, a never reaches b, c sees b's frames tagged 20, and the frames
# on the bridge carry the right tags.
source "$PVBACK_SRC/tests/sim/net_helpers.bash"
command -v tcpdump >/dev/null || fail "tcpdump is needed"

# capture FILE NS IF FILTER: tcpdump in NS on IF (link-level headers) into
# $SIM_DIR/FILE, running once it listens.
capture() {
    local f="$SIM_DIR/$1"
    ip netns exec "$2" timeout 15 tcpdump -l -n -e -i "$3" "$4" >"$f" 2>"$f.err" &
    local i
    for i in $(seq 1 100); do
        grep -qs "listening on" "$f.err" && return 0
        sleep 0.05
    done
    fail "tcpdump on $3 in $2 did not start: $(cat "$f.err")"
}

net_start_sim
net_start_backend
da=$(net_guest va "mac=00:16:3e:00:0a:01,bridge=xenbr0,vlan=10")
db=$(net_guest vb "mac=00:16:3e:00:0a:02,bridge=xenbr0.20")
dc=$(net_guest vc "mac=00:16:3e:00:0a:03,bridge=xenbr0,vlan=10p/20")
net_front va "$da"
net_front vb "$db"
net_front vc "$dc"
grep -q "vif/$da/0: bridge xenbr0 does not filter VLANs: tagging in netback (PVID 10" \
    "$SIM_DIR/net.log" || fail "no in-netback tagging announced for a"
in_guest va ip addr add 10.79.0.1/24 dev eth0
in_guest vb ip addr add 10.79.0.2/24 dev eth0
in_guest vc ip addr add 10.79.0.3/24 dev eth0

# a <-> c on VLAN 10, tagged 10 on the bridge, untagged in the guests.
capture cap-br10 "$HOSTNS" xenbr0 "vlan and icmp"
bridge_cap=$SIM_DIR/cap-br10
in_guest va ping -c 2 -i 0.2 -W 3 10.79.0.3 >/dev/null || fail "a cannot reach c on VLAN 10"
sleep 0.5
grep -q "ethertype 802.1Q (0x8100), length [0-9]*: vlan 10, p 0, ethertype IPv4.*10.79.0.1 > 10.79.0.3: ICMP echo request" \
    "$bridge_cap" || fail "a's ping is not tagged 10 on the bridge: $(cat "$bridge_cap")"
grep -q "vlan 10, p 0, ethertype IPv4.*10.79.0.3 > 10.79.0.1: ICMP echo reply" "$bridge_cap" ||
    fail "c's reply is not tagged 10 on the bridge: $(cat "$bridge_cap")"
capture cap-a10 "xs-va$NET_ID" eth0 "icmp"
guest_cap=$SIM_DIR/cap-a10
in_guest va ping -c 1 -W 3 10.79.0.3 >/dev/null || fail "a cannot reach c again"
sleep 0.5
grep -q "10.79.0.3 > 10.79.0.1: ICMP echo reply" "$guest_cap" || fail "a saw no reply"
if grep -q "802.1Q" "$guest_cap"; then fail "a got tagged frames: $(cat "$guest_cap")"; fi

# a never reaches b (VLAN 10 vs 20), though they share a subnet.
if in_guest va ping -c 2 -i 0.2 -W 1 10.79.0.2 >/dev/null; then
    fail "a reached b across VLANs"
fi

# b's frames: tagged 20 on the bridge, and tagged 20 at the trunk guest c.
capture cap-br20 "$HOSTNS" xenbr0 "vlan 20 and arp"
capture cap-c20 "xs-vc$NET_ID" eth0 "vlan 20 and arp"
capture cap-a20 "xs-va$NET_ID" eth0 "arp and host 10.79.0.2"
bridge_cap=$SIM_DIR/cap-br20 c_cap=$SIM_DIR/cap-c20 a_cap=$SIM_DIR/cap-a20
in_guest vb ping -c 2 -i 0.2 -W 1 10.79.0.9 >/dev/null 2>&1 || true # ARPs for a missing host
sleep 1
grep -q "vlan 20, p 0, ethertype ARP.*Request who-has 10.79.0.9 tell 10.79.0.2" "$bridge_cap" ||
    fail "b's ARP is not tagged 20 on the bridge: $(cat "$bridge_cap")"
grep -q "vlan 20, p 0, ethertype ARP.*Request who-has 10.79.0.9 tell 10.79.0.2" "$c_cap" ||
    fail "the trunk guest c does not see VLAN 20 tagged: $(cat "$c_cap")"
if grep -q "tell 10.79.0.2" "$a_cap"; then fail "a (VLAN 10) saw b's ARP: $(cat "$a_cap")"; fi

net_stop_fronts
net_stop_backend
echo "PASS"
