#!/usr/bin/env bash
# Crashes, from the guest's side (pvback-watch's own restart logic has its
# test in watch_lifecycle):
#  - pvback-blk SIGKILLed under a running fio job with verify: pvback-watch
#    restarts it, it takes the disk back, and fio finishes with its verify
#    passed;
#  - pvback-net SIGKILLed under a connected NIC: restarted, the tap is back on
#    the bridge and the guest reaches dom0 again, with the same driver (no
#    reconnect on the guest's side);
#  - a guest whose frontends die without closing anything (SIGKILL), then
#    `xensim destroy`: destroyed promptly and nothing is left.
source "$PVBACK_SRC/tests/sim/lifecycle_helpers.bash"
engine=$PVBACK_BIN/pvback-blkfront-fio.so
[ -f "$engine" ] || fail "fio engine not built: run scripts/fetch-fio-src, then reconfigure"
command -v fio >/dev/null || fail "fio is not installed"

lc_start
ip -n "$HOSTNS" addr add 10.98.0.254/24 dev xenbr0
lc_guest cg 96 >/dev/null
lc_guest cg 96 >/dev/null
d=$(lc_create cg) || fail "create"
lc_boot cg
ip -n "xs-cg$LC_ID" addr add 10.98.0.1/24 dev eth0
ip netns exec "xs-cg$LC_ID" ping -c 1 -W 3 10.98.0.254 >/dev/null || fail "the guest cannot reach dom0"

# --- pvback-blk killed under fio -------------------------------------------
blk=$(lc_backend_pid vbd "$d")
# Paced (24576 writes at most 8000 a second: 3 s or more) so that the job is
# still writing when the kill lands on a host fast enough to write the 96 MiB
# in a quarter second.
lc_fio cg --name=crash --size=96M --rate_iops=8000 \
    --rw=randwrite --bs=4k --iodepth=16 --verify=crc32c --verify_fatal=1 \
    >"$SIM_DIR/fio.log" 2>&1 &
fio_pid=$!
lc_wait 20 "fio connected" eval "grep -q 'vbd/$d/51712: InitWait -> Connected' '$SIM_DIR/watch.log'"
sleep 0.5
kill -0 $fio_pid 2>/dev/null || fail "fio finished before the kill: $(cat "$SIM_DIR/fio.log")"
kill -9 "$blk"
lc_wait 10 "a new pvback-blk" eval '[ -n "$(lc_backend_pid vbd $d)" ] && [ "$(lc_backend_pid vbd $d)" != "$blk" ]'
grep -q "domain $d: vbd backend (pid $blk) was killed by signal 9; restarting" "$SIM_DIR/watch.log" ||
    fail "the restart is not logged"
wait $fio_pid || { cat "$SIM_DIR/fio.log" >&2; fail "fio failed across the backend's restart"; }
grep -q 'err= 0' "$SIM_DIR/fio.log" || { cat "$SIM_DIR/fio.log" >&2; fail "fio reported errors"; }
grep -q 'verify:' "$SIM_DIR/fio.log" && { cat "$SIM_DIR/fio.log" >&2; fail "fio's verify failed"; }
echo "ok: fio with verify passed across a SIGKILL of pvback-blk ($(grep -m1 -o 'write: IOPS=[^,]*' "$SIM_DIR/fio.log"))"

# --- pvback-net killed under a connected NIC -------------------------------
net=$(lc_backend_pid vif "$d")
kill -9 "$net"
lc_wait 10 "a new pvback-net" eval '[ -n "$(lc_backend_pid vif $d)" ] && [ "$(lc_backend_pid vif $d)" != "$net" ]'
lc_wait 10 "vif$d.0 back on xenbr0" eval "ip -n $HOSTNS link show vif$d.0 | grep -q 'master xenbr0'"
ip netns exec "xs-cg$LC_ID" ping -c 3 -i 0.2 -W 3 10.98.0.254 >/dev/null ||
    fail "the guest cannot reach dom0 after pvback-net's restart"
expect_eq "the guest's NIC driver connections" \
    "$(grep -c '^connected eth0' "$SIM_DIR/cg$LC_ID.kernel.log")" 1
echo "ok: the NIC works again after a SIGKILL of pvback-net, without reconnecting"

# --- a guest that dies without closing its devices --------------------------
lc_fio cg --name=dying --size=96M \
    --rw=randwrite --bs=4k --iodepth=16 --time_based --runtime=60 >"$SIM_DIR/fio2.log" 2>&1 &
fio_pid=$!
lc_wait 20 "fio connected again" eval "[ \$(grep -c 'vbd/$d/51712: .*-> Connected' '$SIM_DIR/watch.log') -ge 2 ]"
sleep 0.3
# Its kernel and fio die at once: nothing is closed by the guest.
lc_kill_guest_side 'xensim-guest|fio'
wait $fio_pid 2>/dev/null || true
t0=$(date +%s%N)
"$XENSIM" destroy "cg$LC_ID" || fail "destroy"
ms=$((($(date +%s%N) - t0) / 1000000))
[ $ms -lt 5000 ] || fail "destroying a dead guest took $ms ms"
left=$(xenstore-ls -f / | grep -E "^/local/domain/${d}[/ ]|/backend/[a-z0-9]+/${d}[/ ]|^/libxl/${d}[/ ]|^/vm/|/error/" || true)
[ -z "$left" ] || fail "xenstore nodes of the dead guest left: $left"
lc_assert_clean "after the dead guest's destroy" "$(xenstore-ls -f /)"
echo "ok: a guest killed with its devices open destroyed in $ms ms, nothing left"
lc_stop_watch || fail "pvback-watch exit"
echo PASS
