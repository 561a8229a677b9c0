#!/bin/sh
# fio.sh verify DEV: random and sequential writes, block sizes 4 KiB..1 MiB,
#   two jobs in parallel (so blkfront's queues are used together), each
#   region read back and checked (crc32c) when written.
# fio.sh small DEV MB: random writes of 4 KiB..1 MiB over the first MB MiB,
#   each read back and checked (a small disk, e.g. a hot-plugged one).
# fio.sh background DEV SECONDS: writes with verification running behind the
#   writes for SECONDS: the load kept up during save/restore and migration.
# Fails on any fio error or verification mismatch.
mode=$1
dev=/dev/$2
[ -b "$dev" ] || { echo "no $dev"; exit 1; }
common="--filename=$dev --direct=1 --ioengine=libaio --verify=crc32c --verify_fatal=1
 --exitall_on_error --output=/tmp/fio.out"
case $mode in
verify)
    fio $common --iodepth=16 \
        --name=random --rw=randwrite --bsrange=4k-1m --offset=0 --size=40m \
        --name=sequential --rw=write --bsrange=4k-1m --offset=48m --size=40m
    rc=$?
    ;;
small)
    fio $common --iodepth=16 --name=small --rw=randwrite --bsrange=4k-1m --offset=0 --size="$3"m
    rc=$?
    ;;
background)
    fio $common --iodepth=8 --name=background --rw=randwrite --bsrange=4k-256k \
        --offset=0 --size=32m --time_based --runtime="$3" --verify_backlog=16
    rc=$?
    ;;
*) echo "usage: fio.sh verify|small|background DEV [MB|SECONDS]"; exit 1 ;;
esac
cat /tmp/fio.out
grep -E 'err= *[1-9]|verify:|bad (magic|header)' /tmp/fio.out && rc=1
[ $rc -eq 0 ] || { echo "fio failed (rc $rc), see above"; exit 1; }
echo "fio $mode: $(grep -E '^ +(WRITE|READ):' /tmp/fio.out | sed 's/^ *//; s/, *io=.*//' | tr '\n' ' ')"
