# Helpers for the blkback sim tests (tests/sim/blk_*.sh): a private xensim,
# guests with disks written as libxl writes them, pvback-blk serving them,
# and the simulated guest's disk workload (pvback-blkfront) run as a guest.
# With PVBACK_VALGRIND=1, pvback-blk runs under valgrind and any memory error
# or leak fails the test when it stops.
source "$PVBACK_SRC/tests/sim/lib.sh"

BLK_PID=    # the latest pvback-blk started (blk_stop_backend stops it)
BLK_ALL=()  # every pvback-blk started, stopped by blk_cleanup if still running
blk_cleanup() { # [RC], as sim_cleanup
    local rc=${1:-$?} pid
    set +e # a cleanup goes all the way, whatever fails in it
    for pid in "${BLK_ALL[@]}"; do
        if kill -0 "$pid" 2>/dev/null; then
            kill -TERM "$pid" 2>/dev/null
            wait "$pid" 2>/dev/null
        fi
    done
    if [ $rc -ne 0 ] && [ -f "$SIM_DIR/blk.log" ]; then
        echo "--- pvback-blk log" >&2
        tail -n 40 "$SIM_DIR/blk.log" >&2
    fi
    sim_cleanup "$rc"
}

blk_start_sim() {
    sim_start
    trap blk_cleanup EXIT
}

# blk_guest NAME: creates a bare guest, prints its domid.
blk_guest() {
    printf 'name="%s"\nmemory=512\n' "$1" >"$SIM_DIR/$1.cfg"
    "$XENSIM" --dir "$SIM_DIR" create "$SIM_DIR/$1.cfg"
}

# blk_add_disk DOMID DEVID IMAGE MODE(w|r): the keys libxl writes for a disk
# (backend and frontend directories, with libxl's permissions).
blk_add_disk() {
    local domid=$1 devid=$2 img=$3 mode=$4
    local be=/local/domain/0/backend/vbd/$domid/$devid fe=/local/domain/$domid/device/vbd/$devid
    xenstore-write "$be/frontend" "$fe" "$be/frontend-id" "$domid" "$be/online" 1 \
        "$be/params" "$img" "$be/mode" "$mode" "$be/device-type" disk \
        "$be/discard-enable" 1 "$be/state" 1 || fail "writing $be"
    xenstore-chmod -r "$be" n0 "r$domid" || fail "chmod $be"
    xenstore-write "$fe/backend" "$be" "$fe/backend-id" 0 "$fe/state" 1 \
        "$fe/virtual-device" "$devid" "$fe/device-type" disk || fail "writing $fe"
    xenstore-chmod -r "$fe" "n$domid" r0 || fail "chmod $fe"
}

# blk_start_backend [ARGS...]: pvback-blk in the background, logging to
# $SIM_DIR/blk.log.
blk_start_backend() {
    local cmd=("$PVBACK_BIN/pvback-blk" "$@")
    if [ "${PVBACK_VALGRIND:-0}" = 1 ]; then
        cmd=(valgrind --quiet --error-exitcode=97 --leak-check=full
            --show-leak-kinds=definite,indirect --errors-for-leak-kinds=definite,indirect
            "${cmd[@]}")
    fi
    BLK_SERVED=$(backend_served "$SIM_DIR/blk.log")
    PVBACK_LOG=${PVBACK_LOG:-info} "${cmd[@]}" >>"$SIM_DIR/blk.log" 2>&1 &
    BLK_PID=$!
    BLK_ALL+=("$BLK_PID")
}

# blk_stop_backend: SIGTERM once it is up, and its exit status must be 0
# (valgrind: clean).
blk_stop_backend() {
    wait_backend_up "$BLK_PID" "$SIM_DIR/blk.log" "${BLK_SERVED:-0}"
    kill -TERM "$BLK_PID"
    local rc=0
    wait "$BLK_PID" || rc=$?
    BLK_PID=
    [ $rc -eq 0 ] || fail "pvback-blk exited with $rc (see blk.log)"
}

# blk_front DOMID ARGS...: pvback-blkfront acting as guest DOMID.
blk_front() {
    local domid=$1
    shift
    XENSIM_DOMID=$domid XENSTORED_PATH="$SIM_DIR/dom$domid.sock" \
        timeout 300 "$PVBACK_BIN/pvback-blkfront" "$@"
}

# blk_be_key DOMID DEVID KEY
blk_be_key() {
    xenstore-read "/local/domain/0/backend/vbd/$1/$2/$3"
}

# blk_wait_state DOMID DEVID STATE: waits for the backend state, up to
# BLK_WAIT_S seconds (default 30: a sanitizer build's fio, which opens the
# frontend, can take 10 s to start on a loaded 2-core host).
blk_wait_state() {
    local deadline=$((SECONDS + ${BLK_WAIT_S:-30}))
    while [ $SECONDS -lt $deadline ]; do
        [ "$(blk_be_key "$1" "$2" state 2>/dev/null)" = "$3" ] && return 0
        sleep 0.02
    done
    fail "backend vbd/$1/$2 not in state $3 (is $(blk_be_key "$1" "$2" state 2>/dev/null))"
}
