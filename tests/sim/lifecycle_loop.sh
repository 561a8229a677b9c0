#!/usr/bin/env bash
# Create and destroy a guest with a disk and a vif, LIFECYCLE_LOOPS times
# (default 200; 20 under valgrind), through pvback-watch, the hotplug scripts
# and the real pvback-blk and pvback-net. Each round the guest boots (its NIC
# connects), its disk is negotiated and used (pvback-blkfront info), and it
# goes away, alternately by `xensim destroy` (it dies without closing its
# devices) and by `xensim shutdown -w` (it closes them). Afterwards nothing is
# left: no process, no fd more in the daemons (xensim's, pvback-watch), no
# grant, mapping, port or handle in the hypervisor, no tap, no namespace, no
# xenstore node.
source "$PVBACK_SRC/tests/sim/lifecycle_helpers.bash"

loops=${LIFECYCLE_LOOPS:-200}
[ "${PVBACK_VALGRIND:-0}" = 1 ] && loops=${LIFECYCLE_LOOPS:-20}

lc_start
lc_guest lg >/dev/null
daemon=$(cat "$SIM_DIR/xensim.pid")

# round I: one life of the guest.
round() {
    local i=$1 d info
    d=$(lc_create lg) || fail "round $i: create"
    lc_boot lg
    info=$(lc_in_guest lg timeout 60 "$PVBACK_BIN/pvback-blkfront" info) ||
        fail "round $i: the guest's disk: $info"
    grep -qx 'sectors=32768' <<<"$info" || fail "round $i: disk info: $info"
    [ -n "$(lc_backend_pid vbd "$d")" ] || fail "round $i: no pvback-blk for domain $d"
    [ -n "$(lc_backend_pid vif "$d")" ] || fail "round $i: no pvback-net for domain $d"
    if [ $((i % 2)) = 0 ]; then
        "$XENSIM" destroy "lg$LC_ID" || fail "round $i: destroy"
    else
        "$XENSIM" shutdown -w "lg$LC_ID" || fail "round $i: shutdown"
        grep -q '^xensim-guest: poweroff requested' "$SIM_DIR/lg$LC_ID.kernel.log" ||
            fail "round $i: the guest saw no poweroff request"
    fi
}

# A first round warms the daemons up (lazily opened fds, caches), then the
# baseline of their fds is taken.
round 0
# libxl leaves /vm and /libxl themselves: the baseline is taken after the
# first guest, and must hold nothing of it.
xs_base=$(xenstore-ls -f /)
left=$(echo "$xs_base" | grep -E '^/(vm|libxl)/|/backend/|/error/|^/local/domain/[1-9]' || true)
[ -z "$left" ] || fail "after round 0: xenstore nodes left: $left"
lc_assert_clean "after round 0" "$xs_base"
fds_xensim=$(lc_fds "$daemon")
fds_watch=$(lc_fds "$WATCH_PID")

t0=$(date +%s%N)
for i in $(seq 1 "$loops"); do
    round "$i"
done
ms=$((($(date +%s%N) - t0) / 1000000))
echo "$loops create/destroy rounds in $ms ms ($((ms / loops)) ms each)"
# Device errors are not failures of this test (a destroy may race a
# backend's step), but they are worth seeing.
errs=$(grep -E 'pvback-(blk|net)\[[0-9]+\] (error|warning):' "$SIM_DIR/watch.log" || true)
[ -z "$errs" ] || echo "backend errors/warnings during the rounds ($(wc -l <<<"$errs")):
$(head -n 5 <<<"$errs")"

lc_assert_clean "after $loops rounds" "$xs_base"
expect_eq "xensim daemon's fds after $loops rounds" "$(lc_fds "$daemon")" "$fds_xensim"
expect_eq "pvback-watch's fds after $loops rounds" "$(lc_fds "$WATCH_PID")" "$fds_watch"
echo PASS
