#!/usr/bin/env bash
# Restart without the guest noticing (issue #7), netback side: pvback-net
# SIGKILLed again and again at random points of an iperf3 TCP run between two
# guests, started again each time (as pvback-watch does). Each new process
# attaches to the live rings (indices from the shared rings, checked as
# BACK_RING_ATTACH does), recreates the taps on the bridge, and traffic goes
# on: frames in flight may drop, but the TCP connection survives (iperf3
# ends without error, with data moved after the last kill) and neither guest's
# netfront reconnects. RESTART_NET_KILLS sets the number of kills (default
# 20; 5 in sanitizer builds).
source "$PVBACK_SRC/tests/sim/net_helpers.bash"

kills=${RESTART_NET_KILLS:-20}
if ldd "$PVBACK_BIN/pvback-net" | grep -q libasan; then
    kills=${RESTART_NET_KILLS:-5}
fi
secs=$((kills + 8))

net_start_sim
net_start_backend
d1=$(net_guest ra "mac=00:16:3e:00:0e:01,bridge=xenbr0")
d2=$(net_guest rb "mac=00:16:3e:00:0e:02,bridge=xenbr0")
net_front ra "$d1" --queues 2
net_front rb "$d2"
in_guest ra ip addr add 10.84.0.1/24 dev eth0
in_guest rb ip addr add 10.84.0.2/24 dev eth0
in_guest ra ping -c 1 -W 3 10.84.0.2 >/dev/null || fail "no ping before the kills"

in_guest rb iperf3 --forceflush -s -1 -B 10.84.0.2 >"$SIM_DIR/iperf-server.log" 2>&1 &
server=$!
sleep 0.5
in_guest ra timeout $((secs + 60)) iperf3 -J -c 10.84.0.2 -t "$secs" -i 1 \
    >"$SIM_DIR/iperf.json" 2>&1 &
client=$!
sleep 1
for k in $(seq 1 "$kills"); do
    sleep "0.$(printf '%03d' $((200 + RANDOM % 600)))"
    kill -0 $client 2>/dev/null || fail "iperf3 ended during kill $k: $(tail -5 "$SIM_DIR/iperf.json")"
    kill -KILL "$NET_PID"
    wait "$NET_PID" 2>/dev/null || true
    echo "--- kill $k" >>"$SIM_DIR/net.log"
    net_start_backend
done
t_last=$(date +%s.%N)
wait $client || fail "iperf3 failed across the restarts: $(tail -20 "$SIM_DIR/iperf.json")
server: $(cat "$SIM_DIR/iperf-server.log")"
wait $server || true
# Data must still move after the last kill: the same connection carried on.
python3 "$PVBACK_SRC/tests/sim/iperf_survived.py" "$SIM_DIR/iperf.json" \
    "$(awk "BEGIN {printf \"%.3f\", $t_last + 1}")" "$kills kills" ||
    fail "the TCP connection did not survive; server: $(cat "$SIM_DIR/iperf-server.log")"
for f in "$SIM_DIR"/front-*.log; do
    expect_eq "connections of the driver in $f" "$(grep -c '^connected' "$f")" 1
done
expect_eq "vif $d1/0 state" "$(xenstore-read "backend/vif/$d1/0/state")" 4
in_guest ra ping -c 1 -W 3 10.84.0.2 >/dev/null || fail "no ping after the kills"
net_stop_fronts
net_stop_backend
echo "PASS: $kills SIGKILLs of pvback-net under one iperf3 TCP connection"
