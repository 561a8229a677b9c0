# The control ring: a 4-queue guest configures Toeplitz hashing of IPv4/TCP
# with a key and a mapping of every hash to queue 3, as a Windows PV driver
# does for receive-side scaling. Frames to it then arrive on queue 3 only,
# each with a HASH extra-info whose value and type the guest's own
# computation confirms; a guest without the control ring is unaffected.
# Only frames steered after the configuration took effect are judged
# (netfront's checker: nf_ctrl_configure). The frames counted on queue 3 are
# bounded by the bytes the receiving iperf3 got, not by a time, so the
# assertion holds at any speed (valgrind).
source "$PVBACK_SRC/tests/sim/net_helpers.bash"

net_start_sim
net_start_backend
d1=$(net_guest s1 "mac=00:16:3e:00:11:01,bridge=xenbr0")
d2=$(net_guest s2 "mac=00:16:3e:00:11:02,bridge=xenbr0")
expect_eq "feature-ctrl-ring" "$(xenstore-read "backend/vif/$d1/0/feature-ctrl-ring")" 1
net_front s1 "$d1" --queues 4 --hash
net_front s2 "$d2" --queues 4
xenstore-read "/local/domain/$d1/device/vif/0/ctrl-ring-ref" >/dev/null ||
    fail "the guest gave no control ring"
in_guest s1 ip addr add 10.85.0.1/24 dev eth0
in_guest s2 ip addr add 10.85.0.2/24 dev eth0
in_guest s1 iperf3 -s -D -B 10.85.0.1 -I "$SIM_DIR/iperf.pid"
sleep 0.3
in_guest s2 ping -c 2 -i 0.2 -W 3 10.85.0.1 >/dev/null || fail "no ping to the hashing guest"
BYTES=$((16 * 1024 * 1024))
in_guest s2 timeout 120 iperf3 -c 10.85.0.1 -n "$BYTES" -P 4 --json >"$SIM_DIR/iperf.json" ||
    fail "iperf3 to the hashing guest: $(cat "$SIM_DIR/iperf.json")"
kill "$(cat "$SIM_DIR/iperf.pid")"
net_stop_fronts

log=$SIM_DIR/front-s1$NET_ID-0.log
cat "$log"
python3 - "$log" "$SIM_DIR/iperf.json" <<'PY' || fail "hash steering: see above"
import json, re, sys
q = {}
for line in open(sys.argv[1]):
    m = re.match(r"queue (\d+): rx (\d+) hashed (\d+) wrong (\d+) misrouted (\d+)", line)
    if m:
        q[int(m.group(1))] = [int(x) for x in m.groups()[1:]]
assert sorted(q) == [0, 1, 2, 3], q
# The bytes the hashing guest's iperf3 read came in frames of at most 64 KiB
# (netfront's largest), all on queue 3.
received = json.load(open(sys.argv[2]))["end"]["sum_received"]["bytes"]
least = max(1, received // 65536)
print("iperf3 received %d bytes: at least %d frames" % (received, least))
assert q[3][1] >= least, "queue 3 got %d hashed frames, fewer than %d" % (q[3][1], least)
for i in range(4):
    rx, hashed, wrong, mis = q[i]
    assert wrong == 0 and mis == 0, "queue %d: %d wrong hashes, %d misrouted" % (i, wrong, mis)
    if i != 3:
        assert hashed == 0, "queue %d got %d hashed frames" % (i, hashed)
PY
net_stop_backend
echo "PASS"
