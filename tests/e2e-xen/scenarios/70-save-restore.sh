# limit: 240
# xl save / xl restore while fio with verification runs in the guest: the
# guest comes back in a new domain, its disk and network reconnect, and fio
# finishes without an error or a verification mismatch.
need_g1
seq=$(gstart g1 fio background xvda 30) || exit 1
sleep 5
# Missed libxl time limits get one more try (see xl_once_more): a save
# with the guest still running where it was, a restore from the kept image.
xl_once_more save g1 "$(gdomid g1)" xl save g1 /data/g1.save
galive g1 && fail "g1 still exists after xl save"
xl_once_more restore g1 "" xl restore /data/g1.save
rm -f /data/g1.save
gwait g1 "$seq" 180
note "$LAST_RESULT;"
grun g1 30 net ping 10.0.0.1
