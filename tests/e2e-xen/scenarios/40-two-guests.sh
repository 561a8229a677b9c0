# limit: 150
# Two guests on the same bridge reach each other (each pings the other):
# traffic from one backend's vif to another's through dom0's bridge.
need_g1
need_guest g2 2 ""
grun g1 30 net ping 10.0.0.12
grun g2 30 net ping 10.0.0.11
xl destroy g2 || fail "xl destroy g2 failed"
