# limit: 120
# xl destroy of every guest leaves nothing behind: no domain, no xenstore
# node of the domain or its devices, no vif, no loop device on its images,
# no grant mapping in any dom0 process, nothing the backend still holds.
need_g1
ids=""
for g in $(xl list | awk 'NR > 2 {print $1}'); do
    ids="$ids $(gdomid "$g")"
    xl destroy "$g" || fail "xl destroy $g failed"
done
sleep 2
left=$(xl list | awk 'NR > 2 {print $1}')
[ -z "$left" ] || fail "domains left after xl destroy: $left"
for id in $ids; do
    for p in /local/domain/$id /libxl/$id /local/domain/0/backend/vbd/$id /local/domain/0/backend/vif/$id \
        /local/domain/0/backend/console/$id; do
        xenstore-exists "$p" && fail "xenstore node $p left after destroy"
    done
    ls /sys/class/net | grep -q "^vif$id\." && fail "vif$id.* left after destroy"
    what=$(backend_leftovers "$id")
    [ -z "$what" ] || fail "left after destroy: $what"
done
losetup -a | grep -q /data/ && fail "loop device left on an image: $(losetup -a | grep /data/)"
maps=$(grep -l gntdev /proc/[0-9]*/maps 2>/dev/null)
[ -z "$maps" ] || fail "grant mappings left in dom0 processes: $maps"
note "destroyed domids$ids, nothing left"
