# pvback-watch on xensim, as an operator meets it:
#  - claims backend/vbd, vbd3, vif unless the kernel's backends are loaded;
#  - `xensim create` of a guest with a disk (script=block-pvback, served by the
#    real pvback-blk) and a vif (script=vif-pvback, served by pvback-fakeback)
#    starts one backend process per kind for that guest, and succeeds;
#  - pvback-ctl status lists them;
#  - a SIGKILLed backend is restarted and takes its device back;
#  - destroy leaves no process, backend directory, run file or tap;
#  - a restarted pvback-watch adopts running backends, and cleans up after a
#    guest destroyed while it was down (processes, leftover nodes, taps);
#  - a backend that keeps crashing is given up: error node, state Closed,
#    "failed" in pvback-ctl.
# Runs in a private network namespace (for the bridge and the taps), with
# its own /sys so that /sys/class/net shows that namespace. With
# PVBACK_VALGRIND=1, pvback-watch runs under valgrind.
if [ -z "${PVBACK_IN_NETNS:-}" ]; then
    exec unshare --net --mount env PVBACK_IN_NETNS=1 bash "$0" "$@"
fi
source "$(dirname "$0")/lib.sh"
mount -t sysfs sysfs /sys

HOTPLUG="$PVBACK_SRC/xenstore-watch/hotplug"
WATCH_PID=
finish() {
    local rc=$?
    set +e # a cleanup goes all the way, whatever fails in it
    stop_watch || rc=1
    # Backends outlive pvback-watch by design: stop the ones still running.
    for f in "$XENSIM_DIR"/pvback/*.pid; do
        [ -f "$f" ] && kill -9 "$(cat "$f")" 2>/dev/null
    done
    # In sanitizer builds pvback-watch and the backends report into watch.log.
    if grep -qE "(Address|Leak|UndefinedBehavior)Sanitizer|runtime error:" "$WORK/watch.log"; then
        echo "FAIL: sanitizer report in watch.log" >&2
        grep -E -A20 "(Address|Leak|UndefinedBehavior)Sanitizer|runtime error:" "$WORK/watch.log" >&2
        rc=1
    fi
    if [ $rc -ne 0 ]; then
        echo "--- watch.log" >&2
        tail -n 60 "$WORK/watch.log" >&2
    fi
    rm -rf "$WORK"
    sim_cleanup "$rc"
}
sim_start
WORK=$(mktemp -d /tmp/pvback-watch.XXXXXX)
trap finish EXIT
ip link set lo up
ip link add xenbr0 type bridge
export XEN_SCRIPT_DIR="$HOTPLUG"
: >"$WORK/watch.log"

# start_watch ARGS...: pvback-watch in the background (under valgrind when
# asked), logging to watch.log; waits until it runs.
start_watch() {
    local lines
    lines=$(wc -l <"$WORK/watch.log")
    if [ "${PVBACK_VALGRIND:-0}" = 1 ]; then
        valgrind -q --error-exitcode=97 --leak-check=full --show-leak-kinds=definite,indirect \
            --errors-for-leak-kinds=definite,indirect --log-file="$WORK/vg.%p" \
            "$PVBACK_BIN/pvback-watch" "$@" >>"$WORK/watch.log" 2>&1 &
    else
        "$PVBACK_BIN/pvback-watch" "$@" >>"$WORK/watch.log" 2>&1 &
    fi
    WATCH_PID=$!
    wait_for 30 "pvback-watch running" \
        eval "tail -n +$((lines + 1)) '$WORK/watch.log' | grep -q 'info: running'"
}

# Stops pvback-watch; fails on a non-zero exit (a valgrind error is 97).
stop_watch() {
    [ -n "$WATCH_PID" ] || return 0
    local rc=0
    kill "$WATCH_PID" 2>/dev/null || true
    wait "$WATCH_PID" || rc=$?
    WATCH_PID=
    if [ $rc -ne 0 ]; then
        echo "FAIL: pvback-watch exited with $rc" >&2
        cat "$WORK"/vg.* >&2 2>/dev/null || true
        return 1
    fi
}

alive() {
    kill -0 "$1" 2>/dev/null && ! proc_gone_now "$1"
}
proc_gone_now() {
    local s
    s=$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null) || return 0
    [ "$s" = Z ]
}
pidof_backend() {
    cat "$XENSIM_DIR/pvback/$1-$2.pid" 2>/dev/null
}
B=/local/domain/0/backend
COMMON=(--blk-command "$PVBACK_BIN/pvback-blk" --net-command "$PVBACK_BIN/pvback-fakeback"
    --sys-module-dir "$WORK/modules" --restart-delay 100 --stop-timeout 2000)

# --- what is claimed: the kernel's backends loaded -> only vbd3 ------------
mkdir -p "$WORK/modules/xen_blkback" "$WORK/modules/xen_netback"
start_watch "${COMMON[@]}"
stop_watch
grep -q "not claiming backend/vbd (the kernel's backend is loaded)" "$WORK/watch.log" ||
    fail "vbd claimed although xen-blkback is loaded"
grep -q "not claiming backend/vif (the kernel's backend is loaded)" "$WORK/watch.log" ||
    fail "vif claimed although xen-netback is loaded"
grep -q "claiming $B/vbd3" "$WORK/watch.log" || fail "vbd3 not claimed"
rmdir "$WORK/modules/xen_blkback" "$WORK/modules/xen_netback"

# a bad setting is refused with its name and value
if out=$("$PVBACK_BIN/pvback-watch" --restart-limit many 2>&1); then
    fail "pvback-watch accepted --restart-limit many"
fi
expect_eq "bad setting message" "$out" \
    "pvback-watch: restart-limit 'many': expected a number from 1 to 1000"

# --- a guest's devices start its backends ---------------------------------
start_watch "${COMMON[@]}"
truncate -s 16M "$WORK/disk.img"
cat >"$WORK/g1.cfg" <<CFG
name = "g1"
memory = 64
disk = [ 'vdev=xvda,access=rw,script=block-pvback,target=$WORK/disk.img' ]
vif = [ 'mac=00:16:3e:00:00:01,bridge=xenbr0,script=vif-pvback' ]
CFG
d=$("$XENSIM" create "$WORK/g1.cfg") || fail "create g1"
blk=$(pidof_backend vbd "$d") || fail "no pid file for g1's vbd backend"
net=$(pidof_backend vif "$d") || fail "no pid file for g1's vif backend"
alive "$blk" || fail "vbd backend $blk not running"
alive "$net" || fail "vif backend $net not running"
# seccomp = auto: the backends get --seccomp when pvback-watch runs as root
sc=
[ "$(id -u)" = 0 ] && sc="--seccomp "
expect_eq "vbd backend command" "$(tr '\0' ' ' <"/proc/$blk/cmdline")" \
    "$PVBACK_BIN/pvback-blk --frontend-domid $d --type vbd $sc"
expect_eq "vif backend command" "$(tr '\0' ' ' <"/proc/$net/cmdline")" \
    "$PVBACK_BIN/pvback-fakeback --frontend-domid $d $sc"
expect_eq "vbd state" "$(xenstore-read $B/vbd/$d/51712/state)" 2
expect_eq "vbd hotplug-status" "$(xenstore-read $B/vbd/$d/51712/hotplug-status)" connected
expect_eq "vbd physical-device-path" "$(xenstore-read $B/vbd/$d/51712/physical-device-path)" \
    "$WORK/disk.img"
expect_eq "vif hotplug-status" "$(xenstore-read $B/vif/$d/0/hotplug-status)" connected

# pvback-ctl status: each device and its counters come from its backend's
# status socket
st=$("$PVBACK_BIN/pvback-ctl" status)
echo "$st" | grep -qE "^$d +g1 +vif +$net +0 +[a-z-]+ +vif/$d/0 +InitWait +Initialising +0 +0 +0 +0$" ||
    fail "pvback-ctl status has no row for g1's vif: $st"
echo "$st" | grep -qE "^$d +g1 +vbd +$blk +0 +[a-z-]+ +vbd/$d/51712 +InitWait +Initialising +0 +0 +0 +0$" ||
    fail "pvback-ctl status has no row for g1's vbd: $st"

# --- a SIGKILLed backend is restarted and takes its device back -----------
kill -9 "$net"
wait_for 10 "a new vif backend" eval '[ -n "$(pidof_backend vif $d)" ] && [ "$(pidof_backend vif $d)" != "$net" ]'
net2=$(pidof_backend vif "$d")
alive "$net2" || fail "restarted vif backend not running"
wait_for 10 "the restarted vif backend lists its device" \
    eval '"$PVBACK_BIN/pvback-ctl" status | grep -qE "^$d +g1 +vif +$net2 .*vif/$d/0 +InitWait"'
grep -q "domain $d: vif backend (pid $net) was killed by signal 9; restarting" "$WORK/watch.log" ||
    fail "restart not logged"
kill -9 "$blk"
wait_for 10 "a new vbd backend" eval '[ -n "$(pidof_backend vbd $d)" ] && [ "$(pidof_backend vbd $d)" != "$blk" ]'
blk2=$(pidof_backend vbd "$d")
alive "$blk2" || fail "restarted vbd backend not running"
# Destroy only once the new process has taken the device over: a toolstack
# Closing written while a backend adopts the device can be overwritten by
# its InitWait (a race of the backend's, reported; not pvback-watch's).
wait_for 10 "the restarted vbd backend takes the device" \
    grep -q "pvback-blk\[$blk2\] info: vbd/$d/51712: .*-> InitWait" "$WORK/watch.log"

# --- destroy: nothing left -------------------------------------------------
ip tuntap add vif$d.0 mode tap # a tap the backend left persistent
t0=$(date +%s%N)
"$XENSIM" destroy g1 || fail "destroy g1"
ms=$((($(date +%s%N) - t0) / 1000000))
[ $ms -lt 5000 ] || fail "destroy took $ms ms"
proc_gone "$net2" || fail "vif backend still running after destroy"
proc_gone "$blk2" || fail "vbd backend still running after destroy"
wait_for 5 "run files removed" eval '! ls "$XENSIM_DIR/pvback" | grep -q -- "-$d\."'
for p in $B/vbd/$d $B/vif/$d /local/domain/0/error/backend/vif/$d; do
    ! xenstore-exists "$p" 2>/dev/null || fail "$p left after destroy"
done
wait_for 5 "tap vif$d.0 removed" eval '! ip link show vif$d.0'
expect_eq "pvback-ctl after destroy" "$("$PVBACK_BIN/pvback-ctl" status)" "no pvback backends running"

# --- pvback-watch restarts: adoption, and cleanup of what died meanwhile ---
d2=$("$XENSIM" create "$WORK/g1.cfg") || fail "create g1 again"
blk=$(pidof_backend vbd "$d2")
net=$(pidof_backend vif "$d2")
wait_for 10 "the restarted vif backend takes the device" \
    grep -q "pvback-fakeback\[$net\] info: vif/$d2/0: .*-> InitWait" "$WORK/watch.log"
stop_watch || fail "pvback-watch exit"
alive "$blk" || fail "the vbd backend stopped with pvback-watch"
alive "$net" || fail "the vif backend stopped with pvback-watch"
start_watch "${COMMON[@]}"
grep -q "domain $d2: adopted running vbd backend (pid $blk)" "$WORK/watch.log" || fail "vbd not adopted"
grep -q "domain $d2: adopted running vif backend (pid $net)" "$WORK/watch.log" || fail "vif not adopted"
# an adopted backend that dies is restarted too
kill -9 "$net"
wait_for 10 "a new vif backend for the adopted one" eval '[ -n "$(pidof_backend vif $d2)" ] && [ "$(pidof_backend vif $d2)" != "$net" ]'
net=$(pidof_backend vif "$d2")
wait_for 10 "the restarted vif backend takes the device" \
    grep -q "pvback-fakeback\[$net\] info: vif/$d2/0: .*-> InitWait" "$WORK/watch.log"
stop_watch || fail "pvback-watch exit"
# the guest goes while pvback-watch is down, leaving a node and a tap behind
"$XENSIM" destroy g1 || fail "destroy g1 (watch down)"
xenstore-write $B/vbd/$d2/51728/state 4 $B/vbd/$d2/51728/frontend-id "$d2"
ip tuntap add vif$d2.0 mode tap
alive "$blk" || fail "vbd backend of g1 gone before the new pvback-watch"
start_watch "${COMMON[@]}"
proc_gone "$blk" || fail "backend of a guest destroyed meanwhile still running"
proc_gone "$net" || fail "backend of a guest destroyed meanwhile still running"
! xenstore-exists $B/vbd/$d2 2>/dev/null || fail "leftover $B/vbd/$d2 not removed"
! ip link show vif$d2.0 >/dev/null 2>&1 || fail "leftover tap vif$d2.0 not removed"
wait_for 5 "run files of $d2 removed" eval '! ls "$XENSIM_DIR/pvback" | grep -q -- "-$d2\."'
grep -q "domain $d2 is gone: removed 1 backend directory and 1 tap" "$WORK/watch.log" ||
    fail "cleanup not logged"
stop_watch || fail "pvback-watch exit"

# --- a crash loop is given up ----------------------------------------------
printf '#!/bin/sh\nexit 3\n' >"$WORK/crasher"
chmod +x "$WORK/crasher"
start_watch "${COMMON[@]}" --net-command "$WORK/crasher" --restart-limit 2 --restart-delay 50
printf 'name = "g3"\nmemory = 64\n' >"$WORK/g3.cfg"
d3=$("$XENSIM" create "$WORK/g3.cfg") || fail "create bare g3"
xenstore-write $B/vif/$d3/0/frontend-id "$d3" $B/vif/$d3/0/online 1 $B/vif/$d3/0/state 1
wait_for 10 "the error node of a crash loop" xenstore-read /local/domain/0/error/backend/vif/$d3/0/error
err=$(xenstore-read /local/domain/0/error/backend/vif/$d3/0/error)
expect_eq "crash-loop error node" "$err" \
    "5 backend process crashed 3 times within 60 s (last: exited with status 3); not restarted"
# pvback-watch writes the error node, then the state: wait for the state too
# (under valgrind the read came between the two writes once).
state_closed() { [ "$(xenstore-read "$B/vif/$d3/0/state")" = 6 ]; }
wait_for 10 "the failed device's state Closed (6)" state_closed
expect_eq "failed device state" "$(xenstore-read $B/vif/$d3/0/state)" 6
[ -f "$XENSIM_DIR/pvback/vif-$d3.failed" ] || fail "no failure marker"
[ "$(grep -c "domain $d3: vif backend (pid [0-9]*) exited with status 3; restarting" "$WORK/watch.log")" = 2 ] ||
    fail "expected exactly 2 restarts before giving up"
st=$("$PVBACK_BIN/pvback-ctl" status)
echo "$st" | grep -qE "^$d3 +g3 +vif +- .* failed " || fail "pvback-ctl does not show the failure: $st"
echo "$st" | grep -q "vif $d3: backend process crashed 3 times" || fail "pvback-ctl: no reason: $st"
"$XENSIM" destroy g3 || fail "destroy g3"
wait_for 5 "failure marker removed" eval '[ ! -e "$XENSIM_DIR/pvback/vif-$d3.failed" ]'
! xenstore-exists /local/domain/0/error/backend/vif/$d3 2>/dev/null || fail "error node left"
stop_watch || fail "pvback-watch exit"
echo PASS
