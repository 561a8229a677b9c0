# block-pvback and vif-pvback, run the way libxl runs them (arguments,
# XENBUS_PATH and friends in the environment) against xensim's xenstore:
# what they check, what they write, and the errors libxl then reports
# (hotplug-status = error, hotplug-error = the reason, exit status 1).
# Runs in a private network namespace with its own /sys, for the bridge.
if [ -z "${PVBACK_IN_NETNS:-}" ]; then
    exec unshare --net --mount env PVBACK_IN_NETNS=1 bash "$0" "$@"
fi
source "$(dirname "$0")/lib.sh"
mount -t sysfs sysfs /sys

HOTPLUG="$PVBACK_SRC/xenstore-watch/hotplug"
finish() {
    local rc=$?
    set +e # a cleanup goes all the way, whatever fails in it
    rm -rf "$WORK"
    sim_cleanup "$rc"
}
sim_start
WORK=$(mktemp -d /tmp/pvback-hotplug.XXXXXX)
trap finish EXIT
RUN="$XENSIM_DIR/pvback"
mkdir -p "$RUN"
export PVBACK_HOTPLUG_WAIT=5 # half a second for "no backend"
B=backend

# A backend directory as libxl writes it: dev TYPE DOMID DEVID key=value...
dev() {
    local t=$1 d=$2 n=$3 kv
    shift 3
    xenstore-rm "$B/$t/$d/$n" 2>/dev/null || true
    xenstore-write "$B/$t/$d/$n/state" 2 "$B/$t/$d/$n/frontend-id" "$d"
    for kv in "$@"; do
        xenstore-write "$B/$t/$d/$n/${kv%%=*}" "${kv#*=}"
    done
}
# A live process standing in for pvback's backend of TYPE DOMID.
serve() {
    echo $$ >"$RUN/$1-$2.pid"
}

# run_block ACTION PATH: the script as libxl runs it (XENBUS_* set, stdin
# /dev/null); output in $out, status in $rc.
run_block() {
    rc=0
    out=$(env XENBUS_PATH="$2" XENBUS_TYPE="$(echo "$2" | cut -d/ -f2)" XENBUS_BASE_PATH=backend \
        script="$HOTPLUG/block-pvback" "$HOTPLUG/block-pvback" "$1" </dev/null 2>&1) || rc=$?
}
run_vif() {
    rc=0
    local d n
    d=$(echo "$2" | cut -d/ -f3)
    n=$(echo "$2" | cut -d/ -f4)
    out=$(env XENBUS_PATH="$2" XENBUS_TYPE=vif XENBUS_BASE_PATH=backend netdev= vif="vif$d.$n" \
        script="$HOTPLUG/vif-pvback" "$HOTPLUG/vif-pvback" "$1" "${3:-type_if=vif}" </dev/null 2>&1) || rc=$?
}
# expect_error PATH MESSAGE: the script failed as libxl expects.
expect_error() {
    [ "$rc" = 1 ] || fail "$1: exit status $rc, want 1 ($out)"
    expect_eq "$1 hotplug-status" "$(xenstore-read "$1/hotplug-status")" error
    expect_eq "$1 hotplug-error" "$(xenstore-read "$1/hotplug-error")" "$2"
}
expect_connected() {
    [ "$rc" = 0 ] || fail "$1: exit status $rc ($out)"
    expect_eq "$1 hotplug-status" "$(xenstore-read "$1/hotplug-status")" connected
}

truncate -s 8M "$WORK/a.img" "$WORK/b.img"

# --- block-pvback add: a good disk ----------------------------------------
dev vbd 5 51712 "params=$WORK/a.img" mode=w type=phy
serve vbd 5
run_block add $B/vbd/5/51712
expect_connected $B/vbd/5/51712
expect_eq "physical-device-path" "$(xenstore-read $B/vbd/5/51712/physical-device-path)" "$WORK/a.img"
expect_fail "no physical-device for a file" xenstore-read $B/vbd/5/51712/physical-device

# a block device gets physical-device major:minor in hex, as Xen's block writes it
dev vbd 5 51728 params=/dev/null mode=r
run_block add $B/vbd/5/51728
expect_error $B/vbd/5/51728 "/dev/null is neither a regular file nor a block device"
if loopdev=$(losetup -f --show "$WORK/b.img" 2>/dev/null); then
    dev vbd 5 51728 "params=$loopdev" mode=r
    run_block add $B/vbd/5/51728
    expect_connected $B/vbd/5/51728
    expect_eq "physical-device" "$(xenstore-read $B/vbd/5/51728/physical-device)" \
        "$(stat -L -c '%t:%T' "$loopdev")"
    losetup -d "$loopdev"
fi
xenstore-rm $B/vbd/5/51728

# --- the target's checks -----------------------------------------------------
dev vbd 5 51744 "params=$WORK/missing.img" mode=w
run_block add $B/vbd/5/51744
expect_error $B/vbd/5/51744 "$WORK/missing.img does not exist"
dev vbd 5 51744 "params=$WORK" mode=r
run_block add $B/vbd/5/51744
expect_error $B/vbd/5/51744 "$WORK is neither a regular file nor a block device"
dev vbd 5 51744 "params=qcow2:$WORK/a.img" mode=r
run_block add $B/vbd/5/51744
expect_error $B/vbd/5/51744 "format 'qcow2' is not supported by pvback-blk (raw images only)"
dev vbd 5 51744 "params=$WORK/b.img" mode=x
run_block add $B/vbd/5/51744
expect_error $B/vbd/5/51744 "mode 'x': expected r or w"
xenstore-rm $B/vbd/5/51744

# --- sharing, as Xen's block checks it ---------------------------------------
# a.img is rw in domain 5: domain 6 may not have it at all
dev vbd 6 51712 "params=$WORK/a.img" mode=r
serve vbd 6
run_block add $B/vbd/6/51712
expect_error $B/vbd/6/51712 "$WORK/a.img is already in use read-write by domain 5"
# ... also not through another path to the same file
ln -s "$WORK/a.img" "$WORK/a-link.img"
dev vbd 6 51712 "params=$WORK/a-link.img" mode=w
run_block add $B/vbd/6/51712
expect_error $B/vbd/6/51712 "$WORK/a.img is already in use read-write by domain 5"
# ... nor as a vbd3 (backendtype=tap: "aio:" prefix)
serve vbd3 6
dev vbd3 6 51712 "params=aio:$WORK/a.img" mode=r
run_block add $B/vbd3/6/51712
expect_error $B/vbd3/6/51712 "$WORK/a.img is already in use read-write by domain 5"
xenstore-rm $B/vbd3/6
# read-only in two guests is fine; rw next to an ro user is not
dev vbd 5 51760 "params=$WORK/b.img" mode=r
run_block add $B/vbd/5/51760
expect_connected $B/vbd/5/51760
dev vbd 6 51712 "params=$WORK/b.img" mode=r
run_block add $B/vbd/6/51712
expect_connected $B/vbd/6/51712
dev vbd 7 51712 "params=$WORK/b.img" mode=w
serve vbd 7
run_block add $B/vbd/7/51712
expect_error $B/vbd/7/51712 "$WORK/b.img is in use by domain 5; it cannot be given read-write to domain 7"
# a guest migrating in (same vm path as its source) may share its disk
xenstore-write /local/domain/5/vm /vm/0000-aaaa /local/domain/7/vm /vm/0000-aaaa \
    /local/domain/6/vm /vm/0000-bbbb
xenstore-rm $B/vbd/6/51712
run_block add $B/vbd/7/51712
expect_connected $B/vbd/7/51712
xenstore-rm $B/vbd/7

# --- no pvback backend for the device ----------------------------------------
rm "$RUN/vbd-6.pid"
dev vbd 6 51712 "params=$WORK/b.img" mode=r
run_block add $B/vbd/6/51712
expect_error $B/vbd/6/51712 \
    "no pvback backend serves domain 6's vbd devices (is pvback-watch running? is the kernel's xen-blkback loaded?)"
# a stale pid file does not count; a backend's status socket does
sh -c 'exit 0' &
stale=$!
wait $stale
echo $stale >"$RUN/vbd-6.pid"
run_block add $B/vbd/6/51712
[ "$rc" = 1 ] || fail "a stale pid file counted as a backend"
rm "$RUN/vbd-6.pid"
python3 -c "import socket,sys; s=socket.socket(socket.AF_UNIX); s.bind(sys.argv[1])" "$RUN/vbd-all.sock"
run_block add $B/vbd/6/51712
expect_connected $B/vbd/6/51712
rm "$RUN/vbd-all.sock"

# --- an empty CD-ROM and remote targets need no local checks -------------------
dev vbd 5 5632 params= mode=r device-type=cdrom
run_block add $B/vbd/5/5632
expect_connected $B/vbd/5/5632
dev vbd 5 51776 "params=iscsi://192.0.2.1/iqn.2024-01.x:y/0" mode=w
run_block add $B/vbd/5/51776
expect_connected $B/vbd/5/51776

# --- remove, and what libxl never does -------------------------------------
run_block remove $B/vbd/5/51712
[ "$rc" = 0 ] || fail "remove: $out"
run_block frobnicate $B/vbd/5/51712
[ "$rc" = 1 ] && [[ $out == *"usage: block-pvback add|remove"* ]] || fail "bad action: $rc $out"
rc=0
out=$(env -u XENBUS_PATH "$HOTPLUG/block-pvback" add 2>&1) || rc=$?
[ "$rc" = 1 ] && [[ $out == *"XENBUS_PATH is not set"* ]] || fail "no XENBUS_PATH: $rc $out"
run_block add "backend/vbd/5"
[ "$rc" = 1 ] && [[ $out == *"expected backend/<type>/<domid>/<devid>"* ]] || fail "short path: $out"
run_block add "backend/vbd/x/51712"
[ "$rc" = 1 ] && [[ $out == *"domid and devid must be numbers"* ]] || fail "bad domid: $out"
dev vif 5 0 bridge=xenbr0
run_block add $B/vif/5/0
expect_error $B/vif/5/0 "block-pvback serves vbd vbd3 devices, not vif"

# --- vif-pvback ----------------------------------------------------------------
ip link add xenbr0 type bridge
ip tuntap add notbr0 mode tap
serve vif 5
dev vif 5 0 bridge=xenbr0 mac=00:16:3e:00:00:05
run_vif online $B/vif/5/0
expect_connected $B/vif/5/0
# vif-openvswitch's VLAN form names the bridge before the dot
dev vif 5 1 bridge=xenbr0.10:20:30
run_vif online $B/vif/5/1
expect_connected $B/vif/5/1
dev vif 5 2 bridge=xenbr9
run_vif online $B/vif/5/2
expect_error $B/vif/5/2 "bridge 'xenbr9' does not exist"
dev vif 5 2 bridge=notbr0
run_vif online $B/vif/5/2
expect_error $B/vif/5/2 "'notbr0' is not a bridge"
dev vif 6 0 bridge=xenbr0
run_vif online $B/vif/6/0
expect_error $B/vif/6/0 \
    "no pvback backend serves domain 6's vif devices (is pvback-watch running? is the kernel's xen-netback loaded?)"
run_vif offline $B/vif/5/0
[ "$rc" = 0 ] || fail "offline: $out"
# an HVM guest's emulated NIC: QEMU's tap goes on the bridge
ip tuntap add vif5.0-emu mode tap
rc=0
out=$(env XENBUS_PATH=$B/vif/5/0 XENBUS_TYPE=vif XENBUS_BASE_PATH=backend vif=vif5.0-emu \
    "$HOTPLUG/vif-pvback" online type_if=tap </dev/null 2>&1) || rc=$?
expect_connected $B/vif/5/0
ip -o link show vif5.0-emu | grep -q "master xenbr0" || fail "emulated NIC not on the bridge"
run_vif online-ish $B/vif/5/0
[ "$rc" = 1 ] && [[ $out == *"usage: vif-pvback online|offline"* ]] || fail "bad vif action: $out"
echo PASS
