# Two simulated guests on one bridge through pvback-net: the handshake
# reaches Connected only after the hotplug script, each vif is a tap
# vif<domid>.<handle> on the bridge with netback's MAC, and the guests ping
# each other (small and fragmented packets) over their netfronts; the
# status socket counts the vif's traffic.
source "$PVBACK_SRC/tests/sim/net_helpers.bash"

net_start_sim
net_start_backend
d1=$(net_guest g1 "mac=00:16:3e:00:00:01,bridge=xenbr0")
d2=$(net_guest g2 "mac=00:16:3e:00:00:02,bridge=xenbr0")
expect_eq "state of vif $d1/0" "$(xenstore-read backend/vif/$d1/0/state)" 2

net_front g1 "$d1"
net_front g2 "$d2"
expect_eq "state of vif $d1/0" "$(xenstore-read backend/vif/$d1/0/state)" 4
link=$(ip -n "$HOSTNS" -o link show dev "vif$d1.0")
[[ $link == *"master xenbr0"* ]] || fail "vif$d1.0 not on xenbr0: $link"
[[ $link == *"fe:ff:ff:ff:ff:ff"* ]] || fail "vif$d1.0 lacks netback's MAC: $link"
glink=$(in_guest g1 ip -o link show dev eth0)
[[ $glink == *"00:16:3e:00:00:01"* ]] || fail "guest eth0 lacks the vif's MAC: $glink"

in_guest g1 ip addr add 10.77.0.1/24 dev eth0
in_guest g2 ip addr add 10.77.0.2/24 dev eth0
in_guest g1 ping -c 3 -i 0.2 -W 3 10.77.0.2 >/dev/null || fail "g1 cannot ping g2"
in_guest g2 ping -c 2 -i 0.2 -W 3 -s 6000 10.77.0.1 >/dev/null || fail "no fragmented ping g2 -> g1"

# pvback-net's status socket counts the vif's packets and bytes
status=$(python3 -c '
import socket, sys
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
out = b""
while True:
    b = s.recv(65536)
    if not b:
        break
    out += b
print(out.decode())' "$SIM_DIR/pvback/vif-all.sock") || fail "no status socket"
line=$(echo "$status" | grep "^device name=vif/$d1/0 ") || fail "vif/$d1/0 not in the status: $status"
[[ $line == *" state=4 "* && $line == *" rings=1 "* ]] || fail "status of vif/$d1/0: $line"
packets=$(echo "$line" | sed 's/.* requests=\([0-9]*\).*/\1/')
[ "$packets" -ge 5 ] || fail "status counts $packets packets for vif/$d1/0: $line"
echo "$status" | grep -q "^end$" || fail "status report not complete"

net_stop_fronts
net_stop_backend
echo "PASS"
