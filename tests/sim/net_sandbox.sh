#!/usr/bin/env bash
# The per-guest sandbox on pvback-net: one process per guest, each as a user
# of its own (--user +BASE) keeping only CAP_NET_ADMIN (taps, bridge), under
# the seccomp filter. Both vifs come up on the bridge, the guests reach each
# other (ping, a short iperf3 TCP run), the status socket shows each
# process's uid and seccomp mode, and a forbidden call kills only that one.
# Taps are opened through /dev/net/tun: where only root may open it (mode
# 0600, as in some containers) the processes keep their user and only the
# seccomp part is tested; a host gives the backends' group access to it
# (docs/hardening.md).
source "$PVBACK_SRC/tests/sim/net_helpers.bash"

base=$((300000 + ($$ % 1000) * 100))
seccomp_want=2
ldd "$PVBACK_BIN/pvback-net" | grep -q libasan && seccomp_want=0 # see sandbox.h

user=(--user "+$base")
if [ "$(stat -c %a /dev/net/tun)" != 666 ]; then
    user=()
    echo "note: /dev/net/tun is mode $(stat -c %a /dev/net/tun): testing seccomp without a user switch"
fi

net_start_sim
# the per-guest backends are stopped on any exit, then the usual cleanup
pids=()
sandbox_cleanup() {
    local rc=$? p
    set +e # a cleanup goes all the way, whatever fails in it
    for p in "${pids[@]}"; do
        kill -KILL "$p" 2>/dev/null || true
        wait "$p" 2>/dev/null || true
    done
    net_cleanup "$rc"
}
trap sandbox_cleanup EXIT
chmod 0711 "$SIM_DIR"
chmod 0666 "$SIM_DIR/hv0.sock"
# xensim create waits for the backend, so the per-guest processes start
# first, for the domids a fresh simulator gives out (checked below).
d1=1
d2=2
for d in "$d1" "$d2"; do
    PVBACK_LOG=info ip netns exec "$HOSTNS" "$PVBACK_BIN/pvback-net" --frontend-domid "$d" \
        "${user[@]}" --seccomp >>"$SIM_DIR/net$d.log" 2>&1 &
    pids+=($!)
done
expect_eq "first guest's domid" "$(net_guest sa "mac=00:16:3e:00:0d:01,bridge=xenbr0")" "$d1"
expect_eq "second guest's domid" "$(net_guest sb "mac=00:16:3e:00:0d:02,bridge=xenbr0")" "$d2"
net_front sa "$d1"
net_front sb "$d2"
in_guest sa ip addr add 10.85.0.1/24 dev eth0
in_guest sb ip addr add 10.85.0.2/24 dev eth0
in_guest sa ping -c 2 -W 3 10.85.0.2 >/dev/null || { cat "$SIM_DIR"/net*.log >&2; fail "no ping through sandboxed backends"; }
in_guest sb iperf3 -s -1 -B 10.85.0.2 >/dev/null 2>&1 &
server=$!
sleep 0.5
in_guest sa timeout 30 iperf3 -c 10.85.0.2 -t 2 >"$SIM_DIR/iperf.log" 2>&1 ||
    { cat "$SIM_DIR/iperf.log" >&2; fail "iperf3 through sandboxed backends"; }
wait $server || true
echo "ok: ping and $(grep receiver "$SIM_DIR/iperf.log" | grep -o '[0-9.]* [MG]bits/sec') through per-guest sandboxed pvback-net"

uid_of() { if [ ${#user[@]} -gt 0 ]; then echo $((base + $1)); else echo 0; fi; }
for d in "$d1" "$d2"; do
    line=$(python3 - "$SIM_DIR/pvback/vif-$d.sock" <<'EOF'
import socket, sys
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
print(s.makefile().readline().strip())
EOF
)
    echo "$line" | grep -q " uid=$(uid_of "$d") seccomp=$seccomp_want " ||
        fail "status of guest $d's process: '$line' (want uid=$(uid_of "$d") seccomp=$seccomp_want)"
done
echo "ok: status shows uid $(uid_of "$d1"), $(uid_of "$d2") and seccomp=$seccomp_want"

if [ "$seccomp_want" = 2 ]; then
    rc=0
    ip netns exec "$HOSTNS" "$PVBACK_BIN/pvback-net" --frontend-domid 77 "${user[@]}" \
        --seccomp --sandbox-selftest >>"$SIM_DIR/net77.log" 2>&1 || rc=$?
    expect_eq "exit status after a forbidden call (128 + SIGSYS)" "$rc" 159
    for p in "${pids[@]}"; do
        kill -0 "$p" 2>/dev/null || fail "another guest's pvback-net died with it"
    done
    in_guest sa ping -c 1 -W 3 10.85.0.2 >/dev/null || fail "the guests lost their network"
    echo "ok: a forbidden call killed only that process"
fi
net_stop_fronts
for p in "${pids[@]}"; do
    kill -TERM "$p"
    wait "$p" || fail "a sandboxed pvback-net exited with $?"
done
pids=()
echo PASS
