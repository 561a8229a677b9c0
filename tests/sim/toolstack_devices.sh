# xensim's toolstack against what libxl does: `xensim create` of a guest with
# disks and vifs writes libxl's keys with libxl's permissions, waits for the
# backend's InitWait, runs the hotplug scripts with libxl's arguments and
# environment, and `destroy` closes the devices, runs the scripts' remove /
# offline and leaves no node behind. With no backend, create fails after
# libxl's 10 s; a failing hotplug script fails create with libxl's message.
# The backend is a fake: a shell loop moving new devices to InitWait (2) and
# closing ones to Closed (6).
source "$(dirname "$0")/lib.sh"

FAKE_BACKEND=
finish() {
    local rc=$?
    set +e # a cleanup goes all the way, whatever fails in it
    if [ -n "$FAKE_BACKEND" ]; then
        kill "$FAKE_BACKEND" 2>/dev/null || true
        wait "$FAKE_BACKEND" 2>/dev/null || true
    fi
    rm -rf "$WORK"
    sim_cleanup "$rc"
}
sim_start
WORK=$(mktemp -d /tmp/pvback-ts.XXXXXX)
trap finish EXIT

# Under PVBACK_VALGRIND=1 the CLI, where the toolstack runs, runs under valgrind.
cli() {
    if [ "${PVBACK_VALGRIND:-0}" = 1 ]; then
        valgrind -q --error-exitcode=97 --leak-check=full --show-leak-kinds=definite,indirect \
            --errors-for-leak-kinds=definite,indirect "$XENSIM" "$@"
    else
        "$XENSIM" "$@"
    fi
}

start_fake_backend() {
    (
        while :; do
            for k in vbd vbd3 vif; do
                for d in $(xenstore-list "backend/$k" 2>/dev/null); do
                    for n in $(xenstore-list "backend/$k/$d" 2>/dev/null); do
                        s=$(xenstore-read "backend/$k/$d/$n/state" 2>/dev/null) || continue
                        case $s in
                        1) xenstore-write "backend/$k/$d/$n/state" 2 || true ;;
                        5) xenstore-write "backend/$k/$d/$n/state" 6 || true ;;
                        esac
                    done
                done
            done
            sleep 0.05
        done
    ) &
    FAKE_BACKEND=$!
}

stop_fake_backend() {
    kill "$FAKE_BACKEND"
    wait "$FAKE_BACKEND" 2>/dev/null || true
    FAKE_BACKEND=
}

# A hotplug script that records how it was called and reports as Xen's do.
cat >"$WORK/hotplug" <<'SCRIPT'
#!/bin/sh
{
    echo "ARGS $*"
    env | grep -E '^(script|XENBUS_TYPE|XENBUS_PATH|XENBUS_BASE_PATH|netdev|vif)=' | sort
    read -r line && echo "STDIN had data: $line"
} >>"${0%/*}/calls"
case "$1" in
add | online) xenstore-write "$XENBUS_PATH/hotplug-status" connected ;;
esac
SCRIPT
# One that fails the way Xen's scripts fail (fatal: hotplug-error, status error, exit 1).
cat >"$WORK/hotplug-fail" <<'SCRIPT'
#!/bin/sh
xenstore-write "$XENBUS_PATH/hotplug-error" "target is not there" \
    "$XENBUS_PATH/hotplug-status" error
exit 1
SCRIPT
chmod +x "$WORK/hotplug" "$WORK/hotplug-fail"
truncate -s 16M "$WORK/disk.img"

# xenstore-ls -p of a dir, one 'key = "value" (perms)' line per node.
tree() {
    xenstore-ls -p "$1" | sed -E 's/^( *[^ ]+ = ".*")[ .]*\((.*)\)$/\1 (\2)/'
}

cat >"$WORK/guest.cfg" <<CFG
name = "ts-guest"
memory = 64
disk = [ 'vdev=xvda,access=rw,script=$WORK/hotplug,target=$WORK/disk.img',
         'vdev=xvdb,backendtype=tap,script=$WORK/hotplug,target=$WORK/disk.img' ]
vif = [ 'mac=00:16:3e:01:02:03,bridge=xenbr0,script=$WORK/hotplug',
        'bridge=br1,mtu=9000,script=$WORK/hotplug' ]
CFG

start_fake_backend
domid=$(cli create "$WORK/guest.cfg") || fail "create with a fake backend"
B=/local/domain/0/backend
d=$domid

expect_eq "vbd backend dir" "$(tree $B/vbd/$d/51712)" "frontend = \"/local/domain/$d/device/vbd/51712\" (n0,r$d)
params = \"$WORK/disk.img\" (n0,r$d)
script = \"$WORK/hotplug\" (n0,r$d)
frontend-id = \"$d\" (n0,r$d)
online = \"1\" (n0,r$d)
removable = \"0\" (n0,r$d)
bootable = \"1\" (n0,r$d)
state = \"2\" (n0,r$d)
dev = \"xvda\" (n0,r$d)
type = \"phy\" (n0,r$d)
mode = \"w\" (n0,r$d)
device-type = \"disk\" (n0,r$d)
discard-enable = \"1\" (n0,r$d)
specification = \"xen\" (n0,r$d)
hotplug-status = \"connected\" (n0,r$d)"

expect_eq "vbd frontend dir" "$(tree /local/domain/$d/device/vbd/51712)" "backend = \"$B/vbd/$d/51712\" (n$d,r0)
backend-id = \"0\" (n$d,r0)
state = \"1\" (n$d,r0)
virtual-device = \"51712\" (n$d,r0)
device-type = \"disk\" (n$d,r0)
trusted = \"1\" (n$d,r0)
protocol = \"x86_64-abi\" (n$d,r0)"

# backendtype=tap: a vbd3 backend dir, format-prefixed params
expect_eq "vbd3 params" "$(xenstore-read $B/vbd3/$d/51728/params)" "aio:$WORK/disk.img"
expect_eq "vbd3 type" "$(xenstore-read $B/vbd3/$d/51728/type)" "vbd3"
expect_eq "vbd3 frontend" "$(xenstore-read /local/domain/$d/device/vbd/51728/backend)" \
    "$B/vbd3/$d/51728"

expect_eq "vif backend dir" "$(tree $B/vif/$d/0)" "frontend = \"/local/domain/$d/device/vif/0\" (n0,r$d)
frontend-id = \"$d\" (n0,r$d)
online = \"1\" (n0,r$d)
state = \"2\" (n0,r$d)
script = \"$WORK/hotplug\" (n0,r$d)
mac = \"00:16:3e:01:02:03\" (n0,r$d)
bridge = \"xenbr0\" (n0,r$d)
handle = \"0\" (n0,r$d)
type = \"vif\" (n0,r$d)
hotplug-status = \"connected\" (n0,r$d)"

expect_eq "vif frontend dir" "$(tree /local/domain/$d/device/vif/0)" "backend = \"$B/vif/$d/0\" (n$d,r0)
backend-id = \"0\" (n$d,r0)
state = \"1\" (n$d,r0)
handle = \"0\" (n$d,r0)
mac = \"00:16:3e:01:02:03\" (n$d,r0)
trusted = \"1\" (n$d,r0)
mtu = \"1500\" (n0,r$d)"

# the second vif: handle 1, a generated MAC in Xen's OUI, the MTU
mac=$(xenstore-read $B/vif/$d/1/mac)
[[ $mac =~ ^00:16:3e:[0-7][0-9a-f]:[0-9a-f]{2}:[0-9a-f]{2}$ ]] || fail "generated mac '$mac'"
expect_eq "vif 1 frontend mac" "$(xenstore-read /local/domain/$d/device/vif/1/mac)" "$mac"
expect_eq "vif 1 mtu" "$(xenstore-read $B/vif/$d/1/mtu)" "9000"
expect_eq "vif 1 bridge" "$(xenstore-read $B/vif/$d/1/bridge)" "br1"

# libxl's own copy and the domain's keys
expect_eq "/libxl backend" "$(xenstore-read /libxl/$d/device/vbd/51712/backend)" \
    "$B/vbd/$d/51712"
expect_eq "/libxl params" "$(xenstore-read /libxl/$d/device/vbd/51712/params)" "$WORK/disk.img"
expect_eq "name" "$(xenstore-read /local/domain/$d/name)" "ts-guest"
expect_eq "domid" "$(xenstore-read /local/domain/$d/domid)" "$d"
vm=$(xenstore-read /local/domain/$d/vm)
expect_eq "vm name" "$(xenstore-read "$vm/name")" "ts-guest"
expect_eq "control/shutdown perms" "$(tree /local/domain/$d/control | grep '^shutdown')" \
    "shutdown = \"\" (n$d)"

# the scripts, in order, with libxl's arguments and environment (and an
# empty stdin: the script above notes any data it reads)
expect_eq "hotplug calls at create" "$(cat "$WORK/calls")" "ARGS add
XENBUS_BASE_PATH=backend
XENBUS_PATH=backend/vbd/$d/51712
XENBUS_TYPE=vbd
script=$WORK/hotplug
ARGS add
XENBUS_BASE_PATH=backend
XENBUS_PATH=backend/vbd3/$d/51728
XENBUS_TYPE=vbd3
script=$WORK/hotplug
ARGS online type_if=vif
XENBUS_BASE_PATH=backend
XENBUS_PATH=backend/vif/$d/0
XENBUS_TYPE=vif
netdev=
script=$WORK/hotplug
vif=vif$d.0
ARGS online type_if=vif
XENBUS_BASE_PATH=backend
XENBUS_PATH=backend/vif/$d/1
XENBUS_TYPE=vif
netdev=
script=$WORK/hotplug
vif=vif$d.1"

# a second domain may not take the name
expect_fail "duplicate name" cli create "$WORK/guest.cfg"

: >"$WORK/calls"
cli destroy ts-guest || fail "destroy"
for p in /local/domain/$d "$vm" /libxl/$d $B/vbd/$d $B/vbd3/$d $B/vif/$d; do
    if xenstore-read "$p" >/dev/null 2>&1; then
        fail "$p left behind after destroy"
    fi
done
expect_eq "hotplug calls at destroy" "$(grep ARGS "$WORK/calls" | sort)" "ARGS offline type_if=vif
ARGS offline type_if=vif
ARGS remove
ARGS remove"

# a failing hotplug script fails create as libxl reports it, and leaves nothing
cat >"$WORK/bad-script.cfg" <<CFG
name = "ts-bad"
disk = [ 'vdev=xvda,script=$WORK/hotplug-fail,target=$WORK/disk.img' ]
CFG
if out=$(cli create "$WORK/bad-script.cfg" 2>&1); then
    fail "create with a failing hotplug script succeeded"
fi
[[ $out == *"unable to add disk devices"*"$WORK/hotplug-fail add ["*"] exited with error status 1; script: target is not there"* ]] ||
    fail "failing script message: $out"
expect_eq "domains after failed create" "$(xenstore-list /local/domain | tr '\n' ' ')" "0 "

# with no backend claiming the device: libxl's 10 s for InitWait, then failure
stop_fake_backend
cat >"$WORK/nobackend.cfg" <<CFG
name = "ts-nobackend"
disk = [ 'vdev=xvda,script=$WORK/hotplug,target=$WORK/disk.img' ]
CFG
: >"$WORK/calls"
t0=$(date +%s)
if out=$(cli create "$WORK/nobackend.cfg" 2>&1); then
    fail "create without a backend succeeded"
fi
elapsed=$(($(date +%s) - t0))
[[ $out == *"unable to add disk devices: unable to add device with path $B/vbd/"*"/51712: backend $B/vbd/"*"/51712/state wanted state 2 timed out"* ]] ||
    fail "no-backend message: $out"
# 10 s for InitWait, then 10 s for Closed on the way out, as libxl
{ [ "$elapsed" -ge 20 ] && [ "$elapsed" -le 30 ]; } || fail "no-backend create took ${elapsed}s"
[ ! -s "$WORK/calls" ] || fail "hotplug script ran before InitWait: $(cat "$WORK/calls")"
expect_eq "domains after timeout" "$(xenstore-list /local/domain | tr '\n' ' ')" "0 "
expect_eq "/libxl after timeout" "$(xenstore-list /libxl 2>/dev/null | tr '\n' ' ')" ""
echo "PASS"
