# limit: 240
# xl save / xl restore while fio with verification runs in the guest: the
# guest comes back in a new domain, its disk and network reconnect, and fio
# finishes without an error or a verification mismatch.
need_g1
seq=$(gstart g1 fio background xvda 30) || exit 1
sleep 5
old=$(gdomid g1)
# Missed libxl time limits (see libxl_timeout) get one more try, as in migrate.
if ! xl_run save xl save g1 /data/g1.save; then
    why=$(libxl_timeout save) && [ "$(gdomid g1)" = "$old" ] || fail "xl save failed: $(xl_tail save)"
    note "xl save retried once ($why in libxl's time; g1 still in domid $old);"
    xl_logged save xl save g1 /data/g1.save
fi
galive g1 && fail "g1 still exists after xl save"
# A restore adds the devices as xl create does (see gcreate): after libxl's
# 10 s device timeout the saved image is still there for one more try.
if ! xl_run restore xl restore /data/g1.save; then
    why=$(libxl_timeout restore) || fail "xl restore failed: $(xl_tail restore)"
    note "xl restore retried once ($why in libxl's time);"
    galive g1 && xl destroy g1
    xl_logged restore xl restore /data/g1.save
fi
rm -f /data/g1.save
gwait g1 "$seq" 180
note "$LAST_RESULT;"
grun g1 30 net ping 10.0.0.1
