# The kernel's xen-blkback and xen-netback (loaded by /init for this set),
# with the busybox 'block' and 'vif-bridge' hotplug scripts.

backend_setup() {
    lsmod | grep -q '^xen_blkback' || fail "xen-blkback is not loaded"
    lsmod | grep -q '^xen_netback' || fail "xen-netback is not loaded"
}

disk_spec() { echo "phy:$1,$2,w"; } # disk_spec IMAGE VDEV
vif_spec() { echo "mac=$1,bridge=${2:-xenbr0}"; } # vif_spec MAC [BRIDGE]

# backend_leftovers DOMID: what this backend still holds for a dead domain.
backend_leftovers() {
    ls /sys/bus/xen-backend/devices 2>/dev/null | grep -E "^(vbd|vif)-$1-" | sed 's/^/xen-backend device /'
}

# backend_flushes DOMID DEVID: flush requests the storage under the disk has
# seen (field 16 of the loop device's stat), empty when not measurable.
backend_flushes() {
    local dev
    dev=$(xenstore-read "/local/domain/0/backend/vbd/$1/$2/physical-device-path" 2>/dev/null) || return 0
    awk '{print $16}' "/sys/block/${dev#/dev/}/stat"
}
