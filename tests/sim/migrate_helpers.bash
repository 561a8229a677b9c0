# Helpers for the migration tests (lifecycle_migrate.sh, remote_migrate_*.sh),
# on top of lifecycle_helpers.bash: a second host B (xensim in MIG_B, dom0's
# network in namespace HOSTNS_B with its own xenbr0, its own pvback-watch)
# beside the usual one (A: SIM_DIR, HOSTNS); fio across a migration; what a
# host must no longer hold once a guest left it. Each host has its own dom0
# namespace, as two hosts have their own networks: a pvback-watch removes
# the taps of domains its xensim does not know.

HOSTNS_B=pvlb$LC_ID
MIG_B=
MIG_WATCH_B=
MIG_BASE_A=
MIG_BASE_B=

mig_cleanup() {
    local rc=$?
    set +e
    if [ -n "$MIG_WATCH_B" ]; then
        kill "$MIG_WATCH_B" 2>/dev/null
        wait "$MIG_WATCH_B" 2>/dev/null
    fi
    if [ -n "$MIG_B" ]; then
        for f in "$MIG_B"/pvback/*.pid; do
            [ -f "$f" ] && kill -9 "$(cat "$f")" 2>/dev/null
        done
        if [ "$rc" -ne 0 ]; then
            for f in "$SIM_DIR"/*.kernel.log; do
                [ -f "$f" ] && { echo "--- $f" >&2; cat "$f" >&2; }
            done
            echo "--- B's watch.log" >&2
            tail -n 40 "$MIG_B/watch.log" >&2 2>/dev/null
            echo "--- B's xensim.log" >&2
            tail -n 30 "$MIG_B/xensim.log" >&2 2>/dev/null
        fi
        "$XENSIM" stop --dir "$MIG_B" >/dev/null 2>&1
        if grep -qE "(Address|Leak|UndefinedBehavior)Sanitizer|runtime error:" \
            "$MIG_B/xensim.log" "$MIG_B/watch.log" 2>/dev/null; then
            echo "FAIL: sanitizer report in B's logs" >&2
            grep -E -A20 "(Address|Leak|UndefinedBehavior)Sanitizer|runtime error:" \
                "$MIG_B/xensim.log" "$MIG_B/watch.log" >&2
            rc=1
        fi
        rm -rf "$MIG_B"
    fi
    ip netns del "$HOSTNS_B" 2>/dev/null
    lc_cleanup_rc "$rc"
}

# lc_cleanup with a given status (it reads $?).
mig_status() { return "$1"; }
lc_cleanup_rc() {
    mig_status "$1"
    lc_cleanup
}

# mig_start: A as lc_start makes it, B beside it, and both xenstore baselines.
mig_start() {
    local engine=$PVBACK_BIN/pvback-blkfront-fio.so
    [ -f "$engine" ] || fail "fio engine not built: run scripts/fetch-fio-src, then reconfigure"
    command -v fio >/dev/null || fail "fio is not installed"
    lc_start
    trap mig_cleanup EXIT
    MIG_BASE_A=$(xenstore-ls -f /)
    MIG_B=$(mktemp -d /tmp/pvback-test.XXXXXX)
    "$XENSIM" start --dir "$MIG_B" || fail "xensim start (B)"
    : >"$MIG_B/watch.log"
    ip netns add "$HOSTNS_B" || fail "cannot create network namespace $HOSTNS_B"
    ip -n "$HOSTNS_B" link set lo up
    ip -n "$HOSTNS_B" link add xenbr0 type bridge forward_delay 0
    ip -n "$HOSTNS_B" link set xenbr0 up
    # dom0 has the same address on both hosts: the guest reaches "its" dom0.
    ip -n "$HOSTNS" addr add 10.98.0.254/24 dev xenbr0
    ip -n "$HOSTNS_B" addr add 10.98.0.254/24 dev xenbr0
    XENSIM_DIR=$MIG_B XENSTORED_PATH=$MIG_B/xenstored.sock PVBACK_LOG=info \
        ip netns exec "$HOSTNS_B" "$PVBACK_BIN/pvback-watch" --blk-command "$PVBACK_BIN/pvback-blk" \
        --net-command "$PVBACK_BIN/pvback-net" --sys-module-dir "$SIM_DIR/no-modules" \
        --restart-delay 100 --stop-timeout 3000 "${LC_WATCH_ARGS[@]}" >>"$MIG_B/watch.log" 2>&1 &
    MIG_WATCH_B=$!
    lc_wait 60 "B's pvback-watch running" grep -q 'info: running' "$MIG_B/watch.log"
    MIG_BASE_B=$(XENSTORED_PATH=$MIG_B/xenstored.sock xenstore-ls -f /)
}

# mig_stop_b: B's pvback-watch, SIGTERM; a non-zero exit fails.
mig_stop_b() {
    local rc=0
    kill "$MIG_WATCH_B" 2>/dev/null || true
    wait "$MIG_WATCH_B" || rc=$?
    MIG_WATCH_B=
    return $rc
}

# mig_pad_domain DIR: a domain without devices in DIR; prints its name.
mig_pad_domain() {
    local name=pad$LC_ID
    printf 'name = "%s"\nmemory = 16\n' "$name" >"$SIM_DIR/$name.cfg"
    XENSIM_DIR=$1 "$XENSIM" create "$SIM_DIR/$name.cfg" >/dev/null || fail "create $name in $1"
    echo "$name"
}

# mig_ns DIR: the dom0 namespace of the host whose xensim is in DIR.
mig_ns() {
    if [ "$1" = "$MIG_B" ]; then echo "$HOSTNS_B"; else echo "$HOSTNS"; fi
}

# mig_migrate NAME FROM TO: xensim migrate (as xl, in the source's dom0
# namespace, the destination's steps in its own); prints the new domid.
mig_migrate() {
    XENSIM_DIR=$2 ip netns exec "$(mig_ns "$2")" "$XENSIM" migrate "$1$LC_ID" "$3" \
        --netns "$(mig_ns "$3")"
}

# mig_fio_start DIR NAME LOG CONNECTED_LINE WATCH_LOG: random writes with
# crc32c verify in the guest (which runs on the xensim in DIR), in the
# background (MIG_FIO_PID); returns once the disk connected for it
# (CONNECTED_LINE in WATCH_LOG once more) and it has run a moment.
mig_fio_start() {
    local dir=$1
    shift
    local before
    before=$(grep -c "$3" "$4" || true)
    XENSIM_DIR=$dir lc_fio "$1" --name=migrate --size=96M --rw=randwrite --bs=4k --iodepth=16 \
        --verify=crc32c --verify_fatal=1 >"$2" 2>&1 &
    MIG_FIO_PID=$!
    lc_wait 20 "fio connected" eval "[ \$(grep -c '$3' '$4') -gt $before ]"
    sleep 0.3
    kill -0 "$MIG_FIO_PID" 2>/dev/null || fail "fio finished before the migration: $(cat "$2")"
}

# mig_fio_check LOG WHAT: fio passed, verify included.
mig_fio_check() {
    wait "$MIG_FIO_PID" || { cat "$1" >&2; fail "fio failed across the migration $2"; }
    grep -q 'err= 0' "$1" || { cat "$1" >&2; fail "fio reported errors ($2)"; }
    grep -q 'verify:' "$1" && { cat "$1" >&2; fail "fio's verify failed ($2)"; }
    echo "ok: fio with verify passed across the migration $2 ($(grep -m1 -o 'write: IOPS=[^,]*' "$1"))"
}

# mig_net_check NS WHAT DIR: ping and a short iperf3 from the guest (its
# namespace NS) to the dom0 of the host in DIR.
mig_net_check() {
    ip netns exec "$1" ping -c 3 -i 0.2 -W 3 10.98.0.254 >/dev/null ||
        fail "the guest cannot reach dom0 after the migration $2"
    ip netns exec "$(mig_ns "$3")" iperf3 -s -1 -B 10.98.0.254 -p 5299 >/dev/null 2>&1 &
    local srv=$!
    sleep 0.3
    ip netns exec "$1" iperf3 -c 10.98.0.254 -p 5299 -t 1 >"$SIM_DIR/iperf3.log" 2>&1 ||
        { kill "$srv" 2>/dev/null; cat "$SIM_DIR/iperf3.log" >&2; fail "iperf3 after the migration $2"; }
    wait "$srv" || true
    echo "ok: ping and iperf3 through the vif after the migration $2" \
        "($(grep -m1 -oE '[0-9.]+ [MG]bits/sec' "$SIM_DIR/iperf3.log"))"
}

# mig_assert_left WHAT DIR BASELINE DOMID: the xensim in DIR holds nothing of
# the guest that left it: no domain but dom0 (with no grant, port or handle),
# no backend process or run file, no tap of DOMID, xenstore as BASELINE, no
# namespace marker.
mig_assert_left() {
    local what=$1 dir=$2 base=$3 domid=$4 left
    left=$(XENSIM_DIR=$dir "$XENSIM" dump | sed -n '/^# hypervisor/,$p' | tail -n +2)
    grep -qvE '^domain 0: .* 0 grants shared, 0 grants mapped by others, 0 event channels, 0 handles$' <<<"$left" &&
        fail "$what: the hypervisor still holds something: $left"
    lc_poll 15 eval "! ls -R '$dir/pvback' 2>/dev/null | grep -qvE '\\.sock\$|^\$|:\$'" ||
        fail "$what: backends' run files left: $(ls -R "$dir/pvback")"
    local p
    for p in $(pgrep -x 'pvback-blk|pvback-net' || true); do
        grep -qsz "^XENSIM_DIR=$dir\$" "/proc/$p/environ" &&
            fail "$what: a backend still runs: $(tr '\0' ' ' <"/proc/$p/cmdline")"
    done
    ip -n "$(mig_ns "$dir")" link show "vif$domid.0" >/dev/null 2>&1 && fail "$what: tap vif$domid.0 left"
    local keep='/vm = ""|/libxl = ""|/local/domain/0/error(/backend(/[a-z0-9]+)?)? = ""'
    left=$(diff <(echo "$base" | grep -vxE "$keep") \
        <(XENSTORED_PATH=$dir/xenstored.sock xenstore-ls -f / 2>&1 | grep -vxE "$keep") || true)
    [ -z "$left" ] || fail "$what: xenstore differs from before: $left"
    [ -z "$(ls "$dir/netns" 2>/dev/null)" ] || fail "$what: namespace marker left"
    echo "ok: $what holds nothing of the guest"
}
