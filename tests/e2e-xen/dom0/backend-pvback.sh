# pvback: pvback-watch claims backend/vbd and backend/vif (the kernel's
# backends are not loaded in this set) and starts pvback-blk/pvback-net per
# guest; libxl runs the block-pvback/vif-pvback hotplug scripts named by
# script= in the disk and vif specs.

backend_setup() {
    local p
    for p in /usr/local/bin/pvback-watch /usr/local/bin/pvback-blk /usr/local/bin/pvback-net \
        /etc/xen/scripts/block-pvback /etc/xen/scripts/vif-pvback; do
        [ -x "$p" ] || fail "$p is not in the dom0 image (not built?)"
    done
    lsmod | grep -qE '^xen_(blk|net)back' && fail "a kernel backend is loaded; pvback cannot claim the devices"
    if ! pidof pvback-watch >/dev/null; then
        pvback-watch >>/var/log/pvback-watch.log 2>&1 &
        sleep 1
        pidof pvback-watch >/dev/null || {
            tail -20 /var/log/pvback-watch.log
            fail "pvback-watch exited at start: $(tail -1 /var/log/pvback-watch.log)"
        }
    fi
}

disk_spec() { echo "vdev=$2,access=rw,backendtype=phy,script=block-pvback,target=$1"; }
vif_spec() { echo "mac=$1,bridge=${2:-xenbr0},script=vif-pvback"; } # vif_spec MAC [BRIDGE]

# The destroy scenario destroys every guest first, so any backend process
# still running is a leftover.
backend_leftovers() {
    local p
    for p in $(pidof pvback-blk pvback-net); do
        echo "process $p: $(tr '\0' ' ' <"/proc/$p/cmdline")"
    done
}

backend_flushes() { :; } # no block device under pvback's images to count on
