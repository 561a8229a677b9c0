# Restarts on either side: a guest's netfront closes and comes back (the vif
# goes Closed, then InitWait and Connected again, and traffic resumes), and
# pvback-net itself is stopped and started again while the guests stay
# connected: the new daemon adopts the vifs, recreates their taps on the
# bridge, and the guests' traffic resumes without any action of theirs.
source "$PVBACK_SRC/tests/sim/net_helpers.bash"

net_start_sim
net_start_backend
d1=$(net_guest r1 "mac=00:16:3e:00:0f:01,bridge=xenbr0")
d2=$(net_guest r2 "mac=00:16:3e:00:0f:02,bridge=xenbr0")
net_front r1 "$d1"
net_front r2 "$d2" --queues 2
in_guest r1 ip addr add 10.83.0.1/24 dev eth0
in_guest r2 ip addr add 10.83.0.2/24 dev eth0
in_guest r1 ping -c 1 -W 3 10.83.0.2 >/dev/null || fail "no ping before the restarts"

# the frontend of r1 closes and comes back
kill -TERM "${NET_FRONTS[0]}"
wait "${NET_FRONTS[0]}" || fail "netfront r1 did not close cleanly"
NET_FRONTS=("${NET_FRONTS[@]:1}")
expect_eq "vif $d1/0 after the frontend closed" "$(xenstore-read "backend/vif/$d1/0/state")" 6
net_front r1 "$d1"
expect_eq "vif $d1/0 after the frontend came back" "$(xenstore-read "backend/vif/$d1/0/state")" 4
in_guest r1 ip addr add 10.83.0.1/24 dev eth0
in_guest r1 ping -c 1 -W 3 10.83.0.2 >/dev/null || fail "no ping after the frontend restart"

# the backend restarts under connected guests
net_stop_backend
net_start_backend
ok=0
for i in $(seq 1 50); do
    if in_guest r1 ping -c 1 -W 1 10.83.0.2 >/dev/null 2>&1; then
        ok=1
        break
    fi
done
[ $ok = 1 ] || fail "no ping after pvback-net restarted"
expect_eq "vif $d2/0 after the backend restart" "$(xenstore-read "backend/vif/$d2/0/state")" 4
ip -n "$HOSTNS" -o link show dev "vif$d2.0" | grep -q "master xenbr0" ||
    fail "vif$d2.0 not back on the bridge"
in_guest r2 ping -c 1 -W 3 10.83.0.1 >/dev/null || fail "r2 lost service"

net_stop_fronts
net_stop_backend
echo "PASS"
