#!/bin/sh
# blk-features.sh DEV [no-persistent]: what blkfront negotiated, as the guest
# sees it. Fails unless the disk uses several queues, indirect descriptors and
# persistent grants (the protocol features both backends must offer); with
# no-persistent, unless the frontend did not ask for persistent grants.
dev=${1:-xvda}
want_pers=${2:-persistent}
[ -b /dev/$dev ] || { echo "no /dev/$dev"; exit 1; }
queues=$(ls -d /sys/block/$dev/mq/* 2>/dev/null | wc -l)
segs=$(cat /sys/block/$dev/queue/max_segments)
vbd=$(basename "$(readlink -f /sys/block/$dev/device)") # vbd-51712
fe=device/vbd/${vbd#vbd-}
be=$(xenstore-read $fe/backend)
pers_fe=$(xenstore-read $fe/feature-persistent 2>/dev/null)
pers_be=$(xenstore-read $be/feature-persistent 2>/dev/null)
echo "$dev: $queues queues, max_segments $segs, persistent fe=$pers_fe be=$pers_be"
[ "$queues" -ge 2 ] || { echo "$dev uses $queues queue(s), expected multi-queue"; exit 1; }
# 11 segments is the most a request can carry without indirect descriptors
[ "$segs" -gt 11 ] || { echo "$dev max_segments $segs: no indirect descriptors"; exit 1; }
if [ "$want_pers" = no-persistent ]; then
    [ "$pers_fe" = 0 ] || { echo "$dev: the frontend still asks for persistent grants (fe=$pers_fe)"; exit 1; }
    echo "$queues queues, $segs segments/request, no persistent grants"
    exit 0
fi
[ "$pers_fe" = 1 ] && [ "$pers_be" = 1 ] || { echo "$dev: persistent grants not negotiated"; exit 1; }
echo "$queues queues, $segs segments/request, persistent grants"
