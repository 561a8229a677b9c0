#!/bin/sh
# disk.sh present|absent DEV [SECONDS]: waits for /dev/DEV to appear or go.
# disk.sh mark|check DEV: writes / verifies a marker block (detach+attach keeps data).
dev=/dev/$2
t=${3:-30}
marker="pvback-e2e marker $2"
i=0
case $1 in
present)
    while [ ! -b "$dev" ] && [ $i -lt $((t * 2)) ]; do sleep 0.5; i=$((i + 1)); done
    [ -b "$dev" ] || { echo "$dev did not appear within ${t}s"; exit 1; }
    echo "$dev present, $(cat /sys/block/$2/size) sectors"
    ;;
absent)
    while [ -e "$dev" ] && [ $i -lt $((t * 2)) ]; do sleep 0.5; i=$((i + 1)); done
    [ ! -e "$dev" ] || { echo "$dev still present after ${t}s"; exit 1; }
    echo "$dev gone"
    ;;
mark)
    echo "$marker" | dd of="$dev" bs=4096 seek=7 conv=sync,fsync oflag=direct 2>/dev/null ||
        { echo "cannot write the marker to $dev"; exit 1; }
    echo "marker written to $dev"
    ;;
check)
    got=$(dd if="$dev" bs=4096 skip=7 count=1 iflag=direct 2>/dev/null | head -c ${#marker})
    [ "$got" = "$marker" ] || { echo "marker on $dev lost (read '$got')"; exit 1; }
    echo "marker on $dev intact"
    ;;
*) echo "usage: disk.sh present|absent|mark|check DEV"; exit 1 ;;
esac
