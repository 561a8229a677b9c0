#!/usr/bin/env bash
# `pvback-ctl upgrade` (issue #7 part 1): the backends of a running guest are
# replaced by the binaries installed now, without the guest noticing.
#  - pvback-watch runs pvback-blk and pvback-net from a private "sbin" whose
#    files are then replaced the way a package upgrade does it (a new file
#    renamed over the old one: a new inode);
#  - while a verified fio job runs on the guest's disk and an iperf3 TCP run
#    goes from the guest to a peer guest, `pvback-ctl upgrade` replaces both
#    backends: fio ends with zero errors and its verify passed, iperf3's one
#    connection carried data after the upgrade, the guest's NIC driver never
#    reconnected, and the new processes run the new files (inode of
#    /proc/PID/exe);
#  - `upgrade DOMID --type vbd` replaces only that one; a bad request and a
#    missing pvback-watch are clear errors.
source "$PVBACK_SRC/tests/sim/lifecycle_helpers.bash"
engine=$PVBACK_BIN/pvback-blkfront-fio.so
[ -f "$engine" ] || fail "fio engine not built: run scripts/fetch-fio-src, then reconfigure"
command -v fio >/dev/null || fail "fio is not installed"
command -v iperf3 >/dev/null || fail "iperf3 is not installed"

lc_start
# pvback-watch again, now running the backends from a private sbin
lc_stop_watch || fail "pvback-watch exit"
sbin=$SIM_DIR/sbin
mkdir "$sbin"
cp "$PVBACK_BIN/pvback-blk" "$PVBACK_BIN/pvback-net" "$sbin/"
LC_WATCH_ARGS=(--blk-command "$sbin/pvback-blk" --net-command "$sbin/pvback-net")
lc_start_watch
ctl() { "$PVBACK_BIN/pvback-ctl" "$@"; }
inode() { stat -L -c %i "$1"; }

# "Installs" a new build of a program: copied next to it, renamed over it.
install_new() {
    cp "$PVBACK_BIN/$1" "$sbin/.$1.new"
    mv -f "$sbin/.$1.new" "$sbin/$1"
}

# The guest, and a peer guest for iperf3 (another MAC on the bridge).
lc_guest up 96 >/dev/null
sed -i 's/00:1c:01/00:1c:02/' "$(lc_guest peer 16)"
d=$(lc_create up) || fail "create"
p=$(lc_create peer) || fail "create peer"
lc_boot up
lc_boot peer
ip netns exec "xs-up$LC_ID" ip addr add 10.97.0.1/24 dev eth0
ip netns exec "xs-peer$LC_ID" ip addr add 10.97.0.2/24 dev eth0
ip netns exec "xs-up$LC_ID" ping -c 1 -W 3 10.97.0.2 >/dev/null || fail "the guest cannot reach its peer"
blk=$(lc_backend_pid vbd "$d")
net=$(lc_backend_pid vif "$d")
old_blk_ino=$(inode "/proc/$blk/exe")
expect_eq "pvback-blk runs the installed file" "$old_blk_ino" "$(inode "$sbin/pvback-blk")"

# --- the workloads --------------------------------------------------------
# Each of the loops writes the disk, then verifies it. Paced (at most 16000
# writes a second: 1.5 s or more for a loop's writes) so that the job lasts
# the upgrade's ~15 s on a host that writes the 96 MiB in a quarter second.
lc_fio up --name=upgrade --size=96M --rw=randwrite --bs=4k --iodepth=16 --loops=10 --rate_iops=16000 \
    --verify=crc32c --verify_fatal=1 --verify_state_save=0 >"$SIM_DIR/fio.log" 2>&1 &
fio_pid=$!
ip netns exec "xs-peer$LC_ID" iperf3 -s -1 -B 10.97.0.2 >"$SIM_DIR/iperf-server.log" 2>&1 &
server=$!
sleep 0.3
ip netns exec "xs-up$LC_ID" timeout 60 iperf3 -J -c 10.97.0.2 -t 8 -i 1 >"$SIM_DIR/iperf.json" 2>&1 &
client=$!
lc_wait 20 "fio connected" eval "grep -q 'vbd/$d/51712: InitWait -> Connected' '$SIM_DIR/watch.log'"
sleep 1
kill -0 $fio_pid 2>/dev/null || fail "fio finished before the upgrade: $(cat "$SIM_DIR/fio.log")"
kill -0 $client 2>/dev/null || fail "iperf3 ended before the upgrade: $(cat "$SIM_DIR/iperf.json")"

# --- a package upgrade, then pvback-ctl upgrade ---------------------------
install_new pvback-blk
install_new pvback-net
[ "$(inode "$sbin/pvback-blk")" != "$old_blk_ino" ] || fail "the new pvback-blk has the old inode"
ctl upgrade >"$SIM_DIR/upgrade.log" 2>&1 || fail "pvback-ctl upgrade: $(cat "$SIM_DIR/upgrade.log")"
t_upgraded=$(date +%s.%N)
cat "$SIM_DIR/upgrade.log"
kill -0 $fio_pid 2>/dev/null || fail "fio finished before the upgrade was done: raise --loops"
grep -qE "^vbd $d: pid $blk -> [0-9]+ \\($sbin/pvback-blk\\)\$" "$SIM_DIR/upgrade.log" ||
    fail "upgrade did not report pvback-blk's replacement"
grep -qE "^vif $d: pid $net -> [0-9]+ \\($sbin/pvback-net\\)\$" "$SIM_DIR/upgrade.log" ||
    fail "upgrade did not report pvback-net's replacement"
blk2=$(lc_backend_pid vbd "$d")
net2=$(lc_backend_pid vif "$d")
[ "$blk2" != "$blk" ] && [ "$net2" != "$net" ] || fail "the backends were not replaced"
proc_gone "$blk" || fail "the old pvback-blk still runs"
expect_eq "the new pvback-blk runs the new file" "$(inode "/proc/$blk2/exe")" "$(inode "$sbin/pvback-blk")"
expect_eq "the new pvback-net runs the new file" "$(inode "/proc/$net2/exe")" "$(inode "$sbin/pvback-net")"
grep -q "domain $d: replacing vbd backend (pid $blk)" "$SIM_DIR/watch.log" ||
    fail "pvback-watch did not log the replacement"
# Both list their devices in their status, Connected again, the disk with
# the requests fio sent since (upgrade waited for that: ctl_upgrade.c).
# (Polled: a backend busy with iperf3 on a loaded machine may take longer
# than pvback-ctl's 2 s to answer: "not-answering".)
status_shows_both() {
    ctl status >"$SIM_DIR/status.txt"
    grep -E "^$d +up$LC_ID +vbd +$blk2 " "$SIM_DIR/status.txt" |
        grep -qE " vbd/$d/51712 +Connected +Connected +[1-9][0-9]* +[1-9][0-9]* +[1-9][0-9]* +0$" &&
        grep -E "^$d +up$LC_ID +vif +$net2 " "$SIM_DIR/status.txt" | grep -qE " vif/$d/0 +Connected "
}
lc_poll 10 status_shows_both ||
    fail "status does not show the new backends, both devices connected: $(cat "$SIM_DIR/status.txt")"

# --- the guest saw nothing ------------------------------------------------
wait $fio_pid || { cat "$SIM_DIR/fio.log" >&2; fail "fio failed across the upgrade"; }
grep -q 'err= 0' "$SIM_DIR/fio.log" || { cat "$SIM_DIR/fio.log" >&2; fail "fio reported errors"; }
grep -q 'verify:' "$SIM_DIR/fio.log" && { cat "$SIM_DIR/fio.log" >&2; fail "fio's verify failed"; }
echo "ok: fio with verify passed across the upgrade ($(grep -m1 -o 'write: IOPS=[^,]*' "$SIM_DIR/fio.log"))"
wait $client || fail "iperf3 failed across the upgrade: $(tail -20 "$SIM_DIR/iperf.json")"
wait $server || true
python3 "$PVBACK_SRC/tests/sim/iperf_survived.py" "$SIM_DIR/iperf.json" "$t_upgraded" \
    "the upgrade" || fail "the TCP connection did not survive the upgrade"
expect_eq "the guest's NIC driver connections" "$(grep -c '^connected eth0' "$SIM_DIR/up$LC_ID.kernel.log")" 1

# --- one kind of one guest; bad requests ----------------------------------
install_new pvback-blk
ctl upgrade "$d" --type vbd >"$SIM_DIR/upgrade2.log" 2>&1 || fail "upgrade $d --type vbd: $(cat "$SIM_DIR/upgrade2.log")"
grep -qE "^vbd $d: pid $blk2 -> " "$SIM_DIR/upgrade2.log" || fail "vbd not replaced: $(cat "$SIM_DIR/upgrade2.log")"
expect_eq "pvback-net untouched by upgrade --type vbd" "$(lc_backend_pid vif "$d")" "$net2"
ip netns exec "xs-up$LC_ID" ping -c 1 -W 3 10.97.0.2 >/dev/null || fail "the guest lost its peer after the upgrades"
out=$(ctl upgrade 4000 2>&1) && fail "upgrade of a guest without backends succeeded: $out"
[[ $out == *"no running backend matches"* ]] || fail "upgrade 4000: '$out'"
out=$(ctl upgrade --type disk 2>&1) && fail "--type disk accepted"
[[ $out == *"--type 'disk': expected vbd, vbd3 or vif"* ]] || fail "--type disk: '$out'"
# pvback-watch's control socket refuses what pvback-ctl would not send
out=$(python3 - "$SIM_DIR/pvback/watch.sock" <<'EOF'
import socket, sys
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
s.sendall(b"upgrade disk 1\n")
print(s.recv(4096).decode().strip())
EOF
)
expect_eq "answer to a bad request" "$out" "error kind 'disk': expected vbd, vbd3, vif or all"
lc_stop_watch || fail "pvback-watch exit"
out=$(ctl upgrade 2>&1) && fail "upgrade without pvback-watch succeeded: $out"
[[ $out == *"pvback-watch is not running"* ]] || fail "upgrade without pvback-watch: '$out'"
echo PASS
