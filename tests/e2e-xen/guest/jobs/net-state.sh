#!/bin/sh
# net-state.sh up|absent [SECONDS]
#   up:     waits for a netfront interface, gives it the address from the
#           kernel command line and pings dom0's bridge (10.0.0.1).
#   absent: waits until no netfront interface is left (after network-detach).
want=$1
t=${2:-30}
ifname() { ls /sys/class/net | grep -v '^lo$' | head -1; }
i=0
case $want in
up)
    while [ -z "$(ifname)" ] && [ $i -lt $((t * 2)) ]; do sleep 0.5; i=$((i + 1)); done
    dev=$(ifname)
    [ -n "$dev" ] || { echo "no network interface after ${t}s"; exit 1; }
    ip addr flush dev "$dev"
    ip addr add "$(cat /tmp/ip)/24" dev "$dev" && ip link set "$dev" up || { echo "cannot configure $dev"; exit 1; }
    ping -c 1 -W 5 10.0.0.1 >/dev/null || ping -c 2 -W 5 10.0.0.1 >/dev/null ||
        { echo "$dev up but 10.0.0.1 does not answer"; exit 1; }
    echo "$dev up as $(cat /tmp/ip), dom0 answers"
    ;;
absent)
    while [ -n "$(ifname)" ] && [ $i -lt $((t * 2)) ]; do sleep 0.5; i=$((i + 1)); done
    [ -z "$(ifname)" ] || { echo "interface $(ifname) still present after ${t}s"; exit 1; }
    echo "no network interface left"
    ;;
*) echo "usage: net-state.sh up|absent"; exit 1 ;;
esac
