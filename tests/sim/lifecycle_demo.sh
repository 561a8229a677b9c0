#!/usr/bin/env bash
# scripts/demo, as the README runs it (on the programs already built):
#  - a full run succeeds and its summary reports what a user checks: the
#    guests created, fio's IOPS and bandwidth with the verify passed, an
#    iperf3 rate, VLAN 10 seen on the bridge, the devices closed at shutdown;
#  - nothing is left: no process, namespace, working directory or lock;
#  - stopped with SIGTERM in the middle (Ctrl-C's trap path), it cleans up;
#  - killed outright (SIGKILL) in the middle, the next run removes what the
#    dead one left, and succeeds.
source "$(dirname "$0")/lib.sh"
: "${PVBACK_SRC:?}"
[ "$(id -u)" = 0 ] || fail "the demo needs root"
demo=$PVBACK_SRC/scripts/demo
out=$(mktemp -d /tmp/pvback-ldemo.XXXXXX)
trap 'rm -rf "$out"' EXIT

# Nothing of a demo left on this machine.
no_leftovers() {
    local what=$1 ns procs
    ns=$(ip netns list | grep -E '^(pvdemo-dom0|xs-pvdemo|xs-pvdemo-peer)( |$)' || true)
    [ -z "$ns" ] || fail "$what: namespaces left: $ns"
    # The demo's processes: run in its directory (XENSIM_DIR) or naming it
    # (pvback-watch); other tests' guests running meanwhile are not ours.
    procs=$(for p in /proc/[0-9]*; do
        if grep -qsz '^XENSIM_DIR=/tmp/pvback-demo\.' "$p/environ" ||
            grep -qsa '/tmp/pvback-demo\.' "$p/cmdline"; then
            [ "${p#/proc/}" = "$BASHPID" ] || echo "${p#/proc/} $(tr '\0' ' ' <"$p/cmdline")"
        fi
    done)
    [ -z "$procs" ] || fail "$what: processes left: $procs"
    ! ls -d /tmp/pvback-demo.* 2>/dev/null || fail "$what: working directory left"
    [ ! -e /run/lock/pvback-demo.pid ] || fail "$what: lock file left"
}

# run_until PATTERN SIG LOG: starts the demo, sends SIG once its output has
# PATTERN, waits for it; prints its exit status.
run_until() {
    "$demo" --bin "$PVBACK_BIN" >"$3" 2>&1 &
    local pid=$! i rc=0
    for _ in $(seq 600); do
        grep -q "$1" "$3" && break
        kill -0 $pid 2>/dev/null || break
        sleep 0.1
    done
    grep -q "$1" "$3" || { cat "$3" >&2; fail "the demo never reached '$1'"; }
    kill -"$2" $pid
    wait $pid || rc=$?
    echo $rc
}

# --- a full run -------------------------------------------------------------
"$demo" --bin "$PVBACK_BIN" >"$out/run1.log" 2>&1 || { cat "$out/run1.log" >&2; fail "the demo failed"; }
summary=$(sed -n '/pvback demo summary/,$p' "$out/run1.log")
[ -n "$summary" ] || { cat "$out/run1.log" >&2; fail "no summary"; }
echo "$summary"
check() {
    grep -qE "$1" <<<"$summary" || fail "summary lacks $2: $summary"
}
check '^created +guest pvdemo \(domain [0-9]+\): disk xvda' "the guest and its disk"
check 'NIC eth0 = vif[0-9]+\.0 on xenbr0, VLAN 10' "the guest's NIC"
check '^fio +write IOPS=[0-9.]+k?, BW=[0-9.]+[KMG]iB/s$' "fio's write IOPS and bandwidth"
check 'verify read-back IOPS=[0-9.]+k?, BW=[0-9.]+[KMG]iB/s$' "fio's verify read-back figures"
check 'verify: passed \(4 x 64 MiB checked with crc32c' "fio's verify result"
check '^iperf3 +pvdemo -> pvdemo-peer: [0-9.]+ [KMG]bits/sec' "iperf3's throughput"
check '^VLAN +tag seen on xenbr0: vlan 10$' "the VLAN tag seen on the bridge"
check '^shutdown +both guests powered off; 3 devices closed by their guests' "the clean shutdown"
grep -qE '^Jobs: [0-9]' "$out/run1.log" || fail "no fio progress shown"
# iperf3's one line per second, before its two summary lines
[ "$(grep -cE '^\[ *[0-9]+\] +[0-9.]+-[0-9.]+ +sec .*bits/sec' "$out/run1.log")" -ge 6 ] ||
    fail "no iperf3 progress shown"
no_leftovers "after a full run"

# --- SIGTERM in the middle: the trap cleans up ------------------------------
rc=$(run_until '== fio in pvdemo' TERM "$out/run2.log")
expect_eq "exit status when terminated" "$rc" 143
grep -q 'everything it made is removed' "$out/run2.log" || fail "no cleanup message: $(cat "$out/run2.log")"
no_leftovers "after SIGTERM"

# --- SIGKILL in the middle: the next run cleans up and succeeds -------------
rc=$(run_until '== booting the guests' KILL "$out/run3.log")
expect_eq "exit status when killed" "$rc" 137
"$demo" --bin "$PVBACK_BIN" >"$out/run4.log" 2>&1 || { cat "$out/run4.log" >&2; fail "the run after a killed one failed"; }
grep -q 'verify: passed' "$out/run4.log" || fail "the run after a killed one has no verify result"
no_leftovers "after a killed run and a full one"
echo PASS
