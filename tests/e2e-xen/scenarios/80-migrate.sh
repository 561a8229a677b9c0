# limit: 600
# Live migration to localhost while fio with verification runs in the guest:
# the guest ends up in a new domain with its devices reconnected, fio ends
# without an error or mismatch, and the network still works.
# The guest is PVH: Debian's Xen is built without shadow paging, which PV
# guests need for the log-dirty mode of live migration (HAP serves PVH).
# Small and single-vCPU: under emulation every PVH guest memory access walks
# nested page tables, and migration copies all of its memory.
GUEST_MEM=128
GUEST_VCPUS=1
# attempt: the scenario proper, in a subshell (a fail ends only it); the
# domid g3 started from goes to /run/mig-old.
attempt() (
    need_guest g3 3 "'$(disk_spec "$(mkimage g3 64)" xvda)'" pvh
    old=$(gdomid g3)
    echo "$old" >/run/mig-old
    seq=$(gstart g3 fio background xvda 30) || exit 1
    sleep 5
    # -s '': no ssh; the "host" is the receiving command itself. Under
    # emulation the guest can miss libxl's time to acknowledge the suspend
    # request, or the receiving side's backend its 10 s to reach InitWait
    # while dom0's CPU copies the guest's memory; xl then lets the guest run
    # on where it was (see xl_once_more).
    xl_once_more migrate g3 "$old" xl migrate -s '' g3 'xl migrate-receive'
    new=$(gdomid g3)
    [ -n "$new" ] && [ "$new" != "$old" ] || fail "g3 not running in a new domain after migration (domid $old -> '$new')"
    xl list | grep -q migratedaway && fail "the migrated-away domain is still there"
    gwait g3 "$seq" 240
    note "domid $old -> $new; $LAST_RESULT;"
    grun g3 30 net ping 10.0.0.1
)
# In a clean-clone CI run the emulated machine killed the PVH guest with a
# triple fault just as the migration began, while Xen ran the save helper's
# hypercalls (Xen's dump shows Xen's own code and stack). That is the
# emulation's, not a backend's (a backend reaches only granted pages): a
# fresh guest, once, and the note says so. A guest that dies any other way,
# or a second failure, fails the scenario.
rm -f /run/mig-old
if ! attempt; then
    old=$(cat /run/mig-old 2>/dev/null)
    [ -n "$old" ] && xl dmesg | grep -q " d${old}v[0-9]* Triple fault" || exit 1
    note "g3 (domid $old) died of a triple fault under emulation as the migration began ($(cat /run/e2e-reason 2>/dev/null | cut -c1-80)); a fresh g3, second try:"
    galive g3 && xl destroy g3
    rm -f /run/e2e-reason
    attempt
fi
