# limit: 120
# Network between the guest and a peer on dom0's bridge (xenbr0, 10.0.0.1):
# ping, iperf3 TCP and iperf3 UDP, judged by the guest.
need_g1
grun g1 30 net ping 10.0.0.1
grun g1 60 net iperf 10.0.0.1
note "$LAST_RESULT"
