#!/bin/sh
# blk-persistent.sh on|off: whether blkfront offers persistent grants to the
# disks it connects from now on (xen_blkfront's feature_persistent, read at
# each connect). Off, every data page reaches the backend by grant without a
# persistent mapping: pvback-blk copies those through bounce pages.
p=/sys/module/xen_blkfront/parameters/feature_persistent
[ -w "$p" ] || { echo "$p is missing or read-only: this blkfront cannot turn persistent grants off"; exit 1; }
case $1 in
on) echo Y >"$p" ;;
off) echo N >"$p" ;;
*) echo "usage: blk-persistent.sh on|off"; exit 1 ;;
esac || { echo "cannot write $p"; exit 1; }
echo "blkfront feature_persistent $(cat "$p")"
