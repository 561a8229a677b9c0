# Helpers for the lifecycle sim tests (tests/sim/lifecycle_*.sh): a private
# xensim; dom0's network in a namespace of the test's own with bridge xenbr0;
# pvback-watch there starting the real pvback-blk and pvback-net through the
# real hotplug scripts; guests with a disk and a vif whose kernel is
# xensim-guest. Names carry the test's pid, so tests can run side by side.
# With PVBACK_VALGRIND=1, pvback-watch runs under valgrind (and xensim's
# daemon, through lib.sh); a valgrind or sanitizer report fails the test.
source "$PVBACK_SRC/tests/sim/lib.sh"

LC_ID=$$
HOSTNS=pvlc$LC_ID
LC_WATCH_ARGS=()
WATCH_PID=

lc_cleanup() {
    local rc=$?
    set +e # a cleanup goes all the way, whatever fails in it
    lc_stop_watch || rc=1
    for f in "$SIM_DIR"/pvback/*.pid; do
        [ -f "$f" ] && kill -9 "$(cat "$f")" 2>/dev/null
    done
    if grep -qE "(Address|Leak|UndefinedBehavior)Sanitizer|runtime error:" "$SIM_DIR/watch.log" 2>/dev/null; then
        echo "FAIL: sanitizer report in watch.log" >&2
        grep -E -A20 "(Address|Leak|UndefinedBehavior)Sanitizer|runtime error:" "$SIM_DIR/watch.log" >&2
        rc=1
    fi
    if [ $rc -ne 0 ]; then
        echo "--- watch.log" >&2
        tail -n 40 "$SIM_DIR/watch.log" >&2 2>/dev/null
        for f in "$SIM_DIR"/*.kernel.log; do
            [ -f "$f" ] && { echo "--- $f" >&2; tail -n 5 "$f" >&2; }
        done
    fi
    local ns
    for ns in $(ip netns list | awk '{print $1}'); do
        if [ "$ns" = "$HOSTNS" ] || [[ $ns == xs-*"$LC_ID" ]]; then
            ip netns del "$ns" 2>/dev/null || true
        fi
    done
    sim_cleanup "$rc"
}

# lc_start: xensim, dom0's namespace with xenbr0, pvback-watch.
lc_start() {
    sim_start
    trap lc_cleanup EXIT
    : >"$SIM_DIR/watch.log"
    ip netns add "$HOSTNS" || fail "cannot create network namespace $HOSTNS"
    ip -n "$HOSTNS" link set lo up
    ip -n "$HOSTNS" link add xenbr0 type bridge forward_delay 0
    ip -n "$HOSTNS" link set xenbr0 up
    export XEN_SCRIPT_DIR="$PVBACK_SRC/xenstore-watch/hotplug"
    mkdir -p "$SIM_DIR/no-modules"
    lc_start_watch
}

# lc_start_watch: pvback-watch in dom0's namespace; waits until it runs.
# LC_WATCH_ARGS (an array) adds or overrides its settings.
lc_start_watch() {
    local lines cmd
    lines=$(wc -l <"$SIM_DIR/watch.log")
    cmd=("$PVBACK_BIN/pvback-watch" --blk-command "$PVBACK_BIN/pvback-blk"
        --net-command "$PVBACK_BIN/pvback-net" --sys-module-dir "$SIM_DIR/no-modules"
        --restart-delay 100 --stop-timeout 3000 "${LC_WATCH_ARGS[@]}")
    if [ "${PVBACK_VALGRIND:-0}" = 1 ]; then
        cmd=(valgrind -q --error-exitcode=97 --leak-check=full --show-leak-kinds=definite,indirect
            --errors-for-leak-kinds=definite,indirect --log-file="$SIM_DIR/vg-watch.%p" "${cmd[@]}")
    fi
    PVBACK_LOG=info ip netns exec "$HOSTNS" "${cmd[@]}" >>"$SIM_DIR/watch.log" 2>&1 &
    WATCH_PID=$!
    lc_wait 60 "pvback-watch running" \
        eval "tail -n +$((lines + 1)) '$SIM_DIR/watch.log' | grep -q 'info: running'"
}

# lc_stop_watch: SIGTERM; a non-zero exit (valgrind: 97) fails.
lc_stop_watch() {
    [ -n "$WATCH_PID" ] || return 0
    local rc=0
    kill "$WATCH_PID" 2>/dev/null || true
    wait "$WATCH_PID" || rc=$?
    WATCH_PID=
    if [ $rc -ne 0 ]; then
        echo "FAIL: pvback-watch exited with $rc" >&2
        cat "$SIM_DIR"/vg-watch.* >&2 2>/dev/null || true
        return 1
    fi
}

# lc_poll SECONDS CMD...: polls CMD every 0.05 s; false when it never held.
lc_poll() {
    local n=$(($1 * 20))
    shift
    until "$@" >/dev/null 2>&1; do
        n=$((n - 1))
        [ $n -gt 0 ] || return 1
        sleep 0.05
    done
}

# lc_wait SECONDS WHAT CMD...: lc_poll, failing the test on a timeout.
lc_wait() {
    local secs=$1 what=$2
    shift 2
    lc_poll "$secs" "$@" || fail "timed out waiting for: $what"
}

# lc_guest NAME [DISK_MB]: a guest config with a disk (an image of its own)
# and a vif on xenbr0, as an operator writes it; prints the config's path.
lc_guest() {
    local name=$1$LC_ID mb=${2:-16}
    [ -f "$SIM_DIR/$name.img" ] || truncate -s "${mb}M" "$SIM_DIR/$name.img"
    cat >"$SIM_DIR/$name.cfg" <<CFG
name = "$name"
memory = 128
disk = [ 'vdev=xvda,access=rw,script=block-pvback,target=$SIM_DIR/$name.img' ]
vif = [ 'mac=00:16:3e:00:1c:01,bridge=xenbr0,script=vif-pvback' ]
CFG
    echo "$SIM_DIR/$name.cfg"
}

# lc_create NAME: xensim create (as xl, in dom0's namespace); prints the domid.
lc_create() {
    ip netns exec "$HOSTNS" "$XENSIM" create "$SIM_DIR/$1$LC_ID.cfg"
}

# lc_boot NAME: the guest's kernel; waits until its NIC is connected.
lc_boot() {
    local name=$1$LC_ID log="$SIM_DIR/$1$LC_ID.kernel.log"
    : >"$log" # now, not in the background job: a reboot must not see the last boot's lines
    "$XENSIM" exec "$name" -- "$PVBACK_BIN/xensim-guest" >>"$log" 2>&1 &
    lc_wait 30 "the NIC of $name" grep -q '^connected eth0' "$log"
}

# lc_in_guest NAME CMD...: CMD runs as the guest (xensim exec).
lc_in_guest() {
    local name=$1$LC_ID
    shift
    "$XENSIM" exec "$name" -- "$@"
}

# lc_backend_pid KIND DOMID
lc_backend_pid() {
    cat "$SIM_DIR/pvback/$1-$2.pid" 2>/dev/null
}

# lc_fds PID: how many fds the process holds.
lc_fds() {
    ls "/proc/$1/fd" | wc -l
}

# lc_sim_procs: the guest-side and backend programs running for this xensim
# (XENSIM_DIR in their environment), one "pid cmdline" a line.
lc_sim_procs() {
    local p cmd
    for p in /proc/[0-9]*; do
        cmd=$(tr '\0' ' ' <"$p/cmdline" 2>/dev/null) || continue
        [[ $cmd =~ ^[^\ ]*(pvback-blk|pvback-net|pvback-netfront|pvback-blkfront|xensim-guest|fio|iperf3)\  ]] ||
            continue
        grep -qsz "^XENSIM_DIR=$SIM_DIR\$" "$p/environ" || continue
        [ "$(awk '{print $3}' "$p/stat" 2>/dev/null)" = Z ] && continue
        echo "${p#/proc/} $cmd"
    done
}

# lc_kill_guest_side REGEX: SIGKILLs this xensim's guest-side programs whose
# command line matches REGEX (a guest dying without closing anything).
lc_kill_guest_side() {
    local p
    for p in $(lc_sim_procs 2>/dev/null | awk -v re="$1" '$0 ~ re {print $1}'); do
        kill -9 "$p" 2>/dev/null || true
    done
}

# lc_hv_state: the hypervisor part of `xensim dump`.
lc_hv_state() {
    "$XENSIM" dump | sed -n '/^# hypervisor/,$p' | tail -n +2
}

# lc_assert_clean WHAT XS_BASELINE: nothing of any guest left: processes,
# backends' run files, taps, namespaces, grants/mappings/ports/handles in the
# hypervisor, xenstore nodes (compared with XS_BASELINE, a `xenstore-ls -f`).
lc_assert_clean() {
    local what=$1 base=$2 left
    lc_poll 15 eval "! ls -R '$SIM_DIR/pvback' 2>/dev/null | grep -qvE '\\.sock\$|^\$|:\$'" ||
        fail "$what: backends' run files left: $(ls -R "$SIM_DIR/pvback")"
    lc_wait 10 "$what: no guest process" eval '[ -z "$(lc_sim_procs)" ]'
    left=$(lc_hv_state)
    grep -qvE '^domain 0: .* 0 grants shared, 0 grants mapped by others, 0 event channels, 0 handles$' <<<"$left" &&
        fail "$what: the hypervisor still holds something: $left"
    left=$(ip -n "$HOSTNS" -o link show | awk -F': ' '{print $2}' | grep -vxE 'lo|xenbr0' || true)
    [ -z "$left" ] || fail "$what: interfaces left in dom0: $left"
    left=$(ip netns list | awk '{print $1}' | grep -E "^xs-.*$LC_ID\$" || true)
    [ -z "$left" ] || fail "$what: guest namespaces left: $left"
    # libxl leaves /vm and /libxl, and empty ancestors of error nodes stay
    # once a device failed; every guest's own node must be gone.
    local keep='/vm = ""|/libxl = ""|/local/domain/0/error(/backend(/[a-z0-9]+)?)? = ""'
    left=$(diff <(echo "$base" | grep -vxE "$keep") <(xenstore-ls -f / 2>&1 | grep -vxE "$keep") || true)
    [ -z "$left" ] || fail "$what: xenstore differs from before: $left"
}

# lc_fio NAME ARGS...: fio in guest NAME with pvback's engine (sanitizer
# runtimes preloaded for a sanitizer build's engine: fio itself is not
# instrumented, and its own allocations are not ours to judge).
lc_fio() {
    local name=$1 engine=$PVBACK_BIN/pvback-blkfront-fio.so pre=()
    shift
    if [[ $(ldd "$engine") == *libasan* ]]; then
        pre=(env "LD_PRELOAD=$(gcc -print-file-name=libasan.so) $(gcc -print-file-name=libubsan.so)"
            ASAN_OPTIONS=detect_leaks=0)
    fi
    lc_in_guest "$name" "${pre[@]}" fio --ioengine=external:"$engine" --filename=xvda "$@"
}
