#!/usr/bin/env bash
# End to end: real fio with verify=crc32c in the simulated guest, through
# pvback-blk, on an iSCSI LUN (tgtd) and on an NFS image (nfs-ganesha); the
# bytes are checked in the server's backing file afterwards (fio verify_only
# on the host). Then the server is crashed and restarted in the middle of a
# verified job, which must finish without error. A device whose params name
# an unreachable target fails with a xenbus error node naming it.
source "$PVBACK_SRC/tests/sim/blk_helpers.bash"
source "$PVBACK_SRC/tests/sim/lib_servers.sh"

blk_start_sim
trap srv_blk_cleanup EXIT
srv_tgtd_start 48M
srv_nfs_start 48M

blk_start_backend

# run_fio DEVID NAME [fio options...]: a verified job in the guest on the disk.
run_fio() {
    local devid=$1 name=$2
    shift 2
    guest_fio "$dom" "$SIM_DIR/fio.log" --name="$name" --size=32M --verify=crc32c --do_verify=1 "$@" ||
        { cat "$SIM_DIR/fio.log" >&2; fail "fio $name"; }
    grep -q 'err= 0' "$SIM_DIR/fio.log" || { cat "$SIM_DIR/fio.log" >&2; fail "fio $name: errors"; }
    blk_wait_state "$dom" "$devid" 6
}

# host_verify BACKING NAME [fio options...]: the same job, verify only, on the
# server's backing file.
host_verify() {
    local backing=$1 name=$2
    shift 2
    fio --ioengine=psync --filename="$backing" --name="$name" --size=32M --verify=crc32c \
        --verify_only "$@" --iodepth=1 >"$SIM_DIR/fio-host.log" 2>&1 &&
        grep -q 'err= 0' "$SIM_DIR/fio-host.log" ||
        { cat "$SIM_DIR/fio-host.log" >&2; fail "fio $name: the backing file differs"; }
}

devid=51712
for kind in iscsi nfs; do
    dom=$(blk_guest "g-$kind") # one guest per disk: fio's xvda is its first disk
    if [ $kind = iscsi ]; then
        url=$SRV_TGT_URL backing=$SRV_DIR/lun.img
    else
        url=$SRV_NFS3_URL backing=$SRV_DIR/export/image.raw
    fi
    blk_add_disk "$dom" $devid "$url" w
    blk_wait_state "$dom" $devid 2
    job=(--rw=randwrite --bsrange=4k-1m --iodepth=16 --randseed=7)
    run_fio $devid "$kind-randwrite" "${job[@]}"
    host_verify "$backing" "$kind-randwrite" "${job[@]}"
    echo "ok: $kind: fio verify through pvback-blk, backing file checked"

    # Restart the server while a verified job runs (under valgrind too: there
    # a write to the dead target's socket once killed pvback-blk with SIGPIPE,
    # issue #6).
    job=(--rw=randwrite --bs=64k --iodepth=8 --randseed=9)
    loops=40 # long enough to be running still when the server is back (valgrind too)
    run_fio $devid "$kind-restart" "${job[@]}" --loops=$loops &
    fio_pid=$!
    blk_wait_state "$dom" $devid 4 # connected: the backend has opened the store
    sleep 1
    if [ $kind = iscsi ]; then srv_tgtd_restart 2; else srv_nfs_restart 2; fi
    kill -0 $fio_pid 2>/dev/null || fail "$kind: fio ended before the restart: the test proved nothing"
    wait $fio_pid || fail "$kind: fio failed across the server restart"
    kill -0 "$BLK_PID" || fail "$kind: pvback-blk died across the server restart"
    grep -qE "$kind://.*session lost" "$SIM_DIR/blk.log" ||
        { grep "$kind://" "$SIM_DIR/blk.log" >&2; fail "$kind: the backend never saw the session drop: the test proved nothing"; }
    host_verify "$backing" "$kind-restart" "${job[@]}"
    echo "ok: $kind: server restarted during a verified fio job, no error"
done

echo "== a device on an unreachable target"
dead=$(srv_free_port)
dom=$(blk_guest g-bad)
blk_add_disk "$dom" $devid "iscsi://127.0.0.1:$dead/$SRV_TGT_IQN/1" w
blk_wait_state "$dom" $devid 2
# The backend opens the storage when the frontend connects: that must fail.
if blk_front "$dom" info >"$SIM_DIR/bad.log" 2>&1; then
    fail "a guest connected to a disk on an unreachable target"
fi
msg=$(remote_error_node "$dom" $devid) || exit 1
grep -q "cannot reach 127.0.0.1 port $dead" <<<"$msg" || fail "error node '$msg' does not name the portal"
grep -q "cannot reach 127.0.0.1 port $dead" "$SIM_DIR/blk.log" || fail "the log does not name the portal"
echo "ok: error node: $msg"
blk_stop_backend
echo PASS
