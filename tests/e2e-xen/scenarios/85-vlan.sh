# limit: 420
# Two guests on different VLANs of one bridge that filters VLANs (xenbr1,
# set up by vlan_bridge): g5 joins with bridge=xenbr1.10, g6 with
# bridge=xenbr1.20. The backend side (pvback-net over rtnetlink, or the
# kernel set's vif-bridge script) must give each port its PVID, untagged,
# and nothing else; then each guest reaches dom0 on its own VLAN, and g6
# reaches neither g5 nor dom0's VLAN 10 address from an address in VLAN
# 10's subnet.
vlan_bridge
need_guest g5 5 "" pv xenbr1.10
need_guest g6 6 "" pv xenbr1.20
for g in g5:10 g6:20; do
    port=vif$(gdomid "${g%:*}").0
    vl=$(port_vlans "$port")
    [ "$vl" = "${g#*:}:pvid:untagged " ] || fail "bridge port $port of ${g%:*}: VLANs '$vl', expected '${g#*:}:pvid:untagged'"
done
grun g5 40 vlan 10.1.10.15/24 10.1.10.1 reach
grun g6 40 vlan 10.1.20.16/24 10.1.20.1 reach
grun g6 40 vlan 10.1.10.16/24 10.1.10.15 blocked
grun g6 40 vlan 10.1.10.16/24 10.1.10.1 blocked
note "g5 on VLAN 10 and g6 on VLAN 20 reach dom0 on their own VLAN only"
xl destroy g5 || fail "xl destroy g5 failed"
xl destroy g6 || fail "xl destroy g6 failed"
