# limit: 180
# Discard and flush: the guest discards 16 MiB it wrote and dom0 checks that
# the space came back in the image file (tmpfs frees discarded blocks);
# the guest writes with an fsync after each write and dom0 checks that flush
# requests reached the storage (where the backend lets it count them).
need_g1
img=$(cat /run/g1-img)
kib() { du -k "$img" | cut -f1; }
id=$(gdomid g1)
grun g1 60 discard fill xvda
before=$(kib)
grun g1 60 discard discard xvda
after=$(kib)
log "image allocation: $before KiB before discard, $after KiB after"
[ $((before - after)) -ge 15000 ] || fail "discard freed $((before - after)) KiB of the image, expected 16 MiB"
note "discard freed $((before - after)) KiB;"
f0=$(backend_flushes "$id" 51712)
grun g1 120 discard flush xvda
f1=$(backend_flushes "$id" 51712)
if [ -n "$f0" ]; then
    [ "$f1" -gt "$f0" ] || fail "no flush reached the storage (flush count $f0 -> $f1)"
    note "flushes at the storage $f0 -> $f1"
else
    note "flushes not countable under this backend"
fi
