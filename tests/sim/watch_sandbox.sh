#!/usr/bin/env bash
# pvback-watch starts the backends sandboxed (issue #7 part 2): with
# `user = +BASE` and `seccomp = yes` (here as options), the guest's
# pvback-blk runs as uid BASE+domid under the seccomp filter:
#  - its command line carries --user/--seccomp, the kernel shows the uid;
#  - `pvback-ctl status` shows that uid and "filter" (in a sanitizer build,
#    which installs no filter, "off");
#  - fio with verify passes on the guest's disk;
#  - the guest then dies without closing its disk (its frontend SIGKILLed
#    mid-I/O, so its in-flight journal has records) and is destroyed: on
#    @releaseDomain pvback-watch removes <run dir>/journal/vbd-<domid>,
#    which the sandboxed backend could not (journal/ is root's).
# pvback-net is not claimed here: /dev/net/tun is root-only on build
# machines, so a per-guest user could not make taps (docs/hardening.md).
source "$PVBACK_SRC/tests/sim/lifecycle_helpers.bash"
engine=$PVBACK_BIN/pvback-blkfront-fio.so
[ -f "$engine" ] || fail "fio engine not built: run scripts/fetch-fio-src, then reconfigure"
command -v fio >/dev/null || fail "fio is not installed"

base=$((300000 + ($$ % 1000) * 100))
seccomp_want=filter
if ldd "$PVBACK_BIN/pvback-blk" | grep -q libasan; then
    seccomp_want=off # sanitizer builds leave the filter out (sandbox.h)
fi
LC_WATCH_ARGS=(--claim-vif no --user "+$base" --seccomp yes)
lc_start
# Other users may reach the simulated hypervisor (on Xen: /dev/xen/gntdev and
# evtchn for the backends' group) and the image.
chmod 0711 "$SIM_DIR"
chmod 0666 "$SIM_DIR/hv0.sock"
truncate -s 64M "$SIM_DIR/sb.img"
chmod 0666 "$SIM_DIR/sb.img"
cat >"$SIM_DIR/sb$LC_ID.cfg" <<CFG
name = "sb$LC_ID"
memory = 64
disk = [ 'vdev=xvda,access=rw,script=block-pvback,target=$SIM_DIR/sb.img' ]
CFG
d=$(lc_create sb) || fail "create"
blk=$(lc_backend_pid vbd "$d")
uid=$((base + d))

tr '\0' ' ' <"/proc/$blk/cmdline" | grep -q -- "--user +$base --seccomp" ||
    fail "pvback-blk was not started sandboxed: $(tr '\0' ' ' <"/proc/$blk/cmdline")"
expect_eq "pvback-blk's uid (kernel)" "$(awk '/^Uid:/ {print $2}' "/proc/$blk/status")" "$uid"
status=$("$PVBACK_BIN/pvback-ctl" status)
echo "$status"
grep -qE "^$d +sb$LC_ID +vbd +$blk +$uid +$seccomp_want " <<<"$status" ||
    fail "pvback-ctl status does not show uid $uid and seccomp $seccomp_want"

lc_fio sb --name=sandboxed --size=32M --rw=randwrite --bs=4k --iodepth=16 \
    --verify=crc32c --verify_fatal=1 --verify_state_save=0 >"$SIM_DIR/fio.log" 2>&1 ||
    { cat "$SIM_DIR/fio.log" >&2; fail "fio failed on the sandboxed backend"; }
grep -q 'err= 0' "$SIM_DIR/fio.log" || { cat "$SIM_DIR/fio.log" >&2; fail "fio reported errors"; }
echo "ok: fio with verify through pvback-blk as uid $uid, seccomp $seccomp_want"

# --- a guest dying with I/O in flight, then destroyed ----------------------
jdir=$SIM_DIR/pvback/journal/vbd-$d
lc_fio sb --name=dying --size=32M --rw=randwrite --bs=4k --iodepth=32 --time_based \
    --runtime=60 >"$SIM_DIR/fio2.log" 2>&1 &
fio_pid=$!
lc_wait 20 "the journal of the second connection" eval "ls '$jdir' | grep -q -- '-q0'"
sleep 0.5
lc_kill_guest_side fio
wait $fio_pid 2>/dev/null || true
[ -n "$(ls "$jdir")" ] || fail "no journal file before the destroy"
"$XENSIM" destroy "sb$LC_ID" || fail "destroy"
lc_wait 20 "pvback-watch removing journal/vbd-$d" \
    grep -q "domain $d: removed its vbd in-flight journal" "$SIM_DIR/watch.log"
[ ! -e "$jdir" ] || fail "$jdir is still there: $(ls -la "$jdir")"
proc_gone "$blk" || fail "pvback-blk still runs after the destroy"
lc_assert_clean "after the sandboxed guest's destroy" "$(xenstore-ls -f /)"
lc_stop_watch || fail "pvback-watch exit"
echo PASS
