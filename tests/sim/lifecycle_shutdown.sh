#!/usr/bin/env bash
# xensim shutdown, as xl shutdown:
#  - without -w it returns once the guest acknowledged the poweroff; the
#    guest's kernel closes its devices (the backends see the frontend go
#    Closing then Closed, nothing forced), its other programs get SIGTERM,
#    and the domain is destroyed in the background: nothing is left;
#  - -w returns once the domain is gone; a program that ignores SIGTERM
#    delays the halt by the grace time, then the domain is destroyed anyway,
#    with a warning;
#  - errors: an unknown name, Domain-0, and a request the guest does not
#    handle (crash is left unacknowledged by xensim-guest; suspend is
#    xensim migrate's, tests/sim/lifecycle_migrate.sh).
# With PVBACK_VALGRIND=1 the guest's kernel runs under valgrind too.
source "$PVBACK_SRC/tests/sim/lifecycle_helpers.bash"

lc_start
xs_base=$(xenstore-ls -f /)

# boot NAME: the guest's kernel, under valgrind when asked (its leak check
# runs when it exits at the poweroff).
boot() {
    local name=$1$LC_ID log="$SIM_DIR/$1$LC_ID.kernel.log" kernel=("$PVBACK_BIN/xensim-guest")
    if [ "${PVBACK_VALGRIND:-0}" = 1 ]; then
        kernel=(valgrind -q --error-exitcode=97 --leak-check=full --show-leak-kinds=definite,indirect
            --errors-for-leak-kinds=definite,indirect --log-file="$SIM_DIR/vg-kernel.%p"
            "${kernel[@]}" --netfront "$PVBACK_BIN/pvback-netfront")
    fi
    # Emptied here, not by the background job's redirection: a second boot
    # of the same guest must not find the first boot's lines before the job
    # gets to truncate the file.
    : >"$log"
    "$XENSIM" exec "$name" -- "${kernel[@]}" >>"$log" 2>&1 &
    lc_wait 60 "the NIC of $name" grep -q '^connected eth0' "$log"
}

# --- shutdown without -w ------------------------------------------------------
lc_guest s1 >/dev/null
d=$(lc_create s1) || fail "create s1"
boot s1
lc_in_guest s1 sleep 600 &
t0=$(date +%s%N)
"$XENSIM" shutdown "s1$LC_ID" || fail "shutdown s1"
ms=$((($(date +%s%N) - t0) / 1000000))
[ $ms -lt 3000 ] || fail "shutdown without -w took $ms ms"
grep -q '^xensim-guest: poweroff requested: stopping the drivers' "$SIM_DIR/s1$LC_ID.kernel.log" ||
    fail "the guest did not see the request: $(cat "$SIM_DIR/s1$LC_ID.kernel.log")"
lc_wait 20 "domain $d destroyed" eval "! \"$XENSIM\" list | grep -q 's1$LC_ID'"
grep -q "vif/$d/0: Connected -> Closing (frontend Closing)" "$SIM_DIR/watch.log" ||
    fail "the guest's NIC was not closed by the guest"
grep -q "vif/$d/0: Closing -> Closed (frontend Closed)" "$SIM_DIR/watch.log" ||
    fail "the guest's NIC did not reach Closed"
lc_assert_clean "after shutdown" "$xs_base"
if [ "${PVBACK_VALGRIND:-0}" = 1 ]; then
    # Errors and leaks are "==pid==" lines ("--pid--" ones are notes, such
    # as valgrind not knowing pidfd_open).
    for f in "$SIM_DIR"/vg-kernel.*; do
        grep -q '^==[0-9]*==' "$f" && fail "valgrind on xensim-guest: $(cat "$f")"
    done
fi
echo "ok: shutdown returned in $ms ms; the guest closed its devices; nothing left"

# --- shutdown -w, with a program that ignores SIGTERM -------------------------
d=$(lc_create s1) || fail "create s1 again"
boot s1
[ "$(xenstore-read "/local/domain/$d/control/feature-poweroff")" = 1 ] ||
    fail "the guest's kernel did not announce feature-poweroff"
lc_in_guest s1 bash -c 'trap "" TERM; sleep 600' &
sleep 0.3
t0=$(date +%s%N)
out=$("$XENSIM" shutdown -w "s1$LC_ID" 2>&1) || fail "shutdown -w: $out"
ms=$((($(date +%s%N) - t0) / 1000000))
grep -q "domain $d did not halt within 10000 ms (1 processes left); destroying it" <<<"$out" ||
    fail "no warning about the stuck program: $out"
[ $ms -ge 9000 ] && [ $ms -lt 20000 ] || fail "shutdown -w took $ms ms"
"$XENSIM" list | grep -q "s1$LC_ID" && fail "the domain outlived shutdown -w"
lc_assert_clean "after shutdown -w" "$xs_base"
echo "ok: shutdown -w destroyed a guest stuck in its halt after $ms ms, with a warning"

# --- errors -------------------------------------------------------------------
out=$("$XENSIM" shutdown nosuch 2>&1) && fail "shutdown of an unknown guest succeeded"
expect_eq "unknown guest" "$out" "xensim: no domain named 'nosuch'"
out=$("$XENSIM" shutdown Domain-0 2>&1) && fail "shutdown of Domain-0 succeeded"
expect_eq "Domain-0" "$out" "xensim: Domain-0 cannot be shut down from here"
d=$(lc_create s1) || fail "create s1 a third time"
boot s1
xenstore-write "/local/domain/$d/control/shutdown" crash
lc_wait 10 "the kernel refusing crash" \
    grep -q "control request 'crash' is not supported; not acknowledged" "$SIM_DIR/s1$LC_ID.kernel.log"
expect_eq "crash left in place" "$(xenstore-read "/local/domain/$d/control/shutdown")" crash
"$XENSIM" shutdown -w "s1$LC_ID" || fail "shutdown -w after a refused request"
lc_assert_clean "at the end" "$xs_base"
lc_stop_watch || fail "pvback-watch exit"
echo PASS
