#!/usr/bin/env bash
# The per-guest sandbox (issue #7 part 2), on pvback-blk: one process per
# guest, each run as a user of its own (--user +BASE: uid BASE + domid) under
# the seccomp filter (--seccomp):
#  - each serves its guest's disk (verified workload) while sandboxed;
#  - the status socket reports its uid and seccomp mode 2 (filter);
#  - a disk of guest 1 pointing at guest 2's image cannot be opened by
#    guest 1's process (error node, EACCES), guest 2 keeps its service;
#  - a forbidden system call (--sandbox-selftest) kills only that process
#    (SIGSYS), the others keep serving.
# The simulator's hypervisor socket is made reachable by other users here,
# as /dev/xen/gntdev and evtchn must be (group) on a real host.
source "$PVBACK_SRC/tests/sim/blk_helpers.bash"

base=$((200000 + ($$ % 1000) * 100))
seccomp_want=2
if ldd "$PVBACK_BIN/pvback-blk" | grep -q libasan; then
    seccomp_want=0 # sanitizer builds leave the filter out (sandbox.h)
fi

blk_start_sim
# the per-guest backends are stopped on any exit, then the usual cleanup
pids=()
sandbox_cleanup() {
    local rc=$? p
    set +e # a cleanup goes all the way, whatever fails in it
    for p in "${pids[@]}"; do
        kill -KILL "$p" 2>/dev/null || true
        wait "$p" 2>/dev/null || true
    done
    blk_cleanup "$rc"
}
trap sandbox_cleanup EXIT
chmod 0711 "$SIM_DIR"
chmod 0666 "$SIM_DIR/hv0.sock"
d1=$(blk_guest s1)
d2=$(blk_guest s2)
for d in "$d1" "$d2"; do
    truncate -s 16M "$SIM_DIR/disk$d.img"
    chown $((base + d)):$((base + d)) "$SIM_DIR/disk$d.img"
    chmod 0600 "$SIM_DIR/disk$d.img"
    blk_add_disk "$d" 51712 "$SIM_DIR/disk$d.img" w
done
for d in "$d1" "$d2"; do
    PVBACK_LOG=info "$PVBACK_BIN/pvback-blk" --frontend-domid "$d" --user "+$base" --seccomp \
        >>"$SIM_DIR/blk$d.log" 2>&1 &
    pids+=($!)
done
for d in "$d1" "$d2"; do
    blk_wait_state "$d" 51712 2
done

# status: uid and seccomp mode of each process, as the kernel has them
status() {
    python3 - "$SIM_DIR/pvback/vbd-$1.sock" <<'EOF'
import socket, sys
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
data = b""
while True:
    b = s.recv(4096)
    if not b:
        break
    data += b
print(data.decode().splitlines()[0])
EOF
}
for d in "$d1" "$d2"; do
    line=$(status "$d")
    echo "$line" | grep -q " uid=$((base + d)) seccomp=$seccomp_want " ||
        fail "status of guest $d's process: '$line' (want uid=$((base + d)) seccomp=$seccomp_want)"
done
echo "ok: each process runs as its own user (uid $((base + d1)), $((base + d2))), seccomp=$seccomp_want"

# each guest's disk works under the sandbox
for d in "$d1" "$d2"; do
    blk_front "$d" --ops 1500 --queues 2 verify >"$SIM_DIR/front$d.log" 2>&1 ||
        { cat "$SIM_DIR/front$d.log" "$SIM_DIR/blk$d.log" >&2; fail "guest $d's disk under the sandbox"; }
done
echo "ok: both disks verified through sandboxed backends"

# guest 1 asks for guest 2's image: refused by the kernel, not by a check of ours
blk_add_disk "$d1" 51728 "$SIM_DIR/disk$d2.img" w
blk_front "$d1" --devid 51728 info >"$SIM_DIR/steal.log" 2>&1 || true
err=$(xenstore-read "/local/domain/0/error/backend/vbd/$d1/51728/error" 2>/dev/null || true)
case "$err" in
*"Permission denied"*) echo "ok: guest $d1's process cannot open guest $d2's image ($err)" ;;
*) fail "guest $d1's process opened guest $d2's image (error node: '$err')" ;;
esac
blk_front "$d2" --ops 500 verify >"$SIM_DIR/front$d2.log" 2>&1 || fail "guest $d2 lost its disk"

# a forbidden system call kills that process only
d3=$(blk_guest s3)
truncate -s 16M "$SIM_DIR/disk$d3.img"
chown $((base + d3)) "$SIM_DIR/disk$d3.img"
blk_add_disk "$d3" 51712 "$SIM_DIR/disk$d3.img" w
if [ "$seccomp_want" = 2 ]; then # (without the filter the self-test would just serve)
    rc=0
    "$PVBACK_BIN/pvback-blk" --frontend-domid "$d3" --user "+$base" --seccomp --sandbox-selftest \
        >>"$SIM_DIR/blk$d3.log" 2>&1 || rc=$?
    expect_eq "exit status of the process that made a forbidden call (128 + SIGSYS)" "$rc" 159
    echo "ok: a forbidden system call killed that process (SIGSYS)"
fi
for p in "${pids[@]}"; do
    kill -0 "$p" 2>/dev/null || fail "another guest's backend died with it"
done
for d in "$d1" "$d2"; do
    [ "$d" = "$d1" ] && continue
    blk_front "$d" --ops 500 verify >"$SIM_DIR/front$d.log" 2>&1 || fail "guest $d lost its disk"
done
for p in "${pids[@]}"; do
    kill -TERM "$p"
    wait "$p" || fail "a sandboxed pvback-blk exited with $?"
done
pids=()
echo PASS
