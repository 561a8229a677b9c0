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
need_guest g3 3 "'$(disk_spec "$(mkimage g3 64)" xvda)'" pvh
old=$(gdomid g3)
seq=$(gstart g3 fio background xvda 30) || exit 1
sleep 5
# -s '': no ssh; the "host" is the receiving command itself
migrate() { xl_run migrate xl migrate -s '' g3 'xl migrate-receive'; }
# Under emulation the guest can miss libxl's time to acknowledge the suspend
# request, or the receiving side's backend its 10 s to reach InitWait while
# dom0's CPU copies the guest's memory (see libxl_timeout). Then xl lets the
# guest run on where it was: one more try, said in the note.
if ! migrate; then
    why=$(libxl_timeout migrate) && [ "$(gdomid g3)" = "$old" ] ||
        fail "xl migrate to localhost failed: $(xl_tail migrate)"
    note "xl migrate retried once ($why in libxl's time; g3 still in domid $old);"
    migrate || fail "xl migrate to localhost failed twice: $(xl_tail migrate)"
fi
new=$(gdomid g3)
[ -n "$new" ] && [ "$new" != "$old" ] || fail "g3 not running in a new domain after migration (domid $old -> '$new')"
xl list | grep -q migratedaway && fail "the migrated-away domain is still there"
gwait g3 "$seq" 240
note "domid $old -> $new; $LAST_RESULT;"
grun g3 30 net ping 10.0.0.1
