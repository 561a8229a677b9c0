# Helpers for the netback sim tests (tests/sim/net_*.sh): a private xensim,
# a "host" network namespace with the bridge(s) where pvback-net runs, and
# guests whose NIC is pvback-netfront inside their own namespace xs-<name>.
# Every name carries the test's pid, so tests can run side by side; every
# namespace goes away at exit. With PVBACK_VALGRIND=1, pvback-net runs under
# valgrind and any memory error or leak fails the test when it stops.
source "$PVBACK_SRC/tests/sim/lib.sh"

NET_ID=$$
HOSTNS=pvbh$NET_ID
NET_PID=
NET_FRONTS=()
NET_NFRONT=0

net_cleanup() { # [RC], as sim_cleanup
    local rc=${1:-$?}
    set +e # a cleanup goes all the way, whatever fails in it
    for p in "${NET_FRONTS[@]}"; do
        kill -TERM "$p" 2>/dev/null || true
    done
    for p in "${NET_FRONTS[@]}"; do
        wait "$p" 2>/dev/null || true
    done
    # iperf3 servers started with -D -I $SIM_DIR/iperf*.pid: a daemon would
    # outlive its namespace (and hold the caller's open descriptors).
    local f
    for f in "$SIM_DIR"/iperf*.pid; do
        [ -f "$f" ] && kill "$(cat "$f")" 2>/dev/null
    done
    if [ -n "$NET_PID" ] && kill -0 "$NET_PID" 2>/dev/null; then
        kill -TERM "$NET_PID" 2>/dev/null || true
        wait "$NET_PID" 2>/dev/null || true
    fi
    if [ $rc -ne 0 ] && [ -f "$SIM_DIR/net.log" ]; then
        echo "--- pvback-net log" >&2
        tail -n 40 "$SIM_DIR/net.log" >&2
        for f in "$SIM_DIR"/front-*.log; do
            [ -f "$f" ] && { echo "--- $f" >&2; tail -n 10 "$f" >&2; }
        done
    fi
    # Our namespaces: the host one and xs-<guest><id> (net_guest runs in a
    # subshell, so they are found by name rather than remembered).
    local ns
    for ns in $(ip netns list | awk '{print $1}'); do
        if [ "$ns" = "$HOSTNS" ] || [[ $ns == xs-*"$NET_ID" ]]; then
            ip netns del "$ns" 2>/dev/null || true
        fi
    done
    sim_cleanup "$rc"
}

# net_start_sim: xensim, the host namespace with bridge xenbr0, and a hotplug
# script ($SIM_DIR/vif-test) that reports success as Xen's vif-bridge does.
net_start_sim() {
    command -v ip >/dev/null || fail "iproute2 is needed"
    sim_start
    trap net_cleanup EXIT
    ip netns add "$HOSTNS" || fail "cannot create network namespace $HOSTNS"
    ip -n "$HOSTNS" link set lo up
    net_bridge xenbr0
    cat >"$SIM_DIR/vif-test" <<'SCRIPT'
#!/bin/sh
case "$1" in
online|add) xenstore-write "$XENBUS_PATH/hotplug-status" connected ;;
esac
exit 0
SCRIPT
    chmod +x "$SIM_DIR/vif-test"
}

# net_bridge NAME: a plain bridge (no VLAN filtering) in the host namespace.
net_bridge() {
    ip -n "$HOSTNS" link add "$1" type bridge forward_delay 0 || fail "bridge $1"
    ip -n "$HOSTNS" link set "$1" up
}

# net_start_backend [ARGS...]: pvback-net in the host namespace.
net_start_backend() {
    local cmd=("$PVBACK_BIN/pvback-net" "$@")
    if [ "${PVBACK_VALGRIND:-0}" = 1 ]; then
        cmd=(valgrind --quiet --error-exitcode=97 --leak-check=full
            --show-leak-kinds=definite,indirect --errors-for-leak-kinds=definite,indirect
            "${cmd[@]}")
    fi
    NET_SERVED=$(backend_served "$SIM_DIR/net.log")
    PVBACK_LOG=${PVBACK_LOG:-info} ip netns exec "$HOSTNS" "${cmd[@]}" >>"$SIM_DIR/net.log" 2>&1 &
    NET_PID=$!
}

# net_stop_backend: SIGTERM once it is up; its exit status must be 0
# (valgrind: clean).
net_stop_backend() {
    wait_backend_up "$NET_PID" "$SIM_DIR/net.log" "${NET_SERVED:-0}"
    kill -TERM "$NET_PID"
    local rc=0
    wait "$NET_PID" || rc=$?
    NET_PID=
    [ $rc -eq 0 ] || fail "pvback-net exited with $rc (see net.log)"
}

# net_guest NAME VIFSPEC...: creates guest NAME$NET_ID with these vifs (xl
# syntax, script=$NET_SCRIPT added, default vif-test) and its namespace
# xs-NAME$NET_ID; prints the domid.
net_guest() {
    local name=$1$NET_ID
    shift
    local vifs="" v
    for v in "$@"; do
        vifs="$vifs${vifs:+, }'$v,script=${NET_SCRIPT:-$SIM_DIR/vif-test}'"
    done
    printf 'name="%s"\nmemory=256\nvif=[ %s ]\n' "$name" "$vifs" >"$SIM_DIR/$name.cfg"
    if ! ip netns list | grep -qw "xs-$name"; then
        ip netns add "xs-$name" || fail "cannot create network namespace xs-$name"
    fi
    ip -n "xs-$name" link set lo up
    "$XENSIM" --dir "$SIM_DIR" create "$SIM_DIR/$name.cfg"
}

# net_front NAME DOMID [ARGS...]: the guest's netfront in xs-NAME$NET_ID,
# waiting until its interface is up.
net_front() {
    net_front_start "$@"
    net_front_wait
}

# net_front_start NAME DOMID [ARGS...]: starts the netfront without waiting;
# its log is $NET_FRONT_LOG, its pid the last of NET_FRONTS.
net_front_start() {
    local name=$1$NET_ID domid=$2
    shift 2
    NET_FRONT_NAME=$name NET_FRONT_LOG="$SIM_DIR/front-$name-$NET_NFRONT.log"
    NET_NFRONT=$((NET_NFRONT + 1))
    XENSIM_DOMID=$domid XENSTORED_PATH="$SIM_DIR/dom$domid.sock" \
        "$PVBACK_BIN/pvback-netfront" --netns "xs-$name" "$@" >"$NET_FRONT_LOG" 2>&1 &
    NET_FRONTS+=($!)
}

# net_front_wait: until the last started netfront's interface is up.
net_front_wait() {
    local i log=$NET_FRONT_LOG
    for i in $(seq 1 200); do
        grep -qs '^connected' "$log" && return 0
        kill -0 "${NET_FRONTS[-1]}" 2>/dev/null || fail "netfront of $NET_FRONT_NAME: $(cat "$log")"
        sleep 0.05
    done
    fail "netfront of $NET_FRONT_NAME did not connect: $(cat "$log")"
}


# net_stop_fronts: every netfront closes its device (SIGTERM) and must exit 0.
net_stop_fronts() {
    local p rc
    for p in "${NET_FRONTS[@]}"; do
        kill -TERM "$p" 2>/dev/null || true
    done
    for p in "${NET_FRONTS[@]}"; do
        rc=0
        wait "$p" || rc=$?
        [ $rc -eq 0 ] || fail "a netfront exited with $rc (see front-*.log)"
    done
    NET_FRONTS=()
}

# in_guest NAME CMD...: runs CMD in the guest's namespace.
in_guest() {
    local name=$1$NET_ID
    shift
    ip netns exec "xs-$name" "$@"
}
