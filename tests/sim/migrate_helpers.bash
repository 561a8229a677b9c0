# Helpers for the migration tests (lifecycle_migrate.sh, remote_migrate_*.sh),
# on top of lifecycle_helpers.bash: a second host B (xensim in MIG_B, dom0's
# network in namespace HOSTNS_B with its own xenbr0, its own pvback-watch)
# beside the usual one (A: SIM_DIR, HOSTNS); fio across a migration; what a
# host must no longer hold once a guest left it. With PVBACK_VALGRIND=1, A's
# daemon and pvback-watch run under valgrind (lc_start's), and A both saves
# (A -> B) and restores (B -> A) the domain. Each host has its own dom0
# namespace, as two hosts have their own networks: a pvback-watch removes
# the taps of domains its xensim does not know.

HOSTNS_B=pvlb$LC_ID
MIG_B=
MIG_WATCH_B=
MIG_EXTRA_CLEANUP= # a function the cleanup also runs (the storage servers)
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
    # The guest's programs (kernel, NIC drivers, fio's engine) report there.
    if grep -qE "(Address|Leak|UndefinedBehavior)Sanitizer|runtime error:" \
        "$SIM_DIR"/*.kernel.log "$SIM_DIR"/fio*.log 2>/dev/null; then
        echo "FAIL: sanitizer report from the guest's programs" >&2
        grep -E -A20 "(Address|Leak|UndefinedBehavior)Sanitizer|runtime error:" \
            "$SIM_DIR"/*.kernel.log "$SIM_DIR"/fio*.log >&2
        rc=1
    fi
    ip netns del "$HOSTNS_B" 2>/dev/null
    [ -z "$MIG_EXTRA_CLEANUP" ] || "$MIG_EXTRA_CLEANUP"
    lc_cleanup_rc "$rc"
}

# lc_cleanup with a given status (it reads $?).
mig_status() { return "$1"; }
lc_cleanup_rc() {
    mig_status "$1"
    lc_cleanup
}

# mig_watch DIR NS: pvback-watch for the xensim in DIR, in dom0 namespace NS
# (the root one when empty), logging to DIR/watch.log; waits until it runs.
# Its pid is in MIG_LAST_WATCH.
mig_watch() {
    local dir=$1 ns=$2 cmd
    cmd=("$PVBACK_BIN/pvback-watch" --blk-command "$PVBACK_BIN/pvback-blk"
        --net-command "$PVBACK_BIN/pvback-net" --sys-module-dir "$SIM_DIR/no-modules"
        --restart-delay 100 --stop-timeout 3000 "${LC_WATCH_ARGS[@]}")
    [ -z "$ns" ] || cmd=(ip netns exec "$ns" "${cmd[@]}")
    : >>"$dir/watch.log"
    XENSIM_DIR=$dir XENSTORED_PATH=$dir/xenstored.sock PVBACK_LOG=info "${cmd[@]}" \
        >>"$dir/watch.log" 2>&1 &
    MIG_LAST_WATCH=$!
    lc_wait 60 "pvback-watch of $dir running" grep -q 'info: running' "$dir/watch.log"
}

# mig_start: host A (SIM_DIR) and host B (MIG_B), each with its pvback-watch,
# and both xenstore baselines. Each host's dom0 network is a namespace of its
# own (A: HOSTNS as lc_start makes it, B: HOSTNS_B), with xenbr0 at
# 10.98.0.254. With MIG_ROOTNS=1 both dom0s are the root namespace instead,
# where the storage servers of lib_servers.sh listen (no vifs then).
MIG_NS_A=
MIG_NS_B=
mig_start() {
    local engine=$PVBACK_BIN/pvback-blkfront-fio.so ns
    [ -f "$engine" ] || fail "fio engine not built: run scripts/fetch-fio-src, then reconfigure"
    command -v fio >/dev/null || fail "fio is not installed"
    if [ "${MIG_ROOTNS:-0}" = 1 ]; then
        sim_start
        trap mig_cleanup EXIT
        export XEN_SCRIPT_DIR="$PVBACK_SRC/xenstore-watch/hotplug"
        mkdir -p "$SIM_DIR/no-modules"
        mig_watch "$SIM_DIR" ""
        WATCH_PID=$MIG_LAST_WATCH # lc_cleanup and lc_stop_watch stop it
    else
        lc_start
        trap mig_cleanup EXIT
        MIG_NS_A=$HOSTNS MIG_NS_B=$HOSTNS_B
        ip netns add "$HOSTNS_B" || fail "cannot create network namespace $HOSTNS_B"
        ip -n "$HOSTNS_B" link set lo up
        ip -n "$HOSTNS_B" link add xenbr0 type bridge forward_delay 0
        ip -n "$HOSTNS_B" link set xenbr0 up
        # dom0 has the same address on both hosts: the guest reaches "its" dom0.
        for ns in "$HOSTNS" "$HOSTNS_B"; do
            ip -n "$ns" addr add 10.98.0.254/24 dev xenbr0
        done
    fi
    MIG_BASE_A=$(xenstore-ls -f /)
    MIG_B=$(mktemp -d /tmp/pvback-test.XXXXXX)
    "$XENSIM" start --dir "$MIG_B" || fail "xensim start (B)"
    mig_watch "$MIG_B" "$MIG_NS_B"
    MIG_WATCH_B=$MIG_LAST_WATCH
    MIG_BASE_B=$(XENSTORED_PATH=$MIG_B/xenstored.sock xenstore-ls -f /)
}

# mig_in_ns DIR CMD...: CMD in the dom0 namespace of the host in DIR, with
# XENSIM_DIR=DIR.
mig_in_ns() {
    local dir=$1 ns
    shift
    ns=$(mig_ns "$dir")
    if [ -n "$ns" ]; then
        XENSIM_DIR=$dir ip netns exec "$ns" "$@"
    else
        XENSIM_DIR=$dir "$@"
    fi
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

# mig_ns DIR: the dom0 namespace of the host whose xensim is in DIR (empty:
# the root one).
mig_ns() {
    if [ "$1" = "$MIG_B" ]; then echo "$MIG_NS_B"; else echo "$MIG_NS_A"; fi
}

# mig_migrate NAME FROM TO: xensim migrate (as xl, in the source's dom0
# namespace, the destination's steps in its own); prints the new domid.
# With PVBACK_VALGRIND=1 the CLI runs under valgrind (an error or a leak
# fails the migration).
mig_migrate() {
    local to_ns vg=()
    to_ns=$(mig_ns "$3")
    [ "${PVBACK_VALGRIND:-0}" != 1 ] ||
        vg=(valgrind -q --error-exitcode=97 --leak-check=full --show-leak-kinds=definite,indirect
            --errors-for-leak-kinds=definite,indirect)
    mig_in_ns "$2" "${vg[@]}" "$XENSIM" migrate "$1$LC_ID" "$3" ${to_ns:+--netns "$to_ns"}
}

# mig_fio_start DIR NAME LOG CONNECTED_LINE WATCH_LOG: random writes with
# crc32c verify in the guest (which runs on the xensim in DIR), in the
# background (MIG_FIO_PID); returns once the disk connected for it
# (CONNECTED_LINE in WATCH_LOG once more) and it has run a moment.
mig_fio_start() {
    local dir=$1
    shift
    local before loops=1
    before=$(grep -c "$3" "$4" || true)
    # The CLI under valgrind takes seconds to start: fio must outlast that.
    # Paced (at most 8000 writes a second: 3 s or more for the 96 MiB) so
    # that it outlasts the migration on a host that writes it in 0.3 s too.
    [ "${PVBACK_VALGRIND:-0}" != 1 ] || loops=4
    XENSIM_DIR=$dir lc_fio "$1" --name=migrate --size=96M --rw=randwrite --bs=4k --iodepth=16 \
        --rate_iops=8000 --verify=crc32c --verify_fatal=1 --loops=$loops >"$2" 2>&1 &
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
    grep -q 'blkfront: vbd 51712: resumed in domain' "$1" ||
        { cat "$1" >&2; fail "fio's blkfront did not resume ($2)"; }
    echo "ok: fio with verify passed across the migration $2 ($(grep -m1 -o 'write: IOPS=[^,]*' "$1");" \
        "$(grep -m1 -o '[0-9]* requests replayed' "$1"))"
}

# mig_net_check NS WHAT DIR: ping and a short iperf3 from the guest (its
# namespace NS) to the dom0 of the host in DIR.
mig_net_check() {
    ip netns exec "$1" ping -c 3 -i 0.2 -W 3 10.98.0.254 >/dev/null ||
        fail "the guest cannot reach dom0 after the migration $2"
    mig_in_ns "$3" iperf3 -s -1 -B 10.98.0.254 -p 5299 >/dev/null 2>&1 &
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
    mig_in_ns "$dir" ip link show "vif$domid.0" >/dev/null 2>&1 && fail "$what: tap vif$domid.0 left"
    local keep='/vm = ""|/libxl = ""|/local/domain/0/error(/backend(/[a-z0-9]+)?)? = ""'
    left=$(diff <(echo "$base" | grep -vxE "$keep") \
        <(XENSTORED_PATH=$dir/xenstored.sock xenstore-ls -f / 2>&1 | grep -vxE "$keep") || true)
    [ -z "$left" ] || fail "$what: xenstore differs from before: $left"
    [ -z "$(ls "$dir/netns" 2>/dev/null)" ] || fail "$what: namespace marker left"
    echo "ok: $what holds nothing of the guest"
}

# mig_log_time LOG PATTERN: the timestamp (first field) of the first line of
# LOG matching PATTERN; fails the test when there is none.
mig_log_time() {
    local t
    t=$(grep -m1 -E "$2" "$1" | awk '{print $1}')
    [ -n "$t" ] || fail "no line '$2' in $1"
    echo "$t"
}

# mig_remote_test KIND: migration over shared storage (issue #6). Both hosts
# reach the same LUN (KIND iscsi: tgtd) or NFS image (nfs: nfs-ganesha);
# fio with verify runs across the move and passes, and the source's
# pvback-blk drained and flushed the disk before the destination's
# connected it (from the two hosts' logs, one clock).
mig_remote_test() {
    local kind=$1 url name=rm$LC_ID
    # srv_* from lib_servers.sh; mig_cleanup stops the servers too. The
    # servers listen on the root namespace's loopback: both dom0s are there.
    MIG_EXTRA_CLEANUP=srv_cleanup
    MIG_ROOTNS=1
    mig_start
    if [ "$kind" = iscsi ]; then
        srv_tgtd_start 128M
        url=$SRV_TGT_URL
    else
        srv_nfs_start 128M
        url=$SRV_NFS3_URL
    fi
    printf 'name = "%s"\nmemory = 128\ndisk = [ "vdev=xvda,access=rw,script=block-pvback,target=%s" ]\n' \
        "$name" "$url" >"$SIM_DIR/$name.cfg"
    local d d2
    d=$(mig_in_ns "$SIM_DIR" "$XENSIM" create "$SIM_DIR/$name.cfg") || fail "create"
    "$XENSIM" exec "$name" -- "$PVBACK_BIN/xensim-guest" >"$SIM_DIR/$name.kernel.log" 2>&1 &
    lc_wait 30 "the kernel of $name" grep -q 'up: 0 NIC' "$SIM_DIR/$name.kernel.log"

    mig_fio_start "$SIM_DIR" rm "$SIM_DIR/fio.log" "vbd/$d/51712: InitWait -> Connected" "$SIM_DIR/watch.log"
    d2=$(mig_migrate rm "$SIM_DIR" "$MIG_B") || fail "migrate"
    mig_fio_check "$SIM_DIR/fio.log" "A -> B on $kind"

    local flushed connected
    flushed=$(mig_log_time "$SIM_DIR/watch.log" "vbd/$d/51712: closing: [0-9]+ storage requests drained, storage flushed")
    connected=$(mig_log_time "$MIG_B/watch.log" "vbd/$d2/51712: InitWait -> Connected")
    awk -v f="$flushed" -v c="$connected" 'BEGIN { exit !(f < c) }' ||
        fail "B's backend connected the $kind disk at $connected, before A's flushed it ($flushed)"
    echo "ok: A's pvback-blk drained and flushed the $kind disk ($flushed) before B's connected it ($connected)"
    mig_assert_left "A after the move to B" "$SIM_DIR" "$MIG_BASE_A" "$d"

    XENSIM_DIR=$MIG_B "$XENSIM" shutdown -w "$name" || fail "shutdown on B"
    mig_assert_left "B after the guest's shutdown" "$MIG_B" "$MIG_BASE_B" "$d2"
    mig_stop_b || fail "B's pvback-watch exit"
    lc_stop_watch || fail "pvback-watch exit"
    echo PASS
}
