# limit: 150
# xl network-detach / network-attach on the running guest: the interface
# goes away, a new one comes, and the guest reaches dom0 through it.
need_g1
id=$(gdomid g1)
devid=$(xenstore-list "/local/domain/0/backend/vif/$id" | head -1)
[ -n "$devid" ] || fail "g1 has no vif"
xl network-detach g1 "$devid" || fail "xl network-detach g1 $devid failed"
grun g1 30 net-state absent
xenstore-exists "/local/domain/0/backend/vif/$id/$devid" && fail "backend/vif/$id/$devid left after network-detach"
ip link show "vif$id.$devid" >/dev/null 2>&1 && fail "vif$id.$devid left in dom0 after network-detach"
xl network-attach g1 "$(vif_spec "$(mac_of 1 1)")" || fail "xl network-attach failed"
grun g1 60 net-state up
grun g1 30 net ping 10.0.0.1
