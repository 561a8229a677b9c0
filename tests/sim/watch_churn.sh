# Create and destroy a guest (a disk served by pvback-blk, a vif by
# pvback-fakeback) WATCH_CHURN times (200) under one pvback-watch: afterwards
# no backend process, run file, backend or error node, or tap is left, and
# pvback-watch holds as many fds as after the first round (no leak per guest).
# Runs in a private network namespace with its own /sys, for the bridge.
if [ -z "${PVBACK_IN_NETNS:-}" ]; then
    exec unshare --net --mount env PVBACK_IN_NETNS=1 bash "$0" "$@"
fi
source "$(dirname "$0")/lib.sh"
mount -t sysfs sysfs /sys

ROUNDS=${WATCH_CHURN:-200}
WATCH_PID=
finish() {
    local rc=$?
    set +e # a cleanup goes all the way, whatever fails in it
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
    fi
    rm -rf "$WORK"
    sim_cleanup "$rc"
}
sim_start
WORK=$(mktemp -d /tmp/pvback-churn.XXXXXX)
trap finish EXIT
ip link set lo up
ip link add xenbr0 type bridge
export XEN_SCRIPT_DIR="$PVBACK_SRC/xenstore-watch/hotplug"

vg=()
if [ "${PVBACK_VALGRIND:-0}" = 1 ]; then
    vg=(valgrind -q --error-exitcode=97 --leak-check=full --show-leak-kinds=definite,indirect
        --errors-for-leak-kinds=definite,indirect --log-file="$WORK/vg.%p")
    ROUNDS=${WATCH_CHURN:-40} # the same checks, at valgrind's pace
fi
PVBACK_LOG=warn "${vg[@]}" "$PVBACK_BIN/pvback-watch" --claim-vbd yes --claim-vif yes \
    --blk-command "$PVBACK_BIN/pvback-blk" --net-command "$PVBACK_BIN/pvback-fakeback" \
    >"$WORK/watch.log" 2>&1 &
WATCH_PID=$!

truncate -s 4M "$WORK/disk.img"
cat >"$WORK/g.cfg" <<CFG
name = "churn"
memory = 16
disk = [ 'vdev=xvda,access=rw,script=block-pvback,target=$WORK/disk.img' ]
vif = [ 'bridge=xenbr0,script=vif-pvback' ]
CFG

fds() {
    ls "/proc/$WATCH_PID/fd" | wc -l
}
no_backends_left() { # DOMID
    ! ls "$XENSIM_DIR/pvback" | grep -qE -- '-[0-9]+\.(pid|sock|failed)$' &&
        ! ip link show "vif$1.0" >/dev/null 2>&1 &&
        [ -z "$(pgrep -f -- "--frontend-domid" -P "$WATCH_PID" 2>/dev/null)" ]
}
wait_clean() {
    local i
    for i in $(seq 1 100); do
        no_backends_left "$2" && return 0
        sleep 0.05
    done
    fail "round $1: backends left: $(ls "$XENSIM_DIR/pvback")"
}

fds_after_first=
for r in $(seq 1 "$ROUNDS"); do
    d=$("$XENSIM" create "$WORK/g.cfg") || fail "round $r: create"
    ip tuntap add "vif$d.0" mode tap # what a crashed pvback-net could leave
    "$XENSIM" destroy churn || fail "round $r: destroy"
    wait_clean "$r" "$d"
    [ -n "$fds_after_first" ] || fds_after_first=$(fds)
done
# A leak per guest would show as ROUNDS more fds; a pidfd or pipe of a
# backend still being reaped is transient: wait for it, and allow 2 of those.
for i in $(seq 1 60); do
    [ "$(fds)" -le "$fds_after_first" ] && break
    sleep 0.05
done
[ "$(fds)" -le $((fds_after_first + 2)) ] ||
    fail "pvback-watch's fds after $ROUNDS rounds: $(fds), after the first: $fds_after_first"
for p in /local/domain/0/backend/vbd /local/domain/0/backend/vif /local/domain/0/error; do
    left=$(xenstore-list "$p" 2>/dev/null || true)
    [ -z "$left" ] || fail "$p has leftovers: $left"
done
taps=$(ip -o link show | grep -c ': vif' || true)
expect_eq "taps left" "$taps" 0
expect_eq "domains left" "$(xenstore-list /local/domain | tr '\n' ' ')" "0 "
echo "PASS ($ROUNDS rounds)"
