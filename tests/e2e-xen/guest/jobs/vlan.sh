#!/bin/sh
# vlan.sh ADDR/PREFIX PEER reach|blocked: gives the guest's interface ADDR
# too, then pings PEER. reach: some replies must come back (a busy host may
# lose one); blocked: none may.
addr=$1
peer=$2
want=$3
dev=$(ls /sys/class/net | grep -v '^lo$' | head -1)
[ -n "$dev" ] || { echo "no network interface"; exit 1; }
ip addr show dev "$dev" | grep -q " ${addr%/*}/" || ip addr add "$addr" dev "$dev" ||
    { echo "cannot add $addr to $dev"; exit 1; }
out=$(ping -c 3 -W 3 "$peer" 2>&1)
got=$(echo "$out" | sed -n 's/.* \([0-9]*\) packets received.*/\1/p')
echo "$out"
case $want in
reach) [ "${got:-0}" -gt 0 ] || { echo "$peer does not answer from $addr"; exit 1; } ;;
blocked) [ "${got:-0}" -eq 0 ] || { echo "$peer answered from $addr: it should be on another VLAN"; exit 1; } ;;
*) echo "usage: vlan.sh ADDR/PREFIX PEER reach|blocked"; exit 1 ;;
esac
echo "$peer ${want} from $addr ($got/3 replies)"
