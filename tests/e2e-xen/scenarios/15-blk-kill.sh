# limit: 240
# sets: pvback
# pvback-blk killed (SIGKILL, as a crash) while fio with verification runs
# in the guest: pvback-watch starts a new one, which adopts the connected
# disk and runs again what the dead one had in flight (its journal); the
# guest's fio finishes without an I/O error or a verification mismatch, and
# its blkfront never saw the backend leave Connected.
need_g1
domid=$(gdomid g1)
seq=$(gstart g1 fio background xvda 40) || exit 1
sleep 8
blk_of() { # the pvback-blk serving domain $1 (pvback-watch runs one per guest)
    local p
    for p in $(pidof pvback-blk); do
        tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null | grep -q -- "--frontend-domid $1 " && echo "$p"
    done
}
old=$(blk_of "$domid")
[ -n "$old" ] || fail "no pvback-blk serving g1 (domain $domid): $(pidof pvback-blk)"
gresult_is g1 "$seq" && fail "fio ended before the kill: the scenario would prove nothing"
kill -KILL "$old" || fail "cannot kill pvback-blk $old"
log "killed pvback-blk $old during fio"
new_blk() { new=$(blk_of "$domid") && [ -n "$new" ] && [ "$new" != "$old" ]; }
wait_for 30 new_blk || fail "pvback-watch did not start a new pvback-blk within 30 s"
gwait g1 "$seq" 180
state=$(xenstore-read "/local/domain/0/backend/vbd/$domid/51712/state" 2>/dev/null)
[ "$state" = 4 ] || fail "the disk's backend is in state '$state' after the restart, not Connected"
# What the new process ran again (its log goes to pvback-watch's).
replayed=$(grep -E "vbd/$domid/51712: queue [0-9]+: (attached with|.*taken again)" \
    /var/log/pvback-watch.log 2>/dev/null | sed 's/.*: queue/queue/' | tr '\n' ' ')
note "pvback-blk $old killed, $new took over (${replayed:-no request was unanswered}); $LAST_RESULT"
