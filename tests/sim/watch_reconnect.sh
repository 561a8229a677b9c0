# The acceptance case of pvback-watch's supervision: a guest created with
# `xensim create` (disk with script=block-pvback) runs a verifying workload
# through the simulated blkfront; its pvback-blk is SIGKILLed in the middle;
# pvback-watch starts a new one, which takes the device over, and the
# guest's workload passes with the image holding exactly what it wrote.
# With PVBACK_VALGRIND=1, pvback-watch runs under valgrind.
source "$(dirname "$0")/lib.sh"

WATCH_PID=
FRONT_PID=
finish() {
    local rc=$?
    set +e # a cleanup goes all the way, whatever fails in it
    [ -z "$FRONT_PID" ] || kill "$FRONT_PID" 2>/dev/null || true
    if [ -n "$WATCH_PID" ]; then
        kill "$WATCH_PID" 2>/dev/null || true
        wait "$WATCH_PID" || { echo "FAIL: pvback-watch exited with $?" >&2; rc=1; }
    fi
    for f in "$XENSIM_DIR"/pvback/*.pid; do
        [ -f "$f" ] && kill -9 "$(cat "$f")" 2>/dev/null
    done
    if grep -qE "(Address|Leak|UndefinedBehavior)Sanitizer|runtime error:" "$WORK/watch.log"; then
        echo "FAIL: sanitizer report in watch.log" >&2
        rc=1
    fi
    if [ $rc -ne 0 ]; then
        cat "$WORK"/vg.* >&2 2>/dev/null || true
        echo "--- watch.log" >&2
        tail -n 40 "$WORK/watch.log" >&2
        echo "--- front.log" >&2
        tail -n 20 "$WORK/front.log" >&2 2>/dev/null || true
    fi
    rm -rf "$WORK"
    sim_cleanup "$rc"
}
sim_start
WORK=$(mktemp -d /tmp/pvback-watch-rc.XXXXXX)
trap finish EXIT
export XEN_SCRIPT_DIR="$PVBACK_SRC/xenstore-watch/hotplug"

vg=()
if [ "${PVBACK_VALGRIND:-0}" = 1 ]; then
    vg=(valgrind -q --error-exitcode=97 --leak-check=full --show-leak-kinds=definite,indirect
        --errors-for-leak-kinds=definite,indirect --log-file="$WORK/vg.%p")
fi
"${vg[@]}" "$PVBACK_BIN/pvback-watch" --claim-vbd yes --claim-vif no \
    --blk-command "$PVBACK_BIN/pvback-blk" --restart-delay 50 >"$WORK/watch.log" 2>&1 &
WATCH_PID=$!

wait_state() { # DOMID STATE: the vbd backend's state, within 10 s
    local i
    for i in $(seq 1 200); do
        [ "$(xenstore-read /local/domain/0/backend/vbd/$1/51712/state 2>/dev/null)" = "$2" ] &&
            return 0
        sleep 0.05
    done
    fail "backend vbd/$1/51712 not in state $2"
}

truncate -s 16M "$WORK/disk.img"
cat >"$WORK/g.cfg" <<CFG
name = "rc"
memory = 64
disk = [ 'vdev=xvda,access=rw,script=block-pvback,target=$WORK/disk.img' ]
CFG
d=$("$XENSIM" create "$WORK/g.cfg") || fail "create"
blk=$(cat "$XENSIM_DIR/pvback/vbd-$d.pid")

XENSIM_DOMID=$d XENSTORED_PATH="$SIM_DIR/dom$d.sock" timeout 300 "$PVBACK_BIN/pvback-blkfront" \
    --ops 6000 --queues 2 --depth 32 --dump "$WORK/expect.img" verify >"$WORK/front.log" 2>&1 &
FRONT_PID=$!
wait_state "$d" 4
sleep 0.5
kill -KILL "$blk"
# pvback-watch notices and starts a new backend
for i in $(seq 1 100); do
    new=$(cat "$XENSIM_DIR/pvback/vbd-$d.pid" 2>/dev/null || true)
    [ -n "$new" ] && [ "$new" != "$blk" ] && break
    sleep 0.05
done
[ -n "$new" ] && [ "$new" != "$blk" ] || fail "pvback-watch did not restart the killed backend"
wait "$FRONT_PID" || { FRONT_PID=; fail "the guest's workload failed across the restart"; }
FRONT_PID=
wait_state "$d" 6
cmp -s "$WORK/expect.img" "$WORK/disk.img" || fail "image differs after the restart"
grep -q "domain $d: vbd backend (pid $blk) was killed by signal 9; restarting" "$WORK/watch.log" ||
    fail "restart not logged"
"$XENSIM" destroy rc || fail "destroy"
proc_gone "$new" || fail "backend still running after destroy"
echo PASS
