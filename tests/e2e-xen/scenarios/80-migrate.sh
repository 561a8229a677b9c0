# limit: 240
# Live migration to localhost while fio with verification runs in the guest:
# the guest ends up in a new domain with its devices reconnected, fio ends
# without an error or mismatch, and the network still works.
need_g1
old=$(gdomid g1)
seq=$(gstart g1 fio background xvda 45) || exit 1
sleep 8
# -s '': no ssh; the "host" is the receiving command itself
xl migrate -s '' g1 'xl migrate-receive' || fail "xl migrate to localhost failed"
new=$(gdomid g1)
[ -n "$new" ] && [ "$new" != "$old" ] || fail "g1 not running in a new domain after migration (domid $old -> '$new')"
xl list | grep -q migratedaway && fail "the migrated-away domain is still there"
gwait g1 "$seq" 180
note "domid $old -> $new; $LAST_RESULT;"
grun g1 30 net ping 10.0.0.1
