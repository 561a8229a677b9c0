# Helpers for the dom0 side of the scenarios (sourced; busybox sh).
#
# Guests run guest/init, an agent that takes jobs through xenstore: dom0
# writes "SEQ JOB ARGS" to /local/domain/<id>/data/e2e-cmd, the guest writes
# data/e2e-running=SEQ when it starts and data/e2e-result="SEQ PASS|FAIL text"
# when done. The guest judges its own results; dom0 only relays them. The
# domid is looked up on every poll because save/restore and migration change it.

up() { cut -d' ' -f1 /proc/uptime; }
log() { echo "[$(up)] $*"; }

# A scenario ends with fail (FAIL + reason) or by returning (PASS). note adds
# to the PASS line; ratio prints a side-by-side figure for the host.
fail() {
    echo "$*" >/run/e2e-reason
    log "FAIL: $*"
    exit 1
}
note() { echo "$*" >>/run/e2e-note; }
ratio() { echo "@@ RATIO $1 $2 ($3)"; }

GUEST_MEM=256
GUEST_VCPUS=2

# wait_for SECONDS CMD...: polls CMD until it succeeds, for SECONDS times
# the run's time scale (see run).
wait_for() {
    local t="$1" end
    shift
    end=$(($(date +%s) + t * ${E2E_SCALE:-1}))
    while ! "$@" 2>/dev/null; do
        [ "$(date +%s)" -lt "$end" ] || return 1
        sleep 1
    done
}

# xl_run WHAT CMD...: runs an xl command whose output is only wanted when
# it fails; then it goes to the serial log. xl_tail WHAT: its last lines,
# for a FAIL reason, so that a CI log says why without the serial log.
xl_run() {
    local what=$1
    shift
    log "$*"
    "$@" >"/run/xl-$what.log" 2>&1 && return 0
    echo "----- output of $*"
    cat "/run/xl-$what.log"
    echo "-----"
    return 1
}
xl_tail() { grep -v '^ *$' "/run/xl-$1.log" | tail -3 | tr '\n' ' '; }

# xl_once_more WHAT NAME OLD CMD...: runs CMD (xl_run). When it fails on one
# of libxl's fixed time limits that emulation on a loaded host can miss (its
# 10 s for a backend to reach InitWait; the guest acknowledging a suspend
# request), rather than on a refusal, runs it once more, said in the note.
# OLD is the domid NAME must still have (save, migrate: libxl let the guest
# run on), or empty when the failed command may have left a domain NAME to
# destroy (create, restore). Any other failure, or a second one, fails.
xl_once_more() {
    local what=$1 name=$2 old=$3 why
    shift 3
    xl_run "$what" "$@" && return 0
    why=$(grep -m1 -oE "unable to add [a-z]* devices|guest didn't acknowledge suspend" \
        "/run/xl-$what.log") || fail "xl $what $name failed: $(xl_tail "$what")"
    if [ -n "$old" ]; then
        [ "$(gdomid "$name")" = "$old" ] || fail "xl $what $name failed: $(xl_tail "$what")"
        note "xl $what $name retried once ($why in libxl's time; $name still in domid $old);"
    else
        note "xl $what $name retried once ($why in libxl's time);"
        galive "$name" && xl destroy "$name"
    fi
    xl_run "$what" "$@" || fail "xl $what $name failed twice: $(xl_tail "$what")"
}

mkimage() { # mkimage NAME MB: a sparse raw image on tmpfs, path printed
    rm -f "/data/$1.img"
    truncate -s "${2}M" "/data/$1.img" && echo "/data/$1.img"
}

mac_of() { printf '00:16:3e:00:%02x:%02x' "$1" "$2"; } # mac_of GUEST-NR VIF-NR

gdomid() { xl domid "$1" 2>/dev/null; }
galive() { [ -n "$(gdomid "$1")" ]; }
gxs() { echo "/local/domain/$(gdomid "$1")/data"; } # the guest's writable dir

# gcreate NAME NR 'disk-spec,...' [pv|pvh] [BRIDGE]: a guest with one vif on
# BRIDGE (default xenbr0; the vif spec's bridge= value, VLAN part included)
# at 10.0.0.(10+NR); disks as xl disk specs (from disk_spec), may be empty.
# PVH needs tsc_mode native under QEMU: its SVM model cannot emulate the
# RDTSCP intercept Xen would otherwise use.
gcreate() {
    local name=$1 nr=$2 disks=$3 type=${4:-pv} bridge=${5:-xenbr0} cfg=/data/$1.cfg
    cat >"$cfg" <<CFG
name = "$name"
type = "$type"
$([ "$type" = pvh ] && echo 'tsc_mode = "native"')
kernel = "/guest/vmlinux"
ramdisk = "/guest/initrd.gz"
extra = "console=hvc0 loglevel=4 e2e.ip=10.0.0.$((10 + nr))"
memory = $GUEST_MEM
vcpus = $GUEST_VCPUS
disk = [ $disks ]
vif = [ '$(vif_spec "$(mac_of "$nr" 0)" "$bridge")' ]
on_poweroff = "destroy"
on_crash = "preserve"
CFG
    rm -f "/var/log/xen/console/guest-$name.log"
    log "xl create $name"
    # libxl gives a backend 10 s (not configurable) to reach InitWait. Under
    # emulation on a loaded host a backend started per guest, as pvback's
    # are, can miss that: one more try, said in the scenario's PASS line.
    xl_once_more create "$name" "" xl create "$cfg"
    log "xl create $name returned"
    # The guest's boot on the serial line, to see where a slow boot spends
    # its time (no pipe: the pid must be tail's own, to stop it).
    echo "----- console of guest $name while it boots"
    tail -F "/var/log/xen/console/guest-$name.log" 2>/dev/null &
    local tailer=$!
    wait_for 180 gready "$name" || {
        kill $tailer
        echo "-----"
        fail "guest $name did not start its agent within 180 s"
    }
    kill $tailer
    echo "-----"
    log "guest $name ready (domid $(gdomid "$name"), agent up at guest uptime $(xenstore-read "$(gxs "$name")/e2e-uptime"))"
}
gready() { [ "$(xenstore-read "$(gxs "$1")/e2e-ready" 2>/dev/null)" = 1 ]; }
gconsole() { # the guest's console log, for the serial log on failure
    echo "----- console of guest $1 (last 40 lines)"
    tail -40 "/var/log/xen/console/guest-$1.log" 2>/dev/null
    echo "-----"
}

gstart() { # gstart NAME JOB ARGS...: starts a guest job, prints its sequence number
    local name=$1 seq
    shift
    seq=$(($(cat /run/e2e-seq 2>/dev/null || echo 0) + 1))
    echo $seq >/run/e2e-seq
    xenstore-write "$(gxs "$name")/e2e-cmd" "$seq $*" || fail "cannot send job '$*' to $name"
    wait_for 30 grunning "$name" "$seq" || {
        xl list
        xenstore-ls -f "$(gxs "$name")"
        gconsole "$name"
        fail "guest $name did not start job '$*' within 30 s"
    }
    echo "$seq"
}
grunning() { [ "$(xenstore-read "$(gxs "$1")/e2e-running" 2>/dev/null)" = "$2" ]; }
gresult_is() { case "$(xenstore-read "$(gxs "$1")/e2e-result" 2>/dev/null)" in "$2 "*) return 0 ;; esac; return 1; }

gwait() { # gwait NAME SEQ TIMEOUT: waits for a job; PASS returns 0, FAIL fails the scenario
    local r
    wait_for "$3" gresult_is "$1" "$2" || {
        gconsole "$1"
        xl list
        xenstore-ls -f "$(gxs "$1")"
        fail "guest $1: job $2 gave no result within $3 s"
    }
    r=$(xenstore-read "$(gxs "$1")/e2e-result")
    r=${r#* }
    log "guest $1 job $2: $r"
    case $r in
    PASS*) LAST_RESULT=${r#PASS} ;;
    *)
        gconsole "$1"
        fail "guest $1: ${r#FAIL }"
        ;;
    esac
}

grun() { # grun NAME TIMEOUT JOB ARGS...: a job start to end; its PASS text in LAST_RESULT
    local name=$1 t=$2 seq
    shift 2
    seq=$(gstart "$name" "$@") || exit 1
    gwait "$name" "$seq" "$t"
}

# need_guest NAME NR DISKS [TYPE [BRIDGE]]: reuses a running, responsive guest of that name
# (scenarios share g1 to save boots), otherwise creates it.
need_guest() {
    if galive "$1" && gready "$1"; then return 0; fi
    galive "$1" && xl destroy "$1"
    gcreate "$@"
}

# The main guest: g1 with a 128 MiB disk (xvda) and one vif.
need_g1() {
    if ! galive g1; then
        G1_IMG=$(mkimage g1 128)
        echo "$G1_IMG" >/run/g1-img
    fi
    need_guest g1 1 "'$(disk_spec "$(cat /run/g1-img)" xvda)'"
}

# vlan_bridge: xenbr1, a bridge that filters VLANs (guests join it with
# bridge=xenbr1.<vid> in their vif spec), with dom0 on VLANs 10 and 20 as
# v10 (10.1.10.1) and v20 (10.1.20.1). dom0 answers ARP only on the
# interface that has the address, so that a guest on another VLAN cannot
# reach an address through dom0's other VLAN interface.
vlan_bridge() {
    local v
    [ -d /sys/class/net/xenbr1 ] && return 0
    modprobe 8021q || fail "cannot load 8021q"
    brctl addbr xenbr1 || fail "cannot create xenbr1"
    echo 1 >/sys/class/net/xenbr1/bridge/vlan_filtering || fail "dom0's bridge cannot filter VLANs"
    echo 1 >/proc/sys/net/ipv4/conf/all/arp_ignore
    ip link set xenbr1 up
    for v in 10 20; do
        bridge vlan add vid $v dev xenbr1 self || fail "bridge vlan add vid $v dev xenbr1 self failed"
        ip link add link xenbr1 name v$v type vlan id $v || fail "cannot create VLAN interface v$v"
        ip addr add 10.1.$v.1/24 dev v$v && ip link set v$v up || fail "cannot configure v$v"
    done
}

# port_vlans PORT: the VLANs of a bridge port, as "vid[:pvid][:untagged] ...".
port_vlans() {
    bridge vlan show dev "$1" | awk 'NR > 1 {
        for (i = 1; i <= NF; i++) if ($i ~ /^[0-9]+$/) { v = $i; break }
        if (v == "") next
        s = v; if ($0 ~ /PVID/) s = s ":pvid"; if ($0 ~ /Untagged/) s = s ":untagged"
        printf "%s ", s; v = ""
    }'
}
