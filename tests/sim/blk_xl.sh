#!/usr/bin/env bash
# The whole path a user takes: `xensim create` with an xl disk spec naming the
# block-pvback hotplug script, pvback-watch starting pvback-blk for the guest,
# the guest's disk verified, then `xensim destroy` tearing it all down
# (backend directory removed, pvback-blk stopped).
source "$PVBACK_SRC/tests/sim/blk_helpers.bash"

[ -x "$PVBACK_BIN/pvback-watch" ] || fail "pvback-watch not built"
blk_start_sim
img=$SIM_DIR/disk.img
truncate -s 32M "$img"
# pvback-watch runs this for each guest; under PVBACK_VALGRIND=1 it wraps
# pvback-blk in valgrind, whose verdict lands in the log.
cat >"$SIM_DIR/blk-command" <<WRAP
#!/bin/sh
if [ "${PVBACK_VALGRIND:-0}" = 1 ]; then
    exec valgrind --quiet --error-exitcode=97 --leak-check=full \
        --show-leak-kinds=definite,indirect --errors-for-leak-kinds=definite,indirect \
        --log-file="$SIM_DIR/valgrind.%p.log" "$PVBACK_BIN/pvback-blk" "\$@"
fi
exec "$PVBACK_BIN/pvback-blk" "\$@"
WRAP
chmod +x "$SIM_DIR/blk-command"
# valgrind does not implement seccomp(2), so a backend under it cannot load
# its filter: there pvback-watch must not ask for one (seccomp = auto would,
# as root). The filter itself is tested by blk_sandbox and watch_sandbox.
seccomp=auto
[ "${PVBACK_VALGRIND:-0}" = 1 ] && seccomp=no
"$PVBACK_BIN/pvback-watch" --config /dev/null --blk-command "$SIM_DIR/blk-command" \
    --claim-vbd yes --seccomp "$seccomp" >"$SIM_DIR/blk.log" 2>&1 &
BLK_PID=$!

printf 'name="g1"\nmemory=256\ndisk=["vdev=xvda,access=rw,script=%s,target=%s"]\n' \
    "$PVBACK_SRC/xenstore-watch/hotplug/block-pvback" "$img" >"$SIM_DIR/g1.cfg"
dom=$("$XENSIM" --dir "$SIM_DIR" create "$SIM_DIR/g1.cfg") || fail "xensim create"
blk_front "$dom" --ops 500 --queues 2 --dump "$SIM_DIR/expect.img" verify >"$SIM_DIR/front.log" 2>&1 ||
    { cat "$SIM_DIR/front.log" >&2; fail "verify"; }
cmp -s "$SIM_DIR/expect.img" "$img" || fail "image differs"
"$XENSIM" --dir "$SIM_DIR" destroy g1 || fail "xensim destroy"
for i in $(seq 1 250); do
    xenstore-exists "/local/domain/0/backend/vbd/$dom" 2>/dev/null || break
    sleep 0.02
done
xenstore-exists "/local/domain/0/backend/vbd/$dom" 2>/dev/null && fail "backend directory left"
for i in $(seq 1 250); do
    pgrep -P "$BLK_PID" >/dev/null || break
    sleep 0.02
done
pgrep -P "$BLK_PID" >/dev/null && fail "pvback-blk still running after destroy"
blk_stop_backend
if [ "${PVBACK_VALGRIND:-0}" = 1 ]; then
    # Errors are "==pid==" lines (with --quiet nothing else); "--pid--"
    # lines are valgrind's own warnings about syscalls it does not know.
    ls "$SIM_DIR"/valgrind.*.log >/dev/null 2>&1 || fail "pvback-blk did not run under valgrind"
    if grep -q '^==[0-9]*==' "$SIM_DIR"/valgrind.*.log; then
        cat "$SIM_DIR"/valgrind.*.log >&2
        fail "valgrind found errors in pvback-blk"
    fi
fi
echo "ok: xl-style create, verify, destroy"
