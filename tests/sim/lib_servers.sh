# Storage servers for the remote storage tests, on loopback only: tgtd (an
# iSCSI target with a file-backed LUN) and nfs-ganesha with rpcbind (an NFS
# export of a temporary folder through the VFS FSAL), and the storage checker
# (pvback-remote-check). Source it after lib.sh; srv_cleanup stops whatever
# was started (call it from the test's EXIT trap).
#
# What it takes to run them here, without systemd:
# - tgtd keeps its control socket in /var/run/tgtd/socket.<control port>:
#   the folder must exist, and a private control port (-C) per test lets
#   several tests run at once. Its configuration is not persistent: every
#   start re-creates the target and LUN with tgtadm. It ignores SIGTERM while
#   it has targets; a clean stop is "offline, delete targets, delete system".
# - ganesha needs rpcbind for NFSv3 (MOUNT and NFS register there), a
#   recovery folder for NFSv4 client records (RecoveryRoot, here private),
#   no grace period (Graceless) so that a restarted server serves at once,
#   and it binds the fixed NFS port 2049: NFS tests take a host-wide lock.
#   It logs DBus errors without a system bus; they are harmless.
# Sanitizer builds: a known leak inside libiscsi's reconnect (see the file).
export LSAN_OPTIONS="suppressions=$PVBACK_SRC/tests/sim/remote_lsan.supp${LSAN_OPTIONS:+:$LSAN_OPTIONS}"
# valgrind: libiscsi's connect task of an abandoned attempt (see the file).
export VALGRIND_OPTS="--suppressions=$PVBACK_SRC/tests/sim/remote_valgrind.supp${VALGRIND_OPTS:+ $VALGRIND_OPTS}"

SRV_DIR=
SRV_TGT_PORT=
SRV_TGT_CTL=
SRV_TGT_PID=
SRV_TGT_IQN=
SRV_NFS_PID=
SRV_RPCBIND_PID=
SRV_LOCK=

srv_dir() {
    [ -n "$SRV_DIR" ] || SRV_DIR=$(mktemp -d /tmp/pvback-srv.XXXXXX)
}


# A free TCP port on 127.0.0.1 (the kernel picks it).
srv_free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

srv_tgtadm() {
    tgtadm -C "$SRV_TGT_CTL" --lld iscsi "$@"
}

# srv_tgtd_start SIZE [USER PASSWORD]: tgtd on a free loopback port with
# target $SRV_TGT_IQN, LUN 1 backed by $SRV_DIR/lun.img (created at SIZE if
# absent, thin-provisioned so that UNMAP is offered), and CHAP when given.
# Exports SRV_TGT_URL (the LUN's iscsi:// URL, without credentials).
SRV_TGT_SIZE=
SRV_TGT_USER=
SRV_TGT_PASS=
srv_tgtd_start() {
    srv_dir
    SRV_TGT_SIZE=$1 SRV_TGT_USER=${2:-} SRV_TGT_PASS=${3:-}
    [ -n "$SRV_TGT_PORT" ] || SRV_TGT_PORT=$(srv_free_port)
    [ -n "$SRV_TGT_CTL" ] || SRV_TGT_CTL=$((20000 + $$ % 10000))
    SRV_TGT_IQN=iqn.2024-11.org.pvback:test-$$
    [ -f "$SRV_DIR/lun.img" ] || truncate -s "$SRV_TGT_SIZE" "$SRV_DIR/lun.img"
    mkdir -p /var/run/tgtd
    tgtd -f -C "$SRV_TGT_CTL" --iscsi portal=127.0.0.1:"$SRV_TGT_PORT" \
        >>"$SRV_DIR/tgtd.log" 2>&1 &
    SRV_TGT_PID=$!
    wait_for 10 "tgtd" srv_tgtadm --op show --mode target
    srv_tgtadm --op new --mode target --tid 1 -T "$SRV_TGT_IQN"
    srv_tgtadm --op new --mode logicalunit --tid 1 --lun 1 -b "$SRV_DIR/lun.img" --bstype rdwr
    srv_tgtadm --op update --mode logicalunit --tid 1 --lun 1 --params thin_provisioning=1
    if [ -n "$SRV_TGT_USER" ]; then
        srv_tgtadm --op new --mode account --user "$SRV_TGT_USER" --password "$SRV_TGT_PASS"
        srv_tgtadm --op bind --mode account --tid 1 --user "$SRV_TGT_USER"
    fi
    srv_tgtadm --op bind --mode target --tid 1 -I ALL
    SRV_TGT_URL=iscsi://127.0.0.1:$SRV_TGT_PORT/$SRV_TGT_IQN/1
    export SRV_TGT_URL
}

# srv_tgtd_kill: the target dies at once, as in a crash (SIGKILL).
srv_tgtd_kill() {
    [ -n "$SRV_TGT_PID" ] || return 0
    kill -KILL "$SRV_TGT_PID" 2>/dev/null || true
    wait "$SRV_TGT_PID" 2>/dev/null || true
    SRV_TGT_PID=
}

srv_tgtd_stop() {
    [ -n "$SRV_TGT_PID" ] || return 0
    srv_tgtadm --op update --mode sys --name State -v offline >/dev/null 2>&1 || true
    srv_tgtadm --op delete --mode target --tid 1 --force >/dev/null 2>&1 || true
    tgtadm -C "$SRV_TGT_CTL" --op delete --mode system >/dev/null 2>&1 || true
    proc_gone "$SRV_TGT_PID" || srv_tgtd_kill
    wait "$SRV_TGT_PID" 2>/dev/null || true
    SRV_TGT_PID=
}

# srv_tgtd_restart DOWN_SECONDS: crash, stay away, come back with the same
# target, LUN and port.
srv_tgtd_restart() {
    srv_tgtd_kill
    sleep "$1"
    srv_tgtd_start "$SRV_TGT_SIZE" "$SRV_TGT_USER" "$SRV_TGT_PASS"
}

# A host-wide lock for port 2049: a folder holding the owner's pid (a lock
# fd would be inherited by every daemon the test starts, and outlive it).
SRV_LOCK_DIR=/run/lock/pvback-test-nfs
srv_nfs_lock() {
    [ -z "$SRV_LOCK" ] || return 0
    local i owner
    for i in $(seq 9000); do
        if mkdir "$SRV_LOCK_DIR" 2>/dev/null; then
            echo $$ >"$SRV_LOCK_DIR/pid"
            SRV_LOCK=1
            return 0
        fi
        owner=$(cat "$SRV_LOCK_DIR/pid" 2>/dev/null || true)
        if [ -n "$owner" ] && ! kill -0 "$owner" 2>/dev/null; then
            rm -rf "$SRV_LOCK_DIR" # its owner died without cleaning up
            continue
        fi
        sleep 0.1
    done
    fail "another NFS test holds port 2049 for more than 900 s"
}

srv_nfs_ready() {
    rpcinfo -T tcp 127.0.0.1 nfs 3 && rpcinfo -T tcp 127.0.0.1 mountd 3
}

# srv_nfs_start SIZE: rpcbind (unless one runs), and ganesha exporting
# $SRV_DIR/export (path /export-<pid> for NFSv3 is the folder itself; the
# NFSv4 pseudo path is /pvback-<pid>) with image.raw of SIZE in it.
# Exports SRV_NFS3_URL and SRV_NFS4_URL.
SRV_NFS_SIZE=
srv_nfs_start() {
    srv_dir
    SRV_NFS_SIZE=$1
    srv_nfs_lock
    mkdir -p "$SRV_DIR/export" "$SRV_DIR/recovery"
    [ -f "$SRV_DIR/export/image.raw" ] || truncate -s "$SRV_NFS_SIZE" "$SRV_DIR/export/image.raw"
    if ! rpcinfo -p 127.0.0.1 >/dev/null 2>&1; then
        rpcbind -w -f >>"$SRV_DIR/rpcbind.log" 2>&1 &
        SRV_RPCBIND_PID=$!
        wait_for 5 rpcbind rpcinfo -p 127.0.0.1
    fi
    cat >"$SRV_DIR/ganesha.conf" <<EOF
NFS_CORE_PARAM {
    Bind_addr = 127.0.0.1;
    NFS_Port = 2049;
    Protocols = 3, 4;
    Enable_NLM = false;
    Enable_RQUOTA = false;
    Enable_UDP = false;
}
NFSV4 {
    Graceless = true;
    RecoveryBackend = fs;
    RecoveryRoot = $SRV_DIR/recovery;
}
NFS_KRB5 { Active_krb5 = false; }
EXPORT {
    Export_Id = 77;
    Path = $SRV_DIR/export;
    Pseudo = /pvback-$$;
    Access_Type = RW;
    Squash = No_Root_Squash;
    Protocols = 3, 4;
    Transports = TCP;
    SecType = sys;
    FSAL { Name = VFS; }
}
EOF
    ganesha.nfsd -F -f "$SRV_DIR/ganesha.conf" -L "$SRV_DIR/ganesha.log" \
        -p "$SRV_DIR/ganesha.pid" -N NIV_EVENT >>"$SRV_DIR/ganesha.out" 2>&1 &
    SRV_NFS_PID=$!
    wait_for 30 ganesha srv_nfs_ready
    SRV_NFS3_URL=nfs://127.0.0.1$SRV_DIR/export/image.raw
    SRV_NFS4_URL="nfs://127.0.0.1/pvback-$$/image.raw?version=4"
    export SRV_NFS3_URL SRV_NFS4_URL
}

# srv_nfs_kill: ganesha dies at once, as in a crash (SIGKILL); its rpcbind
# registrations stay until the restarted one replaces them.
srv_nfs_kill() {
    [ -n "$SRV_NFS_PID" ] || return 0
    kill -KILL "$SRV_NFS_PID" 2>/dev/null || true
    wait "$SRV_NFS_PID" 2>/dev/null || true
    SRV_NFS_PID=
}

srv_nfs_stop() {
    [ -n "$SRV_NFS_PID" ] || return 0
    kill -TERM "$SRV_NFS_PID" 2>/dev/null || true
    proc_gone "$SRV_NFS_PID" || srv_nfs_kill
    wait "$SRV_NFS_PID" 2>/dev/null || true
    SRV_NFS_PID=
}

srv_nfs_restart() {
    srv_nfs_kill
    sleep "$1"
    srv_nfs_start "$SRV_NFS_SIZE"
}

srv_cleanup() {
    srv_tgtd_stop
    srv_nfs_stop
    if [ -n "$SRV_RPCBIND_PID" ]; then
        kill -TERM "$SRV_RPCBIND_PID" 2>/dev/null || true
        wait "$SRV_RPCBIND_PID" 2>/dev/null || true
        SRV_RPCBIND_PID=
    fi
    [ -z "$SRV_TGT_CTL" ] || rm -f /var/run/tgtd/socket."$SRV_TGT_CTL"{,.lock}
    if [ -n "$SRV_LOCK" ]; then
        rm -rf "$SRV_LOCK_DIR"
        SRV_LOCK=
    fi
    if [ -n "$SRV_DIR" ]; then
        rm -rf "$SRV_DIR"
        SRV_DIR=
    fi
}

# srv_blk_cleanup: the EXIT trap of a script that runs servers and pvback-blk
# on xensim (blk_helpers.bash): servers first, then the simulation, handing
# the script's exit status on.
srv_blk_cleanup() {
    local rc=$?
    set +e # a cleanup goes all the way, whatever fails in it
    srv_cleanup
    blk_cleanup "$rc"
}

# remote_check ARGS...: pvback-remote-check (tests/sim/remote_check.c), under
# valgrind when PVBACK_VALGRIND=1 (any memory error or leak: exit 97).
remote_check() {
    if [ "${PVBACK_VALGRIND:-0}" = 1 ]; then
        valgrind --quiet --error-exitcode=97 --leak-check=full \
            --show-leak-kinds=definite,indirect --errors-for-leak-kinds=definite,indirect \
            "$PVBACK_BIN/pvback-remote-check" "$@"
    else
        "$PVBACK_BIN/pvback-remote-check" "$@"
    fi
}

# expect_open_error URL WORDS...: opening URL fails with a message holding
# every one of WORDS.
expect_open_error() {
    local url=$1 out w
    shift
    out=$(remote_check open "$url" 2>&1) || fail "open $url: $out"
    for w in "$@"; do
        grep -qF -- "$w" <<<"$out" || fail "open $url: message lacks '$w': $out"
    done
    echo "ok: $(head -n 1 <<<"$out")"
}

# remote_error_node DOMID DEVID: waits up to 10 s for the xenbus error node
# of backend vbd/DOMID/DEVID and prints it (fails when none comes).
remote_error_node() {
    local node=/local/domain/0/error/backend/vbd/$1/$2/error msg= i
    for i in $(seq 100); do
        msg=$(xenstore-read "$node" 2>/dev/null) && break
        sleep 0.1
    done
    [ -n "$msg" ] || fail "no xenbus error node for vbd/$1/$2"
    echo "$msg"
}

# soak_started: waits until the soak in the background (logging to
# $SRV_DIR/soak.log) has opened its store, so that what follows hits I/O.
soak_started() {
    wait_for 60 "the soak's open" grep -q " bytes" "$SRV_DIR/soak.log"
}

# guest_fio DOMID LOG [fio options...]: real fio in guest DOMID on its first
# disk (xvda) through the pvback-blkfront fio engine, output in LOG; fio's
# exit status (300 s at most). A sanitizer build's engine gets the sanitizer
# runtimes preloaded into the (uninstrumented) fio, as in blk_fio.sh.
guest_fio() {
    local domid=$1 log=$2 engine=$PVBACK_BIN/pvback-blkfront-fio.so preload=()
    shift 2
    [ -f "$engine" ] || fail "fio engine not built: run scripts/fetch-fio-src, then reconfigure"
    command -v fio >/dev/null || fail "fio is not installed"
    if ldd "$engine" | grep libasan >/dev/null; then # not -q: ldd would die of SIGPIPE
        preload=(env "LD_PRELOAD=$(gcc -print-file-name=libasan.so) $(gcc -print-file-name=libubsan.so)"
            ASAN_OPTIONS=detect_leaks=0)
    fi
    XENSIM_DOMID=$domid XENSTORED_PATH="$SIM_DIR/dom$domid.sock" timeout 300 "${preload[@]}" \
        fio --ioengine=external:"$engine" --filename=xvda "$@" >"$log" 2>&1
}

# remote_iscsi_and_file TIMEOUT_S: xensim, tgtd with a 48 MiB LUN, and one
# pvback-blk (reconnect timeout TIMEOUT_S) serving two guests' disks at
# $devid (51712): $dom's on the iSCSI target, $other's on a local image;
# both in InitWait. Needs blk_helpers.bash; sets the cleanup trap.
remote_iscsi_and_file() {
    blk_start_sim
    trap srv_blk_cleanup EXIT
    srv_tgtd_start 48M
    export PVBACK_REMOTE_TIMEOUT=$1
    blk_start_backend
    devid=51712
    dom=$(blk_guest g-iscsi)
    blk_add_disk "$dom" $devid "$SRV_TGT_URL" w
    blk_wait_state "$dom" $devid 2
    other=$(blk_guest g-file)
    truncate -s 32M "$SIM_DIR/other.img"
    blk_add_disk "$other" $devid "$SIM_DIR/other.img" w
    blk_wait_state "$other" $devid 2
}
